//! Dense layer by definition: `y[n, o] = b[o] + Σ_i x[n, i] · W[o, i]`.

use super::elementwise::activate;
use crate::attrs::{DenseGeometry, check_len};
use crate::error::Result;

/// y = x·Wᵀ + b (then ReLU when the attributes ask), x [N, F], W [out, F].
pub fn dense(geo: &DenseGeometry, x: &[f32], w: &[f32], b: Option<&[f32]>) -> Result<Vec<f32>> {
    let (n_, f, o_) = (geo.batch, geo.in_features, geo.out_features);
    check_len(&[n_, f], x)?;
    check_len(&[o_, f], w)?;
    if let Some(b) = b {
        check_len(&[o_], b)?;
    }
    let mut y = vec![0f32; n_ * o_];
    for n in 0..n_ {
        for o in 0..o_ {
            let mut acc = b.map_or(0.0, |b| b[o] as f64);
            for i in 0..f {
                acc += x[n * f + i] as f64 * w[o * f + i] as f64;
            }
            y[n * o_ + o] = activate(geo.attrs.activation, acc) as f32;
        }
    }
    Ok(y)
}
