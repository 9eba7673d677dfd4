//! ReLU and the element-wise sum.

use crate::error::{Error, Result, Shape};

/// max(x, 0) per element (NaN stays NaN).
pub fn relu(x: &[f32]) -> Vec<f32> {
    x.iter().map(|&v| if v < 0.0 { 0.0 } else { v }).collect()
}

/// a + b per element, then ReLU when `relu`.
pub fn add(a: &[f32], b: &[f32], relu: bool) -> Result<Vec<f32>> {
    if a.len() != b.len() {
        return Err(Error::Mismatch { op: "add", a: Shape(vec![a.len()]), b: Shape(vec![b.len()]) });
    }
    Ok(a.iter()
        .zip(b)
        .map(|(&x, &y)| {
            let s = x + y;
            if relu && s < 0.0 { 0.0 } else { s }
        })
        .collect())
}

/// y = x·weight\[c\] + bias\[c\] over `[N, C, …]` `x` with `weight` and `bias` of C values
/// each, then ReLU when `relu`.
pub fn affine(x: &[f32], shape: &[usize], weight: &[f32], bias: &[f32], relu: bool) -> Result<Vec<f32>> {
    let c = shape.get(1).copied().unwrap_or(0);
    if shape.len() < 2 || weight.len() != c || bias.len() != c || x.len() != shape.iter().product::<usize>() {
        return Err(Error::Mismatch { op: "affine", a: Shape(shape.to_vec()), b: Shape(vec![weight.len()]) });
    }
    let plane: usize = shape[2..].iter().product();
    Ok(x.iter()
        .enumerate()
        .map(|(i, &v)| {
            let ch = i / plane.max(1) % c;
            let y = (v as f64 * weight[ch] as f64 + bias[ch] as f64) as f32;
            if relu && y < 0.0 { 0.0 } else { y }
        })
        .collect())
}

/// `parts` (each `[N, Cₖ, …]` flattened, with the same trailing sizes) side by side along
/// dimension 1: image by image, the parts in order.
pub fn concat(parts: &[&[f32]], batch: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(parts.iter().map(|p| p.len()).sum());
    for n in 0..batch {
        for p in parts {
            let per = p.len() / batch.max(1);
            out.extend_from_slice(&p[n * per..(n + 1) * per]);
        }
    }
    out
}
