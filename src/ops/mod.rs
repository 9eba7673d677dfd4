//! The GPU ops, one family per file, each launching its kernels from `shaders/<op>.wgsl`.
//!
//! Every op comes two ways: a call that allocates its output and enqueues the work without
//! waiting (`conv2d`, `pool2d`, …; only [`Tensor::download`] waits), and a recording into
//! given tensors that can be replayed ([`Launch`], from `record_pool2d`, `ConvWeight::record`,
//! …). Attributes and geometry come from [`params`](crate::params), re-exported here.

/// A kernel's WGSL: the files of shaders/ named, in order; shared ones (conv_dims,
/// linear_texture) before the kernel's own.
macro_rules! wgsl {
    ($($file:literal),+) => {
        concat!($(include_str!(concat!("../../shaders/", $file, ".wgsl"))),+)
    };
}

mod conv2d;
mod cut;
mod dense;
mod elementwise;
mod gemm;
mod lrn;
mod packed;
mod pool2d;
mod softmax;
mod tune;

pub use crate::launch::Launch;
pub use crate::params::{
    Conv2d, Conv2dGeometry, Dense, DenseGeometry, Lrn, LrnGeometry, Padding, Pool2d, Pool2dGeometry, PoolKind, Softmax,
    SoftmaxGeometry,
};
pub use conv2d::{ConvKernel, ConvWeight, conv2d, conv2d_with};
pub use dense::{DenseKernel, DenseWeight, dense, dense_with, roofline_gemv};
pub use elementwise::{add, record_add, record_relu, relu};
pub use gemm::{Tile, roofline_gemm};
pub use lrn::{lrn, record_lrn};
pub use pool2d::{global_avg_pool, pool2d, record_pool2d};
pub use softmax::{record_softmax, softmax};

use crate::error::{Error, Result, Shape};
use crate::gpu::Gpu;
use crate::pipeline::Kernel;
use crate::tensor::Tensor;

/// Every kernel the ops launch, for the checks that read the WGSL without a GPU.
pub const KERNELS: &[&Kernel] = &[
    &conv2d::DIRECT,
    &packed::PACK,
    &gemm::IM2COL,
    &gemm::IM2COL_DENSE,
    &gemm::IM2ROW,
    &gemm::GEMM,
    &dense::GEMV,
    &dense::STREAM,
    &pool2d::POOL,
    &elementwise::ELEMENTWISE,
    &lrn::LRN,
    &softmax::SOFTMAX,
];

/// Fails unless every tensor lives on the first one's device.
pub(crate) fn check_same_device(op: &'static str, tensors: &[(&'static str, Option<&Tensor>)]) -> Result<()> {
    let mut present = tensors.iter().filter_map(|(what, t)| t.map(|t| (*what, t)));
    let Some((_, first)) = present.next() else {
        return Ok(());
    };
    present.try_for_each(|(what, t)| t.check_on(first.gpu(), op, what))
}

/// Fails unless the output tensor has the shape the op computes.
pub(crate) fn check_output(op: &'static str, y: &Tensor, expected: &[usize]) -> Result<()> {
    if y.shape() != expected {
        return Err(Error::Mismatch { op, a: Shape(expected.to_vec()), b: y.shape().into() });
    }
    Ok(())
}

/// A size or attribute as the kernels' 32-bit uniforms hold it, or an error naming it.
pub(crate) fn to_u32(op: &'static str, what: &str, value: usize) -> Result<u32> {
    u32::try_from(value).map_err(|_| Error::Limit {
        op,
        what: format!("{what} = {value} in a 32-bit kernel parameter"),
        needed: value as u64,
        limit: u32::MAX as u64,
    })
}

/// The ragged-workgroup count for `items` spread over groups of `per_group`.
pub(crate) fn blocks(items: usize, per_group: usize) -> u32 {
    u32::try_from(items.div_ceil(per_group)).unwrap_or(u32::MAX)
}

/// The largest workgroup count per grid dimension.
pub(crate) fn max_groups(gpu: &Gpu) -> u32 {
    gpu.limits().max_compute_workgroups_per_dimension
}
