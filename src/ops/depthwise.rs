//! The depthwise convolution (`depthwise.wgsl`): one input channel per group, any channel
//! multiplier, kernels up to 5x5. Memory-bound by nature, it reads its input from a copy in a
//! linear texture (llvmpipe's fast read path: the copy costs less than the storage loads it
//! spares, docs/performance.md), skips what the direct kernel pays for its tiles (a tile of
//! output channels of which a depthwise layer fills one) and loads each input row a block of
//! output rows reads once.

use crate::attrs::{Activation, Conv2dGeometry};
use crate::error::{Error, Result};
use crate::ops::conv_dims::ConvDims;
use crate::ops::record::staged;
use crate::ops::sizes::{blocks, max_groups, to_u32};
use crate::ops::wgsl::wgsl;
use crate::pipeline::{Access, Kernel, Step, UniformLayout, fold_grid, uniform_struct};
use crate::tensor::Tensor;
use crate::texture::LinearTexture;

pub(crate) const DEPTHWISE: Kernel = Kernel {
    name: "depthwise",
    source: wgsl!("funnel", "activation", "conv_dims", "linear_texture", "input_texture", "depthwise"),
    entry: "depthwise",
    bindings: &[Access::TextureRead, Access::Read, Access::Read, Access::ReadWrite, Access::Uniform],
    uniform: UniformLayout::of::<DepthwiseUniforms>(),
    overrides: &[
        "WG",
        "TEX_SHIFT",
        "KH",
        "KW",
        "SY",
        "SX",
        "DY",
        "DX",
        "RB",
        "CV",
        "SHIFT",
        "ALIGNED_IN",
        "ALIGNED_OUT",
        "PAIRS",
        "ACT",
        "ACT_P0",
        "ACT_P1",
    ],
};

/// Invocations per workgroup, each a block of output rows x 4·CV columns.
const WG: u32 = 64;

/// Output rows per block: kernel rows carried from one output row to the next spare loads.
const ROWS_PER_BLOCK: usize = 8;

/// The kernel's named registers (depthwise.wgsl): kernel rows and taps per row, and the values
/// of an input row a block reads (a `Row`).
const MAX_KERNEL: usize = 5;
const ROW_VALUES: usize = 16;

uniform_struct! {
    /// Field order matches `Uniforms` in shaders/depthwise.wgsl.
    struct DepthwiseUniforms {
        conv: ConvDims,
        n: u32,
        cin: u32,
        cout: u32,
        mult: u32,
        has_bias: u32,
        col_blocks: u32,
        row_blocks: u32,
        blocks: u32,
    }
}

/// Whether `geo` is a convolution this kernel runs: one input channel per group, a kernel of
/// at most 5x5 whose reach over 4 output columns fits a row's registers.
pub(crate) fn is_depthwise(geo: &Conv2dGeometry) -> bool {
    geo.cin == geo.attrs.groups && fits_registers(geo)
}

fn fits_registers(geo: &Conv2dGeometry) -> bool {
    geo.kh <= MAX_KERNEL && geo.kw <= MAX_KERNEL && reach(geo, 1) <= ROW_VALUES
}

/// The input values a block of 4·`cv` output columns reads from a row, counted from the
/// vec4 its first one lies in.
fn reach(geo: &Conv2dGeometry, cv: usize) -> usize {
    let (sx, dx) = (geo.attrs.stride[1], geo.attrs.dilation[1]);
    shift(geo) + (4 * cv - 1) * sx + (geo.kw - 1) * dx + 1
}

/// Where a row's first value lies in its vec4: rows are whole vec4s when W is a multiple of 4.
fn shift(geo: &Conv2dGeometry) -> usize {
    if geo.w.is_multiple_of(4) { (4 - geo.attrs.padding.left % 4) % 4 } else { 0 }
}

/// vec4s of output columns per block: a whole row's where its rows are stored in pairs, else
/// 2 where their reach fits a row and the image is wider than 4, else 1.
fn col_vec4s(geo: &Conv2dGeometry) -> usize {
    if pairs(geo) {
        geo.ow.div_ceil(4)
    } else if geo.ow > 4 && reach(geo, 2) <= ROW_VALUES {
        2
    } else {
        1
    }
}

/// Whether blocks are whole rows stored two at a time (depthwise.wgsl's PAIRS): rows of OW % 4
/// = 2 outputs are not whole vec4s but two are, and planes of an even number of them start on
/// a vec4; a whole row's reach must fit a row's registers (14x14 maps at stride 1).
/// MobileNetV2's 14x14 layers took a quarter less so (docs/performance.md).
fn pairs(geo: &Conv2dGeometry) -> bool {
    let (sx, dx) = (geo.attrs.stride[1], geo.attrs.dilation[1]);
    let whole_row = shift(geo) + (geo.ow - 1) * sx + (geo.kw - 1) * dx + 1;
    geo.ow % 4 == 2 && geo.oh.is_multiple_of(2) && whole_row <= ROW_VALUES
}

/// Records the depthwise convolution `geo` of `x` into `y` with the OIHW weight `w`.
pub(crate) fn record_depthwise(
    geo: &Conv2dGeometry,
    w: &Tensor,
    bias: Option<&Tensor>,
    x: &Tensor,
    y: &Tensor,
) -> Result<Vec<Step>> {
    const OP: &str = "conv2d";
    if geo.cin != geo.attrs.groups {
        let what = format!("the depthwise kernel over {} input channels per group", geo.cin / geo.attrs.groups);
        return Err(Error::Limit { op: OP, what, needed: (geo.cin / geo.attrs.groups) as u64, limit: 1 });
    }
    if geo.kh.max(geo.kw) > MAX_KERNEL {
        let what = format!("the depthwise kernel over a {}x{} kernel", geo.kh, geo.kw);
        return Err(Error::Limit { op: OP, what, needed: geo.kh.max(geo.kw) as u64, limit: MAX_KERNEL as u64 });
    }
    if reach(geo, 1) > ROW_VALUES {
        let (sx, dx) = (geo.attrs.stride[1], geo.attrs.dilation[1]);
        let what = format!("the depthwise kernel over a row's reach (stride {sx}, {} taps dilated by {dx})", geo.kw);
        return Err(Error::Limit { op: OP, what, needed: reach(geo, 1) as u64, limit: ROW_VALUES as u64 });
    }
    let gpu = y.gpu();
    let u = |what, v| to_u32(OP, what, v);
    let (rb, cv) = (geo.oh.min(ROWS_PER_BLOCK), col_vec4s(geo));
    let (col_blocks, row_blocks) = (geo.ow.div_ceil(4 * cv), geo.oh.div_ceil(rb));
    let blocks_total = geo.n.saturating_mul(geo.cout).saturating_mul(row_blocks).saturating_mul(col_blocks);
    let uniforms = DepthwiseUniforms {
        conv: ConvDims::new(geo)?,
        n: u("batch", geo.n)?,
        cin: u("input channels", geo.cin)?,
        cout: u("output channels", geo.cout)?,
        mult: u("channel multiplier", geo.cout / geo.cin)?,
        has_bias: bias.is_some() as u32,
        col_blocks: u("output column blocks", col_blocks)?,
        row_blocks: u("output row blocks", row_blocks)?,
        blocks: u("output blocks", blocks_total)?,
    };
    let b = bias.map(Tensor::buffer).unwrap_or(gpu.placeholder());
    let c = |v: usize| v as u32;
    let shape = [
        ("WG", WG),
        ("KH", c(geo.kh)),
        ("KW", c(geo.kw)),
        ("SY", c(geo.attrs.stride[0])),
        ("SX", c(geo.attrs.stride[1])),
        ("DY", c(geo.attrs.dilation[0])),
        ("DX", c(geo.attrs.dilation[1])),
        ("RB", c(rb)),
        ("CV", c(cv)),
        ("SHIFT", c(shift(geo))),
        ("ALIGNED_IN", geo.w.is_multiple_of(4) as u32),
        ("ALIGNED_OUT", geo.ow.is_multiple_of(4) as u32),
        ("PAIRS", pairs(geo) as u32),
        LinearTexture::OVERRIDE,
    ];
    staged(OP, x, |texture| {
        Ok(vec![gpu.dispatch(
            &DEPTHWISE,
            &[&shape[..], &Activation::overrides(geo.attrs.activation)].concat(),
            &[
                wgpu::BindingResource::TextureView(texture.view()),
                w.buffer().as_entire_binding(),
                b.as_entire_binding(),
                y.buffer().as_entire_binding(),
            ],
            bytemuck::bytes_of(&uniforms),
            fold_grid(blocks(blocks_total, WG as usize), max_groups(gpu)),
        )?])
    })
}
