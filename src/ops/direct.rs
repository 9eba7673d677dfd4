//! The direct convolution (`conv2d.wgsl`): it walks the input in place, a register tile of 4
//! or 8 output channels x 8 columns per invocation, for the convolutions with few channels
//! per group that a GEMM tile would mostly waste (depthwise, the filter tool's). A pointwise
//! convolution runs it over the image flattened to one row, where its tile is a GEMM tile.

use crate::attrs::{Activation, Conv2dGeometry};
use crate::error::{Error, Result};
use crate::ops::conv_dims::ConvDims;
use crate::ops::packed::PackedWeight;
use crate::ops::sizes::{blocks, to_u32};
use crate::ops::wgsl::wgsl;
use crate::pipeline::{Access, Dispatch, Kernel, UniformLayout, uniform_struct};
use crate::tensor::Tensor;
use crate::texture::LinearTexture;

/// The direct convolution kernel.
pub(crate) const DIRECT: Kernel = Kernel {
    name: "conv2d",
    source: wgsl!("funnel", "activation", "conv_dims", "linear_texture", "input_texture", "conv2d"),
    entry: "conv2d_direct",
    bindings: &[Access::TextureRead, Access::TextureRead, Access::Read, Access::ReadWrite, Access::Uniform],
    uniform: UniformLayout::of::<Conv2dUniforms>(),
    overrides: &["WG_X", "WG_Y", "TILE_CO", "TEX_SHIFT", "ACT", "ACT_P0", "ACT_P1"],
};

/// The direct kernel over `x` (a texture copy of the input) with `tile_co` channels per
/// invocation in workgroups of `wg` (x, y; 0 x 0 picks them).
pub(crate) fn record_direct(
    geo: &Conv2dGeometry,
    packed: &PackedWeight,
    x: &LinearTexture,
    y: &Tensor,
    tile_co: u32,
    wg: [u32; 2],
) -> Result<Dispatch> {
    const OP: &str = "conv2d";
    if tile_co != 4 && tile_co != 8 {
        return Err(Error::Tuning { op: OP, knob: "tile_co", value: tile_co as u64, allowed: "4 or 8" });
    }
    // A pointwise convolution is a matrix product over the image's pixels: the kernel sees
    // the image as one row of H·W, and its 8 x 8 register tile becomes a GEMM tile.
    let geo = if geo.is_pointwise() { flattened(geo) } else { *geo };
    let [wg_x, wg_y] = match wg {
        [0, 0] => {
            let x = blocks(geo.ow, DIRECT_TILE_X).min(16).next_power_of_two();
            [x, 64 / x]
        }
        wg => wg,
    };
    let gpu = y.gpu();
    let max = gpu.limits().max_compute_invocations_per_workgroup;
    if wg_x.checked_mul(wg_y).is_none_or(|n| n == 0 || n > max) {
        return Err(Error::Limit {
            op: OP,
            what: format!("a workgroup of {wg_x}x{wg_y} invocations"),
            needed: wg_x as u64 * wg_y as u64,
            limit: max as u64,
        });
    }
    let uniforms = Conv2dUniforms::new(&geo, packed.bias.is_some(), packed.m_blocks())?;
    let col_blocks = blocks(geo.ow, DIRECT_TILE_X);
    let co_blocks = uniforms.groups.saturating_mul(blocks(geo.cout / geo.attrs.groups, tile_co as usize));
    let grid = [
        col_blocks.div_ceil(wg_x),
        co_blocks.div_ceil(wg_y),
        uniforms.n.saturating_mul(to_u32(OP, "output height", geo.oh)?),
    ];
    let bias = packed.bias.as_ref().map(Tensor::buffer).unwrap_or(gpu.placeholder());
    gpu.dispatch(
        &DIRECT,
        &[
            &[("WG_X", wg_x), ("WG_Y", wg_y), ("TILE_CO", tile_co), LinearTexture::OVERRIDE][..],
            &Activation::relu_flag(geo.attrs.activation).1,
        ]
        .concat(),
        &[
            wgpu::BindingResource::TextureView(x.view()),
            wgpu::BindingResource::TextureView(packed.first().at.view()),
            bias.as_entire_binding(),
            y.buffer().as_entire_binding(),
        ],
        bytemuck::bytes_of(&uniforms),
        grid,
    )
}

/// Output columns per invocation of the direct kernel (two vec4s in the WGSL).
const DIRECT_TILE_X: usize = 8;

/// The same pointwise convolution over images seen as one row of H·W pixels.
fn flattened(geo: &Conv2dGeometry) -> Conv2dGeometry {
    Conv2dGeometry { h: 1, w: geo.h * geo.w, oh: 1, ow: geo.oh * geo.ow, ..*geo }
}

uniform_struct! {
    /// Field order matches `Uniforms` in shaders/conv2d.wgsl.
    struct Conv2dUniforms {
        conv: ConvDims,
        n: u32,
        cin: u32,
        cout: u32,
        groups: u32,
        cin_per_group: u32,
        cout_per_group: u32,
        has_bias: u32,
        relu: u32,
        w_blocks: u32,
        _pad: [u32; 3],
    }
}

impl Conv2dUniforms {
    fn new(geo: &Conv2dGeometry, has_bias: bool, w_blocks: usize) -> Result<Conv2dUniforms> {
        let u = |what, v| to_u32("conv2d", what, v);
        let a = &geo.attrs;
        Ok(Conv2dUniforms {
            conv: ConvDims::new(geo)?,
            n: u("batch", geo.n)?,
            cin: u("input channels", geo.cin)?,
            cout: u("output channels", geo.cout)?,
            groups: u("groups", a.groups)?,
            cin_per_group: u("input channels", geo.cin / a.groups)?,
            cout_per_group: u("output channels", geo.cout / a.groups)?,
            has_bias: has_bias as u32,
            relu: Activation::relu_flag(a.activation).0,
            w_blocks: u("output channels", w_blocks)?,
            _pad: [0; 3],
        })
    }
}
