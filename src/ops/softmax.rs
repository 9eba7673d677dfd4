//! Softmax over the channel dimension (dimension 1), numerically stable.

use bytemuck::{Pod, Zeroable};

use crate::error::{Error, Result, Shape};
use crate::gpu::Dispatch;
use crate::ops::check_same_device;
use crate::pipeline::{Access, Kernel, fold_grid};
use crate::tensor::Tensor;

pub(crate) const SOFTMAX: Kernel = Kernel {
    name: "softmax",
    source: include_str!("../../shaders/softmax.wgsl"),
    entry: "main",
    bindings: &[Access::Read, Access::ReadWrite, Access::Uniform],
};

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct SoftmaxUniform {
    rows: u32,
    c: u32,
    s: u32,
    _pad: u32,
}

/// (N, C, S): softmax runs over C for each of the N·S rows. Needs at least two dimensions.
pub fn softmax_dims(x: &[usize]) -> Result<(usize, usize, usize)> {
    if x.len() < 2 || x.contains(&0) {
        return Err(Error::Rank { op: "softmax", what: "input", expected: 2, got: Shape(x.to_vec()) });
    }
    Ok((x[0], x[1], x[2..].iter().product()))
}

/// Softmax of `x` over dimension 1.
pub fn softmax(x: &Tensor) -> Result<Tensor> {
    let y = Tensor::zeros(x.gpu(), x.shape())?;
    let d = plan(x, &y)?;
    x.gpu().run("softmax", &[&d])?;
    Ok(y)
}

/// Records softmax from `x` into `y` (same shape).
pub(crate) fn plan(x: &Tensor, y: &Tensor) -> Result<Dispatch> {
    let (n, c, s) = softmax_dims(x.shape())?;
    check_same_device("softmax", &[("input", Some(x)), ("output", Some(y))])?;
    if y.shape() != x.shape() {
        return Err(Error::Mismatch { op: "softmax", a: x.shape().into(), b: y.shape().into() });
    }
    let gpu = x.gpu();
    let params = SoftmaxUniform { rows: (n * s) as u32, c: c as u32, s: s as u32, _pad: 0 };
    let grid = fold_grid((n * s) as u32, gpu.limits().max_compute_workgroups_per_dimension);
    gpu.dispatch(&SOFTMAX, &[("WG", 64)], &[x.buffer(), y.buffer()], bytemuck::bytes_of(&params), grid)
}
