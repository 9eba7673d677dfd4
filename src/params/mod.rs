//! What an op computes, apart from where: attributes, padding, and the checked geometry that
//! both the GPU ops and the CPU reference take. Every op validates the same way: its
//! attributes' `geometry(shapes…)` returns the checked sizes or a typed error naming the
//! numbers; the kernels and the reference then trust the geometry.

pub mod conv2d;
pub mod dense;
pub mod lrn;
pub mod pool2d;
pub mod softmax;

pub use conv2d::{Conv2d, Conv2dGeometry};
pub use dense::{Dense, DenseGeometry};
pub use lrn::{Lrn, LrnGeometry};
pub use pool2d::{Pool2d, Pool2dGeometry, PoolKind};
pub use softmax::{Softmax, SoftmaxGeometry};

use crate::error::{Error, Result, Shape};

/// Zero padding on each side of the image, in pixels.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Padding {
    /// Rows above.
    pub top: usize,
    /// Columns to the left.
    pub left: usize,
    /// Rows below.
    pub bottom: usize,
    /// Columns to the right.
    pub right: usize,
}

impl Padding {
    /// Padding given as (top, left, bottom, right), the order ONNX and the golden format use.
    pub fn new(top: usize, left: usize, bottom: usize, right: usize) -> Padding {
        Padding { top, left, bottom, right }
    }

    /// `ph` rows above and below, `pw` columns left and right.
    pub fn symmetric(ph: usize, pw: usize) -> Padding {
        Padding { top: ph, left: pw, bottom: ph, right: pw }
    }

    /// "Same" padding (ONNX SAME_UPPER, TensorFlow SAME): the output is ceil(input / stride)
    /// per axis; when the total padding is odd the extra pixel goes bottom/right.
    pub fn same(input: [usize; 2], kernel: [usize; 2], stride: [usize; 2], dilation: [usize; 2]) -> Padding {
        let total = |i: usize| {
            let out = input[i].div_ceil(stride[i].max(1));
            let extent = dilation[i].saturating_mul(kernel[i].max(1) - 1).saturating_add(1);
            let needed = out.saturating_sub(1).saturating_mul(stride[i]).saturating_add(extent);
            needed.saturating_sub(input[i])
        };
        let (th, tw) = (total(0), total(1));
        Padding { top: th / 2, left: tw / 2, bottom: th - th / 2, right: tw - tw / 2 }
    }

    /// (top, left, bottom, right).
    pub fn as_array(&self) -> [usize; 4] {
        [self.top, self.left, self.bottom, self.right]
    }
}

/// Output length of a sliding window along one axis: floor((input + pads − window) / stride) + 1,
/// where `window` is the dilated extent; below 1 when the window does not fit. Saturates
/// instead of overflowing, so absurd attributes become an empty-output error.
pub(crate) fn window_out(input: usize, pads: usize, window: usize, stride: usize) -> i64 {
    let wide = |v: usize| i64::try_from(v).unwrap_or(i64::MAX);
    wide(input).saturating_add(wide(pads)).saturating_sub(wide(window)).div_euclid(wide(stride).max(1)) + 1
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
