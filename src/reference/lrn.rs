//! LRN by definition: y = x / (k + alpha/size · Σ_{c' in window} x[c']²)^beta, the window of
//! `size` channels centred on c and clipped to c's channel group.

use crate::attrs::{LrnGeometry, check_len};
use crate::error::Result;

/// LRN of `x` as `geo` says.
pub fn lrn(geo: &LrnGeometry, x: &[f32]) -> Result<Vec<f32>> {
    let shape = geo.shape();
    check_len(&shape, x)?;
    let attrs = geo.attrs();
    let [n_, c_, h, w] = shape;
    let cpg = geo.channels_per_group();
    let half = (attrs.size - 1) / 2;
    let mut y = vec![0f32; x.len()];
    for n in 0..n_ {
        for c in 0..c_ {
            let group_start = c / cpg * cpg;
            let lo = c.saturating_sub(half).max(group_start);
            let hi = (c + half).min(group_start + cpg - 1);
            for s in 0..h * w {
                let mut sq = 0f64;
                for cc in lo..=hi {
                    let v = x[(n * c_ + cc) * h * w + s] as f64;
                    sq += v * v;
                }
                let i = (n * c_ + c) * h * w + s;
                let scale = attrs.k as f64 + attrs.alpha as f64 / attrs.size as f64 * sq;
                y[i] = (x[i] as f64 / scale.powf(attrs.beta as f64)) as f32;
            }
        }
    }
    Ok(y)
}
