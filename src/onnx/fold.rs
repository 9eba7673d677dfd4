//! Constant folding: the nodes whose inputs are all constants run at load time: the weights
//! that Constant and ConstantOfShape make, and the Shape → Gather → Unsqueeze → Concat →
//! Reshape chains exporters write around a flatten. A shape taken of an activation carries
//! its batch as [`BATCH`], so the batch stays symbolic through the chain.

use crate::onnx::ir::{Attr, Const, Data, Node};

/// The batch dimension inside a folded shape: whatever batch the model runs at.
pub(crate) const BATCH: i64 = i64::MIN + 1;

/// The most values a constant made at load time may hold (4 GiB of f32): a file that asks
/// for more is refused rather than allowed to exhaust memory.
const MAX_CONSTANT: usize = 1 << 30;

/// The element count of `shape`, when it is at most [`MAX_CONSTANT`].
fn checked_len(shape: &[usize]) -> Result<usize, String> {
    (shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d)))
        .filter(|&n| n <= MAX_CONSTANT)
        .ok_or_else(|| format!("a constant of shape {shape:?}: more than {MAX_CONSTANT} values"))
}

/// The ops that fold when their inputs are all constants.
pub(crate) const FOLDS: &[&str] = &[
    "Constant",
    "Identity",
    "Dropout",
    "ConstantOfShape",
    "Cast",
    "Gather",
    "Unsqueeze",
    "Squeeze",
    "Concat",
    "Reshape",
    "Slice",
    "Transpose",
    "Add",
    "Sub",
    "Mul",
    "Div",
];

/// Runs `node` (an op of [`FOLDS`]) on constant `inputs` (None where an optional input is
/// absent): its output, or what is wrong.
pub(crate) fn eval(node: &Node, inputs: &[Option<&Const>], opset: i64) -> Result<Const, String> {
    let arg = |k: usize| inputs.get(k).copied().flatten().ok_or_else(|| format!("input {k} is missing"));
    match node.op.as_str() {
        "Constant" => constant(node),
        "Identity" | "Dropout" => Ok(arg(0)?.clone()),
        "ConstantOfShape" => {
            let shape = arg(0)?.ints();
            if shape.contains(&BATCH) {
                return Err("a constant whose shape depends on the batch".into());
            }
            let shape: Vec<usize> = shape.iter().map(|&d| d.max(0) as usize).collect();
            let len = checked_len(&shape)?;
            Ok(match node.attrs.get("value") {
                Some(Attr::Tensor(Const { data: Data::I64(v), .. })) => {
                    Const::i64(shape, vec![v.first().copied().unwrap_or(0); len])
                }
                Some(Attr::Tensor(t)) => Const::f32(shape, vec![t.floats().first().copied().unwrap_or(0.0); len]),
                _ => Const::f32(shape, vec![0.0; len]),
            })
        }
        "Cast" => {
            let x = arg(0)?;
            // ONNX TensorProto types 1, 10, 11, 16 are floats; the rest dojang folds are integers.
            Ok(match node.int("to", 1) {
                1 | 10 | 11 | 16 => Const::f32(x.shape.clone(), x.floats()),
                _ => Const::i64(x.shape.clone(), x.ints()),
            })
        }
        "Gather" => gather(arg(0)?, arg(1)?, node.int("axis", 0)),
        "Unsqueeze" | "Squeeze" => {
            let x = arg(0)?;
            let axes = match (opset >= 13, node.ints("axes")) {
                (true, _) => inputs.get(1).copied().flatten().map(Const::ints),
                (false, a) => a.map(<[i64]>::to_vec),
            };
            squeeze(x, axes, node.op == "Unsqueeze")
        }
        "Concat" => {
            let parts: Vec<&Const> = (0..inputs.len()).map(arg).collect::<Result<_, _>>()?;
            if parts.iter().any(|p| p.shape.len() != 1) {
                return Err("folds the concatenation of 1-D constants only".into());
            }
            let len = parts.iter().map(|p| p.len()).sum();
            Ok(match parts.iter().all(|p| matches!(p.data, Data::I64(_))) {
                true => Const::i64(vec![len], parts.iter().flat_map(|p| p.ints()).collect()),
                false => Const::f32(vec![len], parts.iter().flat_map(|p| p.floats()).collect()),
            })
        }
        "Reshape" => {
            let (x, shape) = (arg(0)?, arg(1)?.ints());
            let copy = |i: usize| x.shape.get(i).copied().unwrap_or(1) as i64;
            let known: i64 = (shape.iter().enumerate())
                .map(|(i, &d)| if d == 0 { copy(i) } else { d })
                .filter(|&d| d > 0)
                .fold(1i64, |a, d| a.saturating_mul(d));
            let dims: Vec<usize> = (shape.iter().enumerate())
                .map(|(i, &d)| match d {
                    0 => x.shape.get(i).copied().unwrap_or(1),
                    -1 => x.len() / known.max(1) as usize,
                    d => d.max(0) as usize,
                })
                .collect();
            if checked_len(&dims).ok() != Some(x.len()) {
                return Err(format!("cannot reshape {:?} to {shape:?}", x.shape));
            }
            Ok(Const { shape: dims, data: x.data.clone() })
        }
        "Slice" => {
            let x = arg(0)?;
            let mut out = x.clone();
            for (axis, picks) in slice_args(node, inputs, opset, &x.shape)? {
                out = take(&out, axis, &picks);
            }
            Ok(out)
        }
        "Transpose" => {
            let x = arg(0)?;
            let rank = x.shape.len();
            let perm: Vec<usize> = match node.ints("perm") {
                Some(p) => p.iter().map(|&a| a as usize).collect(),
                None => (0..rank).rev().collect(),
            };
            let mut seen = perm.clone();
            seen.sort_unstable();
            if seen != (0..rank).collect::<Vec<_>>() {
                return Err(format!("perm {perm:?} of a rank-{rank} constant"));
            }
            Ok(transpose(x, &perm))
        }
        "Add" | "Sub" | "Mul" | "Div" => arithmetic(&node.op, arg(0)?, arg(1)?),
        op => Err(format!("{op} does not fold")),
    }
}

/// A Constant node's value: a tensor, or one of the scalar and list forms.
fn constant(node: &Node) -> Result<Const, String> {
    Ok(match node.attrs.iter().next().map(|(k, v)| (k.as_str(), v)) {
        Some(("value", Attr::Tensor(t))) => t.clone(),
        Some(("value_float", Attr::Float(f))) => Const::f32(vec![], vec![*f]),
        Some(("value_floats", Attr::Floats(f))) => Const::f32(vec![f.len()], f.clone()),
        Some(("value_int", Attr::Int(i))) => Const::i64(vec![], vec![*i]),
        Some(("value_ints", Attr::Ints(i))) => Const::i64(vec![i.len()], i.clone()),
        _ => return Err("a Constant without a value dojang reads".into()),
    })
}

/// A Slice node's axes (made non-negative against `shape`), each with the indices it keeps
/// along it, in order: starts, ends, axes and steps as attributes (opset < 10) or constant
/// inputs, ends clamped as ONNX defines, so `i64::MAX` means "to the end".
pub(crate) fn slice_args(
    node: &Node,
    inputs: &[Option<&Const>],
    opset: i64,
    shape: &[usize],
) -> Result<Vec<(usize, Vec<usize>)>, String> {
    let given = |k: usize, name: &str| match opset >= 10 {
        true => inputs.get(k).copied().flatten().map(Const::ints),
        false => node.ints(name).map(<[i64]>::to_vec),
    };
    let (starts, ends) = (given(1, "starts"), given(2, "ends"));
    let (Some(starts), Some(ends)) = (starts, ends) else {
        return Err("a Slice without constant starts and ends".into());
    };
    let rank = shape.len() as i64;
    let axes = given(3, "axes").unwrap_or_else(|| (0..starts.len() as i64).collect());
    let steps = given(4, "steps").unwrap_or_else(|| vec![1; starts.len()]);
    if [ends.len(), axes.len(), steps.len()].iter().any(|&l| l != starts.len()) {
        return Err(format!(
            "a Slice of {} starts, {} ends, {} axes, {} steps",
            starts.len(),
            ends.len(),
            axes.len(),
            steps.len()
        ));
    }
    let mut out = Vec::with_capacity(axes.len());
    for k in 0..axes.len() {
        let axis = if axes[k] < 0 { axes[k] + rank } else { axes[k] };
        let Some(&dim) = usize::try_from(axis).ok().and_then(|a| shape.get(a)) else {
            return Err(format!("Slice axis {} of a rank-{rank} tensor", axes[k]));
        };
        let (dim, step) = (dim as i64, steps[k]);
        if step == 0 {
            return Err("a Slice with step 0".into());
        }
        let at = |v: i64| if v < 0 { v.saturating_add(dim) } else { v };
        let (lo, hi) = if step > 0 { (0, dim) } else { (-1, dim - 1) };
        let (mut i, end) = (at(starts[k]).clamp(lo.max(0), hi), at(ends[k]).clamp(lo, hi));
        let mut picks = Vec::new();
        while (step > 0 && i < end) || (step < 0 && i > end) {
            picks.push(i as usize);
            i = i.saturating_add(step);
        }
        out.push((axis as usize, picks));
    }
    Ok(out)
}

/// `x` keeping, along `axis`, the indices `picks` in order.
fn take(x: &Const, axis: usize, picks: &[usize]) -> Const {
    let outer: usize = x.shape[..axis].iter().product();
    let inner: usize = x.shape[axis + 1..].iter().product();
    let dim = x.shape[axis];
    let mut shape = x.shape.clone();
    shape[axis] = picks.len();
    let index = |o: usize, p: usize, i: usize| (o * dim + p) * inner + i;
    let order: Vec<usize> =
        (0..outer).flat_map(|o| picks.iter().flat_map(move |&p| (0..inner).map(move |i| index(o, p, i)))).collect();
    reorder(x, shape, &order)
}

/// `x` with its axes permuted by `perm`.
fn transpose(x: &Const, perm: &[usize]) -> Const {
    let shape: Vec<usize> = perm.iter().map(|&a| x.shape[a]).collect();
    let mut strides = vec![1usize; x.shape.len()];
    for a in (0..x.shape.len().saturating_sub(1)).rev() {
        strides[a] = strides[a + 1] * x.shape[a + 1];
    }
    let order: Vec<usize> = (0..x.len())
        .map(|mut flat| {
            let mut at = 0;
            for d in (0..shape.len()).rev() {
                at += (flat % shape[d]) * strides[perm[d]];
                flat /= shape[d];
            }
            at
        })
        .collect();
    reorder(x, shape, &order)
}

/// The values of `x` at `order`, as a constant of `shape`.
fn reorder(x: &Const, shape: Vec<usize>, order: &[usize]) -> Const {
    match &x.data {
        Data::I64(v) => Const::i64(shape, order.iter().map(|&i| v[i]).collect()),
        Data::F32(v) => Const::f32(shape, order.iter().map(|&i| v[i]).collect()),
    }
}

fn gather(x: &Const, idx: &Const, axis: i64) -> Result<Const, String> {
    let rank = x.shape.len() as i64;
    let axis = if axis < 0 { axis + rank } else { axis };
    if axis != 0 || rank == 0 {
        return Err("folds a Gather along axis 0 only".into());
    }
    let rows = x.shape[0] as i64;
    let row: usize = x.shape[1..].iter().product();
    let picks: Vec<usize> = (idx.ints().iter())
        .map(|&i| if i < 0 { i + rows } else { i })
        .map(|i| usize::try_from(i).ok().filter(|&i| (i as i64) < rows).ok_or(format!("index {i} out of {rows}")))
        .collect::<Result<_, _>>()?;
    let shape = [idx.shape.as_slice(), &x.shape[1..]].concat();
    let take = |k: usize| k * row..(k + 1) * row;
    Ok(match &x.data {
        Data::I64(v) => Const::i64(shape, picks.iter().flat_map(|&k| v[take(k)].to_vec()).collect()),
        Data::F32(v) => Const::f32(shape, picks.iter().flat_map(|&k| v[take(k)].to_vec()).collect()),
    })
}

fn squeeze(x: &Const, axes: Option<Vec<i64>>, unsqueeze: bool) -> Result<Const, String> {
    let mut shape = x.shape.clone();
    if unsqueeze {
        let axes = axes.ok_or("an Unsqueeze without axes")?;
        let rank = (shape.len() + axes.len()) as i64;
        let mut axes: Vec<usize> = axes.iter().map(|&a| if a < 0 { a + rank } else { a } as usize).collect();
        axes.sort_unstable();
        for a in axes {
            if a > shape.len() {
                return Err(format!("axis {a} past rank {}", shape.len()));
            }
            shape.insert(a, 1);
        }
    } else {
        let rank = shape.len() as i64;
        let drop: Vec<usize> = match axes {
            Some(a) => a.iter().map(|&a| if a < 0 { a + rank } else { a } as usize).collect(),
            None => (0..shape.len()).filter(|&i| shape[i] == 1).collect(),
        };
        shape = shape.iter().enumerate().filter(|(i, _)| !drop.contains(i)).map(|(_, &d)| d).collect();
    }
    Ok(Const { shape, data: x.data.clone() })
}

/// Element-wise arithmetic of constants of one shape, or one of them a single value.
fn arithmetic(op: &str, a: &Const, b: &Const) -> Result<Const, String> {
    let shape = if a.len() >= b.len() { a.shape.clone() } else { b.shape.clone() };
    if a.len() != b.len() && a.len() != 1 && b.len() != 1 {
        return Err(format!("folds {op} of equal shapes or a single value; got {:?} and {:?}", a.shape, b.shape));
    }
    let n = a.len().max(b.len());
    let at = |v: &Const, i: usize| if v.len() == 1 { 0 } else { i };
    if let (Data::I64(x), Data::I64(y)) = (&a.data, &b.data) {
        let f = |p: i64, q: i64| match op {
            "Add" => p.wrapping_add(q),
            "Sub" => p.wrapping_sub(q),
            "Mul" => p.wrapping_mul(q),
            _ => p.checked_div(q).unwrap_or(0),
        };
        return Ok(Const::i64(shape, (0..n).map(|i| f(x[at(a, i)], y[at(b, i)])).collect()));
    }
    let (x, y) = (a.floats(), b.floats());
    let f = |p: f32, q: f32| match op {
        "Add" => p + q,
        "Sub" => p - q,
        "Mul" => p * q,
        _ => p / q,
    };
    Ok(Const::f32(shape, (0..n).map(|i| f(x[at(a, i)], y[at(b, i)])).collect()))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn slice(starts: i64, ends: i64, steps: Option<i64>, dim: usize) -> Result<Vec<usize>, String> {
        let node = Node {
            op: "Slice".into(),
            domain: String::new(),
            name: "s".into(),
            inputs: vec![],
            outputs: vec![],
            attrs: BTreeMap::new(),
        };
        let one = |v: i64| Const::i64(vec![1], vec![v]);
        let (s, e, a, k) = (one(starts), one(ends), one(0), steps.map(one));
        let inputs = [None, Some(&s), Some(&e), Some(&a), k.as_ref()];
        slice_args(&node, &inputs, 13, &[dim]).map(|mut axes| axes.remove(0).1)
    }

    /// A 2x3 constant sliced on both axes (rows reversed, every other column) and transposed.
    #[test]
    fn slices_and_transposes_of_constants() {
        let x = Const::i64(vec![2, 3], vec![1, 2, 3, 4, 5, 6]);
        let rows = take(&x, 0, &[1, 0]);
        assert_eq!(rows, Const::i64(vec![2, 3], vec![4, 5, 6, 1, 2, 3]));
        assert_eq!(take(&rows, 1, &[0, 2]), Const::i64(vec![2, 2], vec![4, 6, 1, 3]));
        assert_eq!(transpose(&x, &[1, 0]), Const::i64(vec![3, 2], vec![1, 4, 2, 5, 3, 6]));
        let cube = Const::f32(vec![2, 1, 3], (0..6).map(|v| v as f32).collect());
        assert_eq!(transpose(&cube, &[2, 0, 1]), Const::f32(vec![3, 2, 1], vec![0., 3., 1., 4., 2., 5.]));
    }

    /// ONNX's clamping, worked out by hand for a dimension of 4.
    #[test]
    fn slice_indices_follow_onnx_clamping() {
        assert_eq!(slice(0, 1, None, 4), Ok(vec![0]));
        assert_eq!(slice(1, i64::MAX, None, 4), Ok(vec![1, 2, 3]));
        assert_eq!(slice(-3, -1, None, 4), Ok(vec![1, 2]));
        assert_eq!(slice(0, 4, Some(2), 4), Ok(vec![0, 2]));
        assert_eq!(slice(-1, i64::MIN, Some(-1), 4), Ok(vec![3, 2, 1, 0]));
        assert_eq!(slice(10, 0, Some(-2), 4), Ok(vec![3, 1]));
        assert_eq!(slice(3, 1, None, 4), Ok(vec![]));
        assert_eq!(slice(i64::MIN, i64::MAX, Some(i64::MAX), 4), Ok(vec![0]));
        assert!(slice(0, 1, Some(0), 4).is_err());
    }
}
