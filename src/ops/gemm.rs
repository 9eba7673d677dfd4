//! The GEMM: the register-tiled product with bias and a clamp stored as NCHW (`gemm.wgsl`)
//! over a packed weight, its B operand read from windows laid out by `im2col.rs`, from a
//! convolution's input as it stands (shifted per tap, or taken at its stride), or from
//! Winograd's transformed input. The steps of a convolution through it are `conv_gemm.rs`'s.

use bytemuck::Zeroable;

use crate::attrs::Conv2dGeometry;
use crate::error::{Error, Result, Shape};
use crate::ops::checks::check_same_device;
use crate::ops::im2col::RowWindows;
use crate::ops::packed::{Band, PackedWeight};
use crate::ops::sizes::{blocks, max_groups, to_u32};
use crate::ops::wgsl::wgsl;
use crate::pipeline::{Access, Dispatch, Kernel, UniformLayout, fold_grid, uniform_struct};
use crate::tensor::Tensor;
use crate::texture::{LinearTexture, MatrixTexture};

/// The register-tiled product.
pub(crate) const GEMM: Kernel = Kernel {
    name: "gemm",
    source: wgsl!("funnel", "linear_texture", "winograd_tiles", "winograd_fold", "gemm"),
    entry: "gemm",
    bindings: &[
        Access::TextureRead,
        Access::TextureRead,
        Access::Read,
        Access::ReadWrite,
        Access::ReadWrite,
        Access::Uniform,
    ],
    uniform: UniformLayout::of::<GemmUniforms>(),
    overrides: &[
        "TM",
        "TN",
        "WG_X",
        "WG_Y",
        "B_MODE",
        "ALIGNED",
        "TEX_SHIFT",
        "SX",
        "SPLIT",
        "WINO",
        "WINO_R",
        "HAS_BIAS",
        "ACCUMULATE",
    ],
};

/// A register tile of the GEMM: `tm` rows (output channels) x `tn` columns (output pixels)
/// per invocation, each 4, 8 or 16.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Tile {
    /// Rows (output channels) per invocation.
    pub tm: u32,
    /// Columns (output pixels) per invocation.
    pub tn: u32,
}

/// Invocations per workgroup of the GEMM.
const WORKGROUP: usize = 8;

uniform_struct! {
    /// Field order matches `Uniforms` in shaders/gemm.wgsl.
    struct GemmUniforms {
        m: u32,
        k: u32,
        cols: u32,
        pixels: u32,
        m_blocks: u32,
        m_total: u32,
        groups: u32,
        k_total: u32,
        k0: u32,
        z_cols: u32,
        clamp: u32,
        lo: f32,
        hi: f32,
        k_part: u32,
        zs: u32,
        part_vecs: u32,
        kh: u32,
        kw: u32,
        stride_y: u32,
        dy_div: u32,
        dy_mod: u32,
        row: u32,
        plane: u32,
        channel: u32,
        image: u32,
        group: u32,
        c0: u32,
        h: u32,
        pad_top: u32,
        pad_left: u32,
        dil_y: u32,
        dil_x: u32,
        ow: u32,
        row_cols: u32,
        oh: u32,
        row_tiles: u32,
        live: u32,
        tiles: u32,
        _pad2: u32,
        _pad3: u32,
    }
}

/// The B operand of a GEMM: input windows laid out by im2col, (for a 1x1 convolution) its
/// input in a linear texture (as it stands, or taken at its stride),
/// the row windows of the convolution `geo` for the implicit GEMM, or the input of `geo`
/// (stride 1 or 2 across) as it stands, read shifted per tap.
pub(crate) enum BOperand<'a> {
    Windows(&'a MatrixTexture),
    Input(&'a LinearTexture),
    Rows(&'a LinearTexture, RowWindows, &'a Conv2dGeometry),
    Shifted(&'a LinearTexture, &'a Conv2dGeometry),
}

/// What the GEMM does as it stores: clamp to `[lo, hi]` after the last band (ReLU, ReLU6, a
/// Clip: `Activation::bounds`); add to what the output holds from the first band on (`onto`:
/// a residual put there first), not only after it; with `parts` > 1 (split-K), store the raw
/// sums of that many parts of the reduction, each into its own slab of y (`split_k.rs` adds
/// them; 0 and 1: one part).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Epilogue<'a> {
    pub(crate) clamp: Option<[f32; 2]>,
    pub(crate) onto: bool,
    pub(crate) parts: usize,
    pub(crate) fold: Option<Fold<'a>>,
}

/// Winograd F(MxM, RxR)'s output transform done by the GEMM as it ends (gemm.wgsl's WINO; R
/// the kernel's size): the weight's groups are the (M + R − 1)² points of a tile times the
/// convolution `geo`'s
/// groups, B is the transformed input (`tiles`: per row, live per image and columns per
/// image, as `winograd::tiles` gives them), and the GEMM stores `geo`'s outputs with `bias`,
/// not the products; each invocation keeps its products in its own share of `kept`
/// ([`Fold::kept_len`] floats).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Fold<'a> {
    pub(crate) m: usize,
    pub(crate) geo: &'a Conv2dGeometry,
    pub(crate) bias: Option<&'a Tensor>,
    pub(crate) tiles: (usize, usize, usize),
    pub(crate) kept: &'a Tensor,
}

impl Fold<'_> {
    /// Floats of products the invocations of a GEMM of `tile` keep for the convolution `geo`
    /// by F(MxM) over `cols` tiles: every point of every invocation's tile, the tiles of all
    /// groups rounded up to whole workgroups.
    pub(crate) fn kept_len(m: usize, geo: &Conv2dGeometry, cols: usize, tile: Tile) -> usize {
        let (tm, tn) = (tile.tm as usize, tile.tn as usize);
        let tiles = geo.attrs.groups * cols.div_ceil(tn) * (geo.cout / geo.attrs.groups).div_ceil(tm);
        let a = m + geo.kh - 1;
        tiles.next_multiple_of(WORKGROUP) * a * a * tm * tn
    }
}

/// Records y = act(Wᵀ·B + bias) over `band` of `weight`, for `cols` columns of `pixels`
/// output pixels per image. Bands after the first add to y (the first too with
/// `epilogue.onto`); bias goes with the first, the clamp (`epilogue.clamp`) with the last.
pub(crate) fn record_gemm(
    weight: &PackedWeight,
    band: &Band,
    b: BOperand<'_>,
    y: &Tensor,
    (cols, pixels): (usize, usize),
    epilogue: Epilogue<'_>,
    tile: Tile,
) -> Result<Dispatch> {
    const OP: &str = "gemm";
    let gpu = y.gpu();
    check_same_device(OP, &[("bias", weight.bias.as_ref()), ("output", Some(y))])?;
    band.at.check_on(gpu, OP, "weight")?;
    let (b_view, mode) = match &b {
        BOperand::Windows(b) => (b.check_on(gpu, OP, "windows").map(|_| b.view())?, 0),
        BOperand::Input(b) => (b.check_on(gpu, OP, "input").map(|_| b.view())?, if pixels % 4 == 0 { 1 } else { 3 }),
        BOperand::Rows(b, ..) => (b.check_on(gpu, OP, "row windows").map(|_| b.view())?, 2),
        BOperand::Shifted(b, _) => (b.check_on(gpu, OP, "input").map(|_| b.view())?, 4),
    };
    for (knob, v) in [("tm", tile.tm), ("tn", tile.tn)] {
        if ![4, 8, 16].contains(&v) {
            return Err(Error::Tuning { op: OP, knob, value: v as u64, allowed: "4, 8 or 16" });
        }
    }
    let first = band.k0 == 0;
    let last = band.k0 + band.k == weight.k;
    let parts = epilogue.parts.max(1);
    if parts > 1
        && (matches!(b, BOperand::Rows(..) | BOperand::Shifted(..)) || epilogue.clamp.is_some() || epilogue.onto)
    {
        let got = "row windows, a shifted input, a clamp or a sum onto the output".to_string();
        return Err(Error::KernelShape { kernel: "split-K GEMM", runs: "raw sums of windows or an input", got });
    }
    if epilogue.fold.is_some() && (parts > 1 || epilogue.onto || !matches!(b, BOperand::Windows(_))) {
        let got = "split-K, a sum onto the output or a B operand other than windows".to_string();
        return Err(Error::KernelShape { kernel: "Winograd's GEMM", runs: "the transformed input's windows", got });
    }
    let m = weight.cout / weight.groups;
    let u = |what, v| to_u32(OP, what, v);
    let clamp = epilogue.clamp.filter(|_| last);
    let [lo, hi] = clamp.unwrap_or_default();
    let mut uniforms = GemmUniforms {
        m: to_u32(OP, "outputs per group", m)?,
        k: to_u32(OP, "weights per output", band.k)?,
        cols: to_u32(OP, "columns", cols)?,
        pixels: to_u32(OP, "output pixels", pixels)?,
        m_blocks: to_u32(OP, "outputs", weight.m_blocks())?,
        m_total: to_u32(OP, "outputs", weight.cout)?,
        groups: to_u32(OP, "groups", weight.groups)?,
        k_total: to_u32(OP, "weights per output", weight.k)?,
        k0: to_u32(OP, "weights per output", band.k0)?,
        z_cols: u("columns", cols)?,
        clamp: clamp.is_some() as u32,
        lo,
        hi,
        k_part: u("weights per output", band.k.div_ceil(parts))?,
        part_vecs: u("outputs", if parts > 1 { y.len().div_ceil(4) / parts } else { 0 })?,
        ..Zeroable::zeroed()
    };
    // Folded, the grid's z runs over the convolution's groups, each invocation over the points.
    let mut groups = weight.groups;
    let mut bias = weight.bias.as_ref();
    let mut kept = gpu.placeholder_rw();
    if let Some(f) = epilogue.fold {
        check_same_device(OP, &[("kept products", Some(f.kept))])?;
        let needed = Fold::kept_len(f.m, f.geo, cols, tile);
        if f.kept.len() < needed {
            return Err(Error::Mismatch { op: OP, a: Shape(vec![needed]), b: f.kept.shape().into() });
        }
        kept = f.kept.buffer();
        let (row_tiles, live, tiles) = f.tiles;
        groups = f.geo.attrs.groups;
        bias = f.bias;
        uniforms = GemmUniforms {
            m_total: u("outputs", f.geo.cout)?,
            pixels: u("output pixels", f.geo.oh * f.geo.ow)?,
            groups: u("groups", groups)?,
            ow: u("output width", f.geo.ow)?,
            oh: u("output height", f.geo.oh)?,
            row_tiles: u("tiles", row_tiles)?,
            live: u("tiles", live)?,
            tiles: u("tiles", tiles)?,
            ..uniforms
        };
    }
    // The bias goes in with the first band of a whole reduction, and always in Winograd's fold.
    let has_bias = bias.is_some() && (epilogue.fold.is_some() || first && parts == 1);
    // The implicit GEMMs run a slice of the grid per image, so that a tile stays in one, and
    // walk the kernel's taps over B's channels, `channel` words apart: KW·SY planes of row
    // windows, or a plane of the input itself (shifted).
    let mut slices = 1;
    let mut aligned_to = pixels;
    // A pointwise convolution over images that do not hold whole tiles runs a slice per image
    // too (its last tile's columns past the plane are read, not stored).
    if let BOperand::Input(_) = b
        && !pixels.is_multiple_of(tile.tn as usize)
    {
        slices = cols / pixels;
        uniforms.z_cols = u("output pixels", pixels)?;
    }
    if let BOperand::Rows(_, _, geo) | BOperand::Shifted(_, geo) = b {
        let a = &geo.attrs;
        let (row, channel) = match b {
            BOperand::Rows(_, r, _) => (geo.ow, geo.kw * a.stride[0] * r.plane),
            _ => (geo.w, geo.h * geo.w),
        };
        slices = geo.n;
        uniforms = GemmUniforms {
            kh: u("kernel height", geo.kh)?,
            kw: u("kernel width", geo.kw)?,
            stride_y: u("stride", a.stride[0])?,
            row: u("row", row)?,
            channel: u("channel", channel)?,
            image: u("image", geo.cin * channel)?,
            group: u("group", geo.cin / a.groups * channel)?,
            c0: u("input channels", band.k0 / (geo.kh * geo.kw))?,
            ..uniforms
        };
    }
    if let BOperand::Rows(_, r, geo) = b {
        let (sy, dy) = (geo.attrs.stride[0], geo.attrs.dilation[0]);
        uniforms = GemmUniforms {
            z_cols: u("output pixels", pixels)?,
            dy_div: u("dilation", dy / sy)?,
            dy_mod: u("dilation", dy % sy)?,
            plane: u("row windows", r.plane)?,
            ..uniforms
        };
    }
    if let BOperand::Shifted(_, geo) = b {
        let a = &geo.attrs;
        let row_cols = geo.ow.next_multiple_of(tile.tn as usize);
        if !(1..=2).contains(&a.stride[1]) || cols != geo.n * geo.oh * row_cols {
            let got = format!("stride {:?}, {cols} columns for {} rows of {row_cols}", a.stride, geo.n * geo.oh);
            return Err(Error::KernelShape {
                kernel: "shifted GEMM",
                runs: "stride 1 or 2 across, whole rows of tiles",
                got,
            });
        }
        aligned_to = geo.ow;
        uniforms = GemmUniforms {
            z_cols: u("output pixels", geo.oh * row_cols)?,
            h: u("input height", geo.h)?,
            pad_top: u("padding", a.padding.top)?,
            pad_left: u("padding", a.padding.left)?,
            dil_y: u("dilation", a.dilation[0])?,
            dil_x: u("dilation", a.dilation[1])?,
            ow: u("output width", geo.ow)?,
            row_cols: u("output width", row_cols)?,
            ..uniforms
        };
    }
    let (wg_x, wg_y) = (WORKGROUP as u32, 1);
    let tiles = blocks(cols / slices, tile.tn as usize) as u64 * blocks(m, tile.tm as usize) as u64 * groups as u64;
    let [gx, gy, _] = fold_grid(to_u32(OP, "tiles", tiles.div_ceil(wg_x as u64) as usize)?, max_groups(gpu));
    uniforms.zs = u("images", slices)?;
    let z = parts.saturating_mul(slices);
    if z > max_groups(gpu) as usize {
        return Err(Error::Limit {
            op: OP,
            what: format!("{parts} parts x {slices} images in one grid dimension"),
            needed: z as u64,
            limit: max_groups(gpu) as u64,
        });
    }
    let grid = [gx, gy, z as u32];
    let bias = bias.map(Tensor::buffer).unwrap_or(gpu.placeholder());
    let resources = [
        wgpu::BindingResource::TextureView(band.at.view()),
        wgpu::BindingResource::TextureView(b_view),
        bias.as_entire_binding(),
        y.buffer().as_entire_binding(),
        kept.as_entire_binding(),
    ];
    let overrides = [
        ("TM", tile.tm),
        ("TN", tile.tn),
        ("WG_X", wg_x),
        ("WG_Y", wg_y),
        ("B_MODE", mode),
        ("ALIGNED", aligned(aligned_to, tile)),
        ("SX", if let BOperand::Shifted(_, geo) = b { geo.attrs.stride[1] as u32 } else { 1 }),
        ("SPLIT", (parts > 1) as u32),
        ("WINO", epilogue.fold.map_or(0, |f| f.m as u32)),
        ("WINO_R", epilogue.fold.map_or(3, |f| f.geo.kh as u32)),
        ("HAS_BIAS", has_bias as u32),
        ("ACCUMULATE", (!first || epilogue.onto) as u32),
        LinearTexture::OVERRIDE,
    ];
    gpu.dispatch(&GEMM, &overrides, &resources, bytemuck::bytes_of(&uniforms), grid)
}

/// gemm.wgsl's ALIGNED for images (B_MODE 4: output rows) of `pixels`: 1 when they hold whole
/// tiles of columns, 2 when whole vec4s, else 0 (a store per column).
fn aligned(pixels: usize, tile: Tile) -> u32 {
    match (pixels.is_multiple_of(tile.tn as usize), pixels.is_multiple_of(4)) {
        (true, _) => 1,
        (false, true) => 2,
        (false, false) => 0,
    }
}
