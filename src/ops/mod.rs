//! The GPU ops. Each file holds one op family: its attributes, the shape checks that both the
//! GPU op and the CPU reference rely on, and the launch of its kernel(s) from `shaders/`.

pub mod conv2d;
pub mod dense;
pub mod elementwise;
pub mod lrn;
pub mod pool2d;
pub mod softmax;

use crate::error::{Error, Result, Shape};
use crate::tensor::Tensor;

/// Output length of a sliding window along one axis: floor((input + pads − window) / stride) + 1,
/// where `window` is the dilated extent; below 1 when the window does not fit.
pub(crate) fn window_out(input: usize, pads: usize, window: usize, stride: usize) -> i64 {
    (input as i64 + pads as i64 - window as i64).div_euclid(stride as i64) + 1
}

/// The output size of a window op, or the error that names why it would be empty.
pub(crate) fn check_output(
    op: &'static str,
    out: [i64; 2],
    input: [usize; 2],
    padding: conv2d::Padding,
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

/// Fails unless every tensor lives on the first one's device.
pub(crate) fn check_same_device(op: &'static str, tensors: &[(&'static str, Option<&Tensor>)]) -> Result<()> {
    let mut present = tensors.iter().filter_map(|(what, t)| t.map(|t| (*what, t)));
    let Some((_, first)) = present.next() else {
        return Ok(());
    };
    present.try_for_each(|(what, t)| t.check_on(first.gpu(), op, what))
}

/// Fails unless a host slice holds as many values as its shape needs.
pub(crate) fn check_len(shape: &[usize], data: &[f32]) -> Result<()> {
    let expected: usize = shape.iter().product();
    if data.len() != expected {
        return Err(Error::DataLength { shape: Shape(shape.to_vec()), expected, got: data.len() });
    }
    Ok(())
}

/// The ragged-workgroup count for `items` spread over groups of `per_group`.
pub(crate) fn blocks(items: usize, per_group: usize) -> u32 {
    items.div_ceil(per_group) as u32
}
