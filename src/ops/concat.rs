//! Concatenation along the channels on the GPU: each input's block of each image is one
//! buffer copy into place (in NCHW, a block of channels of one image is contiguous), so no
//! kernel runs.

use crate::error::{Error, Result, Shape};
use crate::launch::Launch;
use crate::ops::checks::{check_output, check_same_device};
use crate::ops::cut::copy;
use crate::ops::record::into_new;
use crate::tensor::Tensor;

/// `parts` (`[N, Cₖ, …]`, the same but for Cₖ) side by side along dimension 1. Enqueued.
pub fn concat(parts: &[&Tensor]) -> Result<Tensor> {
    let shape = concat_shape(parts)?;
    into_new(parts[0].gpu(), &shape, |y| record_concat(parts, y))
}

/// Records [`concat()`] into `y`.
pub fn record_concat(parts: &[&Tensor], y: &Tensor) -> Result<Launch> {
    let shape = concat_shape(parts)?;
    check_output("concat", y, &shape)?;
    let (batch, per_image) = (shape[0], y.len() / shape[0].max(1));
    let mut steps = Vec::with_capacity(batch * parts.len());
    let mut at = 0;
    for part in parts {
        let per = part.len() / batch.max(1);
        steps.extend((0..batch).map(|n| copy(part, n * per, y, n * per_image + at, per)));
        at += per;
    }
    Ok(Launch::with_steps(y.gpu(), "concat", steps))
}

/// The output shape of `parts` side by side, or the error naming the first that does not fit.
fn concat_shape(parts: &[&Tensor]) -> Result<Vec<usize>> {
    let Some(first) = parts.first() else {
        return Err(Error::Empty { op: "concat", what: "list of inputs", shape: Shape(vec![0]) });
    };
    let devices: Vec<_> = parts.iter().map(|t| ("input", Some(*t))).collect();
    check_same_device("concat", &devices)?;
    let mut shape = first.shape().to_vec();
    for part in &parts[1..] {
        let s = part.shape();
        if s.len() != shape.len() || s.len() < 2 || s[0] != shape[0] || s[2..] != shape[2..] {
            return Err(Error::Mismatch { op: "concat", a: first.shape().into(), b: s.into() });
        }
        shape[1] += s[1];
    }
    Ok(shape)
}
