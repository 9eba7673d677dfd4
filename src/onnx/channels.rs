//! The ops that act per element or per channel, as the layers (or rewrites) they become:
//! BatchNormalization and arithmetic by per-channel constants (folded into the layer before,
//! else an affine map), ReLU and the other activations, residual adds, products (SiLU, the
//! squeeze-and-excitation gate).

use crate::attrs::{Activation, by_channel};
use crate::model::Op;
use crate::onnx::ir::{Const, Node};
use crate::onnx::walk::{Act, Value, Walk};

/// BatchNormalization at inference: a scale and shift per channel.
pub(crate) fn batch_norm(w: &mut Walk, node: &Node) -> Result<Value, String> {
    if node.int("training_mode", 0) != 0 || (1..5).any(|k| w.is_read(node, k)) {
        return Err("runs in training mode; dojang runs inference".into());
    }
    let x = w.act(node, 0)?;
    let c = x.shape[0];
    let [scale, bias, mean, var] = [1, 2, 3, 4].map(|k| w.konst(node, k).map(Const::floats));
    let (Some(scale), Some(bias), Some(mean), Some(var)) = (scale, bias, mean, var) else {
        return Err("its scale, bias, mean and variance must be constants".into());
    };
    if [&scale, &bias, &mean, &var].iter().any(|v| v.len() != c) {
        return Err(format!("its parameters must have {c} values, one per channel"));
    }
    w.parameter(node, 1);
    w.parameter(node, 2);
    let eps = node.float("epsilon", 1e-5) as f64;
    let s: Vec<f32> = (0..c).map(|i| (scale[i] as f64 / (var[i] as f64 + eps).sqrt()) as f32).collect();
    let t: Vec<f32> = (0..c).map(|i| (bias[i] as f64 - mean[i] as f64 * s[i] as f64) as f32).collect();
    w.scale_shift(node, x, s, t)
}

/// ReLU: inside the add or affine map before it when it may change that layer, else a layer
/// (which the runner fuses into a convolution or dense layer before it).
pub(crate) fn relu(w: &mut Walk, node: &Node) -> Result<Value, String> {
    let x = w.act(node, 0)?;
    if let Some(i) = w.own_layer(node, &x) {
        let layer = &mut w.out.layers[i];
        if let Op::Add { relu, .. } | Op::Affine { relu } = &mut layer.op {
            *relu = true;
            w.rewrote("Relu into Add/affine".into());
            return Ok(Value::Act(w.alias(node, x)));
        }
    }
    w.emit(node, Op::Relu, &[&x], None).map(Value::Act)
}

/// Clip (bounds as attributes before opset 11, optional constant inputs from it): a ReLU
/// when it is [0, ∞), else a clip activation (ReLU6).
pub(crate) fn clip(w: &mut Walk, node: &Node) -> Result<Value, String> {
    let x = w.act(node, 0)?;
    // Bounds: attributes before opset 11, optional constant inputs from it.
    let bound = |k: usize, name: &str, default: f32| -> Result<f32, String> {
        match (w.graph.opset >= 11, node.input(k)) {
            (true, Some(_)) => {
                let c = w.need(node, k, name)?;
                c.floats().first().copied().ok_or_else(|| format!("its {name} is empty"))
            }
            (true, None) => Ok(default),
            (false, _) => Ok(node.float(name, default)),
        }
    };
    let (min, max) = (bound(1, "min", f32::NEG_INFINITY)?, bound(2, "max", f32::INFINITY)?);
    if min == 0.0 && max == f32::INFINITY {
        return relu(w, node);
    }
    w.emit(node, Op::Activation(Activation::Clip { min, max }), &[&x], None).map(Value::Act)
}

/// Add, Sum, Sub, Mul, Div: of activations (a residual add), or of an activation and a
/// constant per channel (a scale or shift).
pub(crate) fn arithmetic(w: &mut Walk, node: &Node) -> Result<Value, String> {
    let consts: Vec<usize> = (0..node.inputs.len()).filter(|&k| w.konst(node, k).is_some()).collect();
    if consts.is_empty() && matches!(node.op.as_str(), "Add" | "Sum") {
        let mut acts = (0..node.inputs.len()).map(|k| w.act(node, k)).collect::<Result<Vec<_>, _>>()?;
        // Whole shapes first: a value per channel ([C, 1, 1]) is added to them.
        acts.sort_by_key(|a| std::cmp::Reverse(a.shape.iter().product::<usize>()));
        let mut sum = acts[0].clone();
        for other in &acts[1..] {
            if !by_channel(&sum.shape, &other.shape) {
                return Err(format!(
                    "adds {:?} and {:?}; dojang adds equal shapes, or one value per channel",
                    sum.shape, other.shape
                ));
            }
            let op = Op::Add { from: other.layer.clone(), relu: false };
            sum = w.emit(node, op, &[&sum], None)?;
        }
        return Ok(Value::Act(sum));
    }
    if consts.is_empty() && node.op == "Mul" && node.inputs.len() == 2 {
        return product(w, node);
    }
    // (the activation's input, the constant's): x op c, or c op x where the op commutes.
    let (xk, ck) = match (consts.as_slice(), node.inputs.len()) {
        ([1], 2) => (0, 1),
        ([0], 2) if matches!(node.op.as_str(), "Add" | "Mul") => (1, 0),
        _ => {
            return Err(format!(
                "{} of these inputs: dojang takes activations added, or an activation and a per-channel constant",
                node.op
            ));
        }
    };
    let x = w.act(node, xk)?;
    let c = w.konst(node, ck).cloned().unwrap_or_else(|| Const::f32(vec![], vec![]));
    let channels = x.shape[0];
    let values = match per_channel(&x.shape, &c) {
        Some(v) => v,
        None => {
            return Err(format!(
                "{} by a constant of shape {:?}; dojang takes one value per channel of {:?} per image",
                node.op, c.shape, x.shape
            ));
        }
    };
    w.parameter(node, ck);
    let (s, t) = match node.op.as_str() {
        "Mul" => (values, vec![0.0; channels]),
        "Div" => (values.iter().map(|v| 1.0 / v).collect(), vec![0.0; channels]),
        "Sub" => (vec![1.0; channels], values.iter().map(|v| -v).collect()),
        _ => (vec![1.0; channels], values),
    };
    w.scale_shift(node, x, s, t)
}

/// The constant `c` as one value per channel of an activation of per-image shape `x`: ONNX
/// broadcasts from the right, so `c` is per channel when, aligned with [N, C, …], it has C at
/// the channel axis and 1 everywhere else ([C, 1, 1], [1, C, 1, 1]; [C] for a dense layer's
/// [N, C]); a single value serves every channel.
fn per_channel(x: &[usize], c: &Const) -> Option<Vec<f32>> {
    let (rank, channels) = (x.len() + 1, x[0]);
    let aligned: Option<Vec<usize>> =
        (c.shape.len() <= rank).then(|| [vec![1; rank - c.shape.len()], c.shape.clone()].concat());
    let by_channel = aligned.is_some_and(|a| a[1] == channels && a.iter().enumerate().all(|(i, &d)| i == 1 || d == 1));
    match c.len() {
        1 => Some(vec![c.floats()[0]; channels]),
        _ if by_channel => Some(c.floats()),
        _ => None,
    }
}

/// PReLU with a constant slope: one slope is a leaky ReLU, one per channel a PReLU layer.
pub(crate) fn prelu(w: &mut Walk, node: &Node) -> Result<Value, String> {
    let x = w.act(node, 0)?;
    let Some(slope) = w.konst(node, 1).cloned() else {
        return Err("PRelu with a computed slope; dojang takes a constant one".into());
    };
    if slope.len() == 1 {
        w.parameter(node, 1);
        let act = Activation::LeakyRelu { alpha: slope.floats()[0] };
        return w.emit(node, Op::Activation(act), &[&x], None).map(Value::Act);
    }
    let Some(values) = per_channel(&x.shape, &slope) else {
        return Err(format!(
            "PRelu with a slope of shape {:?}; dojang takes one slope per channel of {:?} per image",
            slope.shape, x.shape
        ));
    };
    w.parameter(node, 1);
    let c = x.shape[0];
    w.emit(node, Op::PRelu, &[&x], Some((vec![c], values, None))).map(Value::Act)
}

/// A standalone activation.
pub(crate) fn activation(w: &mut Walk, node: &Node, act: Activation) -> Result<Value, String> {
    let x = w.act(node, 0)?;
    w.emit(node, Op::Activation(act), &[&x], None).map(Value::Act)
}

/// The product of two activations: x · sigmoid(x) is SiLU (the sigmoid's layer becomes one);
/// else a product of equal shapes, or by a gate per channel ([C, 1, 1] per image).
pub(crate) fn product(w: &mut Walk, node: &Node) -> Result<Value, String> {
    let (a, b) = (w.act(node, 0)?, w.act(node, 1)?);
    for (k, (gate, x)) in [(&b, &a), (&a, &b)].into_iter().enumerate() {
        let sigmoid = w.out.layers.iter().position(|l| l.name == gate.layer);
        let Some(i) = sigmoid else { continue };
        let layer = &w.out.layers[i];
        let reads_x = layer.inputs.first() == Some(&x.layer);
        if layer.op == Op::Activation(Activation::Sigmoid) && reads_x && gate.fresh && w.sole_reader(node, 1 - k) {
            w.out.layers[i].op = Op::Activation(Activation::Silu);
            w.out.tensors[i] = node.outputs[0].clone();
            w.rewrote("Sigmoid and Mul into SiLU".into());
            return Ok(Value::Act(Act { fresh: true, ..gate.clone() }));
        }
    }
    // The gate is the operand of [C, 1, 1] per image.
    let gate_like = |t: &Act| t.shape.iter().skip(1).all(|&d| d == 1);
    let (x, gate) = if gate_like(&a) && !gate_like(&b) { (b, a) } else { (a, b) };
    w.emit(node, Op::Mul { from: gate.layer.clone() }, &[&x], None).map(Value::Act)
}
