//! The input of a 1x1 convolution of a stride above 1 (or with padding) taken at its
//! stride (`subsample.wgsl`): such a convolution is a pointwise one over every S-th pixel, so
//! the pointwise GEMM multiplies those, where im2col would copy the whole input into a
//! texture and lay the same values out as windows (ResNet's downsampling shortcuts).

use crate::attrs::Conv2dGeometry;
use crate::error::Result;
use crate::ops::conv_dims::ConvDims;
use crate::ops::sizes::{blocks, max_groups, to_u32};
use crate::ops::wgsl::wgsl;
use crate::pipeline::{Access, Dispatch, Kernel, UniformLayout, fold_grid, uniform_struct};
use crate::tensor::Tensor;
use crate::texture::LinearTexture;

pub(crate) const SUBSAMPLE: Kernel = Kernel {
    name: "subsample",
    source: wgsl!("conv_dims", "linear_texture", "subsample"),
    entry: "subsample",
    bindings: &[Access::Read, Access::TextureWrite, Access::Uniform],
    uniform: UniformLayout::of::<Uniforms>(),
    overrides: &["WG", "TEX_SHIFT"],
};

/// Invocations per workgroup, one vec4 of the output each.
const WG: u32 = 64;

uniform_struct! {
    /// Field order matches `Uniforms` in shaders/subsample.wgsl.
    struct Uniforms {
        conv: ConvDims,
        len: u32,
        _pad0: u32,
        _pad1: u32,
        _pad2: u32,
    }
}

/// Records the input `x` of the 1x1 convolution `geo` taken at its stride and padding into
/// `y`, a linear texture of `geo`'s batch, input channels and output pixels.
pub(crate) fn record_subsample(geo: &Conv2dGeometry, x: &Tensor, y: &LinearTexture) -> Result<Dispatch> {
    const OP: &str = "subsample";
    let gpu = x.gpu();
    y.check_on(gpu, OP, "output")?;
    let len = geo.n * geo.cin * geo.oh * geo.ow;
    let uniforms =
        Uniforms { conv: ConvDims::new(geo)?, len: to_u32(OP, "output", len)?, _pad0: 0, _pad1: 0, _pad2: 0 };
    let grid = fold_grid(blocks(len.div_ceil(4), WG as usize), max_groups(gpu));
    let resources = [x.buffer().as_entire_binding(), wgpu::BindingResource::TextureView(y.view())];
    gpu.dispatch(&SUBSAMPLE, &[("WG", WG), LinearTexture::OVERRIDE], &resources, bytemuck::bytes_of(&uniforms), grid)
}
