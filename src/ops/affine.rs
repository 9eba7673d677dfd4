//! Maps per channel on the GPU: the affine y = act(x·scale\[c\] + shift\[c\]) (the batch
//! normalisation that cannot fold into the layer before it) and PReLU.

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
    overrides: &["WG", "RUN", "PRELU", "ACT", "ACT_P0", "ACT_P1"],
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
    record_map("affine", x, params, y, 2, act)
}

/// PReLU: x where x ≥ 0, else x·slope\[c\], per channel c of `x` `[N, C, …]` (`slope` is
/// `[C]`); NaN stays NaN. Enqueued.
pub fn prelu(x: &Tensor, slope: &Tensor) -> Result<Tensor> {
    into_new(x.gpu(), x.shape(), |y| record_prelu(x, slope, y))
}

/// Records [`prelu`] into `y`, of `x`'s shape.
pub fn record_prelu(x: &Tensor, slope: &Tensor, y: &Tensor) -> Result<Launch> {
    record_map("prelu", x, slope, y, 1, None)
}

/// The map `op` of `x` into `y` with `rows` parameters per channel (`params` `[rows, C]`, or
/// `[C]` for one): the affine map's scales and shifts, PReLU's slopes.
fn record_map(
    op: &'static str,
    x: &Tensor,
    params: &Tensor,
    y: &Tensor,
    rows: usize,
    act: Option<Activation>,
) -> Result<Launch> {
    check_same_device(op, &[("input", Some(x)), ("parameters", Some(params)), ("output", Some(y))])?;
    let shape = x.shape();
    let c = shape.get(1).copied().unwrap_or(0);
    let expected = if rows == 1 { vec![c] } else { vec![rows, c] };
    if shape.len() < 2 || params.shape() != expected {
        return Err(Error::Mismatch { op, a: Shape(expected), b: params.shape().into() });
    }
    if y.shape() != shape {
        return Err(Error::Mismatch { op, a: shape.into(), b: y.shape().into() });
    }
    let gpu = x.gpu();
    let plane: usize = shape[2..].iter().product();
    // A tensor past one binding runs in chunks, each bound at an aligned offset.
    let mut dispatches = Vec::new();
    for chunk in chunks(gpu, x.len(), 4) {
        let uniforms = AffineUniforms {
            len: to_u32(op, "elements", chunk.len)?,
            first: to_u32(op, "elements", chunk.first)?,
            plane: to_u32(op, "positions per channel", plane.max(1))?,
            channels: to_u32(op, "channels", c)?,
        };
        let resources = [chunk.window(x.buffer()), params.buffer().as_entire_binding(), chunk.window(y.buffer())];
        let grid = fold_grid(blocks(chunk.len, (WG * RUN) as usize), max_groups(gpu));
        let modes = [("WG", WG), ("RUN", RUN), ("PRELU", (rows == 1) as u32)];
        dispatches.push(gpu.dispatch(
            &AFFINE,
            &[&modes[..], &Activation::overrides(act)].concat(),
            &resources,
            bytemuck::bytes_of(&uniforms),
            grid,
        )?);
    }
    Ok(Launch::new(gpu, op, dispatches))
}
