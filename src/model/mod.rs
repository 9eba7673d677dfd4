//! Models: a sequence of layers with shapes inferred at build time (`graph`), the parameter
//! arithmetic of the source document (`summary`), weights, the zoo, and the forward pass on
//! the CPU reference. The GPU runs models through `GpuModel` (in `split`), on one device or
//! several.

mod cpu;
mod graph;
pub mod summary;
pub mod weights;
pub mod zoo;

pub use cpu::Progress;
pub(crate) use graph::layer_shape;
pub use graph::{Layer, Model, Op, Source};
pub use weights::Weights;
