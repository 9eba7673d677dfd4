//! Local response normalisation across channels on the GPU.

use bytemuck::{Pod, Zeroable};

use crate::error::Result;
use crate::launch::Launch;
use crate::ops::cut::Slab;
use crate::ops::{check_output, check_same_device, max_groups, to_u32};
use crate::params::Lrn;
use crate::pipeline::{Access, Kernel, Step};
use crate::tensor::Tensor;
use crate::texture::LinearTexture;

pub(crate) const LRN: Kernel = Kernel {
    name: "lrn",
    source: wgsl!("linear_texture", "lrn"),
    entry: "lrn",
    bindings: &[Access::TextureRead, Access::ReadWrite, Access::Uniform],
    uniform_size: size_of::<LrnUniform>(),
    overrides: &["WG", "TEX_SHIFT", "THREE_QUARTERS", "SIZE"],
};

/// vec4s one invocation writes (`RUN` in shaders/lrn.wgsl).
const LRN_RUN: usize = 2;

/// Invocations to a workgroup.
const LRN_WG: usize = 64;

/// Workgroups along x for a group of `words` (its channels · pixels).
fn lrn_blocks(words: usize) -> usize {
    words.div_ceil(4).div_ceil(LRN_RUN).div_ceil(LRN_WG)
}

/// Field order matches `Params` in shaders/lrn.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct LrnUniform {
    n: u32,
    c: u32,
    hw: u32,
    size: u32,
    channels_per_group: u32,
    alpha: f32,
    beta: f32,
    k: f32,
}

/// Normalises `x` across channels, enqueued.
pub fn lrn(x: &Tensor, attrs: &Lrn) -> Result<Tensor> {
    attrs.geometry(x.shape())?;
    let y = Tensor::zeros(x.gpu(), x.shape())?;
    record_lrn(x, &y, attrs)?.run()?;
    Ok(y)
}

/// Records LRN from `x` into `y` (same shape).
pub fn record_lrn(x: &Tensor, y: &Tensor, attrs: &Lrn) -> Result<Launch> {
    const OP: &str = "lrn";
    let geo = attrs.geometry(x.shape())?;
    check_same_device(OP, &[("input", Some(x)), ("output", Some(y))])?;
    check_output(OP, y, &geo.shape)?;
    let [n, c, h, w] = geo.shape;
    let gpu = x.gpu();
    // Past a binding or the grid: parts of images or rows (LRN mixes channels, not rows).
    let slab = Slab::rowwise(n, c, h, w);
    let max = max_groups(gpu) as usize;
    let fits = |images, rows| {
        slab.fits_device(gpu, images, rows)
            && images * attrs.groups <= max
            && lrn_blocks(geo.channels_per_group() * rows * w) <= max
    };
    let parts = slab.parts(OP, fits)?;
    if parts.len() > 1 {
        return slab.record(OP, x, y, &parts, |xt, yt, _| record_lrn(xt, yt, attrs));
    }
    let params = LrnUniform {
        n: to_u32(OP, "batch", n)?,
        c: to_u32(OP, "channels", c)?,
        hw: to_u32(OP, "pixels", h * w)?,
        size: to_u32(OP, "size", attrs.size)?,
        channels_per_group: to_u32(OP, "channels", geo.channels_per_group())?,
        alpha: attrs.alpha,
        beta: attrs.beta,
        k: attrs.k,
    };
    let x_blocks = to_u32(OP, "workgroups", lrn_blocks(geo.channels_per_group() * h * w))?;
    let grid = [x_blocks, 1, to_u32(OP, "images · groups", n * attrs.groups)?];
    let staged = LinearTexture::zeros(gpu, OP, x.len())?;
    let resources = [wgpu::BindingResource::TextureView(staged.view()), y.buffer().as_entire_binding()];
    let overrides = [
        ("WG", LRN_WG as u32),
        LinearTexture::OVERRIDE,
        ("THREE_QUARTERS", (attrs.beta == 0.75) as u32),
        ("SIZE", if attrs.size <= 9 { attrs.size as u32 } else { 0 }),
    ];
    let d = gpu.dispatch(&LRN, &overrides, &resources, bytemuck::bytes_of(&params), grid)?;
    Ok(Launch::with_steps(gpu, OP, vec![staged.copy_from(x)?, Step::Dispatch(d)]))
}
