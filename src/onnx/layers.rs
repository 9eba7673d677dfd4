//! Each ONNX op dojang runs, as the layer (or rewrite) it becomes: attributes read and
//! checked against what dojang's layer computes; anything else is refused with the reason.

use crate::attrs::{Activation, Conv2d, Lrn, Padding, Pool2d, PoolKind};
use crate::model::Op;
use crate::onnx::fold::BATCH;
use crate::onnx::ir::{Const, Node};
use crate::onnx::walk::{Act, Value, Walk};

/// The ops [`lower_node`] takes (beside those that fold when their inputs are constants).
pub(crate) const RUNS: &[&str] = &[
    "Conv",
    "BatchNormalization",
    "Relu",
    "MaxPool",
    "AveragePool",
    "GlobalAveragePool",
    "GlobalMaxPool",
    "LRN",
    "Flatten",
    "Reshape",
    "Gemm",
    "MatMul",
    "Concat",
    "Softmax",
    "Pad",
    "Dropout",
    "Identity",
    "Add",
    "Sum",
    "Sub",
    "Mul",
    "Div",
    "Shape",
    "ReduceMean",
    "Clip",
    "Sigmoid",
    "HardSigmoid",
    "HardSwish",
    "LeakyRelu",
    "Transpose",
];

/// The layer (or rewrite) `node` becomes: the value of its first output.
pub(crate) fn lower_node(w: &mut Walk, node: &Node) -> Result<Value, String> {
    match node.op.as_str() {
        "Conv" => conv(w, node),
        "BatchNormalization" => {
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
        "Relu" => {
            let x = w.act(node, 0)?;
            if let Some(i) = w.own_layer(node, &x) {
                let layer = &mut w.out.layers[i];
                if let Op::Add { relu, .. } | Op::Affine { relu } = &mut layer.op {
                    *relu = true;
                    w.rewrote("Relu into Add/affine".into());
                    return Ok(w.alias(node, x));
                }
            }
            w.emit(node, Op::Relu, &[&x], None)
        }
        "Clip" => {
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
                return lower_node(w, &Node { op: "Relu".into(), ..node.clone() });
            }
            w.emit(node, Op::Activation(Activation::Clip { min, max }), &[&x], None)
        }
        "Sigmoid" => activation(w, node, Activation::Sigmoid),
        "HardSigmoid" => {
            let a = Activation::HardSigmoid { alpha: node.float("alpha", 0.2), beta: node.float("beta", 0.5) };
            activation(w, node, a)
        }
        "HardSwish" => activation(w, node, Activation::HardSwish),
        "LeakyRelu" => activation(w, node, Activation::LeakyRelu { alpha: node.float("alpha", 0.01) }),
        "Transpose" => {
            // The channel shuffle exporters write: [N, g, C/g, H, W] → [N, C/g, g, H, W].
            let x = w.act(node, 0)?;
            let perm = node.ints("perm").unwrap_or_default();
            let [g, per, h, wd] = x.shape[..] else {
                return Err(format!("transposes {:?} per image; dojang takes the channel shuffle only", x.shape));
            };
            if perm != [0, 2, 1, 3, 4] {
                return Err(format!("perm {perm:?}; dojang takes the channel shuffle's [0, 2, 1, 3, 4] only"));
            }
            let whole = Act { shape: vec![g * per, h, wd], ..x };
            let Value::Act(out) = w.emit(node, Op::ChannelShuffle { groups: g }, &[&whole], None)? else {
                return Err("no activation".into());
            };
            w.rewrote("Reshape, Transpose, Reshape into a channel shuffle".into());
            Ok(Value::Act(Act { shape: vec![per, g, h, wd], ..out }))
        }
        "MaxPool" | "AveragePool" => pool(w, node),
        "GlobalAveragePool" => {
            let x = w.act(node, 0)?;
            w.emit(node, Op::GlobalAvgPool, &[&x], None)
        }
        "ReduceMean" => {
            // The global average pooling the newer exporter writes: a mean over H and W.
            let x = w.act(node, 0)?;
            let axes = match (w.konst(node, 1), node.ints("axes")) {
                (Some(a), _) => a.ints(),
                (None, Some(a)) => a.to_vec(),
                _ => vec![],
            };
            let mut axes: Vec<i64> = axes.iter().map(|&a| if a < 0 { a + 4 } else { a }).collect();
            axes.sort_unstable();
            if x.shape.len() != 3 || axes != [2, 3] {
                return Err(format!(
                    "a mean over axes {axes:?} of {:?} per image; dojang takes the mean over H and W",
                    x.shape
                ));
            }
            let pooled = w.emit(node, Op::GlobalAvgPool, &[&x], None)?;
            match (node.int("keepdims", 1), pooled) {
                (0, Value::Act(p)) => w.emit(node, Op::Flatten, &[&p], None),
                (_, pooled) => Ok(pooled),
            }
        }
        "GlobalMaxPool" => {
            let x = w.act(node, 0)?;
            let hw = image_hw(&x)?;
            w.emit(node, Op::Pool2d(Pool2d::new(PoolKind::Max, hw, [1, 1])), &[&x], None)
        }
        "LRN" => {
            let x = w.act(node, 0)?;
            let size = node.int("size", 0).max(0) as usize;
            let lrn = Lrn {
                size,
                alpha: node.float("alpha", 1e-4),
                beta: node.float("beta", 0.75),
                k: node.float("bias", 1.0),
                groups: 1,
            };
            w.emit(node, Op::Lrn(lrn), &[&x], None)
        }
        "Flatten" => {
            let x = w.act(node, 0)?;
            if node.int("axis", 1) != 1 {
                return Err(format!("flattens at axis {}; dojang keeps the batch apart (axis 1)", node.int("axis", 1)));
            }
            flatten(w, node, x)
        }
        "Reshape" => reshape(w, node),
        "Gemm" => gemm(w, node),
        "MatMul" => {
            let x = w.act(node, 0)?;
            let b = w.need(node, 1, "weight")?.clone();
            let [k, m] = b.shape[..] else { return Err(format!("its weight must be 2-D; it is {:?}", b.shape)) };
            if x.shape != [k] {
                return Err(format!("multiplies {:?} per image by {:?}; dojang takes [N, {k}]", x.shape, b.shape));
            }
            w.parameter(node, 1);
            let v = b.floats();
            let weight: Vec<f32> = (0..m * k).map(|i| v[(i % k) * m + i / k]).collect();
            w.rewrote("MatMul into dense".into());
            w.emit(node, Op::Dense { out_features: m }, &[&x], Some((vec![m, k], weight, vec![0.0; m])))
        }
        "Concat" => {
            let acts = (0..node.inputs.len()).map(|k| w.act(node, k)).collect::<Result<Vec<_>, _>>()?;
            let rank = acts[0].shape.len() as i64 + 1;
            let axis = node.int("axis", 1);
            if (if axis < 0 { axis + rank } else { axis }) != 1 {
                return Err(format!(
                    "concatenates along axis {axis} of a rank-{rank} tensor; dojang concatenates along the channels (axis 1) only"
                ));
            }
            let refs: Vec<&Act> = acts.iter().collect();
            w.emit(node, Op::Concat, &refs, None)
        }
        "Softmax" => {
            let x = w.act(node, 0)?;
            let rank = x.shape.len() as i64 + 1;
            let default = if w.graph.opset < 13 { 1 } else { -1 };
            let axis = node.int("axis", default);
            let axis = if axis < 0 { axis + rank } else { axis };
            // Before opset 13 the input is flattened at `axis`; from 13 on it is that axis alone.
            let spatial: usize = x.shape[1..].iter().product();
            let channels = axis == 1 && (w.graph.opset >= 13 || spatial == 1);
            if !channels {
                return Err(format!(
                    "softmax over axis {axis} of {:?} per image (opset {}); dojang's softmax runs over the channels (axis 1)",
                    x.shape, w.graph.opset
                ));
            }
            w.emit(node, Op::Softmax, &[&x], None)
        }
        "Pad" => pad(w, node),
        "Dropout" | "Identity" => {
            if w.is_read(node, 1) {
                return Err("its mask output is read; dojang runs inference".into());
            }
            let x = w.act_padded(node, 0)?;
            Ok(w.alias(node, x))
        }
        "Add" | "Sum" | "Sub" | "Mul" | "Div" => arithmetic(w, node),
        "Shape" => {
            let x = w.act_padded(node, 0)?;
            let full: Vec<i64> = std::iter::once(BATCH).chain(x.shape.iter().map(|&d| d as i64)).collect();
            let rank = full.len() as i64;
            let clamp = |v: i64| (if v < 0 { v + rank } else { v }).clamp(0, rank) as usize;
            let (start, end) = (clamp(node.int("start", 0)), clamp(node.int("end", rank)));
            let part = full[start..end.max(start)].to_vec();
            Ok(Value::Const(Const::i64(vec![part.len()], part)))
        }
        op => Err(format!("{op} is not an op dojang runs")),
    }
}

/// `[H, W]` of an image activation `[C, H, W]`.
fn image_hw(x: &Act) -> Result<[usize; 2], String> {
    match x.shape[..] {
        [_, h, w] => Ok([h, w]),
        _ => Err(format!("its input is {:?} per image; dojang takes images [C, H, W]", x.shape)),
    }
}

/// Two values of an attribute that ONNX gives per spatial axis (default `default`).
fn pair(node: &Node, name: &str, default: usize) -> Result<[usize; 2], String> {
    match node.ints(name) {
        None => Ok([default; 2]),
        Some(&[a, b]) if a >= 0 && b >= 0 => Ok([a as usize, b as usize]),
        Some(v) => Err(format!("{name} {v:?}; dojang takes two non-negative values (2-D images)")),
    }
}

/// The padding `auto_pad` or `pads` ask for, on an `hw` image with window `k`.
fn padding(
    node: &Node,
    hw: [usize; 2],
    k: [usize; 2],
    stride: [usize; 2],
    dilation: [usize; 2],
) -> Result<Padding, String> {
    match node.string("auto_pad").unwrap_or("NOTSET") {
        "NOTSET" => match node.ints("pads") {
            None => Ok(Padding::default()),
            Some(&[t, l, b, r]) if [t, l, b, r].iter().all(|&p| p >= 0) => {
                Ok(Padding::new(t as usize, l as usize, b as usize, r as usize))
            }
            Some(p) => Err(format!("pads {p:?}; dojang takes four non-negative values (top, left, bottom, right)")),
        },
        "VALID" => Ok(Padding::default()),
        "SAME_UPPER" => Ok(Padding::same(hw, k, stride, dilation)),
        "SAME_LOWER" => {
            let p = Padding::same(hw, k, stride, dilation);
            Ok(Padding::new(p.bottom, p.right, p.top, p.left))
        }
        other => Err(format!("auto_pad '{other}' is not one ONNX defines")),
    }
}

fn conv(w: &mut Walk, node: &Node) -> Result<Value, String> {
    let x = w.act_padded(node, 0)?;
    let hw = image_hw(&x)?;
    let weight = w.need(node, 1, "weight")?.clone();
    let [m, _, kh, kw] = weight.shape[..] else {
        return Err(format!("its weight is {:?}; dojang runs 2-D convolutions ([M, C/group, kH, kW])", weight.shape));
    };
    let kernel = [kh, kw];
    if node.ints("kernel_shape").is_some_and(|k| k != [kh as i64, kw as i64]) {
        return Err(format!(
            "kernel_shape {:?} does not match its weight {:?}",
            node.ints("kernel_shape"),
            weight.shape
        ));
    }
    let bias = match w.konst(node, 2) {
        Some(b) if b.len() == m => b.floats(),
        Some(b) => return Err(format!("its bias has {} values for {m} filters", b.len())),
        None if node.input(2).is_some() => return Err("its bias (input 2) must be a constant".into()),
        None => vec![0.0; m],
    };
    w.parameter(node, 1);
    w.parameter(node, 2);
    let (stride, dilation) = (pair(node, "strides", 1)?, pair(node, "dilations", 1)?);
    let mut p = padding(node, hw, kernel, stride, dilation)?;
    if let Some(extra) = x.pad {
        (p.top, p.left, p.bottom, p.right) =
            (p.top + extra.top, p.left + extra.left, p.bottom + extra.bottom, p.right + extra.right);
        w.rewrote("Pad into Conv".into());
    }
    let groups = node.int("group", 1).max(1) as usize;
    let attrs = Conv2d::default()
        .with_stride(stride[0], stride[1])
        .with_padding(p)
        .with_dilation(dilation[0], dilation[1])
        .with_groups(groups);
    let x = Act { pad: None, ..x };
    let op = Op::Conv2d { out_channels: m, kernel, attrs };
    w.emit(node, op, &[&x], Some((weight.shape.clone(), weight.floats(), bias)))
}

fn pool(w: &mut Walk, node: &Node) -> Result<Value, String> {
    let x = w.act(node, 0)?;
    let hw = image_hw(&x)?;
    if w.is_read(node, 1) {
        return Err("its indices output is read; dojang gives the pooled values only".into());
    }
    let kernel = match node.ints("kernel_shape") {
        Some(&[a, b]) if a > 0 && b > 0 => [a as usize, b as usize],
        k => return Err(format!("kernel_shape {k:?}; dojang pools 2-D windows")),
    };
    if pair(node, "dilations", 1)? != [1, 1] {
        return Err("dilated pooling is not supported".into());
    }
    let stride = pair(node, "strides", 1)?;
    let p = padding(node, hw, kernel, stride, [1, 1])?;
    let kind = if node.op == "MaxPool" { PoolKind::Max } else { PoolKind::Avg };
    let pool = Pool2d::new(kind, kernel, stride)
        .with_padding(p)
        .with_ceil_mode(node.int("ceil_mode", 0) != 0)
        .with_count_include_pad(node.int("count_include_pad", 0) != 0);
    w.emit(node, Op::Pool2d(pool), &[&x], None)
}

fn flatten(w: &mut Walk, node: &Node, x: Act) -> Result<Value, String> {
    if x.shape.len() == 1 {
        return Ok(w.alias(node, x));
    }
    w.emit(node, Op::Flatten, &[&x], None)
}

/// A reshape to `[N, features]` (a flatten) or to the shape it has (nothing).
fn reshape(w: &mut Walk, node: &Node) -> Result<Value, String> {
    let x = w.act(node, 0)?;
    let shape = match (w.konst(node, 1), node.ints("shape")) {
        (Some(s), _) => s.ints(),
        (None, Some(s)) => s.to_vec(),
        _ => return Err("its shape must be a constant (or fold to one)".into()),
    };
    let per_image: usize = x.shape.iter().product();
    let mut dims: Vec<i64> = (shape.iter().enumerate().skip(1))
        .map(|(i, &d)| if d == 0 { x.shape.get(i - 1).map_or(0, |&v| v as i64) } else { d })
        .collect();
    let known: i64 = dims.iter().filter(|&&d| d > 0).product();
    for d in dims.iter_mut().filter(|d| **d == -1) {
        *d = per_image as i64 / known.max(1);
    }
    let fits = dims.iter().all(|&d| d > 0) && dims.iter().product::<i64>() == per_image as i64;
    let shown: Vec<String> = shape.iter().map(|&d| if d == BATCH { "N".into() } else { d.to_string() }).collect();
    if fits && dims.len() == 1 {
        w.rewrote("Reshape into flatten".into());
        return flatten(w, node, x);
    }
    let to: Vec<usize> = dims.iter().map(|&d| d.max(0) as usize).collect();
    if fits && to == x.shape {
        return Ok(w.alias(node, x));
    }
    // A view that splits the channels into groups ([C, H, W] → [g, C/g, H, W]) or merges them
    // back: the two ends of a channel shuffle.
    let split = to.len() == 4 && x.shape.len() == 3 && to[2..] == x.shape[1..];
    let merged = to.len() == 3 && x.shape.len() == 4 && to[1..] == x.shape[2..];
    if fits && (split || merged) {
        let Value::Act(view) = w.alias(node, x) else { return Err("no activation".into()) };
        return Ok(Value::Act(Act { shape: to, ..view }));
    }
    Err(format!("reshapes {:?} per image to [{}]; dojang reshapes to [N, features] only", x.shape, shown.join(", ")))
}

fn gemm(w: &mut Walk, node: &Node) -> Result<Value, String> {
    let x = w.act(node, 0)?;
    if node.int("transA", 0) != 0 {
        return Err("transA = 1: dojang multiplies activations [N, K] on the left".into());
    }
    let b = w.need(node, 1, "weight")?.clone();
    let [r, c] = b.shape[..] else { return Err(format!("its weight must be 2-D; it is {:?}", b.shape)) };
    let trans = node.int("transB", 0) != 0;
    let (m, k) = if trans { (r, c) } else { (c, r) };
    if x.shape != [k] {
        return Err(format!("multiplies {:?} per image by a [{r}, {c}] weight (transB {})", x.shape, trans as u8));
    }
    let alpha = node.float("alpha", 1.0);
    let v = b.floats();
    let weight: Vec<f32> = match trans {
        true => v.iter().map(|&a| a * alpha).collect(),
        false => (0..m * k).map(|i| v[(i % k) * m + i / k] * alpha).collect(),
    };
    let beta = node.float("beta", 1.0);
    let bias = match w.konst(node, 2) {
        None if node.input(2).is_some() => return Err("its bias (input 2) must be a constant".into()),
        None => vec![0.0; m],
        Some(c) if c.len() == m => c.floats().iter().map(|&v| v * beta).collect(),
        Some(c) if c.len() == 1 => vec![c.floats()[0] * beta; m],
        Some(c) => return Err(format!("its bias {:?} does not broadcast to [{m}]", c.shape)),
    };
    w.parameter(node, 1);
    w.parameter(node, 2);
    w.emit(node, Op::Dense { out_features: m }, &[&x], Some((vec![m, k], weight, bias)))
}

/// A zero Pad of the spatial axes: carried to the convolution that reads it.
fn pad(w: &mut Walk, node: &Node) -> Result<Value, String> {
    let x = w.act_padded(node, 0)?;
    let mode = node.string("mode").unwrap_or("constant");
    let pads = match (w.konst(node, 1), node.ints("pads")) {
        (Some(p), _) if w.graph.opset >= 11 => p.ints(),
        (_, Some(p)) => p.to_vec(),
        _ => return Err("its pads must be a constant".into()),
    };
    let value = match w.konst(node, 2) {
        Some(v) => v.floats().first().copied().unwrap_or(0.0),
        None => node.float("value", 0.0),
    };
    let [0, 0, t, l, 0, 0, b, r] = pads[..] else {
        return Err(format!("pads {pads:?}; dojang pads the height and width of [N, C, H, W] only"));
    };
    if mode != "constant" || value != 0.0 || [t, l, b, r].iter().any(|&p| p < 0) || x.shape.len() != 3 {
        return Err(format!(
            "mode '{mode}', value {value}, pads {pads:?}: dojang folds zero padding into a convolution only"
        ));
    }
    let old = x.pad.unwrap_or_default();
    let p = Padding::new(old.top + t as usize, old.left + l as usize, old.bottom + b as usize, old.right + r as usize);
    Ok(Value::Act(Act { pad: Some(p), ..x }))
}

/// Add, Sum, Sub, Mul, Div: of activations (a residual add), or of an activation and a
/// constant per channel (a scale or shift).
fn arithmetic(w: &mut Walk, node: &Node) -> Result<Value, String> {
    let consts: Vec<usize> = (0..node.inputs.len()).filter(|&k| w.konst(node, k).is_some()).collect();
    if consts.is_empty() && matches!(node.op.as_str(), "Add" | "Sum") {
        let acts = (0..node.inputs.len()).map(|k| w.act(node, k)).collect::<Result<Vec<_>, _>>()?;
        let mut sum = acts[0].clone();
        for other in &acts[1..] {
            if other.shape != sum.shape {
                return Err(format!("adds {:?} and {:?}; dojang adds equal shapes", sum.shape, other.shape));
            }
            let op = Op::Add { from: other.layer.clone(), relu: false };
            let Value::Act(a) = w.emit(node, op, &[&sum], None)? else { unreachable!("emit makes activations") };
            sum = a;
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
    // ONNX broadcasts from the right: the constant is per channel when, aligned with
    // [N, C, …], it has C at the channel axis and 1 everywhere else ([C, 1, 1], [1, C, 1, 1];
    // [C] for a dense layer's [N, C]), or a single value.
    let rank = x.shape.len() + 1;
    let aligned: Option<Vec<usize>> =
        (c.shape.len() <= rank).then(|| [vec![1; rank - c.shape.len()], c.shape.clone()].concat());
    let per_channel = aligned.is_some_and(|a| a[1] == channels && a.iter().enumerate().all(|(i, &d)| i == 1 || d == 1));
    let values = match c.len() {
        1 => vec![c.floats()[0]; channels],
        _ if per_channel => c.floats(),
        _ => {
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

/// A standalone activation.
fn activation(w: &mut Walk, node: &Node, act: Activation) -> Result<Value, String> {
    let x = w.act(node, 0)?;
    w.emit(node, Op::Activation(act), &[&x], None)
}

/// The product of two activations: x · sigmoid(x) is SiLU (the sigmoid's layer becomes one);
/// else a product of equal shapes, or by a gate per channel ([C, 1, 1] per image).
fn product(w: &mut Walk, node: &Node) -> Result<Value, String> {
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
    w.emit(node, Op::Mul { from: gate.layer.clone() }, &[&x], None)
}
