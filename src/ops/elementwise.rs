//! Element-wise ops on the GPU: the activations and the residual add (with an optional fused
//! activation).

use crate::attrs::Activation;
use crate::error::{Error, Result};
use crate::launch::Launch;
use crate::ops::checks::check_same_device;
use crate::ops::mul::{batched_by_channel, record_by_channel};
use crate::ops::record::into_new;
use crate::ops::sizes::{blocks, chunks, max_groups, to_u32};
use crate::ops::wgsl::wgsl;
use crate::pipeline::{Access, Dispatch, Kernel, UniformLayout, fold_grid, uniform_struct};
use crate::tensor::Tensor;

pub(crate) const ELEMENTWISE: Kernel = Kernel {
    name: "elementwise",
    source: wgsl!("activation", "elementwise"),
    entry: "elementwise",
    bindings: &[Access::Read, Access::Read, Access::ReadWrite, Access::Uniform],
    uniform: UniformLayout::of::<ElementwiseUniforms>(),
    overrides: &["WG", "RUN", "HAS_B", "ACT", "ACT_P0", "ACT_P1"],
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
        _pad0: u32,
        _pad1: u32,
        _pad2: u32,
    }
}

/// max(x, 0), enqueued.
pub fn relu(x: &Tensor) -> Result<Tensor> {
    into_new(x.gpu(), x.shape(), |y| record_relu(x, y))
}

/// `act` of each element, enqueued.
pub fn activation(x: &Tensor, act: Activation) -> Result<Tensor> {
    into_new(x.gpu(), x.shape(), |y| record_activation(x, y, act))
}

/// Records y = act(x).
pub fn record_activation(x: &Tensor, y: &Tensor, act: Activation) -> Result<Launch> {
    record(x, None, y, Some(act))
}

/// a + b, then ReLU when `relu` is set; `b` of `a`'s shape, or one value per channel of it
/// (`[N, C, 1, 1]` against `[N, C, H, W]`). Enqueued.
pub fn add(a: &Tensor, b: &Tensor, relu: bool) -> Result<Tensor> {
    into_new(a.gpu(), a.shape(), |y| record_add(a, b, y, relu))
}

/// Records y = max(x, 0).
pub fn record_relu(x: &Tensor, y: &Tensor) -> Result<Launch> {
    record(x, None, y, Some(Activation::Relu))
}

/// Records y = a + b (then ReLU), as [`add`].
pub fn record_add(a: &Tensor, b: &Tensor, y: &Tensor, relu: bool) -> Result<Launch> {
    let act = relu.then_some(Activation::Relu);
    match b.shape() != a.shape() && batched_by_channel(a.shape(), b.shape()) {
        true => record_by_channel("add", a, b, y, act),
        false => record(a, Some(b), y, act),
    }
}

/// The dispatches of y = act(x), for a kernel that ends in one.
pub(crate) fn activation_dispatches(x: &Tensor, y: &Tensor, act: Activation) -> Result<Vec<Dispatch>> {
    dispatches("activation", x, None, y, Some(act))
}

/// Records y = a (+ b) (then `act`) over tensors of one shape.
fn record(a: &Tensor, b: Option<&Tensor>, y: &Tensor, act: Option<Activation>) -> Result<Launch> {
    let op = match (b, act) {
        (Some(_), _) => "add",
        (None, Some(Activation::Relu)) => "relu",
        (None, _) => "activation",
    };
    Ok(Launch::new(a.gpu(), op, dispatches(op, a, b, y, act)?))
}

/// The dispatches of y = a (+ b) (then `act`), in chunks that fit a binding.
fn dispatches(
    op: &'static str,
    a: &Tensor,
    b: Option<&Tensor>,
    y: &Tensor,
    act: Option<Activation>,
) -> Result<Vec<Dispatch>> {
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
    let mut dispatches = Vec::new();
    for chunk in chunks(gpu, a.len().div_ceil(4), 16) {
        let uniforms = ElementwiseUniforms { vec4s: to_u32(op, "elements", chunk.len)?, _pad0: 0, _pad1: 0, _pad2: 0 };
        let grid = fold_grid(blocks(chunk.len, (WG * RUN) as usize), max_groups(gpu));
        let has_b = b.is_some() as u32;
        let b = match b {
            Some(b) => chunk.window(b.buffer()),
            None => gpu.placeholder().as_entire_binding(),
        };
        let resources = [chunk.window(a.buffer()), b, chunk.window(y.buffer())];
        dispatches.push(gpu.dispatch(
            &ELEMENTWISE,
            &[&[("WG", WG), ("RUN", RUN), ("HAS_B", has_b)][..], &Activation::overrides(act)].concat(),
            &resources,
            bytemuck::bytes_of(&uniforms),
            grid,
        )?);
    }
    Ok(dispatches)
}
