//! Softmax over dimension 1 by definition: exp(x − max) / Σ exp(x − max).

use crate::attrs::{SoftmaxGeometry, check_len};
use crate::error::Result;

/// Softmax of `x` as `geo` says.
pub fn softmax(geo: &SoftmaxGeometry, x: &[f32]) -> Result<Vec<f32>> {
    let (n_, c_, s_) = geo.dims();
    check_len(geo.shape(), x)?;
    let mut y = vec![0f32; x.len()];
    for n in 0..n_ {
        for s in 0..s_ {
            let at = |c: usize| (n * c_ + c) * s_ + s;
            let max = (0..c_).map(|c| x[at(c)] as f64).fold(f64::NEG_INFINITY, f64::max);
            let sum: f64 = (0..c_).map(|c| (x[at(c)] as f64 - max).exp()).sum();
            for c in 0..c_ {
                y[at(c)] = ((x[at(c)] as f64 - max).exp() / sum) as f32;
            }
        }
    }
    Ok(y)
}
