//! Pooling by definition. The window of output (oy, ox) covers input rows
//! oy·sh − pt .. oy·sh − pt + kh (likewise columns). Max takes the largest cell inside the
//! input (NaN if any is NaN); average divides the sum of cells inside the input by their count,
//! or, with count_include_pad, by the window's extent clipped to the padded input.

use crate::attrs::{Pool2dGeometry, PoolKind, check_len};
use crate::error::Result;

/// The pooling `geo` of `x`.
pub fn pool2d(geo: &Pool2dGeometry, x: &[f32]) -> Result<Vec<f32>> {
    check_len(&[geo.n, geo.c, geo.h, geo.w], x)?;
    let a = &geo.attrs;
    let p = a.padding;
    let mut y = Vec::with_capacity(geo.n * geo.c * geo.oh * geo.ow);
    for plane in x.chunks(geo.h * geo.w) {
        for oy in 0..geo.oh {
            for ox in 0..geo.ow {
                let y0 = (oy * a.stride[0]) as i128 - p.top as i128;
                let x0 = (ox * a.stride[1]) as i128 - p.left as i128;
                let y1 = (y0 + a.kernel[0] as i128).min((geo.h + p.bottom) as i128);
                let x1 = (x0 + a.kernel[1] as i128).min((geo.w + p.right) as i128);
                let mut max = f32::NEG_INFINITY;
                let mut sum = 0f64;
                let mut inside = 0usize;
                for iy in y0..y1 {
                    for ix in x0..x1 {
                        if iy < 0 || ix < 0 || iy >= geo.h as i128 || ix >= geo.w as i128 {
                            continue;
                        }
                        let v = plane[iy as usize * geo.w + ix as usize];
                        if v.is_nan() || max.is_nan() {
                            max = f32::NAN;
                        } else if v > max {
                            max = v;
                        }
                        sum += v as f64;
                        inside += 1;
                    }
                }
                // A window wholly in the padding: 0 for max, 0 / 0 for an average of its
                // input cells, as the ONNX reference implementation computes them.
                y.push(match a.kind {
                    PoolKind::Max if inside == 0 => 0.0,
                    PoolKind::Max => max,
                    PoolKind::Avg if a.count_include_pad => (sum / ((y1 - y0) * (x1 - x0)) as f64) as f32,
                    PoolKind::Avg => (sum / inside as f64) as f32,
                });
            }
        }
    }
    Ok(y)
}
