//! The per-channel affine map on the GPU: y = act(x·scale\[c\] + shift\[c\]), the batch
//! normalisation that cannot fold into the layer before it.

use crate::attrs::Activation;
use crate::error::{Error, Result, Shape};
use crate::launch::Launch;
use crate::ops::checks::check_same_device;
use crate::ops::record::into_new;
use crate::ops::sizes::{blocks, chunks, max_groups, to_u32};
use crate::ops::wgsl::wgsl;
use crate::pipeline::{Access, Kernel, UniformLayout, fold_grid, uniform_struct};
use crate::tensor::Tensor;

pub(crate) const AFFINE: Kernel = Kernel {
    name: "affine",
    source: wgsl!("activation", "affine"),
    entry: "affine",
    bindings: &[Access::Read, Access::Read, Access::ReadWrite, Access::Uniform],
    uniform: UniformLayout::of::<AffineUniforms>(),
    overrides: &["WG", "RUN", "ACT", "ACT_P0", "ACT_P1"],
};

/// Invocations per workgroup, and elements per invocation (as the element-wise kernel, whose
/// measurements chose them).
const WG: u32 = 64;
const RUN: u32 = 4;

uniform_struct! {
    /// Field order matches `Uniforms` in shaders/affine.wgsl.
    struct AffineUniforms {
        len: u32,
        first: u32,
        plane: u32,
        channels: u32,
    }
}

/// x·scale\[c\] + shift\[c\] per channel of `x` `[N, C, …]`, then `act`; `params` is
/// `[2, C]`: the scales, then the shifts. Enqueued.
pub fn affine(x: &Tensor, params: &Tensor, act: Option<Activation>) -> Result<Tensor> {
    into_new(x.gpu(), x.shape(), |y| record_affine(x, params, y, act))
}

/// Records [`affine`] into `y`, of `x`'s shape.
pub fn record_affine(x: &Tensor, params: &Tensor, y: &Tensor, act: Option<Activation>) -> Result<Launch> {
    const OP: &str = "affine";
    check_same_device(OP, &[("input", Some(x)), ("parameters", Some(params)), ("output", Some(y))])?;
    let shape = x.shape();
    if shape.len() < 2 || params.shape() != [2, shape[1]] {
        let c = shape.get(1).copied().unwrap_or(0);
        return Err(Error::Mismatch { op: OP, a: Shape(vec![2, c]), b: params.shape().into() });
    }
    if y.shape() != shape {
        return Err(Error::Mismatch { op: OP, a: shape.into(), b: y.shape().into() });
    }
    let gpu = x.gpu();
    let plane: usize = shape[2..].iter().product();
    // A tensor past one binding runs in chunks, each bound at an aligned offset.
    let mut dispatches = Vec::new();
    for chunk in chunks(gpu, x.len(), 4) {
        let uniforms = AffineUniforms {
            len: to_u32(OP, "elements", chunk.len)?,
            first: to_u32(OP, "elements", chunk.first)?,
            plane: to_u32(OP, "positions per channel", plane.max(1))?,
            channels: to_u32(OP, "channels", shape[1])?,
        };
        let resources = [chunk.window(x.buffer()), params.buffer().as_entire_binding(), chunk.window(y.buffer())];
        let grid = fold_grid(blocks(chunk.len, (WG * RUN) as usize), max_groups(gpu));
        dispatches.push(gpu.dispatch(
            &AFFINE,
            &[&[("WG", WG), ("RUN", RUN)][..], &Activation::overrides(act)].concat(),
            &resources,
            bytemuck::bytes_of(&uniforms),
            grid,
        )?);
    }
    Ok(Launch::new(gpu, OP, dispatches))
}
