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
