//! The depthwise convolution (`depthwise.wgsl`): one input channel per group, any channel
//! multiplier, input and weight read from storage as they stand. Memory-bound by nature, it
//! skips what the direct kernel pays for its tiles: staging the input into a texture and a
//! tile of output channels of which a depthwise layer fills one.

use crate::attrs::{Activation, Conv2dGeometry};
use crate::error::{Error, Result};
use crate::ops::conv_dims::ConvDims;
use crate::ops::sizes::{blocks, max_groups, to_u32};
use crate::ops::wgsl::wgsl;
use crate::pipeline::{Access, Dispatch, Kernel, UniformLayout, uniform_struct};
use crate::tensor::Tensor;

pub(crate) const DEPTHWISE: Kernel = Kernel {
    name: "depthwise",
    source: wgsl!("activation", "conv_dims", "depthwise"),
    entry: "depthwise",
    bindings: &[Access::Read, Access::Read, Access::Read, Access::ReadWrite, Access::Uniform],
    uniform: UniformLayout::of::<DepthwiseUniforms>(),
    overrides: &["WG", "ACT", "ACT_P0", "ACT_P1"],
};

/// Invocations per workgroup, each 4 output columns of a row.
const WG: u32 = 64;

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
        _pad: [u32; 2],
    }
}

/// Whether `geo` is a convolution this kernel runs: one input channel per group.
pub(crate) fn is_depthwise(geo: &Conv2dGeometry) -> bool {
    geo.cin == geo.attrs.groups
}

/// Records the depthwise convolution `geo` of `x` into `y` with the OIHW weight `w`.
pub(crate) fn record_depthwise(
    geo: &Conv2dGeometry,
    w: &Tensor,
    bias: Option<&Tensor>,
    x: &Tensor,
    y: &Tensor,
) -> Result<Dispatch> {
    const OP: &str = "conv2d";
    if !is_depthwise(geo) {
        let what = format!("the depthwise kernel over {} input channels per group", geo.cin / geo.attrs.groups);
        return Err(Error::Limit { op: OP, what, needed: (geo.cin / geo.attrs.groups) as u64, limit: 1 });
    }
    let gpu = y.gpu();
    let u = |what, v| to_u32(OP, what, v);
    let col_blocks = geo.ow.div_ceil(4);
    let uniforms = DepthwiseUniforms {
        conv: ConvDims::new(geo)?,
        n: u("batch", geo.n)?,
        cin: u("input channels", geo.cin)?,
        cout: u("output channels", geo.cout)?,
        mult: u("channel multiplier", geo.cout / geo.cin)?,
        has_bias: bias.is_some() as u32,
        col_blocks: u("output columns", col_blocks)?,
        _pad: [0; 2],
    };
    let planes = geo.n.saturating_mul(geo.cout);
    if planes > max_groups(gpu) as usize {
        let what = format!("{planes} output planes in one grid dimension");
        return Err(Error::Limit { op: OP, what, needed: planes as u64, limit: max_groups(gpu) as u64 });
    }
    let grid = [blocks(geo.oh.saturating_mul(col_blocks), WG as usize), 1, planes as u32];
    let b = bias.map(Tensor::buffer).unwrap_or(gpu.placeholder());
    gpu.dispatch(
        &DEPTHWISE,
        &[&[("WG", WG)][..], &Activation::overrides(geo.attrs.activation)].concat(),
        &[
            x.buffer().as_entire_binding(),
            w.buffer().as_entire_binding(),
            b.as_entire_binding(),
            y.buffer().as_entire_binding(),
        ],
        bytemuck::bytes_of(&uniforms),
        grid,
    )
}
