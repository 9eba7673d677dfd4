//! Each ONNX op dojang runs, as the layer (or rewrite) it becomes: attributes read and
//! checked against what dojang's layer computes; anything else is refused with the reason.
//! Here the dispatch and the ops over windows and features (convolution, pooling, dense,
//! padding, concatenation, softmax); per-element and per-channel ops in `channels.rs`,
//! reshapes in `views.rs`.

use crate::attrs::{Activation, Conv2d, Lrn, PadMode, Padding, Pool2d, PoolKind};
use crate::model::Op;
use crate::onnx::ir::Node;
use crate::onnx::walk::{Act, Value, Walk};
use crate::onnx::{channels, views};

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
    "PRelu",
    "Split",
    "Transpose",
];

/// The layer (or rewrite) `node` becomes: the value of its first output.
pub(crate) fn lower_node(w: &mut Walk, node: &Node) -> Result<Value, String> {
    match node.op.as_str() {
        "Conv" => conv(w, node),
        "BatchNormalization" => channels::batch_norm(w, node),
        "Relu" => channels::relu(w, node),
        "Clip" => channels::clip(w, node),
        "Sigmoid" => channels::activation(w, node, Activation::Sigmoid),
        "HardSigmoid" => {
            let a = Activation::HardSigmoid { alpha: node.float("alpha", 0.2), beta: node.float("beta", 0.5) };
            channels::activation(w, node, a)
        }
        "HardSwish" => channels::activation(w, node, Activation::HardSwish),
        "LeakyRelu" => channels::activation(w, node, Activation::LeakyRelu { alpha: node.float("alpha", 0.01) }),
        "PRelu" => channels::prelu(w, node),
        "Transpose" => views::transpose(w, node),
        "Slice" => views::slice(w, node),
        "Split" => views::split(w, node),
        "MaxPool" | "AveragePool" => pool(w, node),
        "GlobalAveragePool" => {
            let x = w.act(node, 0)?;
            w.emit(node, Op::GlobalAvgPool, &[&x], None).map(Value::Act)
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
            match node.int("keepdims", 1) {
                0 => w.emit(node, Op::Flatten, &[&pooled], None).map(Value::Act),
                _ => Ok(Value::Act(pooled)),
            }
        }
        "GlobalMaxPool" => {
            let x = w.act(node, 0)?;
            let hw = image_hw(&x)?;
            w.emit(node, Op::Pool2d(Pool2d::new(PoolKind::Max, hw, [1, 1])), &[&x], None).map(Value::Act)
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
            w.emit(node, Op::Lrn(lrn), &[&x], None).map(Value::Act)
        }
        "Flatten" => views::flatten_node(w, node),
        "Reshape" => views::reshape(w, node),
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
            w.emit(node, Op::Dense { out_features: m }, &[&x], Some((vec![m, k], weight, Some(vec![0.0; m]))))
                .map(Value::Act)
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
            w.emit(node, Op::Concat, &refs, None).map(Value::Act)
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
            w.emit(node, Op::Softmax, &[&x], None).map(Value::Act)
        }
        "Pad" => pad(w, node),
        "Dropout" | "Identity" => {
            if w.is_read(node, 1) {
                return Err("its mask output is read; dojang runs inference".into());
            }
            let x = w.act_padded(node, 0)?;
            Ok(Value::Act(w.alias(node, x)))
        }
        "Add" | "Sum" | "Sub" | "Mul" | "Div" => channels::arithmetic(w, node),
        "Shape" => views::shape(w, node),
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
    w.emit(node, op, &[&x], Some((weight.shape.clone(), weight.floats(), Some(bias)))).map(Value::Act)
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
    w.emit(node, Op::Pool2d(pool), &[&x], None).map(Value::Act)
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
    w.emit(node, Op::Dense { out_features: m }, &[&x], Some((vec![m, k], weight, Some(bias)))).map(Value::Act)
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
    if [t, l, b, r].iter().any(|&p| p < 0) || x.shape.len() != 3 {
        return Err(format!("pads {pads:?} of a {:?} image; dojang pads by 0 or more cells", x.shape));
    }
    let padding = Padding::new(t as usize, l as usize, b as usize, r as usize);
    // A zero border waits for the convolution after it, which pads as it reads; any other
    // is a layer of its own.
    let mode = match (mode, value) {
        ("constant", 0.0) => None,
        ("constant", v) => Some(PadMode::Constant(v)),
        ("edge", _) => Some(PadMode::Edge),
        ("reflect", _) => Some(PadMode::Reflect),
        (m, _) => return Err(format!("mode '{m}'; dojang pads by constant, edge or reflect")),
    };
    if let Some(mode) = mode {
        let x = w.act(node, 0)?;
        return w.emit(node, Op::Pad { padding, mode }, &[&x], None).map(Value::Act);
    }
    let old = x.pad.unwrap_or_default();
    let p = Padding::new(old.top + t as usize, old.left + l as usize, old.bottom + b as usize, old.right + r as usize);
    Ok(Value::Act(Act { pad: Some(p), ..x }))
}
