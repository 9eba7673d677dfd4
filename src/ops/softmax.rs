//! Softmax over the channel dimension (dimension 1) on the GPU, numerically stable.

use bytemuck::{Pod, Zeroable};

use crate::error::{Error, Result};
use crate::launch::Launch;
use crate::ops::cut::Slab;
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

/// Lanes per row.
const WG: u32 = 256;

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
    let gpu = x.gpu();
    // Three passes over a row of 4 classes a step per lane, within llvmpipe's 65,535 loop
    // iterations per invocation (with room for the reductions).
    let max_classes = 21_000 * 4 * WG as usize;
    if c > max_classes {
        return Err(Error::Limit {
            op: OP,
            what: format!("a softmax over {c} classes"),
            needed: c as u64,
            limit: max_classes as u64,
        });
    }
    // Past a binding: parts of images or positions, each a softmax of its own.
    let slab = Slab::rowwise(n, c, s, 1);
    let parts = slab.parts(OP, |images, rows| slab.fits_device(gpu, images, rows))?;
    if parts.len() > 1 {
        return slab.record(OP, x, y, &parts, |xt, yt, _| record_softmax(xt, yt));
    }
    let rows = to_u32(OP, "rows", n * s)?;
    let params = SoftmaxUniform { rows, c: to_u32(OP, "classes", c)?, s: to_u32(OP, "positions", s)?, _pad: 0 };
    let resources = [x.buffer().as_entire_binding(), y.buffer().as_entire_binding()];
    let grid = fold_grid(rows, max_groups(gpu));
    let d = gpu.dispatch(&SOFTMAX, &[("WG", WG)], &resources, bytemuck::bytes_of(&params), grid)?;
    Ok(Launch::new(gpu, OP, vec![d]))
}
