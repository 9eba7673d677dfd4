#![warn(missing_docs)]
//! dojang (도장, "stamp"): a GPU engine for convolutional networks.
//!
//! Kernels are WGSL compute shaders (in `shaders/`) run through wgpu; every op has a plain
//! CPU twin in [`reference`](mod@reference) that defines what it computes.
//!
//! - Tensors are f32, NCHW (`[N, C, H, W]`; `[N, F]` for features) and live on one [`Gpu`];
//!   convolution weights are OIHW (`[Cout, Cin/groups, KH, KW]`) and dense weights `[out, in]`,
//!   the PyTorch/ONNX layouts.
//! - Every op checks shapes and devices first, once ([`attrs`]: every size it derives, in
//!   checked integers) and returns a typed [`Error`] naming the numbers, never panicking on
//!   user input; a failed call leaves the device usable.
//! - Ops enqueue their work and return at once; only [`Tensor::download`] waits. A
//!   [`Launch`] records ops into given tensors once, to be replayed.
//! - A GPU result passes when |gpu − cpu| ≤ atol + rtol·|cpu| ([`tolerance`]); for sums of K
//!   products atol grows like √K, the growth of f32 rounding.
//! - Layers compose into [`model::Model`]s (AlexNet and a ResNet bottleneck in
//!   [`model::zoo`]) that run on one device or with their channel groups split over a device
//!   group ([`GpuModel`], [`split`]).
//! - A device group is `N` [`Gpu`]s ([`Gpu::open_group`]: one per adapter when there are that
//!   many alike, else `N` logical devices on one). [`GpuModel::split`] gives each device its
//!   share of every layer's channel groups, as AlexNet's two GPUs had: grouped convolutions
//!   stay on their device, and the layers that read all channels (conv3, the dense layers)
//!   gather their input from every device first.
//! - Tensors past a device's limits (a storage binding, a texture's width, the workgroups of
//!   a grid) run in parts; what cannot be cut is an [`Error::Limit`] naming the numbers.
//! - Inside an app that owns a wgpu device, dojang runs on it ([`Gpu::from_wgpu`]), takes the
//!   app's buffers as tensors ([`Tensor::from_buffer`], [`Tensor::buffer`]) and its textures
//!   as images ([`ops::image_to_tensor`], [`ops::tensor_to_image`]), and records its passes
//!   into the app's command encoder ([`Launch::encode`], [`GpuModel::record_forward`]).
//! - The engine builds without the tools' crates: `default-features = false` leaves out the
//!   feature `cli` (the validator, the filter tool and what they share with the tests).
//!
//! ```
//! use dojang::ops::{Conv2d, Padding, conv2d};
//! use dojang::{Gpu, GpuModel, Tensor};
//! let gpu = Gpu::new()?;
//! let x = Tensor::from_slice(&gpu, &vec![1.0; 3 * 8 * 8], &[1, 3, 8, 8])?;
//! let w = Tensor::from_slice(&gpu, &vec![0.1; 4 * 3 * 3 * 3], &[4, 3, 3, 3])?;
//! let y = conv2d(&x, &w, None, &Conv2d::default().with_padding(Padding::symmetric(1, 1)))?;
//! assert_eq!(y.shape(), &[1, 4, 8, 8]);
//!
//! // A ResNet bottleneck split over a group of two devices, against one device.
//! let model = dojang::model::zoo::build("bottleneck")?;
//! let weights = dojang::model::Weights::he_normal(&model, 1);
//! let input = vec![0.5; model.input().iter().product()];
//! let mut two = GpuModel::split(&Gpu::open_group(2, None)?, &model, &weights)?;
//! let mut one = GpuModel::new(&gpu, &model, &weights)?;
//! let (a, b) = (two.forward(&input, 1)?, one.forward(&input, 1)?);
//! assert!(dojang::tolerance::Tolerance::for_layer(&b).compare(&a, &b).passed());
//! # Ok::<(), dojang::Error>(())
//! ```

pub mod adapter;
pub mod attrs;
mod autotune_cache;
pub mod error;
pub mod gpu;
mod launch;
pub mod model;
pub mod onnx;
pub mod ops;
mod pipeline;
pub mod reference;
pub mod split;
mod submit;
pub mod tensor;
mod texture;
mod timestamps;
pub mod tolerance;
#[cfg(feature = "cli")]
#[doc(hidden)]
pub mod tools;

pub use autotune_cache::Autotune;
pub use error::{Error, Result};
pub use gpu::Gpu;
pub use launch::Launch;
pub use split::GpuModel;
pub use tensor::Tensor;
/// The wgpu dojang is built with: an app that brings its own device ([`Gpu::from_wgpu`]) uses
/// these types.
pub use wgpu;
