//! What an op computes, apart from where: attributes, padding, and the checked geometry that
//! both the GPU ops and the CPU reference take. Every op validates the same way, once: its
//! attributes' `geometry(shapes…)` returns the checked sizes, every size derived from them
//! computed in checked integers, or a typed error naming the numbers; the kernels and the
//! reference then trust the geometry.

pub mod activation;
mod checks;
pub mod conv2d;
pub mod dense;
pub mod image;
pub mod lrn;
mod pad;
mod padding;
pub mod pool2d;
pub mod softmax;

pub use activation::Activation;
pub use conv2d::{Conv2d, Conv2dGeometry};
pub use dense::{Dense, DenseGeometry};
pub use image::{ImageFormat, ImageGeometry, ImageInput, ValueRange};
pub use lrn::{Lrn, LrnGeometry};
pub use pad::{PadMode, pad_shape, pad_source};
pub use padding::Padding;
pub use pool2d::{Pool2d, Pool2dGeometry, PoolKind};
pub use softmax::{Softmax, SoftmaxGeometry};

pub(crate) use checks::{add, by_channel, check_len, check_rank, product};
