//! Max and average pooling, and global average pooling, on the GPU.

use bytemuck::{Pod, Zeroable};

use crate::error::Result;
use crate::launch::Launch;
use crate::ops::{blocks, check_output, check_same_device, to_u32};
use crate::params::{Pool2d, Pool2dGeometry, PoolKind, check_rank};
use crate::pipeline::{Access, Kernel, Step};
use crate::tensor::Tensor;
use crate::texture::LinearTexture;

pub(crate) const POOL: Kernel = Kernel {
    name: "pool2d",
    source: include_str!("../../shaders/pool2d.wgsl"),
    entry: "pool2d",
    bindings: &[Access::TextureRead, Access::ReadWrite, Access::Uniform],
    uniform_size: size_of::<Pool2dUniform>(),
    overrides: &["TEX_SHIFT"],
};

/// Field order matches `Params` in shaders/pool2d.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Pool2dUniform {
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

impl Pool2dUniform {
    fn new(geo: &Pool2dGeometry) -> Result<Pool2dUniform> {
        let u = |what, v| to_u32("pool2d", what, v);
        let a = &geo.attrs;
        let p = a.padding;
        Ok(Pool2dUniform {
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
    let y = Tensor::zeros(x.gpu(), &geo.output_shape())?;
    record_pool2d(x, &y, attrs)?.run()?;
    Ok(y)
}

/// The average of each channel: `[N, C, H, W]` → `[N, C, 1, 1]`.
pub fn global_avg_pool(x: &Tensor) -> Result<Tensor> {
    check_rank("global_avg_pool", "input", x.shape(), 4)?;
    pool2d(x, &Pool2d::global_avg([x.shape()[2], x.shape()[3]]))
}

/// Records the pooling of `x` into `y`.
pub fn record_pool2d(x: &Tensor, y: &Tensor, attrs: &Pool2d) -> Result<Launch> {
    const OP: &str = "pool2d";
    let geo = attrs.geometry(x.shape())?;
    check_same_device(OP, &[("input", Some(x)), ("output", Some(y))])?;
    check_output(OP, y, &geo.output_shape())?;
    let params = Pool2dUniform::new(&geo)?;
    let gpu = x.gpu();
    let grid = [blocks(geo.ow, 8), blocks(geo.oh, 8), to_u32(OP, "images · channels", geo.n * geo.c)?];
    let staged = LinearTexture::zeros(gpu, OP, x.len())?;
    let resources = [wgpu::BindingResource::TextureView(staged.view()), y.buffer().as_entire_binding()];
    let d = gpu.dispatch(&POOL, &[LinearTexture::OVERRIDE], &resources, bytemuck::bytes_of(&params), grid)?;
    Ok(Launch::with_steps(gpu, OP, vec![staged.copy_from(x)?, Step::Dispatch(d)]))
}
