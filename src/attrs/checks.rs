//! The checks every op's geometry makes: ranks, non-zero attributes, data lengths, and the
//! window arithmetic, done in checked integers so that absurd attributes come back as an error
//! naming them rather than an overflow.

use crate::attrs::padding::Padding;
use crate::error::{Error, Result, Shape};

/// `a · b`, or the error naming `what` when it does not fit a `usize`.
pub(crate) fn mul(op: &'static str, what: &str, a: usize, b: usize) -> Result<usize> {
    a.checked_mul(b).ok_or_else(|| Error::Overflow { op, what: format!("{what} ({a} x {b})") })
}

/// `a + b`, or the error naming `what` when it does not fit a `usize`.
pub(crate) fn add(op: &'static str, what: &str, a: usize, b: usize) -> Result<usize> {
    a.checked_add(b).ok_or_else(|| Error::Overflow { op, what: format!("{what} ({a} + {b})") })
}

/// The product of `dims`, or the error naming `what` when it does not fit a `usize`.
pub(crate) fn product(op: &'static str, what: &str, dims: &[usize]) -> Result<usize> {
    dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d)).ok_or_else(|| Error::Overflow {
        op,
        what: format!("{what} ({})", dims.iter().map(ToString::to_string).collect::<Vec<_>>().join(" x ")),
    })
}

/// The extent of a window of `k` taps `d` apart: d·(k − 1) + 1.
pub(crate) fn extent(op: &'static str, what: &str, k: usize, d: usize) -> Result<usize> {
    let over = || Error::Overflow { op, what: format!("{what} ({d} x ({k} - 1) + 1)") };
    d.checked_mul(k.saturating_sub(1)).and_then(|v| v.checked_add(1)).ok_or_else(over)
}

/// Output length of a sliding window along one axis: floor((padded − window) / stride) + 1
/// for `padded` = input + pads and `window` the dilated extent; below 1 when the window does
/// not fit (in 128 bits, where no sizes of 64 overflow).
pub(crate) fn window_out(padded: usize, window: usize, stride: usize) -> i64 {
    let out = (padded as i128 - window as i128).div_euclid(stride.max(1) as i128) + 1;
    out.clamp(i64::MIN as i128, i64::MAX as i128) as i64
}

/// The output size of a window op, or the error that names why it would be empty.
pub(crate) fn check_output(
    op: &'static str,
    out: [i64; 2],
    input: [usize; 2],
    padding: Padding,
    window: [usize; 2],
) -> Result<(usize, usize)> {
    let [out_h, out_w] = out;
    if out_h < 1 || out_w < 1 {
        return Err(Error::EmptyOutput {
            op,
            out_h,
            out_w,
            in_h: input[0],
            in_w: input[1],
            pt: padding.top,
            pl: padding.left,
            pb: padding.bottom,
            pr: padding.right,
            window_h: window[0],
            window_w: window[1],
        });
    }
    Ok((out_h as usize, out_w as usize))
}

/// Fails unless `shape` has `rank` dimensions, none of them zero.
pub(crate) fn check_rank(op: &'static str, what: &'static str, shape: &[usize], rank: usize) -> Result<()> {
    if shape.len() != rank {
        return Err(Error::Rank { op, what, expected: rank, got: Shape(shape.to_vec()) });
    }
    if shape.contains(&0) {
        return Err(Error::Empty { op, what, shape: Shape(shape.to_vec()) });
    }
    Ok(())
}

/// Fails unless `value` is at least 1 in both axes.
pub(crate) fn check_nonzero(op: &'static str, what: &'static str, value: [usize; 2]) -> Result<()> {
    if value.contains(&0) {
        return Err(Error::Zero { op, what, value });
    }
    Ok(())
}

/// Fails unless a host slice holds as many values as its shape needs.
pub(crate) fn check_len(shape: &[usize], data: &[f32]) -> Result<()> {
    let expected = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d)).unwrap_or(usize::MAX);
    if data.len() != expected {
        return Err(Error::DataLength { shape: Shape(shape.to_vec()), expected, got: data.len() });
    }
    Ok(())
}

/// Whether `g` is `x`'s shape, or one value per channel of it (`[C, 1, …]` against
/// `[C, H, …]`): per-image shapes, the batch left out.
pub(crate) fn by_channel(x: &[usize], g: &[usize]) -> bool {
    g == x || (g.len() == x.len() && !x.is_empty() && g[0] == x[0] && g[1..].iter().all(|&d| d == 1))
}
