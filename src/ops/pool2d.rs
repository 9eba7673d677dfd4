//! Max and average pooling, and global average pooling, on the GPU.

use crate::attrs::{Padding, Pool2d, Pool2dGeometry, PoolKind, check_rank};
use crate::error::{Error, Result};
use crate::launch::Launch;
use crate::ops::checks::{check_output, check_same_device};
use crate::ops::cut::Slab;
use crate::ops::record::{into_new, staged_launch};
use crate::ops::sizes::{max_groups, to_u32};
use crate::ops::wgsl::wgsl;
use crate::pipeline::{Access, Kernel, UniformLayout, fold_grid, uniform_struct};
use crate::tensor::Tensor;
use crate::texture::LinearTexture;

pub(crate) const POOL: Kernel = Kernel {
    name: "pool2d",
    source: wgsl!("linear_texture", "pool2d"),
    entry: "pool2d",
    bindings: &[Access::TextureRead, Access::ReadWrite, Access::Uniform],
    uniform: UniformLayout::of::<Pool2dUniforms>(),
    overrides: &["WG", "TEX_SHIFT", "KH", "KW"],
};

/// Invocations of a workgroup, each writing a vec4 of the output.
const WG: u32 = 64;

uniform_struct! {
    /// Field order matches `Uniforms` in shaders/pool2d.wgsl.
    struct Pool2dUniforms {
        n: u32,
        c: u32,
        h: u32,
        w: u32,
        oh: u32,
        ow: u32,
        kh: u32,
        kw: u32,
        stride_y: u32,
        stride_x: u32,
        pad_top: u32,
        pad_left: u32,
        pad_bottom: u32,
        pad_right: u32,
        is_max: u32,
        count_include_pad: u32,
    }
}

impl Pool2dUniforms {
    fn new(geo: &Pool2dGeometry) -> Result<Pool2dUniforms> {
        let u = |what, v| to_u32("pool2d", what, v);
        let a = &geo.attrs;
        let p = a.padding;
        Ok(Pool2dUniforms {
            n: u("batch", geo.n)?,
            c: u("channels", geo.c)?,
            h: u("height", geo.h)?,
            w: u("width", geo.w)?,
            oh: u("output height", geo.oh)?,
            ow: u("output width", geo.ow)?,
            kh: u("window height", a.kernel[0])?,
            kw: u("window width", a.kernel[1])?,
            stride_y: u("stride", a.stride[0])?,
            stride_x: u("stride", a.stride[1])?,
            pad_top: u("padding", p.top)?,
            pad_left: u("padding", p.left)?,
            pad_bottom: u("padding", p.bottom)?,
            pad_right: u("padding", p.right)?,
            is_max: (a.kind == PoolKind::Max) as u32,
            count_include_pad: a.count_include_pad as u32,
        })
    }
}

/// Pools `x` with `attrs`, enqueued.
pub fn pool2d(x: &Tensor, attrs: &Pool2d) -> Result<Tensor> {
    let geo = attrs.geometry(x.shape())?;
    into_new(x.gpu(), &geo.output_shape(), |y| record(&geo, x, y))
}

/// The average of each channel: `[N, C, H, W]` → `[N, C, 1, 1]`. A plane past one window's
/// loop budget averages its rows first, then their averages (the same mean: rows are equal).
pub fn global_avg_pool(x: &Tensor) -> Result<Tensor> {
    check_rank("global_avg_pool", "input", x.shape(), 4)?;
    let [h, w] = [x.shape()[2], x.shape()[3]];
    if window_fits([h, w]) {
        return pool2d(x, &Pool2d::global_avg([h, w]));
    }
    pool2d(&pool2d(x, &Pool2d::global_avg([1, w]))?, &Pool2d::global_avg([h, 1]))
}

/// Loop iterations llvmpipe runs in one invocation before it ends its loops (65,535), less
/// room for the rest of the kernel: a window walks its rows and their cells.
const LOOP_BUDGET: usize = 65_000;

/// The loop iterations a `kh` x `kw` window's walk takes: its rows and their cells.
fn window_walk([kh, kw]: [usize; 2]) -> usize {
    kh.saturating_mul(kw.saturating_add(1))
}

/// True when a window's walk stays within [`LOOP_BUDGET`].
fn window_fits(kernel: [usize; 2]) -> bool {
    window_walk(kernel) <= LOOP_BUDGET
}

/// Records the pooling of `x` into `y`.
pub fn record_pool2d(x: &Tensor, y: &Tensor, attrs: &Pool2d) -> Result<Launch> {
    record(&attrs.geometry(x.shape())?, x, y)
}

/// Records the pooling `geo` (checked) of `x` into `y`.
fn record(geo: &Pool2dGeometry, x: &Tensor, y: &Tensor) -> Result<Launch> {
    const OP: &str = "pool2d";
    check_same_device(OP, &[("input", Some(x)), ("output", Some(y))])?;
    check_output(OP, y, &geo.output_shape())?;
    let attrs = &geo.attrs;
    if !window_fits(attrs.kernel) {
        let [kh, kw] = attrs.kernel;
        let walk = window_walk(attrs.kernel);
        return Err(Error::Limit {
            op: OP,
            what: format!("a {kh}x{kw} window ({walk} cells walked by one invocation)"),
            needed: walk as u64,
            limit: LOOP_BUDGET as u64,
        });
    }
    let gpu = x.gpu();
    // Past a binding: parts of images or rows, each pooled on its own.
    let slab = Slab {
        n: geo.n,
        c_in: geo.c,
        h: geo.h,
        w: geo.w,
        c_out: geo.c,
        oh: geo.oh,
        ow: geo.ow,
        stride: attrs.stride[0],
        span: attrs.kernel[0],
        pad_top: attrs.padding.top,
        pad_bottom: attrs.padding.bottom,
    };
    let parts = slab.parts(OP, |images, rows| slab.fits_device(gpu, images, rows))?;
    if parts.len() > 1 {
        return slab.record(OP, x, y, &parts, false, |xt, yt, part| {
            let p = attrs.padding;
            let band = Pool2d {
                padding: Padding::new(part.pad_top, p.left, part.pad_bottom, p.right),
                ceil_mode: attrs.ceil_mode && part.is_last(&slab),
                ..*attrs
            };
            record_pool2d(xt, yt, &band)
        });
    }
    let uniforms = Pool2dUniforms::new(geo)?;
    let vec4s = (geo.n * geo.c * geo.oh * geo.ow).div_ceil(4);
    let grid = fold_grid(to_u32(OP, "workgroups", vec4s.div_ceil(WG as usize))?, max_groups(gpu));
    // A small window's size as override constants: its loops unroll.
    let [kh, kw] = attrs.kernel;
    let small = kh * kw <= 16;
    let window = |k: usize| if small { k as u32 } else { 0 };
    let overrides = [("WG", WG), LinearTexture::OVERRIDE, ("KH", window(kh)), ("KW", window(kw))];
    staged_launch(&POOL, &overrides, x, y, bytemuck::bytes_of(&uniforms), grid)
}
