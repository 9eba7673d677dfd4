//! Softmax over the channel dimension (dimension 1) on the GPU, numerically stable.

use bytemuck::{Pod, Zeroable};

use crate::error::{Error, Result};
use crate::launch::Launch;
use crate::ops::cut::Slab;
use crate::ops::{check_output, check_same_device, max_groups, to_u32};
use crate::params::Softmax;
use crate::pipeline::{Access, Kernel, Step, fold_grid};
use crate::tensor::Tensor;
use crate::texture::LinearTexture;

pub(crate) const SOFTMAX: Kernel = Kernel {
    name: "softmax",
    source: include_str!("../../shaders/softmax.wgsl"),
    entry: "softmax",
    bindings: &[Access::TextureRead, Access::ReadWrite, Access::Uniform],
    uniform_size: size_of::<SoftmaxUniform>(),
    overrides: &["WG", "TEX_SHIFT"],
};

/// The most lanes a row takes.
const MAX_WG: u32 = 256;

/// Steps of 4 classes a lane may take per pass: three passes within llvmpipe's 65,535 loop
/// iterations per invocation, with room for the reductions.
const STEPS: usize = 21_000;

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
    let max_classes = STEPS * 4 * MAX_WG as usize;
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
    // A row is one workgroup, which llvmpipe runs on one thread whatever its size: the fewest
    // lanes that keep to the loop budget, at least a SIMD row of 8 (a workgroup of 256 spent
    // most of a 1,000-class row in its barriers: 64 rows took 3.1 ms, with 8 lanes 0.8).
    let wg = (c.div_ceil(4 * STEPS).next_power_of_two() as u32).clamp(8, MAX_WG);
    let staged = LinearTexture::zeros(gpu, OP, x.len())?;
    let resources = [wgpu::BindingResource::TextureView(staged.view()), y.buffer().as_entire_binding()];
    let grid = fold_grid(rows, max_groups(gpu));
    let overrides = [("WG", wg), LinearTexture::OVERRIDE];
    let d = gpu.dispatch(&SOFTMAX, &overrides, &resources, bytemuck::bytes_of(&params), grid)?;
    Ok(Launch::with_steps(gpu, OP, vec![staged.copy_from(x)?, Step::Dispatch(d)]))
}
