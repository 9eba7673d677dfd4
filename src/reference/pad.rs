//! Padding by a mode, cell by cell.

use crate::attrs::{PadMode, Padding, check_len, pad_shape, pad_source};
use crate::error::Result;

/// `x` `[N, C, H, W]` padded by `padding`, the border by `mode`.
pub fn pad(x: &[f32], shape: &[usize], padding: &Padding, mode: PadMode) -> Result<Vec<f32>> {
    let [n, c, oh, ow] = pad_shape(shape, padding)?;
    check_len(shape, x)?;
    let (h, w) = (shape[2], shape[3]);
    // Only a constant border has cells without a source.
    let value = if let PadMode::Constant(v) = mode { v } else { f32::NAN };
    let mut y = Vec::with_capacity(n * c * oh * ow);
    for plane in 0..n * c {
        for oy in 0..oh {
            for ox in 0..ow {
                let sy = pad_source(oy as i64 - padding.top as i64, h, mode);
                let sx = pad_source(ox as i64 - padding.left as i64, w, mode);
                y.push(match (sy, sx) {
                    (Some(sy), Some(sx)) => x[(plane * h + sy) * w + sx],
                    _ => value,
                });
            }
        }
    }
    Ok(y)
}
