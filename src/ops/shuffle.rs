//! ShuffleNet's channel ops on the GPU, the shuffle and the slice (v2's channel split): in
//! NCHW each channel of an image is one contiguous plane, so each is buffer copies, no kernel.

use crate::error::{Error, Result};
use crate::launch::Launch;
use crate::ops::checks::{check_output, check_same_device};
use crate::ops::cut::copy;
use crate::ops::record::into_new;
use crate::tensor::Tensor;

/// The channels of `x` `[N, C, …]` in `groups` groups, transposed: output channel
/// j·groups + i is input channel i·(C / groups) + j. Enqueued.
pub fn channel_shuffle(x: &Tensor, groups: usize) -> Result<Tensor> {
    into_new(x.gpu(), x.shape(), |y| record_channel_shuffle(x, y, groups))
}

/// Records [`channel_shuffle`] into `y`.
pub fn record_channel_shuffle(x: &Tensor, y: &Tensor, groups: usize) -> Result<Launch> {
    const OP: &str = "channel_shuffle";
    check_same_device(OP, &[("input", Some(x)), ("output", Some(y))])?;
    check_output(OP, y, x.shape())?;
    let s = x.shape();
    let c = s.get(1).copied().unwrap_or(0);
    if s.len() < 2 || groups == 0 || !c.is_multiple_of(groups) {
        return Err(Error::Groups { op: OP, what: "channels", channels: c, groups });
    }
    let (plane, per) = (s[2..].iter().product::<usize>(), c / groups);
    let mut steps = Vec::with_capacity(s[0] * c);
    for n in 0..s[0] {
        for i in 0..groups {
            for j in 0..per {
                steps.push(copy(x, (n * c + i * per + j) * plane, y, (n * c + j * groups + i) * plane, plane));
            }
        }
    }
    Ok(Launch::with_steps(x.gpu(), OP, steps))
}

/// Channels `start..end` of `x` `[N, C, …]`. Enqueued.
pub fn channel_slice(x: &Tensor, start: usize, end: usize) -> Result<Tensor> {
    into_new(x.gpu(), &slice_shape(x.shape(), start, end)?, |y| record_channel_slice(x, y, start, end))
}

/// Records [`channel_slice`] into `y`: one copy per image.
pub fn record_channel_slice(x: &Tensor, y: &Tensor, start: usize, end: usize) -> Result<Launch> {
    const OP: &str = "channel_slice";
    check_same_device(OP, &[("input", Some(x)), ("output", Some(y))])?;
    check_output(OP, y, &slice_shape(x.shape(), start, end)?)?;
    let s = x.shape();
    let (c, plane) = (s[1], s[2..].iter().product::<usize>());
    let steps =
        (0..s[0]).map(|n| copy(x, (n * c + start) * plane, y, n * (end - start) * plane, (end - start) * plane));
    Ok(Launch::with_steps(x.gpu(), OP, steps.collect()))
}

/// `x` with channels `start..end`, or the error naming them.
fn slice_shape(x: &[usize], start: usize, end: usize) -> Result<Vec<usize>> {
    let c = x.get(1).copied().unwrap_or(0);
    if x.len() < 2 || start >= end || end > c {
        return Err(Error::ChannelRange { op: "channel_slice", start, end, channels: c });
    }
    Ok([&[x[0], end - start][..], &x[2..]].concat())
}
