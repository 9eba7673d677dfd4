//! Softmax over the channel dimension (dimension 1) on the GPU, numerically stable.

use bytemuck::{Pod, Zeroable};

use crate::error::Result;
use crate::launch::Launch;
use crate::ops::{check_output, check_same_device, max_groups, to_u32};
use crate::params::Softmax;
use crate::pipeline::{Access, Kernel, fold_grid};
use crate::tensor::Tensor;

pub(crate) const SOFTMAX: Kernel = Kernel {
    name: "softmax",
    source: include_str!("../../shaders/softmax.wgsl"),
    entry: "softmax",
    bindings: &[Access::Read, Access::ReadWrite, Access::Uniform],
    uniform_size: size_of::<SoftmaxUniform>(),
    overrides: &["WG"],
};

/// Field order matches `Params` in shaders/softmax.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct SoftmaxUniform {
    rows: u32,
    c: u32,
    s: u32,
    _pad: u32,
}

/// Softmax of `x` over dimension 1, enqueued.
pub fn softmax(x: &Tensor) -> Result<Tensor> {
    Softmax.geometry(x.shape())?;
    let y = Tensor::zeros(x.gpu(), x.shape())?;
    record_softmax(x, &y)?.run()?;
    Ok(y)
}

/// Records softmax from `x` into `y` (same shape).
pub fn record_softmax(x: &Tensor, y: &Tensor) -> Result<Launch> {
    const OP: &str = "softmax";
    let geo = Softmax.geometry(x.shape())?;
    check_same_device(OP, &[("input", Some(x)), ("output", Some(y))])?;
    check_output(OP, y, geo.shape())?;
    let (n, c, s) = geo.dims();
    let rows = to_u32(OP, "rows", n * s)?;
    let params = SoftmaxUniform { rows, c: to_u32(OP, "classes", c)?, s: to_u32(OP, "positions", s)?, _pad: 0 };
    let gpu = x.gpu();
    let resources = [x.buffer().as_entire_binding(), y.buffer().as_entire_binding()];
    let grid = fold_grid(rows, max_groups(gpu));
    let d = gpu.dispatch(&SOFTMAX, &[("WG", 64)], &resources, bytemuck::bytes_of(&params), grid)?;
    Ok(Launch::new(gpu, OP, vec![d]))
}
