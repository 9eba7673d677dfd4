//! Element-wise ops on the GPU: ReLU and the residual add (with an optional fused ReLU).

use crate::error::{Error, Result};
use crate::launch::Launch;
use crate::ops::checks::check_same_device;
use crate::ops::record::into_new;
use crate::ops::sizes::{blocks, max_groups, to_u32};
use crate::ops::wgsl::wgsl;
use crate::pipeline::{Access, Kernel, UniformLayout, fold_grid, uniform_struct};
use crate::tensor::Tensor;

pub(crate) const ELEMENTWISE: Kernel = Kernel {
    name: "elementwise",
    source: wgsl!("elementwise"),
    entry: "elementwise",
    bindings: &[Access::Read, Access::Read, Access::ReadWrite, Access::Uniform],
    uniform: UniformLayout::of::<ElementwiseUniforms>(),
    overrides: &["WG", "RUN"],
};

/// Invocations per workgroup, and vec4s per invocation: llvmpipe spends ~50 ns on each SIMD
/// row of 8 invocations beyond its work, so 4 vec4s an invocation, not one, took ReLU from
/// 4.9–5.7 to 6.0–8.3 GB/s of data touched (290 K to 16 M elements).
const WG: u32 = 64;
const RUN: u32 = 4;

uniform_struct! {
    /// Field order matches `Uniforms` in shaders/elementwise.wgsl.
    struct ElementwiseUniforms {
        vec4s: u32,
        has_b: u32,
        relu: u32,
        _pad: u32,
    }
}

/// max(x, 0), enqueued.
pub fn relu(x: &Tensor) -> Result<Tensor> {
    into_new(x.gpu(), x.shape(), |y| record_relu(x, y))
}

/// a + b for tensors of one shape, then ReLU when `relu` is set; enqueued.
pub fn add(a: &Tensor, b: &Tensor, relu: bool) -> Result<Tensor> {
    into_new(a.gpu(), a.shape(), |y| record_add(a, b, y, relu))
}

/// Records y = max(x, 0).
pub fn record_relu(x: &Tensor, y: &Tensor) -> Result<Launch> {
    record(x, None, y, true)
}

/// Records y = a + b (then ReLU).
pub fn record_add(a: &Tensor, b: &Tensor, y: &Tensor, relu: bool) -> Result<Launch> {
    record(a, Some(b), y, relu)
}

/// Records y = a (+ b) (then ReLU) over tensors of one shape.
fn record(a: &Tensor, b: Option<&Tensor>, y: &Tensor, relu: bool) -> Result<Launch> {
    let op = if b.is_some() { "add" } else { "relu" };
    check_same_device(op, &[("a", Some(a)), ("b", b), ("output", Some(y))])?;
    for other in b.into_iter().chain([y]) {
        if other.shape() != a.shape() {
            return Err(Error::Mismatch { op, a: a.shape().into(), b: other.shape().into() });
        }
    }
    let gpu = a.gpu();
    // Whole vec4s: the padding words of y are written too, with what the padding of a (and b)
    // gives; they are never read as elements. A tensor past one binding runs in chunks, each
    // bound at its offset (a multiple of the device's alignment).
    let vec4s = a.len().div_ceil(4);
    let align = (gpu.limits().min_storage_buffer_offset_alignment as usize / 16).max(1);
    let chunk = ((gpu.max_binding_bytes() / 16) as usize / align * align).min(vec4s);
    let mut dispatches = Vec::new();
    for start in (0..vec4s).step_by(chunk) {
        let len = chunk.min(vec4s - start);
        let uniforms = ElementwiseUniforms {
            vec4s: to_u32(op, "elements", len)?,
            has_b: b.is_some() as u32,
            relu: relu as u32,
            _pad: 0,
        };
        let grid = fold_grid(blocks(len, (WG * RUN) as usize), max_groups(gpu));
        let window = |t| {
            wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                buffer: t,
                offset: 16 * start as u64,
                size: std::num::NonZeroU64::new(16 * len as u64),
            })
        };
        let b = match b {
            Some(b) => window(b.buffer()),
            None => gpu.placeholder().as_entire_binding(),
        };
        let resources = [window(a.buffer()), b, window(y.buffer())];
        dispatches.push(gpu.dispatch(
            &ELEMENTWISE,
            &[("WG", WG), ("RUN", RUN)],
            &resources,
            bytemuck::bytes_of(&uniforms),
            grid,
        )?);
    }
    Ok(Launch::new(gpu, op, dispatches))
}
