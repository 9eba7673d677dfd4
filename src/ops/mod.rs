//! The GPU ops, one family per file, each launching its kernels from `shaders/<op>.wgsl`.
//!
//! Every op comes two ways: a call that allocates its output and enqueues the work without
//! waiting (`conv2d`, `pool2d`, …; only [`Tensor::download`](crate::Tensor::download) waits),
//! and a recording into given tensors that can be replayed ([`Launch`], from `record_pool2d`,
//! `ConvWeight::record`, …). Attributes and geometry come from [`attrs`](crate::attrs),
//! re-exported here. An op is its own parts only — uniform, grid, dispatch; what they all
//! repeat is one helper each: `checks.rs` (arguments), `sizes.rs` (32-bit parameters and
//! grids), `record.rs` (allocate the output and run, stage the input into a texture),
//! `cut.rs` (run past the device's limits in parts), `autotune_timing.rs` (time candidates).

mod affine;
mod autotune_timing;
mod checks;
mod concat;
mod conv2d;
mod conv_dims;
mod conv_gemm;
mod conv_kernel;
mod conv_key;
mod cut;
mod dense;
mod depthwise;
mod direct;
mod elementwise;
mod gemm;
mod im2col;
mod image;
#[cfg(test)]
mod kernels;
mod lrn;
mod mul;
mod packed;
mod pad;
mod pool2d;
mod record;
pub(crate) mod scratch;
mod shuffle;
mod sizes;
mod softmax;
mod space_to_depth;
mod split_k;
mod subsample;
mod wgsl;
mod winograd;
#[cfg(feature = "cli")]
pub(crate) mod yardstick;

pub use crate::attrs::{
    Activation, Conv2d, Conv2dGeometry, Dense, DenseGeometry, ImageFormat, ImageInput, Lrn, LrnGeometry, PadMode,
    Padding, Pool2d, Pool2dGeometry, PoolKind, Softmax, SoftmaxGeometry, ValueRange,
};
pub use crate::launch::Launch;
pub use affine::{affine, prelu, record_affine, record_prelu};
pub use concat::{concat, record_concat};
pub use conv_kernel::ConvKernel;
pub use conv2d::{ConvWeight, conv2d, conv2d_with};
pub(crate) use cut::{copies, copy};
pub use dense::{DenseKernel, DenseWeight, dense, dense_with};
pub use elementwise::{activation, add, record_activation, record_add, record_relu, relu};
pub use gemm::Tile;
pub use image::{image_to_tensor, record_image_to_tensor, record_tensor_to_image, tensor_to_image};
pub use lrn::{lrn, record_lrn};
pub use mul::{mul, record_mul};
pub use pad::{pad, record_pad};
pub use pool2d::{global_avg_pool, pool2d, record_pool2d};
pub use shuffle::{channel_shuffle, channel_slice, record_channel_shuffle, record_channel_slice};
pub use softmax::{record_softmax, softmax};
