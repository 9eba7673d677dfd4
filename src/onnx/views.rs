//! The ops that only reshape an activation, as the views they are: Flatten and Reshape to
//! `[N, features]`, Shape (folded, the batch symbolic), the channel shuffle exporters write as
//! Reshape → Transpose → Reshape, and Slice and Split along the channels.

use crate::model::Op;
use crate::onnx::fold::{BATCH, slice_args};
use crate::onnx::ir::{Const, Node};
use crate::onnx::walk::{Act, Value, Walk};

/// Flatten at axis 1.
pub(crate) fn flatten_node(w: &mut Walk, node: &Node) -> Result<Value, String> {
    let x = w.act(node, 0)?;
    if node.int("axis", 1) != 1 {
        return Err(format!("flattens at axis {}; dojang keeps the batch apart (axis 1)", node.int("axis", 1)));
    }
    flatten(w, node, x)
}

/// Transpose: the channel shuffle's [N, g, C/g, H, W] → [N, C/g, g, H, W] only.
pub(crate) fn transpose(w: &mut Walk, node: &Node) -> Result<Value, String> {
    let x = w.act(node, 0)?;
    let perm = node.ints("perm").unwrap_or_default();
    let [g, per, h, wd] = x.shape[..] else {
        return Err(format!("transposes {:?} per image; dojang takes the channel shuffle only", x.shape));
    };
    if perm != [0, 2, 1, 3, 4] {
        return Err(format!("perm {perm:?}; dojang takes the channel shuffle's [0, 2, 1, 3, 4] only"));
    }
    let whole = Act { shape: vec![g * per, h, wd], ..x };
    let out = w.emit(node, Op::ChannelShuffle { groups: g }, &[&whole], None)?;
    w.rewrote("Reshape, Transpose, Reshape into a channel shuffle".into());
    Ok(Value::Act(Act { shape: vec![per, g, h, wd], ..out }))
}

/// Slice of an activation: along the channels with step 1 only (other axes whole).
pub(crate) fn slice(w: &mut Walk, node: &Node) -> Result<Value, String> {
    let x = w.act(node, 0)?;
    let inputs: Vec<Option<&Const>> = (0..node.inputs.len()).map(|k| w.konst(node, k)).collect();
    // The batch is 1 here: a Slice that keeps it whole keeps any batch whole.
    let shape = [&[1][..], &x.shape].concat();
    let (mut start, mut end) = (0, x.shape[0]);
    for (axis, picks) in slice_args(node, &inputs, w.graph.opset, &shape)? {
        let whole = picks.iter().copied().eq(0..shape[axis]);
        let run = picks.windows(2).all(|p| p[1] == p[0] + 1) && !picks.is_empty();
        match (axis, whole, run) {
            (_, true, _) => {}
            (1, _, true) => (start, end) = (picks[0], picks[picks.len() - 1] + 1),
            _ => {
                return Err(format!(
                    "a Slice of axis {axis} of {:?} per image; dojang slices a run of channels only",
                    x.shape
                ));
            }
        }
    }
    if (start, end) == (0, x.shape[0]) {
        return Ok(Value::Act(w.alias(node, x)));
    }
    w.emit(node, Op::Slice { start, end }, &[&x], None).map(Value::Act)
}

/// Split along the channels: a channel slice per output, the sizes from the `split` input
/// (opset 13 on), the attribute (before), or equal parts.
pub(crate) fn split(w: &mut Walk, node: &Node) -> Result<Value, String> {
    let x = w.act(node, 0)?;
    let rank = x.shape.len() as i64 + 1;
    let axis = node.int("axis", 0);
    if (if axis < 0 { axis + rank } else { axis }) != 1 {
        return Err(format!("splits axis {axis} of a rank-{rank} tensor; dojang splits the channels (axis 1) only"));
    }
    let c = x.shape[0];
    let parts = node.outputs.len();
    let sizes: Vec<i64> = match (w.konst(node, 1), node.ints("split")) {
        (Some(s), _) => s.ints(),
        (None, Some(s)) => s.to_vec(),
        // Equal parts, the last smaller where they do not divide (opset 18's num_outputs).
        _ => {
            let each = c.div_ceil(parts.max(1)) as i64;
            (0..parts as i64).map(|k| each.min(c as i64 - k * each)).collect()
        }
    };
    if sizes.len() != parts || sizes.iter().any(|&s| s <= 0) || sizes.iter().sum::<i64>() != c as i64 {
        return Err(format!("splits {c} channels into {sizes:?} for {parts} outputs"));
    }
    let mut start = 0;
    let mut first = None;
    for (k, &size) in sizes.iter().enumerate() {
        let end = start + size as usize;
        let part = w.emit(node, Op::Slice { start, end }, &[&x], None)?;
        w.out.tensors.last_mut().expect("a layer was just made").clone_from(&node.outputs[k]);
        match k {
            0 => first = Some(part),
            _ => _ = w.values.insert(node.outputs[k].clone(), Value::Act(part)),
        }
        start = end;
    }
    first.map(Value::Act).ok_or_else(|| "a Split without outputs".into())
}

/// Shape of an activation: a constant whose batch entry is [`BATCH`].
pub(crate) fn shape(w: &mut Walk, node: &Node) -> Result<Value, String> {
    let x = w.act_padded(node, 0)?;
    let full: Vec<i64> = std::iter::once(BATCH).chain(x.shape.iter().map(|&d| d as i64)).collect();
    let rank = full.len() as i64;
    let clamp = |v: i64| (if v < 0 { v + rank } else { v }).clamp(0, rank) as usize;
    let (start, end) = (clamp(node.int("start", 0)), clamp(node.int("end", rank)));
    let part = full[start..end.max(start)].to_vec();
    Ok(Value::Const(Const::i64(vec![part.len()], part)))
}

pub(crate) fn flatten(w: &mut Walk, node: &Node, x: Act) -> Result<Value, String> {
    if x.shape.len() == 1 {
        return Ok(Value::Act(w.alias(node, x)));
    }
    w.emit(node, Op::Flatten, &[&x], None).map(Value::Act)
}

/// A reshape to `[N, features]` (a flatten) or to the shape it has (nothing).
pub(crate) fn reshape(w: &mut Walk, node: &Node) -> Result<Value, String> {
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
        return Ok(Value::Act(w.alias(node, x)));
    }
    // A view that splits the channels into groups ([C, H, W] → [g, C/g, H, W]) or merges them
    // back: the two ends of a channel shuffle.
    let split = to.len() == 4 && x.shape.len() == 3 && to[2..] == x.shape[1..];
    let merged = to.len() == 3 && x.shape.len() == 4 && to[1..] == x.shape[2..];
    if fits && (split || merged) {
        return Ok(Value::Act(Act { shape: to, ..w.alias(node, x) }));
    }
    Err(format!("reshapes {:?} per image to [{}]; dojang reshapes to [N, features] only", x.shape, shown.join(", ")))
}
