//! The product on the GPU: of equal shapes, or by a gate per channel (`[N, C, H, W]` by
//! `[N, C, 1, 1]`, the squeeze-and-excitation gate).

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
    source: wgsl!("mul"),
    entry: "mul",
    bindings: &[Access::Read, Access::Read, Access::ReadWrite, Access::Uniform],
    uniform: UniformLayout::of::<MulUniforms>(),
    overrides: &["WG", "RUN"],
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
    const OP: &str = "mul";
    check_same_device(OP, &[("input", Some(x)), ("gate", Some(g)), ("output", Some(y))])?;
    let (s, gs) = (x.shape(), g.shape());
    let gate = gs.len() == s.len() && s.len() >= 2 && gs[..2] == s[..2] && gs[2..].iter().all(|&d| d == 1);
    if gs != s && !gate {
        return Err(Error::Mismatch { op: OP, a: s.into(), b: gs.into() });
    }
    check_output(OP, y, s)?;
    let gpu = x.gpu();
    let binding = gpu.max_binding_bytes();
    if 4 * g.len() as u64 > binding {
        let what = format!("the gate's {} bytes in one storage binding", 4 * g.len());
        return Err(Error::Limit { op: OP, what, needed: 4 * g.len() as u64, limit: binding });
    }
    let plane = x.len() / g.len();
    let mut dispatches = Vec::new();
    for chunk in chunks(gpu, x.len(), 4) {
        let uniforms = MulUniforms {
            len: to_u32(OP, "elements", chunk.len)?,
            first: to_u32(OP, "elements", chunk.first)?,
            plane: to_u32(OP, "elements per gate", plane)?,
            _pad: 0,
        };
        let resources = [chunk.window(x.buffer()), g.buffer().as_entire_binding(), chunk.window(y.buffer())];
        let grid = fold_grid(blocks(chunk.len, (WG * RUN) as usize), max_groups(gpu));
        dispatches.push(gpu.dispatch(
            &MUL,
            &[("WG", WG), ("RUN", RUN)],
            &resources,
            bytemuck::bytes_of(&uniforms),
            grid,
        )?);
    }
    Ok(Launch::new(gpu, OP, dispatches))
}
