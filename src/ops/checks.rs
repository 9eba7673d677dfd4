//! The checks an op makes of its arguments beyond their geometry: one device for all, and
//! an output of the shape the op computes.

use crate::error::{Error, Result, Shape};
use crate::tensor::Tensor;

/// Fails unless every tensor lives on the first one's device.
pub(crate) fn check_same_device(op: &'static str, tensors: &[(&'static str, Option<&Tensor>)]) -> Result<()> {
    let mut present = tensors.iter().filter_map(|(what, t)| t.map(|t| (*what, t)));
    let Some((_, first)) = present.next() else {
        return Ok(());
    };
    present.try_for_each(|(what, t)| t.check_on(first.gpu(), op, what))
}

/// Fails unless the output tensor has the shape the op computes.
pub(crate) fn check_output(op: &'static str, y: &Tensor, expected: &[usize]) -> Result<()> {
    if y.shape() != expected {
        return Err(Error::Mismatch { op, a: Shape(expected.to_vec()), b: y.shape().into() });
    }
    Ok(())
}
