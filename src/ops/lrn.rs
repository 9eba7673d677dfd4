//! Local response normalisation across channels on the GPU.

use crate::attrs::{Lrn, LrnGeometry};
use crate::error::Result;
use crate::launch::Launch;
use crate::ops::checks::{check_output, check_same_device};
use crate::ops::cut::Slab;
use crate::ops::record::{into_new, staged_launch};
use crate::ops::sizes::{max_groups, to_u32};
use crate::ops::wgsl::{wgsl, wgsl_const};
use crate::pipeline::{Access, Kernel, UniformLayout, uniform_struct};
use crate::tensor::Tensor;
use crate::texture::LinearTexture;

pub(crate) const LRN: Kernel = Kernel {
    name: "lrn",
    source: wgsl!("funnel", "linear_texture", "lrn"),
    entry: "lrn",
    bindings: &[Access::TextureRead, Access::ReadWrite, Access::Uniform],
    uniform: UniformLayout::of::<LrnUniforms>(),
    overrides: &["WG", "TEX_SHIFT", "THREE_QUARTERS", "SIZE"],
};

/// vec4s one invocation writes: `RUN` in shaders/lrn.wgsl, read from there.
const LRN_RUN: usize = wgsl_const(LRN.source, "RUN") as usize;

/// Invocations to a workgroup.
const LRN_WG: usize = 64;

/// Workgroups along x for a group of `words` (its channels · pixels).
fn lrn_blocks(words: usize) -> usize {
    words.div_ceil(4).div_ceil(LRN_RUN).div_ceil(LRN_WG)
}

uniform_struct! {
    /// Field order matches `Uniforms` in shaders/lrn.wgsl.
    struct LrnUniforms {
        n: u32,
        c: u32,
        hw: u32,
        size: u32,
        channels_per_group: u32,
        alpha: f32,
        beta: f32,
        k: f32,
    }
}

/// Normalises `x` across channels, enqueued.
pub fn lrn(x: &Tensor, attrs: &Lrn) -> Result<Tensor> {
    let geo = attrs.geometry(x.shape())?;
    into_new(x.gpu(), &geo.shape, |y| record(&geo, x, y))
}

/// Records LRN from `x` into `y` (same shape).
pub fn record_lrn(x: &Tensor, y: &Tensor, attrs: &Lrn) -> Result<Launch> {
    record(&attrs.geometry(x.shape())?, x, y)
}

/// Records the LRN `geo` (checked) of `x` into `y`.
fn record(geo: &LrnGeometry, x: &Tensor, y: &Tensor) -> Result<Launch> {
    const OP: &str = "lrn";
    let attrs = &geo.attrs;
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
        return slab.record(OP, x, y, &parts, false, |xt, yt, _| record_lrn(xt, yt, attrs));
    }
    let uniforms = LrnUniforms {
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
    let overrides = [
        ("WG", LRN_WG as u32),
        LinearTexture::OVERRIDE,
        ("THREE_QUARTERS", (attrs.beta == 0.75) as u32),
        ("SIZE", if attrs.size <= 9 { attrs.size as u32 } else { 0 }),
    ];
    staged_launch(&LRN, &overrides, x, y, bytemuck::bytes_of(&uniforms), grid)
}
