//! Import: a convolutional network from an ONNX file, as a [`Model`](crate::model::Model) and its
//! [`Weights`](crate::model::Weights), so that everything that runs a model runs it.
//!
//! ```no_run
//! let imported = dojang::onnx::load(std::path::Path::new("resnet50.onnx"))?;
//! println!("{}", imported.summary());
//! # Ok::<(), dojang::Error>(())
//! ```
//!
//! The reader (`proto.rs`, prost messages of ONNX's schema) decodes; `read.rs` checks the
//! opset (7 to 21) and widens constants; `topo.rs` orders the nodes; `fold.rs` runs constant
//! subgraphs; `lower.rs` walks the graph into layers (its state in `walk.rs`), with `layers.rs`
//! saying what each op becomes (per-element and per-channel ops in `channels.rs`, reshapes in
//! `views.rs`). What dojang cannot run fails at load, every unsupported node listed at once.

mod channels;
mod fold;
mod ir;
mod layers;
mod load;
mod lower;
#[doc(hidden)]
pub mod proto;
mod read;
mod topo;
mod views;
mod walk;

pub use load::{Imported, Options, load, load_bytes, load_with};
