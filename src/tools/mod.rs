//! What dojang's own tools share beside the engine — `dojang-validate`, the tests and the
//! benches: the validation case tables, the adapter's yardsticks, seeded ONNX models, photos
//! prepared for a classifier. Built with the `cli` feature; not part of the engine's API.

pub mod cases;
pub mod onnx_seed;
pub mod photo;

pub use crate::ops::yardstick::{roofline_gemm, roofline_gemv};
