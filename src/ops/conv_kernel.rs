//! The kernels a convolution can run ([`ConvKernel`]): their names, the candidates the
//! autotuner times for a shape, and whether a part of a convolution (images and output rows,
//! as `cut.rs` cuts it) fits what each lays out within the device's limits.

use crate::attrs::Conv2dGeometry;
use crate::gpu::Gpu;
use crate::ops::conv_gemm::reads_input_directly;
use crate::ops::cut::Slab;
use crate::ops::depthwise::is_depthwise;
use crate::ops::gemm::{Fold, Tile};
use crate::ops::im2col::RowWindows;
use crate::ops::sizes::{blocks, max_groups};
use crate::ops::space_to_depth;
use crate::ops::split_k::parts_for;
use crate::ops::winograd;
use crate::texture::LinearTexture;

/// Which kernel runs a convolution; `Auto` is what `conv2d` uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConvKernel {
    /// The autotuned choice among [`ConvKernel::candidates`] (the first one with autotuning
    /// off).
    Auto,
    /// The direct kernel: `tile_co` (4 or 8) output channels x 8 columns per invocation, in
    /// workgroups of `wg_x` x `wg_y` invocations (`wg_x · wg_y` ≤ the device's limit; 0 x 0
    /// spans as many column blocks as a row has, up to 16, and 64 invocations in all). A
    /// pointwise convolution runs it over the image flattened to one row.
    Direct {
        /// Output channels per invocation.
        tile_co: u32,
        /// Workgroup columns.
        wg_x: u32,
        /// Workgroup rows.
        wg_y: u32,
    },
    /// im2col + GEMM with a register tile of `tm` output channels x `tn` output pixels (a
    /// pointwise convolution skips the im2col).
    Gemm(Tile),
    /// The GEMM with its reduction cut into parts run side by side and summed after (split-K),
    /// for convolutions of few output tiles (7x7 maps): as many parts as bring the tiles to
    /// 128, a power of two up to 8, each at least 32 rows of the reduction.
    SplitK(Tile),
    /// The depthwise kernel (one input channel per group, any multiplier, kernels up to 5x5):
    /// blocks of up to 8 output rows by 4 or 8 columns, input rows carried from one output row
    /// to the next, the input read from its copy in a linear texture.
    Depthwise,
    /// Winograd F(MxM, RxR) for convolutions of stride 1 and dilation 1 (any padding and
    /// groups): F(2x2, 3x3) and F(4x4, 3x3) for 3x3 kernels, F(2x2, 5x5) for 5x5 ones. The
    /// input and output transformed per MxM tile of outputs around a GEMM of `tile` register
    /// tiles in (M + R − 1)² groups per convolution group, over a weight transformed once.
    Winograd {
        /// Outputs a tile a side: 2 or 4 (3x3), 2 (5x5).
        m: u32,
        /// The GEMM's register tile.
        tile: Tile,
        /// The output transform done by the GEMM as it ends (each invocation multiplies every
        /// point of its tile, and no products go through memory), or by a pass of its own.
        fused: bool,
    },
    /// The implicit GEMM with a register tile of `tm` x `tn`: it lays out row windows, each
    /// input value once per kernel column (and row phase of the stride), and reads every tap's
    /// windows from them, where im2col writes each value once per tap.
    Implicit(Tile),
    /// The implicit GEMM over the input as it stands, for convolutions of stride 1 or 2 across
    /// (any stride down, dilation, padding, groups): a tile is `tn` outputs of one output row,
    /// and each tap reads them shifted from the input (every other word of 2·`tn` at stride
    /// 2), so nothing is laid out; rows of outputs are rounded up to whole tiles.
    Shifted(Tile),
    /// Winograd over the input folded space-to-depth, for convolutions of the same stride S > 1
    /// both ways and dilation 1 whose kernel, cut into S x S phases, is 3x3 or 5x5 (AlexNet's
    /// 11x11 at stride 4): each S x S block of input pixels becomes S² channels and the
    /// convolution one of stride 1 over them (its kernel padded with zeros to a multiple of
    /// S), which Winograd F(MxM, RxR) runs with `tile` and `fused` as above.
    SpaceToDepth {
        /// Outputs a Winograd tile a side.
        m: u32,
        /// The GEMM's register tile.
        tile: Tile,
        /// The output transform done by the GEMM as it ends.
        fused: bool,
    },
}

impl ConvKernel {
    /// A short name: `direct-8co`, `gemm-16x16`.
    pub fn name(&self) -> String {
        match self {
            ConvKernel::Auto => "auto".into(),
            ConvKernel::Direct { tile_co, .. } => format!("direct-{tile_co}co"),
            ConvKernel::Gemm(t) => format!("gemm-{}x{}", t.tm, t.tn),
            ConvKernel::Implicit(t) => format!("implicit-{}x{}", t.tm, t.tn),
            ConvKernel::Shifted(t) => format!("shifted-{}x{}", t.tm, t.tn),
            ConvKernel::SplitK(t) => format!("splitk-{}x{}", t.tm, t.tn),
            ConvKernel::Depthwise => "depthwise".into(),
            ConvKernel::Winograd { m, tile, fused } => {
                format!("winograd{m}{}-{}x{}", if *fused { "-fused" } else { "" }, tile.tm, tile.tn)
            }
            ConvKernel::SpaceToDepth { m, tile, fused } => {
                format!("s2d-winograd{m}{}-{}x{}", if *fused { "-fused" } else { "" }, tile.tm, tile.tn)
            }
        }
    }

    /// Whether the kernel can add its result to what the output holds
    /// (`ConvWeight::record_onto`): the GEMM kernels, whose epilogue accumulates.
    pub(crate) fn adds_to_output(&self) -> bool {
        matches!(self, ConvKernel::Gemm(_) | ConvKernel::Implicit(_) | ConvKernel::Shifted(_) | ConvKernel::SplitK(_))
    }

    /// The kernels the autotuner times for `geo`, the fixed default first: for convolutions
    /// with enough output channels per group to fill a GEMM tile, the implicit GEMM first (the
    /// GEMM for a pointwise convolution, which reads its input as it stands), then the other,
    /// the shifted GEMM (stride 1 or 2 across), Winograd (stride 1; at a stride S > 1 over the
    /// input folded space-to-depth, with a register tile of 16x16) and the rest; for
    /// depthwise ones the depthwise kernel, then the direct kernel; for the others (few
    /// channels per group), the direct kernel.
    pub fn candidates(geo: &Conv2dGeometry) -> Vec<ConvKernel> {
        let per_group = geo.cout / geo.attrs.groups;
        let direct = ConvKernel::Direct { tile_co: if per_group >= 8 { 8 } else { 4 }, wg_x: 0, wg_y: 0 };
        let gemm = |tm, tn| ConvKernel::Gemm(Tile { tm, tn });
        if is_depthwise(geo) {
            return vec![ConvKernel::Depthwise, direct, gemm(4, 16)];
        }
        if per_group < 8 {
            return vec![direct, gemm(4, 16)];
        }
        let implicit = |tm, tn| ConvKernel::Implicit(Tile { tm, tn });
        let gemms = [gemm(16, 16), gemm(8, 16), gemm(16, 8), gemm(8, 8)];
        let implicits = [implicit(16, 16), implicit(8, 16)];
        let shifted: &[ConvKernel] = match geo.attrs.stride[1] <= 2 && !geo.is_pointwise() {
            true => &[Tile { tm: 16, tn: 16 }, Tile { tm: 16, tn: 8 }].map(ConvKernel::Shifted),
            false => &[],
        };
        // A pointwise convolution's GEMM mostly reads its input as it stands.
        let (first, second) = match geo.is_pointwise() {
            true => (&gemms[..], &implicits[..]),
            false => (&implicits[..], &gemms[..]),
        };
        let winograd: Vec<ConvKernel> = (winograd::forms(geo).iter())
            .flat_map(|&(m, fused)| {
                [16, 8].map(|tm| ConvKernel::Winograd { m: m as u32, tile: Tile { tm, tn: 16 }, fused })
            })
            .collect();
        let folded: Vec<ConvKernel> = (space_to_depth::folded(geo).iter())
            .flat_map(|(inner, _)| winograd::forms(inner))
            .map(|&(m, fused)| ConvKernel::SpaceToDepth { m: m as u32, tile: Tile { tm: 16, tn: 16 }, fused })
            .collect();
        let split = split_parts(geo, SPLIT_TILE).map(|_| ConvKernel::SplitK(SPLIT_TILE));
        [first, second, shifted, &winograd, &folded, &[direct], split.as_slice()].concat()
    }
}

/// The split-K GEMM's register tile (the roofline's).
pub(crate) const SPLIT_TILE: Tile = Tile { tm: 16, tn: 16 };

/// The tiles a split-K GEMM of `tile` fills (16 workgroups of 8 lanes), and the parts that
/// bring `geo`'s tiles to them; `None` where its tiles fill them alone.
pub(crate) fn split_parts(geo: &Conv2dGeometry, tile: Tile) -> Option<usize> {
    let per_group = geo.cout / geo.attrs.groups;
    let tiles = blocks(geo.n * geo.oh * geo.ow, tile.tn as usize) as usize
        * blocks(per_group, tile.tm as usize) as usize
        * geo.attrs.groups;
    parts_for(tiles, geo.cin / geo.attrs.groups * geo.kh * geo.kw, 128)
}

/// The convolution's input and output as parts of rows see them.
pub(crate) fn slab(geo: &Conv2dGeometry) -> Slab {
    let a = &geo.attrs;
    Slab {
        n: geo.n,
        c_in: geo.cin,
        h: geo.h,
        w: geo.w,
        c_out: geo.cout,
        oh: geo.oh,
        ow: geo.ow,
        stride: a.stride[0],
        span: geo.extent[0],
        pad_top: a.padding.top,
        pad_bottom: a.padding.bottom,
    }
}

/// True when `images` images and `rows` output rows of `geo` (as `slab`) run as one
/// convolution with `kernel`: input and output within a binding, and what the kernel lays out
/// within a texture: im2col's output pixels within a matrix texture's columns, the row windows
/// within a linear texture, and the implicit GEMM's images within a grid dimension.
pub(crate) fn fits(
    gpu: &Gpu,
    geo: &Conv2dGeometry,
    slab: &Slab,
    (images, rows): (usize, usize),
    kernel: ConvKernel,
) -> bool {
    let columns = 4 * gpu.limits().max_texture_dimension_2d as usize;
    // The GEMM's B operand: the input (its images within a grid dimension where they run a
    // slice each; taken at the stride, within a linear texture), or im2col's windows within a
    // texture.
    let b_fits = |tile: Tile| match reads_input_directly(geo) {
        true => {
            let pixels = rows * slab.ow;
            (pixels.is_multiple_of(tile.tn as usize) || images <= max_groups(gpu) as usize)
                && (images * geo.cin * pixels) as u64 <= LinearTexture::capacity(gpu)
        }
        false => images * rows * slab.ow <= columns,
    };
    // Winograd F(MxM) of `geo` (the convolution's own, or folded): its tiles are the columns of
    // its B operand, and its products ((M + R − 1)² per tile and output channel; fused, per the
    // GEMM's tiles) one binding.
    let winograd_fits = |geo: &Conv2dGeometry, (m, fused), tile| {
        let tiles = images * winograd::tiles(m, rows, slab.ow).2;
        let products = match fused {
            true => Fold::kept_len(m, geo, tiles, tile),
            false => winograd::points(m, geo.kh) * geo.cout * tiles,
        };
        tiles <= columns && 4 * products as u64 <= gpu.max_binding_bytes()
    };
    slab.fits_device(gpu, images, rows)
        && match kernel {
            ConvKernel::Gemm(tile) => b_fits(tile),
            // Its parts' sums are one binding.
            ConvKernel::SplitK(tile) => {
                let outputs = images * rows * slab.ow * geo.cout;
                let parts = split_parts(geo, tile).unwrap_or(1) as u64;
                b_fits(tile) && parts * 4 * outputs.next_multiple_of(4) as u64 <= gpu.max_binding_bytes()
            }
            ConvKernel::Implicit(_) => {
                RowWindows::part(geo, images, rows).fit(gpu) && images <= max_groups(gpu) as usize
            }
            ConvKernel::Shifted(_) => images <= max_groups(gpu) as usize,
            ConvKernel::Winograd { m, tile, fused } => winograd_fits(geo, (m as usize, fused), tile),
            // The folded input one linear texture, and Winograd over it.
            ConvKernel::SpaceToDepth { m, tile, fused } => match space_to_depth::folded(geo) {
                Some((inner, _)) => {
                    let folded = images * inner.cin * (rows + inner.kh - 1) * inner.w;
                    folded as u64 <= LinearTexture::capacity(gpu) && winograd_fits(&inner, (m as usize, fused), tile)
                }
                // Refused by name where it is recorded.
                None => true,
            },
            _ => true,
        }
}
