//! What every op's launch repeats, once: an allocating call is its recording into a new
//! output, run; a kernel that reads its input through a linear texture (llvmpipe's fast read
//! path) runs after a recorded copy into one.

use crate::error::Result;
use crate::gpu::Gpu;
use crate::launch::Launch;
use crate::ops::scratch;
use crate::pipeline::{Dispatch, Kernel, Step};
use crate::tensor::Tensor;
use crate::texture::LinearTexture;

/// A new output of `shape` on `gpu`, `record`ed into and run (enqueued, not waited for).
pub(crate) fn into_new(gpu: &Gpu, shape: &[usize], record: impl FnOnce(&Tensor) -> Result<Launch>) -> Result<Tensor> {
    let y = Tensor::zeros(gpu, shape)?;
    record(&y)?.run()?;
    Ok(y)
}

/// The steps of kernels that read `x` staged into a linear texture: the copy into it, then
/// the dispatches `dispatch` records over it.
pub(crate) fn staged(
    op: &'static str,
    x: &Tensor,
    dispatch: impl FnOnce(&LinearTexture) -> Result<Vec<Dispatch>>,
) -> Result<Vec<Step>> {
    let texture = scratch::linear(x.gpu(), op, x.len())?;
    let mut steps = vec![texture.copy_from(x)?];
    steps.extend(dispatch(&texture)?.into_iter().map(Step::Dispatch));
    Ok(steps)
}

/// The launch of `kernel` bound as its input staged into a linear texture, `y`, and
/// `uniforms`: pooling, LRN and softmax.
pub(crate) fn staged_launch(
    kernel: &Kernel,
    overrides: &[(&'static str, u32)],
    x: &Tensor,
    y: &Tensor,
    uniforms: &[u8],
    grid: [u32; 3],
) -> Result<Launch> {
    let gpu = x.gpu();
    let steps = staged(kernel.name, x, |texture| {
        let resources = [wgpu::BindingResource::TextureView(texture.view()), y.buffer().as_entire_binding()];
        Ok(vec![gpu.dispatch(kernel, overrides, &resources, uniforms, grid)?])
    })?;
    Ok(Launch::with_steps(gpu, kernel.name, steps))
}
