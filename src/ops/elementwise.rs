//! Element-wise ops: ReLU and the residual add (with an optional fused ReLU).

use bytemuck::{Pod, Zeroable};

use crate::error::{Error, Result};
use crate::gpu::Dispatch;
use crate::ops::{blocks, check_same_device};
use crate::pipeline::{Access, Kernel, fold_grid};
use crate::tensor::Tensor;

pub(crate) const ELEMENTWISE: Kernel = Kernel {
    name: "elementwise",
    source: include_str!("../../shaders/elementwise.wgsl"),
    entry: "main",
    bindings: &[Access::Read, Access::Read, Access::ReadWrite, Access::Uniform],
};

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct ElementwiseUniform {
    len: u32,
    has_b: u32,
    relu: u32,
    _pad: u32,
}

/// max(x, 0).
pub fn relu(x: &Tensor) -> Result<Tensor> {
    let y = Tensor::zeros(x.gpu(), x.shape())?;
    let d = plan(x, None, &y, true)?;
    x.gpu().run("relu", &[&d])?;
    Ok(y)
}

/// a + b for tensors of one shape, then ReLU when `relu` is set.
pub fn add(a: &Tensor, b: &Tensor, relu: bool) -> Result<Tensor> {
    let y = Tensor::zeros(a.gpu(), a.shape())?;
    let d = plan(a, Some(b), &y, relu)?;
    a.gpu().run("add", &[&d])?;
    Ok(y)
}

/// Records y = a (+ b) (then ReLU) over tensors of one shape.
pub(crate) fn plan(a: &Tensor, b: Option<&Tensor>, y: &Tensor, relu: bool) -> Result<Dispatch> {
    let op = if b.is_some() { "add" } else { "relu" };
    check_same_device(op, &[("a", Some(a)), ("b", b), ("output", Some(y))])?;
    for other in b.into_iter().chain([y]) {
        if other.shape() != a.shape() {
            return Err(Error::Mismatch { op, a: a.shape().into(), b: other.shape().into() });
        }
    }
    let gpu = a.gpu();
    let params = ElementwiseUniform { len: a.len() as u32, has_b: b.is_some() as u32, relu: relu as u32, _pad: 0 };
    let grid = fold_grid(blocks(a.len(), 256), gpu.limits().max_compute_workgroups_per_dimension);
    let b = b.map(Tensor::buffer).unwrap_or(gpu.placeholder());
    gpu.dispatch(&ELEMENTWISE, &[("WG", 256)], &[a.buffer(), b, y.buffer()], bytemuck::bytes_of(&params), grid)
}
