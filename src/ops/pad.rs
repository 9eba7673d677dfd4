//! Padding by a mode on the GPU (constant, edge, reflect): ONNX's Pad, and the border of a
//! convolution whose padding is not zeros.

use bytemuck::Zeroable;

use crate::attrs::{PadMode, Padding, pad_shape};
use crate::error::{Error, Result};
use crate::gpu::Gpu;
use crate::launch::Launch;
use crate::ops::checks::{check_output, check_same_device};
use crate::ops::record::into_new;
use crate::ops::sizes::{Chunk, blocks, max_groups, offset_align, to_u32};
use crate::ops::wgsl::wgsl;
use crate::pipeline::{Access, Kernel, UniformLayout, fold_grid, uniform_struct};
use crate::tensor::Tensor;

pub(crate) const PAD: Kernel = Kernel {
    name: "pad",
    source: wgsl!("pad"),
    entry: "pad",
    bindings: &[Access::Read, Access::ReadWrite, Access::Uniform],
    uniform: UniformLayout::of::<PadUniforms>(),
    overrides: &["WG", "RUN", "MODE"],
};

/// Invocations per workgroup, and cells per invocation (as the element-wise kernel's).
const WG: u32 = 64;
const RUN: u32 = 4;

uniform_struct! {
    /// Field order matches `Uniforms` in shaders/pad.wgsl.
    struct PadUniforms {
        len: u32,
        h: u32,
        w: u32,
        oh: u32,
        ow: u32,
        top: u32,
        left: u32,
        value: f32,
        x_skip: u32,
        y_skip: u32,
        _pad0: u32,
        _pad1: u32,
    }
}

/// `x` `[N, C, H, W]` padded on H and W by `padding`, the border by `mode`. Enqueued.
pub fn pad(x: &Tensor, padding: &Padding, mode: PadMode) -> Result<Tensor> {
    let shape = pad_shape(x.shape(), padding)?;
    into_new(x.gpu(), &shape, |y| record_pad(x, y, padding, mode))
}

/// Records [`pad`] into `y`.
pub fn record_pad(x: &Tensor, y: &Tensor, padding: &Padding, mode: PadMode) -> Result<Launch> {
    const OP: &str = "pad";
    check_same_device(OP, &[("input", Some(x)), ("output", Some(y))])?;
    let out = pad_shape(x.shape(), padding)?;
    check_output(OP, y, &out)?;
    let ([h, w], [oh, ow]) = ([x.shape()[2], x.shape()[3]], [out[2], out[3]]);
    // The kernel works out cells in 32-bit signed integers: the padded sides too.
    for (what, v) in [("rows", oh), ("columns", ow)] {
        if v > i32::MAX as usize {
            let what = format!("{v} padded {what}");
            return Err(Error::Limit { op: OP, what, needed: v as u64, limit: i32::MAX as u64 });
        }
    }
    let gpu = x.gpu();
    let parts = plane_parts(gpu, x.shape()[0] * x.shape()[1], [h * w, oh * ow])?;
    let (code, value) = match mode {
        PadMode::Constant(v) => (0, v),
        PadMode::Edge => (1, 0.0),
        PadMode::Reflect => (2, 0.0),
    };
    let overrides = [("WG", WG), ("RUN", RUN), ("MODE", code)];
    let mut dispatches = Vec::with_capacity(parts.len());
    for (first, len) in parts {
        let (x_at, y_at) = (Window::of(gpu, first, len, h * w), Window::of(gpu, first, len, oh * ow));
        let cells = len * oh * ow;
        let uniforms = PadUniforms {
            len: to_u32(OP, "elements", cells)?,
            h: to_u32(OP, "rows", h)?,
            w: to_u32(OP, "columns", w)?,
            oh: to_u32(OP, "rows", oh)?,
            ow: to_u32(OP, "columns", ow)?,
            top: to_u32(OP, "padding", padding.top)?,
            left: to_u32(OP, "padding", padding.left)?,
            value,
            x_skip: x_at.skip,
            y_skip: y_at.skip,
            ..Zeroable::zeroed()
        };
        let grid = fold_grid(blocks(cells, (WG * RUN) as usize), max_groups(gpu));
        let resources = [x_at.chunk.window(x.buffer()), y_at.chunk.window(y.buffer())];
        dispatches.push(gpu.dispatch(&PAD, &overrides, &resources, bytemuck::bytes_of(&uniforms), grid)?);
    }
    Ok(Launch::new(gpu, OP, dispatches))
}

/// `count` planes, the largest of `sizes` floats (input and output), as runs (first, len) that
/// each fit one storage binding from the aligned offset at or below their start: an image past
/// a binding is padded some planes at a time. A plane past a binding is an error naming it.
fn plane_parts(gpu: &Gpu, count: usize, sizes: [usize; 2]) -> Result<Vec<(usize, usize)>> {
    let largest = sizes[0].max(sizes[1]).max(1);
    let room = (gpu.max_binding_bytes() / 4) as usize;
    let most = if largest * count <= room { count } else { room.saturating_sub(offset_align(gpu, 4) - 1) / largest };
    if most == 0 {
        let (bytes, limit) = (4 * largest as u64, gpu.max_binding_bytes());
        let what = format!("a plane of {bytes} bytes in one storage binding");
        return Err(Error::Limit { op: "pad", what, needed: bytes, limit });
    }
    Ok((0..count).step_by(most).map(|first| (first, most.min(count - first))).collect())
}

/// Where a run of planes is bound: from the aligned offset at or below its first float, which
/// lies `skip` floats into the binding.
struct Window {
    chunk: Chunk,
    skip: u32,
}

impl Window {
    /// Planes `first ..first + len` of `plane` floats each.
    fn of(gpu: &Gpu, first: usize, len: usize, plane: usize) -> Window {
        let (start, align) = (first * plane, offset_align(gpu, 4));
        let base = start / align * align;
        // Less than the alignment, so within u32.
        let skip = start - base;
        Window { chunk: Chunk { first: base, len: skip + len * plane, unit: 4 }, skip: skip as u32 }
    }
}
