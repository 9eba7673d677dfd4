//! Padding by a mode on the GPU (constant, edge, reflect): ONNX's Pad, and the border of a
//! convolution whose padding is not zeros.

use crate::attrs::{PadMode, Padding, pad_shape};
use crate::error::{Error, Result};
use crate::launch::Launch;
use crate::ops::checks::{check_output, check_same_device};
use crate::ops::record::into_new;
use crate::ops::sizes::{blocks, max_groups, to_u32};
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
    // One binding each: an image past one is not cut here.
    for (what, t) in [("input", x), ("output", y)] {
        let bytes = 4 * t.len() as u64;
        if bytes > gpu.max_binding_bytes() {
            let what = format!("the {what}'s {bytes} bytes in one storage binding");
            return Err(Error::Limit { op: OP, what, needed: bytes, limit: gpu.max_binding_bytes() });
        }
    }
    let (code, value) = match mode {
        PadMode::Constant(v) => (0, v),
        PadMode::Edge => (1, 0.0),
        PadMode::Reflect => (2, 0.0),
    };
    let uniforms = PadUniforms {
        len: to_u32(OP, "elements", y.len())?,
        h: to_u32(OP, "rows", h)?,
        w: to_u32(OP, "columns", w)?,
        oh: to_u32(OP, "rows", oh)?,
        ow: to_u32(OP, "columns", ow)?,
        top: to_u32(OP, "padding", padding.top)?,
        left: to_u32(OP, "padding", padding.left)?,
        value,
    };
    let grid = fold_grid(blocks(y.len(), (WG * RUN) as usize), max_groups(gpu));
    let resources = [x.buffer().as_entire_binding(), y.buffer().as_entire_binding()];
    let overrides = [("WG", WG), ("RUN", RUN), ("MODE", code)];
    let dispatch = gpu.dispatch(&PAD, &overrides, &resources, bytemuck::bytes_of(&uniforms), grid)?;
    Ok(Launch::new(gpu, OP, vec![dispatch]))
}
