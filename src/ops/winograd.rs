//! Winograd F(2x2, 3x3) for 3x3 convolutions of stride 1, dilation 1 and one group: each 2x2
//! block of outputs from a 4x4 tile of input in 16 products where the direct sum takes 36.
//! The input is transformed per tile (`winograd_input.wgsl`) into the B operand of a GEMM in 16
//! groups, one per point of the tile, whose weight is the transformed 3x3 weight
//! (`winograd_weight.wgsl`, packed once); the GEMM (`gemm.wgsl`) multiplies, and
//! `winograd_output.wgsl` folds each tile's 16 products into its 2x2 outputs with bias and
//! activation. Its error is no larger than the direct sum's: the transforms weigh by ±½ and ±1,
//! and each product sums over Cin, not 9·Cin (measured against the f64 reference with
//! He-scaled weights: 0.8–1.4e-6 against the implicit GEMM's 1.9–4.2e-6 on 3x3 convolutions of
//! 64 to 512 channels); the case table holds it to the default tolerance.

use crate::attrs::{Activation, Conv2dGeometry};
use crate::error::{Error, Result};
use crate::gpu::Gpu;
use crate::ops::conv_dims::ConvDims;
use crate::ops::gemm::{BOperand, Tile, record_gemm};
use crate::ops::packed::PackedWeight;
use crate::ops::record::staged;
use crate::ops::sizes::{blocks, max_groups, to_u32};
use crate::ops::wgsl::wgsl;
use crate::pipeline::{Access, Kernel, Step, UniformLayout, fold_grid, uniform_struct};
use crate::tensor::Tensor;
use crate::texture::{LinearTexture, MatrixTexture};

pub(crate) const WINOGRAD_WEIGHT: Kernel = Kernel {
    name: "winograd_weight",
    source: wgsl!("winograd_weight"),
    entry: "winograd_weight",
    bindings: &[Access::TextureRead, Access::ReadWrite, Access::Uniform],
    uniform: UniformLayout::of::<WeightUniforms>(),
    overrides: &["WG"],
};

pub(crate) const WINOGRAD_INPUT: Kernel = Kernel {
    name: "winograd_input",
    source: wgsl!("conv_dims", "linear_texture", "input_texture", "winograd_input"),
    entry: "winograd_input",
    bindings: &[Access::TextureRead, Access::TextureWrite, Access::Uniform],
    uniform: UniformLayout::of::<InputUniforms>(),
    overrides: &["WG", "TEX_SHIFT", "ROW"],
};

pub(crate) const WINOGRAD_OUTPUT: Kernel = Kernel {
    name: "winograd_output",
    source: wgsl!("activation", "winograd_output"),
    entry: "winograd_output",
    bindings: &[Access::Read, Access::Read, Access::ReadWrite, Access::Uniform],
    uniform: UniformLayout::of::<OutputUniforms>(),
    overrides: &["WG", "ALIGNED", "ROW", "ACT", "ACT_P0", "ACT_P1"],
};

/// Invocations per workgroup of each transform.
const WG: u32 = 64;

/// Points of a transformed tile: the GEMM's groups.
const POINTS: usize = 16;

uniform_struct! {
    /// Field order matches `Uniforms` in shaders/winograd_weight.wgsl.
    struct WeightUniforms {
        cout: u32,
        cin: u32,
        _pad: [u32; 2],
    }
}

uniform_struct! {
    /// Field order matches `Uniforms` in shaders/winograd_input.wgsl.
    struct InputUniforms {
        conv: ConvDims,
        cin: u32,
        tiles_w: u32,
        tiles: u32,
        cols: u32,
    }
}

uniform_struct! {
    /// Field order matches `Uniforms` in shaders/winograd_output.wgsl.
    struct OutputUniforms {
        cout: u32,
        oh: u32,
        ow: u32,
        tiles_w: u32,
        tiles: u32,
        has_bias: u32,
        _pad: [u32; 2],
    }
}

/// Whether `geo` is a convolution Winograd F(2x2, 3x3) runs: 3x3, stride 1, dilation 1, one
/// group (any padding).
pub(crate) fn fits(geo: &Conv2dGeometry) -> bool {
    let a = &geo.attrs;
    geo.kh == 3 && geo.kw == 3 && a.stride == [1, 1] && a.dilation == [1, 1] && a.groups == 1
}

/// The transformed weight of a 3x3 convolution of one group whose weight is `packed`: 16
/// groups of `[Cout, Cin]`, no bias (the output transform adds it).
pub(crate) fn transformed_weight(gpu: &Gpu, packed: &PackedWeight) -> Result<PackedWeight> {
    const OP: &str = "winograd";
    let (cout, cin) = (packed.cout, packed.k / 9);
    if packed.groups != 1 || packed.k != 9 * cin || packed.bands.len() != 1 {
        return Err(Error::KernelShape {
            kernel: "winograd",
            runs: "3x3 convolutions of one group whose weight fits one texture",
            got: format!(
                "{} groups of {} weights per output, in {} bands",
                packed.groups,
                packed.k,
                packed.bands.len()
            ),
        });
    }
    let at = &packed.bands[0].at;
    at.check_on(gpu, OP, "weight")?;
    let u = Tensor::zeros(gpu, &[POINTS * cout, cin])?;
    let uniforms = WeightUniforms {
        cout: to_u32(OP, "output channels", cout)?,
        cin: to_u32(OP, "input channels", cin)?,
        _pad: [0; 2],
    };
    let grid = fold_grid(blocks(cout * cin, WG as usize), max_groups(gpu));
    let resources = [wgpu::BindingResource::TextureView(at.view()), u.buffer().as_entire_binding()];
    let d = gpu.dispatch(&WINOGRAD_WEIGHT, &[("WG", WG)], &resources, bytemuck::bytes_of(&uniforms), grid)?;
    gpu.submit(OP, &[Step::Dispatch(d)])?;
    let transformed = PackedWeight::zeros(gpu, (POINTS * cout, cin, POINTS), 1, None)?;
    transformed.pack_from(&u, 0)?;
    Ok(transformed)
}

/// The steps of the convolution `geo` of `x` into `y` by Winograd F(2x2, 3x3) with the
/// transformed weight `u` (from [`transformed_weight`]) and `bias`: the input copied into a
/// texture and transformed, the GEMM of each of the 16 points, the output transform.
pub(crate) fn record_winograd(
    geo: &Conv2dGeometry,
    u: &PackedWeight,
    bias: Option<&Tensor>,
    x: &Tensor,
    y: &Tensor,
    tile: Tile,
) -> Result<Vec<Step>> {
    const OP: &str = "winograd";
    if !fits(geo) {
        let a = &geo.attrs;
        return Err(Error::KernelShape {
            kernel: "winograd",
            runs: "3x3 convolutions of stride 1, dilation 1 and one group",
            got: format!(
                "{}x{}, stride {:?}, dilation {:?}, {} groups",
                geo.kh, geo.kw, a.stride, a.dilation, a.groups
            ),
        });
    }
    if u.bands.len() > 1 {
        let what = format!("Winograd over {} input channels (more than a texture's rows)", geo.cin);
        return Err(Error::Limit { op: OP, what, needed: geo.cin as u64, limit: u.bands[0].k as u64 });
    }
    let gpu = x.gpu();
    let (tiles_w, tiles_h) = (geo.ow.div_ceil(2), geo.oh.div_ceil(2));
    let tiles = tiles_w * tiles_h;
    let cols = geo.n * tiles;
    let v = MatrixTexture::zeros(gpu, OP, POINTS * geo.cin, cols)?;
    let products = Tensor::zeros(gpu, &[geo.n, POINTS * geo.cout, tiles])?;
    let mut steps = staged(OP, x, |texture| {
        let uniforms = InputUniforms {
            conv: ConvDims::new(geo)?,
            cin: to_u32(OP, "input channels", geo.cin)?,
            tiles_w: to_u32(OP, "tiles", tiles_w)?,
            tiles: to_u32(OP, "tiles", tiles)?,
            cols: to_u32(OP, "tiles", cols)?,
        };
        let resources =
            [wgpu::BindingResource::TextureView(texture.view()), wgpu::BindingResource::TextureView(v.view())];
        let grid = [blocks(cols, 4 * WG as usize), uniforms.cin, 1];
        // An invocation's 4 tiles lie in one row of tiles.
        let row = tiles_w.is_multiple_of(4) && tiles.is_multiple_of(4);
        let overrides = [("WG", WG), LinearTexture::OVERRIDE, ("ROW", row as u32)];
        let input = gpu.dispatch(&WINOGRAD_INPUT, &overrides, &resources, bytemuck::bytes_of(&uniforms), grid)?;
        let gemm = record_gemm(u, &u.bands[0], BOperand::Windows(&v), &products, (cols, tiles), false, tile)?;
        Ok(vec![input, gemm])
    })?;
    let uniforms = OutputUniforms {
        cout: to_u32(OP, "output channels", geo.cout)?,
        oh: to_u32(OP, "output height", geo.oh)?,
        ow: to_u32(OP, "output width", geo.ow)?,
        tiles_w: to_u32(OP, "tiles", tiles_w)?,
        tiles: to_u32(OP, "tiles", tiles)?,
        has_bias: bias.is_some() as u32,
        _pad: [0; 2],
    };
    let b = bias.map(Tensor::buffer).unwrap_or(gpu.placeholder());
    let resources = [products.buffer().as_entire_binding(), b.as_entire_binding(), y.buffer().as_entire_binding()];
    let grid = [blocks(tiles, 4 * WG as usize), uniforms.cout, to_u32(OP, "images", geo.n)?];
    // The 4 tiles of an invocation lie in one row of tiles, over whole vec4s of output rows.
    let row = tiles_w.is_multiple_of(4) && geo.ow == 2 * tiles_w && geo.oh.is_multiple_of(2);
    let modes = [("WG", WG), ("ALIGNED", tiles.is_multiple_of(4) as u32), ("ROW", row as u32)];
    let overrides = [&modes[..], &Activation::overrides(geo.attrs.activation)].concat();
    steps.push(Step::Dispatch(gpu.dispatch(
        &WINOGRAD_OUTPUT,
        &overrides,
        &resources,
        bytemuck::bytes_of(&uniforms),
        grid,
    )?));
    Ok(steps)
}
