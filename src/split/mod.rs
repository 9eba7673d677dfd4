//! Models on the GPU: on one device, or with their channel groups split across several, as
//! AlexNet's "x 2" split the network over two GPUs.
//!
//! Three steps, each its own file: [`placement`] decides, with no GPU, which device holds
//! which output channels and which slice of the weights (one device is the N = 1 case);
//! [`GpuModel`] uploads each device's share and records a plan per batch size; the exchange
//! moves activations between devices where a layer needs its whole input. Every device's work
//! is submitted before any is waited on.

mod device_layer;
mod exchange;
mod fusion;
pub mod placement;
mod plan;
mod reuse;
mod runner;

pub use placement::{Gather, Placement, Spread, place};
pub use runner::{GpuModel, LayerReport};
