//! Convolution by definition:
//! `y[n, co, oy, ox] = b[co] + Σ_{ci, ky, kx} w[co, ci, ky, kx] · x[n, g·Cin/G + ci, iy, ix]`
//! with iy = oy·sh − pt + ky·dh, ix = ox·sw − pl + kx·dw, and cells outside the image zero.

use super::elementwise::activate;
use crate::attrs::{Conv2dGeometry, check_len};
use crate::error::Result;

/// The convolution `geo` of `x` with `w` (and `b`), NCHW in and out.
pub fn conv2d(geo: &Conv2dGeometry, x: &[f32], w: &[f32], b: Option<&[f32]>) -> Result<Vec<f32>> {
    check_len(&geo.input_shape(), x)?;
    check_len(&geo.weight_shape(), w)?;
    if let Some(b) = b {
        check_len(&[geo.cout], b)?;
    }
    let a = &geo.attrs;
    let cin_pg = geo.cin / a.groups;
    let cout_pg = geo.cout / a.groups;
    let mut y = vec![0f32; geo.n * geo.cout * geo.oh * geo.ow];
    for n in 0..geo.n {
        for co in 0..geo.cout {
            let g = co / cout_pg;
            for oy in 0..geo.oh {
                for ox in 0..geo.ow {
                    let mut acc = b.map_or(0.0, |b| b[co] as f64);
                    for ci in 0..cin_pg {
                        let c = g * cin_pg + ci;
                        for ky in 0..geo.kh {
                            let iy = (oy * a.stride[0] + ky * a.dilation[0]) as i128 - a.padding.top as i128;
                            if iy < 0 || iy >= geo.h as i128 {
                                continue;
                            }
                            for kx in 0..geo.kw {
                                let ix = (ox * a.stride[1] + kx * a.dilation[1]) as i128 - a.padding.left as i128;
                                if ix < 0 || ix >= geo.w as i128 {
                                    continue;
                                }
                                let xv = x[((n * geo.cin + c) * geo.h + iy as usize) * geo.w + ix as usize];
                                let wv = w[((co * cin_pg + ci) * geo.kh + ky) * geo.kw + kx];
                                acc += xv as f64 * wv as f64;
                            }
                        }
                    }
                    y[((n * geo.cout + co) * geo.oh + oy) * geo.ow + ox] = activate(a.activation, acc) as f32;
                }
            }
        }
    }
    Ok(y)
}
