//! The CPU reference: each op written from its definition as plain nested loops over NCHW,
//! accumulating in f64, with padding as an explicit skip. No tiling, no SIMD, nothing shared
//! with the GPU path but the checked shapes. This is what "correct" means in dojang.

pub mod conv2d;
pub mod dense;
pub mod elementwise;
pub mod image;
pub mod lrn;
pub mod pad;
pub mod pool2d;
pub mod softmax;

pub use conv2d::conv2d;
pub use dense::dense;
pub use elementwise::{activation, add, affine, channel_shuffle, channel_slice, concat, mul, prelu, relu};
pub use image::{decode_texels, image_to_tensor, tensor_to_image};
pub use lrn::lrn;
pub use pad::pad;
pub use pool2d::pool2d;
pub use softmax::softmax;
