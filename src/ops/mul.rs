//! The product on the GPU — and the sum, through the same kernel: of equal shapes, or by a
//! value per channel (`[N, C, H, W]` by `[N, C, 1, 1]`: the squeeze-and-excitation gate, a
//! per-image shift).

use crate::attrs::{Activation, by_channel};
use crate::error::{Error, Result};
use crate::launch::Launch;
use crate::ops::checks::{check_output, check_same_device};
use crate::ops::record::into_new;
use crate::ops::sizes::{blocks, chunks, max_groups, to_u32};
use crate::ops::wgsl::wgsl;
use crate::pipeline::{Access, Kernel, UniformLayout, fold_grid, uniform_struct};
use crate::tensor::Tensor;

pub(crate) const MUL: Kernel = Kernel {
    name: "mul",
    source: wgsl!("activation", "mul"),
    entry: "mul",
    bindings: &[Access::Read, Access::Read, Access::ReadWrite, Access::Uniform],
    uniform: UniformLayout::of::<MulUniforms>(),
    overrides: &["WG", "RUN", "ADD", "ACT", "ACT_P0", "ACT_P1"],
};

/// Invocations per workgroup, and elements per invocation (as the affine map's).
const WG: u32 = 64;
const RUN: u32 = 4;

uniform_struct! {
    /// Field order matches `Uniforms` in shaders/mul.wgsl.
    struct MulUniforms {
        len: u32,
        first: u32,
        plane: u32,
        _pad: u32,
    }
}

/// x · g, `g` of `x`'s shape or `[N, C, 1, 1]` against `x` `[N, C, …]`. Enqueued.
pub fn mul(x: &Tensor, g: &Tensor) -> Result<Tensor> {
    into_new(x.gpu(), x.shape(), |y| record_mul(x, g, y))
}

/// Records [`mul`] into `y`.
pub fn record_mul(x: &Tensor, g: &Tensor, y: &Tensor) -> Result<Launch> {
    record_by_channel("mul", x, g, y, None)
}

/// Whether `g` is `x`'s shape `[N, C, …]`, or one value per channel of it (`[N, C, 1, …]`).
pub(crate) fn batched_by_channel(x: &[usize], g: &[usize]) -> bool {
    !x.is_empty() && g.first() == x.first() && by_channel(&x[1..], &g[1..])
}

/// Records y = act(x · g), or for `op` "add" act(x + g), `g` of `x`'s shape or one value per
/// channel.
pub(crate) fn record_by_channel(
    op: &'static str,
    x: &Tensor,
    g: &Tensor,
    y: &Tensor,
    act: Option<Activation>,
) -> Result<Launch> {
    check_same_device(op, &[("input", Some(x)), ("gate", Some(g)), ("output", Some(y))])?;
    let (s, gs) = (x.shape(), g.shape());
    if !batched_by_channel(s, gs) {
        return Err(Error::Mismatch { op, a: s.into(), b: gs.into() });
    }
    check_output(op, y, s)?;
    let gpu = x.gpu();
    let binding = gpu.max_binding_bytes();
    if 4 * g.len() as u64 > binding {
        let what = format!("the gate's {} bytes in one storage binding", 4 * g.len());
        return Err(Error::Limit { op, what, needed: 4 * g.len() as u64, limit: binding });
    }
    let plane = x.len() / g.len();
    let mut dispatches = Vec::new();
    for chunk in chunks(gpu, x.len(), 4) {
        let uniforms = MulUniforms {
            len: to_u32(op, "elements", chunk.len)?,
            first: to_u32(op, "elements", chunk.first)?,
            plane: to_u32(op, "elements per gate", plane)?,
            _pad: 0,
        };
        let resources = [chunk.window(x.buffer()), g.buffer().as_entire_binding(), chunk.window(y.buffer())];
        let grid = fold_grid(blocks(chunk.len, (WG * RUN) as usize), max_groups(gpu));
        dispatches.push(gpu.dispatch(
            &MUL,
            &[&[("WG", WG), ("RUN", RUN), ("ADD", (op == "add") as u32)][..], &Activation::overrides(act)].concat(),
            &resources,
            bytemuck::bytes_of(&uniforms),
            grid,
        )?);
    }
    Ok(Launch::new(gpu, op, dispatches))
}
