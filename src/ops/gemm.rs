//! im2col + GEMM: the input windows laid out as the B operand (`im2col.wgsl`) and the
//! register-tiled product with bias and ReLU stored as NCHW (`gemm.wgsl`) over a packed weight.
//! Convolutions and batched dense layers both run through it: a dense layer is the 1x1
//! convolution of 1x1 images. The implicit GEMM lays out less: row windows (`im2row`), in
//! which every tap's windows of consecutive output pixels are consecutive words.

use bytemuck::{Pod, Zeroable};

use crate::error::{Error, Result};
use crate::gpu::Gpu;
use crate::launch::Launch;
use crate::ops::conv2d::ConvDims;
use crate::ops::packed::{Band, PackedWeight};
use crate::ops::{blocks, check_same_device, max_groups, to_u32};
use crate::params::Conv2dGeometry;
use crate::pipeline::{Access, Dispatch, Kernel, Step, fold_grid};
use crate::tensor::Tensor;
use crate::texture::{LinearTexture, MatrixTexture};

/// im2col.wgsl after the convolution sizes it reads (shaders/conv_dims.wgsl) and the linear
/// texture reads (shaders/linear_texture.wgsl), at `entry`: its three entry points share
/// bindings and uniform.
const fn im2col_kernel(entry: &'static str, overrides: &'static [&'static str]) -> Kernel {
    Kernel {
        name: "im2col",
        source: wgsl!("conv_dims", "linear_texture", "im2col"),
        entry,
        bindings: &[Access::TextureRead, Access::TextureWrite, Access::Uniform],
        uniform_size: size_of::<Im2colUniform>(),
        overrides,
    }
}

/// Lays out input windows as the B operand.
pub(crate) const IM2COL: Kernel = im2col_kernel("im2col", &["WG", "TEX_SHIFT"]);

/// Lays out a dense layer's input as the B operand, 4 x 4 at a time.
pub(crate) const IM2COL_DENSE: Kernel = im2col_kernel("im2col_dense", &["WG", "TEX_SHIFT"]);

/// Lays out the row windows of the implicit GEMM.
pub(crate) const IM2ROW: Kernel = im2col_kernel("im2row", &["WG", "TEX_SHIFT", "RUN", "FLAT"]);

/// The register-tiled product.
pub(crate) const GEMM: Kernel = Kernel {
    name: "gemm",
    source: wgsl!("linear_texture", "gemm"),
    entry: "gemm",
    bindings: &[Access::TextureRead, Access::TextureRead, Access::Read, Access::ReadWrite, Access::Uniform],
    uniform_size: size_of::<GemmUniform>(),
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

/// Field order matches `Params` in shaders/im2col.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Im2colUniform {
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
    let params = Im2colUniform::new(geo, band.k0 / taps, channels, None)?;
    let resources = [wgpu::BindingResource::TextureView(staged.view()), wgpu::BindingResource::TextureView(b.view())];
    // A dense layer's input (1x1 images, 4 features to a texel) transposes 4 x 4 at a time.
    let a = &geo.attrs;
    let dense = geo.h == 1 && geo.w == 1 && geo.kh == 1 && geo.kw == 1 && geo.cin.is_multiple_of(4) && a.groups == 1;
    let (kernel, grid, wg) = match dense {
        true => (&IM2COL_DENSE, [blocks(geo.n, 4 * 8), params.channels.div_ceil(4), 1], 8),
        false => (&IM2COL, [blocks(geo.n * geo.oh * geo.ow, 4 * 64), params.channels, 1], 64),
    };
    gpu.dispatch(kernel, &[("WG", wg), LinearTexture::OVERRIDE], &resources, bytemuck::bytes_of(&params), grid)
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
    pub(crate) fn part(geo: &Conv2dGeometry, images: usize, rows: usize) -> RowWindows {
        let [sy, dy] = [geo.attrs.stride[0], geo.attrs.dilation[0]];
        let rows = rows + (geo.kh - 1) * dy / sy;
        RowWindows { rows, plane: (rows * geo.ow).next_multiple_of(4), planes: images * geo.cin * geo.kw * sy }
    }

    /// Floats held: the planes, and past the last the words a tile of 16 columns reads beyond
    /// its image's last pixel (never stored).
    pub(crate) fn len(&self) -> usize {
        self.planes * self.plane + 32
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
    let params = Im2colUniform::new(geo, 0, geo.cin, Some(layout))?;
    let resources = [wgpu::BindingResource::TextureView(staged.view()), wgpu::BindingResource::TextureView(r.view())];
    let [py, pz, _] = fold_grid(params.planes, max_groups(gpu));
    let grid = [blocks(layout.rows * geo.ow, 4 * (IM2ROW_RUN * IM2ROW_WG) as usize), py, pz];
    let [sy, sx] = geo.attrs.stride;
    let flat = sx == 1 && sy == 1 && geo.ow == geo.w;
    let overrides = [("WG", IM2ROW_WG), LinearTexture::OVERRIDE, ("RUN", IM2ROW_RUN), ("FLAT", flat as u32)];
    gpu.dispatch(&IM2ROW, &overrides, &resources, bytemuck::bytes_of(&params), grid)
}

impl Im2colUniform {
    /// Windows of `geo` for input channels `c0 .. c0 + channels`; with `rows`, row windows.
    fn new(geo: &Conv2dGeometry, c0: usize, channels: usize, rows: Option<RowWindows>) -> Result<Im2colUniform> {
        const OP: &str = "conv2d";
        let u = |what, v| to_u32(OP, what, v);
        let a = &geo.attrs;
        let r = rows.unwrap_or(RowWindows { rows: 0, plane: 0, planes: 0 });
        Ok(Im2colUniform {
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

/// Field order matches `Params` in shaders/gemm.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct GemmUniform {
    m: u32,
    k: u32,
    cols: u32,
    pixels: u32,
    m_blocks: u32,
    m_total: u32,
    has_bias: u32,
    relu: u32,
    groups: u32,
    k_total: u32,
    k0: u32,
    accumulate: u32,
    z_cols: u32,
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

/// The B operand of a GEMM: input windows laid out by im2col, (for a pointwise
/// convolution whose images hold whole column tiles) the input itself in a linear texture, or
/// the row windows of the convolution `geo` for the implicit GEMM.
pub(crate) enum BOperand<'a> {
    Windows(&'a MatrixTexture),
    Input(&'a LinearTexture),
    Rows(&'a LinearTexture, RowWindows, &'a Conv2dGeometry),
}

/// Records y = act(Wᵀ·B + bias) over `band` of `weight`, for `cols` columns of `pixels`
/// output pixels per image. Bands after the first add to y; bias goes with the first, ReLU
/// with the last.
pub(crate) fn record_gemm(
    weight: &PackedWeight,
    band: &Band,
    b: BOperand<'_>,
    y: &Tensor,
    (cols, pixels): (usize, usize),
    relu: bool,
    tile: Tile,
) -> Result<Dispatch> {
    const OP: &str = "gemm";
    let gpu = y.gpu();
    check_same_device(OP, &[("bias", weight.bias.as_ref()), ("output", Some(y))])?;
    band.at.check_on(gpu, OP, "weight")?;
    let (b_view, mode) = match &b {
        BOperand::Windows(b) => (b.check_on(gpu, OP, "windows").map(|_| b.view())?, 0),
        BOperand::Input(b) => (b.check_on(gpu, OP, "input").map(|_| b.view())?, 1),
        BOperand::Rows(b, ..) => (b.check_on(gpu, OP, "row windows").map(|_| b.view())?, 2),
    };
    for (knob, v) in [("tm", tile.tm), ("tn", tile.tn)] {
        if ![4, 8, 16].contains(&v) {
            return Err(Error::Tuning { op: OP, knob, value: v as u64, allowed: "4, 8 or 16" });
        }
    }
    let first = band.k0 == 0;
    let last = band.k0 + band.k == weight.k;
    let m = weight.cout / weight.groups;
    let u = |what, v| to_u32(OP, what, v);
    let mut params = GemmUniform {
        m: to_u32(OP, "outputs per group", m)?,
        k: to_u32(OP, "weights per output", band.k)?,
        cols: to_u32(OP, "columns", cols)?,
        pixels: to_u32(OP, "output pixels", pixels)?,
        m_blocks: to_u32(OP, "outputs", weight.m_blocks())?,
        m_total: to_u32(OP, "outputs", weight.cout)?,
        has_bias: (first && weight.bias.is_some()) as u32,
        relu: (last && relu) as u32,
        groups: to_u32(OP, "groups", weight.groups)?,
        k_total: to_u32(OP, "weights per output", weight.k)?,
        k0: to_u32(OP, "weights per output", band.k0)?,
        accumulate: !first as u32,
        z_cols: u("columns", cols)?,
        ..Zeroable::zeroed()
    };
    // The implicit GEMM runs a slice of the grid per image, so that a tile stays in one.
    let mut slices = 1;
    if let BOperand::Rows(_, r, geo) = b {
        let (sy, dy) = (geo.attrs.stride[0], geo.attrs.dilation[0]);
        let channel = geo.kw * sy * r.plane;
        slices = geo.n;
        params = GemmUniform {
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
            ..params
        };
    }
    let (wg_x, wg_y) = (8, 1);
    let tiles = blocks(cols / slices, tile.tn as usize) as u64 * blocks(m, tile.tm as usize) as u64;
    let [gx, gy, _] = fold_grid(to_u32(OP, "tiles", tiles.div_ceil(wg_x as u64) as usize)?, max_groups(gpu));
    let z = slices.saturating_mul(weight.groups);
    if z > max_groups(gpu) as usize {
        return Err(Error::Limit {
            op: OP,
            what: format!("{slices} images x {} groups in one grid dimension", weight.groups),
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
        ("ALIGNED", pixels.is_multiple_of(tile.tn as usize) as u32),
        LinearTexture::OVERRIDE,
    ];
    gpu.dispatch(&GEMM, &overrides, &resources, bytemuck::bytes_of(&params), grid)
}

/// True when the convolution can multiply its input as it stands (no im2col) with `tile`.
pub(crate) fn reads_input_directly(geo: &Conv2dGeometry, tile: Tile) -> bool {
    geo.is_pointwise() && (geo.oh * geo.ow).is_multiple_of(tile.tn as usize)
}

/// The steps of the convolution `geo` of `x` into `y` by im2col + GEMM: the input copied into
/// a texture, then per band of the weight its windows and their product. `implicit`: the row
/// windows, laid out once, and per band their product.
pub(crate) fn record_conv(
    geo: &Conv2dGeometry,
    weight: &PackedWeight,
    x: &Tensor,
    y: &Tensor,
    tile: Tile,
    implicit: bool,
) -> Result<Vec<Step>> {
    let gpu = x.gpu();
    let staged = LinearTexture::zeros(gpu, "conv2d", x.len())?;
    let pixels = geo.oh * geo.ow;
    let shape = (geo.n * pixels, pixels);
    let mut steps = vec![staged.copy_from(x)?];
    if implicit {
        let layout = RowWindows::of(geo);
        let rows = LinearTexture::zeros(gpu, "conv2d", layout.len())?;
        steps.push(Step::Dispatch(record_im2row(geo, x, &staged, layout, &rows)?));
        for band in &weight.bands {
            let b = BOperand::Rows(&rows, layout, geo);
            steps.push(Step::Dispatch(record_gemm(weight, band, b, y, shape, geo.attrs.relu, tile)?));
        }
        return Ok(steps);
    }
    for band in &weight.bands {
        let laid_out;
        let b = if reads_input_directly(geo, tile) {
            BOperand::Input(&staged)
        } else {
            laid_out = windows(gpu, geo, band)?;
            steps.push(Step::Dispatch(record_im2col(geo, x, &staged, band, &laid_out)?));
            BOperand::Windows(&laid_out)
        };
        steps.push(Step::Dispatch(record_gemm(weight, band, b, y, shape, geo.attrs.relu, tile)?));
    }
    Ok(steps)
}

/// The adapter's yardstick: a plain `n`³ GEMM with the 16x16 tile over operands already laid
/// out in textures (zeros), recorded into a fresh output. Benchmarks time it beside the layers.
pub fn roofline_gemm(gpu: &Gpu, n: usize) -> Result<Launch> {
    let weight = PackedWeight::zeros(gpu, (n, n, 1), 4, None)?;
    let b = MatrixTexture::zeros(gpu, "gemm", n, n)?;
    let y = Tensor::zeros(gpu, &[1, n, n])?;
    let band = weight.first();
    let d = record_gemm(&weight, band, BOperand::Windows(&b), &y, (n, n), false, Tile { tm: 16, tn: 16 })?;
    Ok(Launch::new(gpu, "gemm", vec![d]))
}
