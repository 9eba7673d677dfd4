//! Split-K: a convolution of few output tiles (MobileNet's 7x7 maps: 160 outputs x 49 pixels
//! are 40 GEMM tiles, a few workgroups for the whole device) cuts its reduction into parts
//! that the GEMM runs side by side (its grid's z), each storing raw sums into a slab of its
//! own (`gemm.wgsl`); `split_sum.wgsl` then adds the parts, the bias, the residual where the
//! convolution adds onto its output, and the activation.

use bytemuck::Zeroable;

use crate::attrs::Activation;
use crate::error::Result;
use crate::ops::checks::check_same_device;
use crate::ops::packed::PackedWeight;
use crate::ops::sizes::{blocks, max_groups, to_u32};
use crate::ops::wgsl::wgsl;
use crate::pipeline::{Access, Dispatch, Kernel, UniformLayout, fold_grid, uniform_struct};
use crate::tensor::Tensor;

pub(crate) const SPLIT_SUM: Kernel = Kernel {
    name: "split_sum",
    source: wgsl!("activation", "split_sum"),
    entry: "split_sum",
    bindings: &[Access::Read, Access::Read, Access::ReadWrite, Access::Uniform],
    uniform: UniformLayout::of::<SplitSumUniforms>(),
    overrides: &["WG", "HAS_BIAS", "ONTO", "ACT", "ACT_P0", "ACT_P1"],
};

/// Invocations per workgroup (one vec4 of the output each).
const WG: u32 = 64;

/// The most parts a reduction is cut into, and the fewest rows of it a part takes.
const MOST_PARTS: usize = 8;
const LEAST_PART: usize = 32;

uniform_struct! {
    /// Field order matches `Uniforms` in shaders/split_sum.wgsl.
    struct SplitSumUniforms {
        words: u32,
        part_vecs: u32,
        parts: u32,
        pixels: u32,
        channels: u32,
        _pad0: u32,
        _pad1: u32,
        _pad2: u32,
    }
}

/// The parts worth a try for a GEMM of `tiles` register tiles over a reduction of `k`: enough
/// that the tiles x parts fill `wanted` tiles (none when the tiles alone do), each part at
/// least [`LEAST_PART`] long, at most [`MOST_PARTS`].
pub(crate) fn parts_for(tiles: usize, k: usize, wanted: usize) -> Option<usize> {
    if tiles >= wanted {
        return None;
    }
    let parts = wanted.div_ceil(tiles).next_power_of_two().min(MOST_PARTS).min(k / LEAST_PART);
    (parts > 1).then_some(parts)
}

/// y = act(Σ parts + bias (+ y where `onto`)) for the convolution output `y` of `pixels`
/// pixels a plane, from `sums` (`[parts, y's words rounded to vec4s]`) and `weight`'s bias.
pub(crate) fn record_split_sum(
    sums: &Tensor,
    weight: &PackedWeight,
    y: &Tensor,
    pixels: usize,
    onto: bool,
    act: Option<Activation>,
) -> Result<Dispatch> {
    const OP: &str = "split-K sum";
    check_same_device(OP, &[("sums", Some(sums)), ("bias", weight.bias.as_ref()), ("output", Some(y))])?;
    let gpu = y.gpu();
    let part_vecs = y.len().div_ceil(4);
    let uniforms = SplitSumUniforms {
        words: to_u32(OP, "outputs", y.len())?,
        part_vecs: to_u32(OP, "outputs", part_vecs)?,
        parts: to_u32(OP, "parts", sums.len() / (4 * part_vecs))?,
        pixels: to_u32(OP, "output pixels", pixels)?,
        channels: to_u32(OP, "output channels", weight.cout)?,
        ..Zeroable::zeroed()
    };
    let bias = weight.bias.as_ref().map(Tensor::buffer).unwrap_or(gpu.placeholder());
    let resources = [sums.buffer().as_entire_binding(), bias.as_entire_binding(), y.buffer().as_entire_binding()];
    let flags = [("WG", WG), ("HAS_BIAS", weight.bias.is_some() as u32), ("ONTO", onto as u32)];
    let overrides = [&flags[..], &Activation::overrides(act)].concat();
    let grid = fold_grid(blocks(part_vecs, WG as usize), max_groups(gpu));
    gpu.dispatch(&SPLIT_SUM, &overrides, &resources, bytemuck::bytes_of(&uniforms), grid)
}
