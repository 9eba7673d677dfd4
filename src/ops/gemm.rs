//! im2col + GEMM: the input windows laid out as the B operand (`im2col.wgsl`) and the
//! register-tiled product with bias and ReLU stored as NCHW (`gemm.wgsl`) over a packed weight.
//! Convolutions and batched dense layers both run through it: a dense layer is the 1x1
//! convolution of 1x1 images. The implicit GEMM lays out less: row windows (`im2row`), in
//! which every tap's windows of consecutive output pixels are consecutive words.

use bytemuck::Zeroable;

use crate::attrs::Conv2dGeometry;
use crate::error::{Error, Result};
use crate::gpu::Gpu;
use crate::ops::checks::check_same_device;
use crate::ops::conv_dims::ConvDims;
use crate::ops::cut::copy;
use crate::ops::elementwise::activation_dispatches;
use crate::ops::packed::{Band, PackedWeight};
use crate::ops::record::staged;
use crate::ops::sizes::{blocks, max_groups, to_u32, workgroup};
use crate::ops::split_k::record_split_sum;
use crate::ops::wgsl::wgsl;
use crate::pipeline::{Access, Dispatch, Kernel, Step, UniformLayout, fold_grid, uniform_struct};
use crate::tensor::Tensor;
use crate::texture::{LinearTexture, MatrixTexture};

/// im2col.wgsl after the convolution sizes it reads (shaders/conv_dims.wgsl) and the linear
/// texture reads (shaders/linear_texture.wgsl), at `entry`: its three entry points share
/// bindings and uniform.
const fn im2col_kernel(entry: &'static str, overrides: &'static [&'static str]) -> Kernel {
    Kernel {
        name: "im2col",
        source: wgsl!("funnel", "conv_dims", "linear_texture", "input_texture", "im2col"),
        entry,
        bindings: &[Access::TextureRead, Access::TextureWrite, Access::Uniform],
        uniform: UniformLayout::of::<Im2colUniforms>(),
        overrides,
    }
}

/// Lays out input windows as the B operand.
pub(crate) const IM2COL: Kernel = im2col_kernel("im2col", &["WG_X", "WG_Y", "TEX_SHIFT"]);

/// Invocations of an im2col workgroup (texel columns x input channels); each writes the
/// windows of 4 output pixels (a texel) of one input channel.
const IM2COL_WG: u32 = 64;

/// Lays out a dense layer's input as the B operand, 4 x 4 at a time.
pub(crate) const IM2COL_DENSE: Kernel = im2col_kernel("im2col_dense", &["WG", "TEX_SHIFT"]);

/// Invocations of an im2col_dense workgroup; each transposes 4 samples x 4 features.
const IM2COL_DENSE_WG: u32 = 8;

/// Lays out the row windows of the implicit GEMM.
pub(crate) const IM2ROW: Kernel = im2col_kernel("im2row", &["WG", "TEX_SHIFT", "RUN", "FLAT"]);

/// The register-tiled product.
pub(crate) const GEMM: Kernel = Kernel {
    name: "gemm",
    source: wgsl!("funnel", "linear_texture", "gemm"),
    entry: "gemm",
    bindings: &[Access::TextureRead, Access::TextureRead, Access::Read, Access::ReadWrite, Access::Uniform],
    uniform: UniformLayout::of::<GemmUniforms>(),
    overrides: &["TM", "TN", "WG_X", "WG_Y", "B_MODE", "ALIGNED", "TEX_SHIFT"],
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

uniform_struct! {
    /// Field order matches `Uniforms` in shaders/im2col.wgsl.
    struct Im2colUniforms {
        conv: ConvDims,
        cin: u32,
        cin_per_group: u32,
        k: u32,
        cols: u32,
        c0: u32,
        channels: u32,
        rows: u32,
        plane: u32,
        planes: u32,
        _pad: [u32; 3],
    }
}

/// The B operand of the convolution `geo` over `band` of its weight: the windows of input
/// channels `band.k0 / (KH·KW) ..`, a [G·K, N·OH·OW] matrix texture (one band: all of it).
pub(crate) fn windows(gpu: &Gpu, geo: &Conv2dGeometry, band: &Band) -> Result<MatrixTexture> {
    let rows = if geo.attrs.groups > 1 { geo.attrs.groups * geo.reduction_len() } else { band.k };
    MatrixTexture::zeros(gpu, "conv2d", rows.next_multiple_of(4), geo.n * geo.oh * geo.ow)
}

/// Records the layout of `x`'s windows (as `geo` says) for `band` into `b`, reading `staged`,
/// a texture copy of `x`.
pub(crate) fn record_im2col(
    geo: &Conv2dGeometry,
    x: &Tensor,
    staged: &LinearTexture,
    band: &Band,
    b: &MatrixTexture,
) -> Result<Dispatch> {
    const OP: &str = "conv2d";
    let gpu = x.gpu();
    b.check_on(gpu, OP, "windows")?;
    let taps = geo.kh * geo.kw;
    let channels = if geo.attrs.groups > 1 { geo.cin } else { band.k / taps };
    let uniforms = Im2colUniforms::new(geo, band.k0 / taps, channels, None)?;
    let resources = [wgpu::BindingResource::TextureView(staged.view()), wgpu::BindingResource::TextureView(b.view())];
    // A dense layer's input (1x1 images, 4 features to a texel) transposes 4 x 4 at a time.
    let a = &geo.attrs;
    let dense = geo.h == 1 && geo.w == 1 && geo.kh == 1 && geo.kw == 1 && geo.cin.is_multiple_of(4) && a.groups == 1;
    let (kernel, grid, wg) = match dense {
        true => {
            let grid = [blocks(geo.n, 4 * IM2COL_DENSE_WG as usize), uniforms.channels.div_ceil(4), 1];
            (&IM2COL_DENSE, grid, IM2COL_DENSE_WG)
        }
        false => {
            // Workgroups shaped to the texel columns: 7x7 maps are 13 of them, and one workgroup
            // per input channel a row of 64 lanes left 51 idle.
            let texels = (geo.n * geo.oh * geo.ow).div_ceil(4);
            let (wg_x, wg_y) = workgroup(texels, IM2COL_WG);
            let grid = [blocks(texels, wg_x as usize), blocks(uniforms.channels as usize, wg_y as usize), 1];
            let overrides = [("WG_X", wg_x), ("WG_Y", wg_y), LinearTexture::OVERRIDE];
            return gpu.dispatch(&IM2COL, &overrides, &resources, bytemuck::bytes_of(&uniforms), grid);
        }
    };
    gpu.dispatch(kernel, &[("WG", wg), LinearTexture::OVERRIDE], &resources, bytemuck::bytes_of(&uniforms), grid)
}

/// The layout of a convolution's row windows (`im2row` in im2col.wgsl): per image, input
/// channel, kernel column and row phase, a plane of `rows` x OW words, `plane` words apart.
#[derive(Clone, Copy)]
pub(crate) struct RowWindows {
    rows: usize,
    plane: usize,
    planes: usize,
}

impl RowWindows {
    /// The row windows of the whole convolution `geo`.
    pub(crate) fn of(geo: &Conv2dGeometry) -> RowWindows {
        RowWindows::part(geo, geo.n, geo.oh)
    }

    /// The row windows of `images` images and `rows` output rows of `geo`.
    /// The row windows of `images` images and `rows` output rows of `geo` (sizes saturate:
    /// a layout past the machine's integers does not fit any device).
    pub(crate) fn part(geo: &Conv2dGeometry, images: usize, rows: usize) -> RowWindows {
        let sy = geo.attrs.stride[0];
        // The kernel's extent less one, over the stride: the rows a window reaches below its first.
        let rows = rows + (geo.extent[0] - 1) / sy;
        let planes = [geo.cin, geo.kw, sy].iter().fold(images, |a, &b| a.saturating_mul(b));
        RowWindows { rows, plane: rows.saturating_mul(geo.ow).next_multiple_of(4), planes }
    }

    /// Floats held: the planes, and past the last the words a tile of 16 columns reads beyond
    /// its image's last pixel (never stored).
    pub(crate) fn len(&self) -> usize {
        self.planes.saturating_mul(self.plane).saturating_add(32)
    }

    /// True when they fit a linear texture on `gpu`, and a plane one row of im2row's grid.
    pub(crate) fn fit(&self, gpu: &Gpu) -> bool {
        let per_group = 4 * (IM2ROW_RUN * IM2ROW_WG) as usize;
        self.len() as u64 <= LinearTexture::capacity(gpu) && blocks(self.plane, per_group) <= max_groups(gpu)
    }
}

/// Invocations of an im2row workgroup, and texels each writes. llvmpipe spends ~50 ns on
/// each SIMD row of 8 invocations beyond its work, which made one texel an invocation cost
/// half of conv1's row windows; and with 8 lanes a workgroup, none idles on 13x13 planes
/// (AlexNet's row windows: 40% faster).
const IM2ROW_WG: u32 = 8;
const IM2ROW_RUN: u32 = 8;

/// Records the row windows of `x` (as `geo` says) into `r`, reading `staged`, a texture
/// copy of `x`.
pub(crate) fn record_im2row(
    geo: &Conv2dGeometry,
    x: &Tensor,
    staged: &LinearTexture,
    layout: RowWindows,
    r: &LinearTexture,
) -> Result<Dispatch> {
    let gpu = x.gpu();
    r.check_on(gpu, "conv2d", "row windows")?;
    let uniforms = Im2colUniforms::new(geo, 0, geo.cin, Some(layout))?;
    let resources = [wgpu::BindingResource::TextureView(staged.view()), wgpu::BindingResource::TextureView(r.view())];
    let [py, pz, _] = fold_grid(uniforms.planes, max_groups(gpu));
    let grid = [blocks(layout.rows * geo.ow, 4 * (IM2ROW_RUN * IM2ROW_WG) as usize), py, pz];
    let [sy, sx] = geo.attrs.stride;
    let flat = sx == 1 && sy == 1 && geo.ow == geo.w;
    let overrides = [("WG", IM2ROW_WG), LinearTexture::OVERRIDE, ("RUN", IM2ROW_RUN), ("FLAT", flat as u32)];
    gpu.dispatch(&IM2ROW, &overrides, &resources, bytemuck::bytes_of(&uniforms), grid)
}

impl Im2colUniforms {
    /// Windows of `geo` for input channels `c0 .. c0 + channels`; with `rows`, row windows.
    fn new(geo: &Conv2dGeometry, c0: usize, channels: usize, rows: Option<RowWindows>) -> Result<Im2colUniforms> {
        const OP: &str = "conv2d";
        let u = |what, v| to_u32(OP, what, v);
        let a = &geo.attrs;
        let r = rows.unwrap_or(RowWindows { rows: 0, plane: 0, planes: 0 });
        Ok(Im2colUniforms {
            conv: ConvDims::new(geo)?,
            cin: u("input channels", geo.cin)?,
            cin_per_group: u("input channels", geo.cin / a.groups)?,
            k: u("weights per output", geo.reduction_len())?,
            cols: u("output pixels", geo.n * geo.oh * geo.ow)?,
            c0: u("input channels", c0)?,
            channels: u("input channels", channels)?,
            rows: u("row windows", r.rows)?,
            plane: u("row windows", r.plane)?,
            planes: u("row windows", r.planes)?,
            _pad: [0; 3],
        })
    }
}

uniform_struct! {
    /// Field order matches `Uniforms` in shaders/gemm.wgsl.
    struct GemmUniforms {
        m: u32,
        k: u32,
        cols: u32,
        pixels: u32,
        m_blocks: u32,
        m_total: u32,
        has_bias: u32,
        accumulate: u32,
        groups: u32,
        k_total: u32,
        k0: u32,
        z_cols: u32,
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
    }
}

/// The B operand of a GEMM: input windows laid out by im2col, (for a pointwise
/// convolution whose images hold whole column tiles) the input itself in a linear texture, or
/// the row windows of the convolution `geo` for the implicit GEMM.
pub(crate) enum BOperand<'a> {
    Windows(&'a MatrixTexture),
    Input(&'a LinearTexture),
    Rows(&'a LinearTexture, RowWindows, &'a Conv2dGeometry),
}

/// What the GEMM does as it stores: clamp to `[lo, hi]` after the last band (ReLU, ReLU6, a
/// Clip: `Activation::bounds`); add to what the output holds from the first band on (`onto`:
/// a residual put there first), not only after it; with `parts` > 1 (split-K), store the raw
/// sums of that many parts of the reduction, each into its own slab of y (`split_k.rs` adds
/// them; 0 and 1: one part).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Epilogue {
    pub(crate) clamp: Option<[f32; 2]>,
    pub(crate) onto: bool,
    pub(crate) parts: usize,
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
    epilogue: Epilogue,
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
    };
    for (knob, v) in [("tm", tile.tm), ("tn", tile.tn)] {
        if ![4, 8, 16].contains(&v) {
            return Err(Error::Tuning { op: OP, knob, value: v as u64, allowed: "4, 8 or 16" });
        }
    }
    let first = band.k0 == 0;
    let last = band.k0 + band.k == weight.k;
    let parts = epilogue.parts.max(1);
    if parts > 1 && (matches!(b, BOperand::Rows(..)) || epilogue.clamp.is_some() || epilogue.onto) {
        let got = "row windows, a clamp or a sum onto the output".to_string();
        return Err(Error::KernelShape { kernel: "split-K GEMM", runs: "raw sums of windows or an input", got });
    }
    let m = weight.cout / weight.groups;
    let u = |what, v| to_u32(OP, what, v);
    let [lo, hi] = epilogue.clamp.filter(|_| last).unwrap_or([f32::NEG_INFINITY, f32::INFINITY]);
    let mut uniforms = GemmUniforms {
        m: to_u32(OP, "outputs per group", m)?,
        k: to_u32(OP, "weights per output", band.k)?,
        cols: to_u32(OP, "columns", cols)?,
        pixels: to_u32(OP, "output pixels", pixels)?,
        m_blocks: to_u32(OP, "outputs", weight.m_blocks())?,
        m_total: to_u32(OP, "outputs", weight.cout)?,
        has_bias: (first && parts == 1 && weight.bias.is_some()) as u32,
        groups: to_u32(OP, "groups", weight.groups)?,
        k_total: to_u32(OP, "weights per output", weight.k)?,
        k0: to_u32(OP, "weights per output", band.k0)?,
        accumulate: (!first || epilogue.onto) as u32,
        z_cols: u("columns", cols)?,
        lo,
        hi,
        k_part: u("weights per output", band.k.div_ceil(parts))?,
        part_vecs: u("outputs", if parts > 1 { y.len().div_ceil(4) / parts } else { 0 })?,
        ..Zeroable::zeroed()
    };
    // The implicit GEMM runs a slice of the grid per image, so that a tile stays in one.
    let mut slices = 1;
    if let BOperand::Rows(_, r, geo) = b {
        let (sy, dy) = (geo.attrs.stride[0], geo.attrs.dilation[0]);
        let channel = geo.kw * sy * r.plane;
        slices = geo.n;
        uniforms = GemmUniforms {
            z_cols: u("output pixels", pixels)?,
            kh: u("kernel height", geo.kh)?,
            kw: u("kernel width", geo.kw)?,
            stride_y: u("stride", sy)?,
            dy_div: u("dilation", dy / sy)?,
            dy_mod: u("dilation", dy % sy)?,
            row: u("output width", geo.ow)?,
            plane: u("row windows", r.plane)?,
            channel: u("row windows", channel)?,
            image: u("row windows", geo.cin * channel)?,
            group: u("row windows", geo.cin / geo.attrs.groups * channel)?,
            c0: u("input channels", band.k0 / (geo.kh * geo.kw))?,
            ..uniforms
        };
    }
    let (wg_x, wg_y) = (8, 1);
    let tiles = blocks(cols / slices, tile.tn as usize) as u64 * blocks(m, tile.tm as usize) as u64;
    let [gx, gy, _] = fold_grid(to_u32(OP, "tiles", tiles.div_ceil(wg_x as u64) as usize)?, max_groups(gpu));
    uniforms.zs = u("images x groups", slices.saturating_mul(weight.groups))?;
    let z = parts.saturating_mul(uniforms.zs as usize);
    if z > max_groups(gpu) as usize {
        return Err(Error::Limit {
            op: OP,
            what: format!("{parts} parts x {slices} images x {} groups in one grid dimension", weight.groups),
            needed: z as u64,
            limit: max_groups(gpu) as u64,
        });
    }
    let grid = [gx, gy, z as u32];
    let bias = weight.bias.as_ref().map(Tensor::buffer).unwrap_or(gpu.placeholder());
    let resources = [
        wgpu::BindingResource::TextureView(band.at.view()),
        wgpu::BindingResource::TextureView(b_view),
        bias.as_entire_binding(),
        y.buffer().as_entire_binding(),
    ];
    let overrides = [
        ("TM", tile.tm),
        ("TN", tile.tn),
        ("WG_X", wg_x),
        ("WG_Y", wg_y),
        ("B_MODE", mode),
        ("ALIGNED", aligned(pixels, tile)),
        LinearTexture::OVERRIDE,
    ];
    gpu.dispatch(&GEMM, &overrides, &resources, bytemuck::bytes_of(&uniforms), grid)
}

/// gemm.wgsl's ALIGNED for images of `pixels`: 1 when they hold whole tiles of columns, 2
/// when whole vec4s, else 0 (a store per column).
fn aligned(pixels: usize, tile: Tile) -> u32 {
    match (pixels.is_multiple_of(tile.tn as usize), pixels.is_multiple_of(4)) {
        (true, _) => 1,
        (false, true) => 2,
        (false, false) => 0,
    }
}

/// True when the convolution can multiply its input as it stands (no im2col) with `tile`: a
/// pointwise convolution whose tiles of columns lie in one image (the planes hold whole
/// tiles, or there is one image: its last tile's columns past the plane read on into the next
/// channel, and are not stored). Planes that are not whole texels (7x7) are read a row of
/// words at a time from where they start, as the implicit GEMM reads its row windows.
pub(crate) fn reads_input_directly(geo: &Conv2dGeometry, tile: Tile) -> bool {
    geo.is_pointwise() && (geo.n == 1 || (geo.oh * geo.ow).is_multiple_of(tile.tn as usize))
}

/// How a convolution's GEMM finds its B operand: im2col's windows (or the input as it stands,
/// where [`reads_input_directly`]), the implicit GEMM's row windows, or im2col's in `parts` of
/// the reduction summed after (split-K, `split_k.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum GemmForm {
    Windows,
    Implicit,
    SplitK(usize),
}

/// The steps of the convolution `geo` of `x` into `y` by im2col + GEMM: the input copied into
/// a texture, then per band of the weight its windows and their product. `Implicit`: the row
/// windows, laid out once, and per band their product. `SplitK`: the products of the parts
/// into a tensor of their own, then their sum with bias and activation. The GEMM clamps as it
/// stores (ReLU, ReLU6, Clip); another activation runs after it (elementwise.wgsl) from a
/// tensor of its own: inlined at each of a tile's stores, activation.wgsl's switch made
/// compiling the GEMM 3-4x slower, and tuning compiles many GEMMs.
pub(crate) fn record_conv(
    geo: &Conv2dGeometry,
    weight: &PackedWeight,
    x: &Tensor,
    y: &Tensor,
    tile: Tile,
    form: GemmForm,
    onto: bool,
) -> Result<Vec<Step>> {
    let gpu = x.gpu();
    let pixels = geo.oh * geo.ow;
    let shape = (geo.n * pixels, pixels);
    let act = geo.attrs.activation;
    let parts = match form {
        GemmForm::SplitK(parts) => parts,
        _ => 1,
    };
    let clamp = act.and_then(|a| a.bounds()).filter(|_| parts == 1);
    let after = act.filter(|_| clamp.is_none() && parts == 1);
    let epilogue = Epilogue { clamp, onto: onto && parts == 1, parts };
    let raw = match (after, parts) {
        (Some(_), _) => Some(Tensor::zeros(gpu, y.shape())?),
        (None, 1) => None,
        (None, _) => Some(Tensor::zeros(gpu, &[parts, y.len().next_multiple_of(4)])?),
    };
    let out = raw.as_ref().unwrap_or(y);
    // Onto what y holds: an activation pass after the GEMM starts its sum from a copy of it.
    let start = match (&raw, after.is_some() && onto) {
        (Some(raw), true) => vec![copy(y, 0, raw, 0, y.len())],
        _ => vec![],
    };
    let mut steps = staged("conv2d", x, |texture| {
        let mut dispatches = Vec::new();
        if form == GemmForm::Implicit {
            let layout = RowWindows::of(geo);
            let rows = LinearTexture::zeros(gpu, "conv2d", layout.len())?;
            dispatches.push(record_im2row(geo, x, texture, layout, &rows)?);
            for band in &weight.bands {
                let b = BOperand::Rows(&rows, layout, geo);
                dispatches.push(record_gemm(weight, band, b, out, shape, epilogue, tile)?);
            }
            return Ok(dispatches);
        }
        for band in &weight.bands {
            let laid_out;
            let b = if reads_input_directly(geo, tile) {
                BOperand::Input(texture)
            } else {
                laid_out = windows(gpu, geo, band)?;
                dispatches.push(record_im2col(geo, x, texture, band, &laid_out)?);
                BOperand::Windows(&laid_out)
            };
            dispatches.push(record_gemm(weight, band, b, out, shape, epilogue, tile)?);
        }
        Ok(dispatches)
    })?;
    if let (GemmForm::SplitK(_), Some(sums)) = (form, &raw) {
        steps.push(Step::Dispatch(record_split_sum(sums, weight, y, pixels, onto, act)?));
    }
    steps.splice(0..0, start);
    if let (Some(act), Some(raw)) = (after, &raw) {
        steps.extend(activation_dispatches(raw, y, act)?.into_iter().map(Step::Dispatch));
    }
    Ok(steps)
}
