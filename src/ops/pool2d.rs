//! Max and average pooling, and global average pooling.

use bytemuck::{Pod, Zeroable};

use crate::error::{Error, Result};
use crate::gpu::Dispatch;
use crate::ops::conv2d::Padding;
use crate::ops::{blocks, check_output, check_rank, check_same_device, window_out};
use crate::pipeline::{Access, Kernel, fold_grid};
use crate::tensor::Tensor;

pub(crate) const POOL: Kernel = Kernel {
    name: "pool2d",
    source: include_str!("../../shaders/pool2d.wgsl"),
    entry: "main",
    bindings: &[Access::Read, Access::ReadWrite, Access::Uniform],
};

/// Maximum or average over the window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolKind {
    Max,
    Avg,
}

/// Attributes of a pooling layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pool2d {
    pub kind: PoolKind,
    /// (height, width) of the window.
    pub kernel: [usize; 2],
    pub stride: [usize; 2],
    pub padding: Padding,
    /// Round the output size up; a last window that would start in the bottom/right padding
    /// is dropped (PyTorch's rule).
    pub ceil_mode: bool,
    /// Average only: padded cells count in the divisor.
    pub count_include_pad: bool,
}

impl Pool2d {
    /// A `kind` pool of a `kh` x `kw` window moving by (`sh`, `sw`), no padding.
    pub fn new(kind: PoolKind, kernel: [usize; 2], stride: [usize; 2]) -> Pool2d {
        Pool2d { kind, kernel, stride, padding: Padding::default(), ceil_mode: false, count_include_pad: false }
    }
    pub fn with_padding(self, padding: Padding) -> Self {
        Pool2d { padding, ..self }
    }
    pub fn with_ceil_mode(self, ceil_mode: bool) -> Self {
        Pool2d { ceil_mode, ..self }
    }
    pub fn with_count_include_pad(self, count_include_pad: bool) -> Self {
        Pool2d { count_include_pad, ..self }
    }

    /// Checks input [N, C, H, W] against these attributes and works out the output size.
    pub fn geometry(&self, x: &[usize]) -> Result<Pool2dGeometry> {
        const OP: &str = "pool2d";
        check_rank(OP, "input", x, 4)?;
        for (what, v) in [("kernel", self.kernel), ("stride", self.stride)] {
            if v.contains(&0) {
                return Err(Error::Zero { op: OP, what, value: v });
            }
        }
        let p = self.padding;
        let [kh, kw] = self.kernel;
        if p.top.max(p.bottom) > kh / 2 || p.left.max(p.right) > kw / 2 {
            return Err(Error::Attribute {
                op: OP,
                message: format!(
                    "padding (top {}, left {}, bottom {}, right {}) must be at most half the {kh}x{kw} window ({}, {})",
                    p.top,
                    p.left,
                    p.bottom,
                    p.right,
                    kh / 2,
                    kw / 2
                ),
            });
        }
        let (h, w) = (x[2], x[3]);
        let axis = |input: usize, pad_a: usize, pad_b: usize, k: usize, s: usize| -> i64 {
            let floor = window_out(input, pad_a + pad_b, k, s);
            if !self.ceil_mode || floor < 1 {
                return floor;
            }
            let mut out = (input as i64 + (pad_a + pad_b) as i64 - k as i64 + s as i64 - 1).div_euclid(s as i64) + 1;
            if (out - 1) * s as i64 >= (input + pad_a) as i64 {
                out -= 1;
            }
            out
        };
        let oh = axis(h, p.top, p.bottom, kh, self.stride[0]);
        let ow = axis(w, p.left, p.right, kw, self.stride[1]);
        let (oh, ow) = check_output(OP, [oh, ow], [h, w], p, [kh, kw])?;
        Ok(Pool2dGeometry { attrs: *self, n: x[0], c: x[1], h, w, oh, ow })
    }
}

/// A checked pooling: input and output sizes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pool2dGeometry {
    pub attrs: Pool2d,
    pub n: usize,
    pub c: usize,
    pub h: usize,
    pub w: usize,
    pub oh: usize,
    pub ow: usize,
}

impl Pool2dGeometry {
    pub fn output_shape(&self) -> [usize; 4] {
        [self.n, self.c, self.oh, self.ow]
    }
    /// Bytes read and written by a single pass (each input window element read once).
    pub fn bytes(&self) -> u64 {
        4 * (self.n * self.c * (self.h * self.w + self.oh * self.ow)) as u64
    }
}

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

/// Pools `x` with `attrs`.
pub fn pool2d(x: &Tensor, attrs: &Pool2d) -> Result<Tensor> {
    let geo = attrs.geometry(x.shape())?;
    let y = Tensor::zeros(x.gpu(), &geo.output_shape())?;
    let d = plan(&geo, x, &y)?;
    x.gpu().run("pool2d", &[&d])?;
    Ok(y)
}

/// The average of each channel: [N, C, H, W] → [N, C, 1, 1].
pub fn global_avg_pool(x: &Tensor) -> Result<Tensor> {
    check_rank("global_avg_pool", "input", x.shape(), 4)?;
    pool2d(x, &global_avg_attrs(x.shape()))
}

/// The pooling that global average pooling is: one window over the whole image.
pub fn global_avg_attrs(x: &[usize]) -> Pool2d {
    let hw = [x.get(2).copied().unwrap_or(1), x.get(3).copied().unwrap_or(1)];
    Pool2d::new(PoolKind::Avg, hw, [1, 1])
}

/// Records the pooling `geo` from `x` into `y`.
pub(crate) fn plan(geo: &Pool2dGeometry, x: &Tensor, y: &Tensor) -> Result<Dispatch> {
    check_same_device("pool2d", &[("input", Some(x)), ("output", Some(y))])?;
    let a = &geo.attrs;
    let u = |v: usize| v as u32;
    let params = Pool2dUniform {
        n: u(geo.n),
        c: u(geo.c),
        h: u(geo.h),
        w: u(geo.w),
        oh: u(geo.oh),
        ow: u(geo.ow),
        kh: u(a.kernel[0]),
        kw: u(a.kernel[1]),
        stride_y: u(a.stride[0]),
        stride_x: u(a.stride[1]),
        pad_top: u(a.padding.top),
        pad_left: u(a.padding.left),
        pad_bottom: u(a.padding.bottom),
        pad_right: u(a.padding.right),
        is_max: (a.kind == PoolKind::Max) as u32,
        count_include_pad: a.count_include_pad as u32,
    };
    let gpu = x.gpu();
    let grid =
        fold_grid(blocks(geo.n * geo.c * geo.oh * geo.ow, 64), gpu.limits().max_compute_workgroups_per_dimension);
    gpu.dispatch(&POOL, &[("WG", 64)], &[x.buffer(), y.buffer()], bytemuck::bytes_of(&params), grid)
}
