//! Winograd F(MxM, RxR) for convolutions of stride 1 and dilation 1 (any padding and groups):
//! F(2x2, 3x3) and F(4x4, 3x3) for 3x3 kernels, F(2x2, 5x5) for 5x5 ones. Each MxM block of
//! outputs comes from an AxA tile of input (A = M + R − 1) in A² products where the direct sum
//! takes R²·M² (16 for 36 and 36 for 144 with 3x3; 36 for 100 with 5x5). The input is transformed
//! per tile (`winograd_input.wgsl`) into the B operand of a GEMM in A² groups (A²·G for G
//! groups), one per point of the tile, whose weight is the transformed weight
//! (`winograd_weight.wgsl`, packed once); the GEMM (`gemm.wgsl`) multiplies, and
//! `winograd_output.wgsl` folds each tile's products into its outputs with bias and activation,
//! or (fused) the GEMM multiplies every point of its tile in turn and folds them as
//! it ends (`winograd_fold.wgsl` holds the fold for both). F(4x4, 3x3) and F(2x2, 5x5) share
//! their tile of 6 and its points (0, ±1, ±2, ∞), so their input transform is one: what
//! makes F(2x2, 5x5) cheap to add.
//! An image's tiles run row after row, no row rounded up (a block of 4 tiles, what a
//! transform takes at once, may wrap into the next row), and its GEMM columns are rounded up
//! to 4: at 56x56, F(4x4)'s 14 tiles a row fill 196 columns, not 224.
//! F(2x2)'s error is no larger than the direct sum's: its transforms weigh by ±½ and ±1, and
//! each product sums over Cin, not 9·Cin (measured against the f64 reference with He-scaled
//! weights: 0.8–1.4e-6 against the implicit GEMM's 1.9–4.2e-6 on 3x3 convolutions of 64 to
//! 512 channels). F(4x4)'s transforms weigh by up to 8 and ⅙, F(2x2, 5x5)'s by up to ⅔ and 2
//! with the same input transform (their measured error: docs/performance.md); the case table
//! and box sums by hand (`tests/conv2d.rs`) hold all three to the default tolerance.

use bytemuck::Zeroable;

use crate::attrs::{Activation, Conv2dGeometry};
use crate::error::{Error, Result};
use crate::gpu::Gpu;
use crate::ops::conv_dims::ConvDims;
use crate::ops::elementwise::activation_dispatches;
use crate::ops::gemm::{BOperand, Epilogue, Fold, Tile, record_gemm};
use crate::ops::packed::PackedWeight;
use crate::ops::scratch;
use crate::ops::sizes::{blocks, max_groups, to_u32};
use crate::ops::wgsl::wgsl;
use crate::pipeline::{Access, Kernel, Step, UniformLayout, fold_grid, uniform_struct};
use crate::tensor::Tensor;
use crate::texture::LinearTexture;

pub(crate) const WINOGRAD_WEIGHT: Kernel = Kernel {
    name: "winograd_weight",
    source: wgsl!("winograd_weight"),
    entry: "winograd_weight",
    bindings: &[Access::TextureRead, Access::ReadWrite, Access::Uniform],
    uniform: UniformLayout::of::<WeightUniforms>(),
    overrides: &["WG", "M", "R"],
};

pub(crate) const WINOGRAD_INPUT: Kernel = Kernel {
    name: "winograd_input",
    source: wgsl!("funnel", "conv_dims", "linear_texture", "input_texture", "winograd_tiles", "winograd_input"),
    entry: "winograd_input",
    bindings: &[Access::TextureRead, Access::TextureWrite, Access::Uniform],
    uniform: UniformLayout::of::<InputUniforms>(),
    overrides: &["WG", "TEX_SHIFT", "M", "R"],
};

pub(crate) const WINOGRAD_OUTPUT: Kernel = Kernel {
    name: "winograd_output",
    source: wgsl!("activation", "winograd_tiles", "winograd_fold", "winograd_output"),
    entry: "winograd_output",
    bindings: &[Access::Read, Access::Read, Access::ReadWrite, Access::Uniform],
    uniform: UniformLayout::of::<OutputUniforms>(),
    overrides: &["WG", "M", "R", "VEC", "ACT", "ACT_P0", "ACT_P1"],
};

/// Invocations per workgroup of each transform.
const WG: u32 = 64;

/// Points of a transformed tile of F(MxM, RxR): the GEMM's groups.
pub(crate) fn points(m: usize, r: usize) -> usize {
    (m + r - 1) * (m + r - 1)
}

/// Tiles of F(MxM, RxR) over `rows` x `cols` outputs, row after row with none rounded up
/// (`winograd_tiles.wgsl`): per row, per image, and the image's columns of the GEMM (rounded up
/// to 4, so that the transforms' blocks of 4 tiles lie in one image).
pub(crate) fn tiles(m: usize, rows: usize, cols: usize) -> (usize, usize, usize) {
    let row = cols.div_ceil(m);
    let live = row * rows.div_ceil(m);
    (row, live, live.next_multiple_of(4))
}

uniform_struct! {
    /// Field order matches `Uniforms` in shaders/winograd_weight.wgsl.
    struct WeightUniforms {
        cout: u32,
        cin: u32,
        m: u32,
        m_blocks: u32,
        kh: u32,
        kw: u32,
        block: u32,
        _pad: u32,
    }
}

uniform_struct! {
    /// Field order matches `Uniforms` in shaders/winograd_input.wgsl.
    struct InputUniforms {
        conv: ConvDims,
        cin: u32,
        row: u32,
        live: u32,
        tiles: u32,
        cols: u32,
        _pad0: u32,
        _pad1: u32,
        _pad2: u32,
    }
}

uniform_struct! {
    /// Field order matches `Uniforms` in shaders/winograd_output.wgsl.
    struct OutputUniforms {
        cout: u32,
        oh: u32,
        ow: u32,
        row: u32,
        live: u32,
        tiles: u32,
        has_bias: u32,
        images: u32,
    }
}

/// The Winograd forms `geo` runs, as (M, fused): F(2x2, 3x3) and F(4x4, 3x3) for 3x3
/// convolutions of stride 1 and dilation 1 (any padding and groups), F(2x2, 5x5) for 5x5 ones,
/// each fused or not; none for the rest.
pub(crate) fn forms(geo: &Conv2dGeometry) -> &'static [(usize, bool)] {
    let a = &geo.attrs;
    match (geo.kh, geo.kw) {
        _ if a.stride != [1, 1] || a.dilation != [1, 1] => &[],
        (3, 3) => &[(2, false), (4, false), (2, true), (4, true)],
        (5, 5) => &[(2, false), (2, true)],
        _ => &[],
    }
}

/// Fails unless `geo` runs Winograd F(MxM) (`m`), fused where `fused` (see [`forms`]).
pub(crate) fn check_form(geo: &Conv2dGeometry, m: usize, fused: bool) -> Result<()> {
    if forms(geo).contains(&(m, fused)) {
        return Ok(());
    }
    Err(Error::KernelShape {
        kernel: "winograd",
        runs: "F(2x2, 3x3), F(4x4, 3x3) and F(2x2, 5x5), fused or not, at stride 1 and dilation 1",
        got: form_asked(geo, m, fused),
    })
}

/// F(MxM) (`m`), fused where `fused`, of `geo`'s kernel, stride and dilation: what a refusal
/// names.
pub(crate) fn form_asked(geo: &Conv2dGeometry, m: usize, fused: bool) -> String {
    let a = &geo.attrs;
    let fused = if fused { " fused" } else { "" };
    format!("F({m}x{m}){fused} of a {}x{} kernel, stride {:?}, dilation {:?}", geo.kh, geo.kw, a.stride, a.dilation)
}

/// The weight of F(MxM, RxR) for a convolution whose `kernel` (KH, KW) weight is `packed`,
/// folded space-to-depth by `block` (1: as it stands; R = KH / block rounded up): (M + R − 1)²·G
/// groups of `[Cout / G, block²·Cin / G]`, point-major, no bias (the output transform adds it).
pub(crate) fn transformed_weight(
    gpu: &Gpu,
    packed: &PackedWeight,
    m: usize,
    kernel: [usize; 2],
    block: usize,
) -> Result<PackedWeight> {
    const OP: &str = "winograd";
    let [kh, kw] = kernel;
    let r = kh.div_ceil(block);
    let (cout, groups) = (packed.cout, packed.groups);
    let cin = packed.k / (kh * kw) * block * block;
    if packed.k != kh * kw * (cin / (block * block)) || kw.div_ceil(block) != r || packed.bands.len() != 1 {
        return Err(Error::KernelShape {
            kernel: "winograd",
            runs: "square kernels (3x3 and 5x5, or folded to them) whose weight fits one texture",
            got: format!("a {kh}x{kw} kernel of {} weights per output, in {} bands", packed.k, packed.bands.len()),
        });
    }
    let at = &packed.bands[0].at;
    at.check_on(gpu, OP, "weight")?;
    let u = Tensor::zeros(gpu, &[points(m, r) * cout, cin])?;
    let uniforms = WeightUniforms {
        cout: to_u32(OP, "output channels", cout)?,
        cin: to_u32(OP, "input channels", cin)?,
        m: to_u32(OP, "output channels", cout / groups)?,
        m_blocks: to_u32(OP, "output channels", packed.m_blocks())?,
        kh: to_u32(OP, "kernel height", kh)?,
        kw: to_u32(OP, "kernel width", kw)?,
        block: to_u32(OP, "stride", block)?,
        _pad: 0,
    };
    let grid = fold_grid(blocks(cout * cin, WG as usize), max_groups(gpu));
    let resources = [wgpu::BindingResource::TextureView(at.view()), u.buffer().as_entire_binding()];
    let overrides = [("WG", WG), ("M", m as u32), ("R", r as u32)];
    let d = gpu.dispatch(&WINOGRAD_WEIGHT, &overrides, &resources, bytemuck::bytes_of(&uniforms), grid)?;
    gpu.submit(OP, &[Step::Dispatch(d)])?;
    let transformed = PackedWeight::zeros(gpu, (points(m, r) * cout, cin, points(m, r) * groups), 1, None)?;
    transformed.pack_from(&u, 0)?;
    Ok(transformed)
}

/// The steps of the convolution `geo` of `x` into `y` by Winograd F(MxM, RxR) (R the kernel's
/// size) with the transformed weight `u` (from [`transformed_weight`] for this `m`) and `bias`: the input
/// copied into a texture and transformed, the GEMM of each point, the output transform. With
/// `fold`, the GEMM does the output transform as it ends (each invocation multiplies every
/// point of its tile and folds their products into outputs, bias and clamp; another
/// activation runs after it), and no products go through memory; else the products are
/// stored and `winograd_output.wgsl` folds them.
pub(crate) fn record_winograd(
    geo: &Conv2dGeometry,
    form: (usize, bool),
    u: &PackedWeight,
    bias: Option<&Tensor>,
    x: &Tensor,
    y: &Tensor,
    tile: Tile,
) -> Result<Vec<Step>> {
    let texture = scratch::linear(x.gpu(), "winograd", x.len())?;
    let mut steps = vec![texture.copy_from(x)?];
    steps.extend(record_winograd_over(geo, form, u, bias, &texture, y, tile)?);
    Ok(steps)
}

/// [`record_winograd`] of the input already in the linear texture `x`.
pub(crate) fn record_winograd_over(
    geo: &Conv2dGeometry,
    (m, fold): (usize, bool),
    u: &PackedWeight,
    bias: Option<&Tensor>,
    x: &LinearTexture,
    y: &Tensor,
    tile: Tile,
) -> Result<Vec<Step>> {
    const OP: &str = "winograd";
    check_form(geo, m, fold)?;
    let r = geo.kh;
    if u.bands.len() > 1 {
        let what = format!("Winograd over {} input channels (more than a texture's rows)", geo.cin);
        return Err(Error::Limit { op: OP, what, needed: geo.cin as u64, limit: u.bands[0].k as u64 });
    }
    let gpu = y.gpu();
    x.check_on(gpu, OP, "input")?;
    let (row, live, tiles) = self::tiles(m, geo.oh, geo.ow);
    let cols = geo.n * tiles;
    let v = scratch::matrix(gpu, OP, points(m, r) * geo.cin, cols)?;
    let transform = |texture: &LinearTexture| {
        let uniforms = InputUniforms {
            conv: ConvDims::new(geo)?,
            cin: to_u32(OP, "input channels", geo.cin)?,
            row: to_u32(OP, "tiles", row)?,
            live: to_u32(OP, "tiles", live)?,
            tiles: to_u32(OP, "tiles", tiles)?,
            cols: to_u32(OP, "tiles", cols)?,
            ..Zeroable::zeroed()
        };
        let resources =
            [wgpu::BindingResource::TextureView(texture.view()), wgpu::BindingResource::TextureView(v.view())];
        let grid = fold_grid(blocks(geo.cin * cols / 4, WG as usize), max_groups(gpu));
        let overrides = [("WG", WG), LinearTexture::OVERRIDE, ("M", m as u32), ("R", r as u32)];
        gpu.dispatch(&WINOGRAD_INPUT, &overrides, &resources, bytemuck::bytes_of(&uniforms), grid)
    };
    if fold {
        let (clamp, after) = Activation::split(geo.attrs.activation);
        let raw = after.map(|_| scratch::tensor(gpu, y.shape())).transpose()?;
        let out = raw.as_ref().unwrap_or(y);
        let kept = scratch::tensor(gpu, &[Fold::kept_len(m, geo, cols, tile)])?;
        let fold = Fold { m, geo, bias, tiles: (row, live, tiles), kept: &kept };
        let epilogue = Epilogue { clamp, fold: Some(fold), ..Epilogue::default() };
        let gemm = record_gemm(u, &u.bands[0], BOperand::Windows(&v), out, (cols, tiles), epilogue, tile)?;
        let mut steps = vec![Step::Dispatch(transform(x)?), Step::Dispatch(gemm)];
        if let (Some(act), Some(raw)) = (after, &raw) {
            steps.extend(activation_dispatches(raw, y, act)?.into_iter().map(Step::Dispatch));
        }
        return Ok(steps);
    }
    let products = scratch::tensor(gpu, &[geo.n, points(m, r) * geo.cout, tiles])?;
    let b = BOperand::Windows(&v);
    let gemm = record_gemm(u, &u.bands[0], b, &products, (cols, tiles), Epilogue::default(), tile)?;
    let mut steps = vec![Step::Dispatch(transform(x)?), Step::Dispatch(gemm)];
    let uniforms = OutputUniforms {
        cout: to_u32(OP, "output channels", geo.cout)?,
        oh: to_u32(OP, "output height", geo.oh)?,
        ow: to_u32(OP, "output width", geo.ow)?,
        row: to_u32(OP, "tiles", row)?,
        live: to_u32(OP, "tiles", live)?,
        tiles: to_u32(OP, "tiles", tiles)?,
        has_bias: bias.is_some() as u32,
        images: to_u32(OP, "images", geo.n)?,
    };
    let b = bias.map(Tensor::buffer).unwrap_or(gpu.placeholder());
    let resources = [products.buffer().as_entire_binding(), b.as_entire_binding(), y.buffer().as_entire_binding()];
    let grid = fold_grid(blocks(geo.n * geo.cout * tiles / 4, WG as usize), max_groups(gpu));
    let modes = [("WG", WG), ("M", m as u32), ("R", r as u32), ("VEC", geo.ow.is_multiple_of(4) as u32)];
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
