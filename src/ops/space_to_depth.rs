//! A strided convolution folded space-to-depth (`space_to_depth.wgsl`): each S x S block of
//! input pixels (S the stride, the same both ways) becomes S² channels, and the convolution
//! one of stride 1 and no padding over them, its kernel cut into S x S phases (padded with
//! zeros to a multiple of S). Where that kernel is 3x3 or 5x5, Winograd runs it: AlexNet's
//! 11x11 convolution at stride 4 becomes a 3x3 one over 48 channels, which F(4x4, 3x3) runs
//! in 108 products per output where the 11x11 sum over 3 channels takes 363 (the kernel's
//! zeros, 11 → 12 a side, are 16% of the folded one's taps).

use crate::attrs::{Conv2d, Conv2dGeometry};
use crate::error::{Error, Result};
use crate::ops::conv_dims::ConvDims;
use crate::ops::record::staged;
use crate::ops::sizes::{blocks, max_groups, to_u32};
use crate::ops::wgsl::wgsl;
use crate::ops::winograd;
use crate::pipeline::{Access, Kernel, Step, UniformLayout, fold_grid, uniform_struct};
use crate::tensor::Tensor;
use crate::texture::LinearTexture;

pub(crate) const SPACE_TO_DEPTH: Kernel = Kernel {
    name: "space_to_depth",
    source: wgsl!("conv_dims", "linear_texture", "input_texture", "space_to_depth"),
    entry: "space_to_depth",
    bindings: &[Access::TextureRead, Access::TextureWrite, Access::Uniform],
    uniform: UniformLayout::of::<Uniforms>(),
    overrides: &["WG", "TEX_SHIFT", "S"],
};

/// Invocations per workgroup, one vec4 of the folded input each.
const WG: u32 = 64;

uniform_struct! {
    /// Field order matches `Uniforms` in shaders/space_to_depth.wgsl.
    struct Uniforms {
        conv: ConvDims,
        c: u32,
        h2: u32,
        w2: u32,
        c2: u32,
        len: u32,
        _pad0: u32,
        _pad1: u32,
        _pad2: u32,
    }
}

/// `geo` folded space-to-depth, and its stride: a convolution of stride 1 and no padding
/// over the folded input, with the same output; `None` unless the stride is the same both
/// ways and above 1 and the dilation is 1.
pub(crate) fn folded(geo: &Conv2dGeometry) -> Option<(Conv2dGeometry, usize)> {
    let a = &geo.attrs;
    let s = a.stride[0];
    if s < 2 || a.stride[1] != s || a.dilation != [1, 1] {
        return None;
    }
    let (kh, kw) = (geo.kh.div_ceil(s), geo.kw.div_ceil(s));
    let input = [geo.n, geo.cin * s * s, geo.oh + kh - 1, geo.ow + kw - 1];
    let weight = [geo.cout, geo.cin / a.groups * s * s, kh, kw];
    let attrs = Conv2d { stride: [1, 1], padding: Default::default(), ..*a };
    // Same groups, channels and output: the checks of `geometry` cannot fail.
    attrs.geometry(&input, &weight, None).ok().map(|inner| (inner, s))
}

/// `geo` folded (see [`folded`]) where Winograd F(MxM) (`m`), fused where `fused`, runs the
/// folded convolution; else a [`Error::KernelShape`] naming the kernel as given.
pub(crate) fn check_folded(geo: &Conv2dGeometry, m: usize, fused: bool) -> Result<(Conv2dGeometry, usize)> {
    match folded(geo) {
        Some((inner, s)) if winograd::forms(&inner).contains(&(m, fused)) => Ok((inner, s)),
        _ => Err(Error::KernelShape {
            kernel: "space-to-depth Winograd",
            runs: "the same stride above 1 both ways, dilation 1, a kernel that folds to 3x3 (F(2x2), F(4x4)) \
                   or 5x5 (F(2x2)), fused or not",
            got: winograd::form_asked(geo, m, fused),
        }),
    }
}

/// Records `x` folded for `geo` (see [`folded`]) into the linear texture `y`, as long as the
/// folded geometry `inner`'s input: the copy of `x` into a texture, then the fold.
pub(crate) fn record_space_to_depth(
    geo: &Conv2dGeometry,
    inner: &Conv2dGeometry,
    x: &Tensor,
    y: &LinearTexture,
) -> Result<Vec<Step>> {
    const OP: &str = "space_to_depth";
    let gpu = x.gpu();
    y.check_on(gpu, OP, "output")?;
    let u = |what, v| to_u32(OP, what, v);
    let len = inner.input_shape().iter().product::<usize>();
    let uniforms = Uniforms {
        conv: ConvDims::new(geo)?,
        c: u("input channels", geo.cin)?,
        h2: u("folded height", inner.h)?,
        w2: u("folded width", inner.w)?,
        c2: u("folded channels", inner.cin)?,
        len: u("folded input", len)?,
        _pad0: 0,
        _pad1: 0,
        _pad2: 0,
    };
    let grid = fold_grid(blocks(len.div_ceil(4), WG as usize), max_groups(gpu));
    let overrides = [("WG", WG), LinearTexture::OVERRIDE, ("S", u("stride", geo.attrs.stride[0])?)];
    staged(OP, x, |texture| {
        let resources =
            [wgpu::BindingResource::TextureView(texture.view()), wgpu::BindingResource::TextureView(y.view())];
        Ok(vec![gpu.dispatch(&SPACE_TO_DEPTH, &overrides, &resources, bytemuck::bytes_of(&uniforms), grid)?])
    })
}
