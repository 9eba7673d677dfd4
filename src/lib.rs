//! dojang (도장, "stamp"): a GPU engine for convolutional networks.
//!
//! Kernels are WGSL compute shaders (in `shaders/`) run through wgpu; every op has a plain
//! CPU twin in [`reference`](mod@reference) that defines what it computes. Tensors are f32, NCHW, and live on
//! one [`Gpu`]; every op checks shapes and devices and returns a typed [`Error`] naming the
//! numbers, never panicking on user input. Layers compose into [`model::Model`]s (AlexNet
//! and a ResNet bottleneck in [`model::zoo`]) that run on one device ([`model::GpuModel`]) or
//! with their channel groups split across several ([`split::SplitModel`]).
//!
//! ```no_run
//! use dojang::{Gpu, Tensor, ops::conv2d::{conv2d, Conv2d, Padding}};
//! let gpu = Gpu::new()?;
//! let x = Tensor::from_slice(&gpu, &vec![1.0; 3 * 8 * 8], &[1, 3, 8, 8])?;
//! let w = Tensor::from_slice(&gpu, &vec![0.1; 4 * 3 * 3 * 3], &[4, 3, 3, 3])?;
//! let y = conv2d(&x, &w, None, &Conv2d::default().with_padding(Padding::symmetric(1, 1)))?;
//! assert_eq!(y.shape(), &[1, 4, 8, 8]);
//! # Ok::<(), dojang::Error>(())
//! ```

pub mod error;
pub mod gpu;
pub mod model;
pub mod ops;
pub mod pipeline;
pub mod reference;
pub mod split;
pub mod tensor;
mod texture;
pub mod tolerance;
pub mod validate;

pub use error::{Error, Result};
pub use gpu::Gpu;
pub use tensor::Tensor;
