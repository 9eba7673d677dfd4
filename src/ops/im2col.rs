//! The B operand's layouts for the GEMM (`im2col.wgsl`): im2col's input windows, a
//! dense layer's input transposed 4 x 4, and the implicit GEMM's row windows, in which every
//! tap's windows of consecutive output pixels are consecutive words.

use crate::attrs::Conv2dGeometry;
use crate::error::Result;
use crate::gpu::Gpu;
use crate::ops::conv_dims::ConvDims;
use crate::ops::packed::Band;
use crate::ops::scratch;
use crate::ops::sizes::{blocks, max_groups, to_u32, workgroup};
use crate::ops::wgsl::wgsl;
use crate::pipeline::{Access, Dispatch, Kernel, UniformLayout, fold_grid, uniform_struct};
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
    scratch::matrix(gpu, "conv2d", rows.next_multiple_of(4), geo.n * geo.oh * geo.ow)
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
    pub(crate) plane: usize,
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
