//! Scratch: what a layer's kernels lay out and read back within the layer (the input copied
//! into a texture, im2col's windows, Winograd's transforms and products, split-K's partial
//! sums). While a model's plan is recorded ([`Shared`]), layers take it from one pool: the
//! layers of a pass run one after the other, each done with its scratch before the next
//! starts, so a layer takes textures and buffers an earlier one left, as long as they have
//! room, and none that another intermediate of its own holds. Elsewhere (an op recorded alone)
//! every intermediate is its own. Scratch is not zeroed when it is taken again: the kernels
//! write every word of it they read for an output that they store.
//!
//! The pool is the recording thread's, per device: a device shared with other threads (tests,
//! an app's) never hands them another plan's scratch.

use std::cell::RefCell;

use crate::error::Result;
use crate::gpu::Gpu;
use crate::tensor::Tensor;
use crate::texture::{LinearTexture, MatrixTexture};

thread_local! {
    static POOL: RefCell<Option<Pool>> = const { RefCell::new(None) };
}

/// The scratch of the layers recorded so far, and which of it the current layer holds.
struct Pool {
    device: u64,
    linear: Vec<(LinearTexture, bool)>,
    matrix: Vec<(MatrixTexture, bool)>,
    buffers: Vec<(Tensor, bool)>,
}

/// Layers recorded on this thread for one device share their scratch while this lives; one
/// layer after another, each after [`next_layer`](Shared::next_layer).
pub(crate) struct Shared;

impl Shared {
    /// Starts sharing the scratch of `gpu`'s layers recorded on this thread.
    pub(crate) fn begin(gpu: &Gpu) -> Shared {
        let pool = Pool { device: gpu.id(), linear: vec![], matrix: vec![], buffers: vec![] };
        POOL.with_borrow_mut(|p| *p = Some(pool));
        Shared
    }

    /// The layer before is recorded: what it took, the next layer may take.
    pub(crate) fn next_layer(&self) {
        POOL.with_borrow_mut(|p| {
            if let Some(p) = p {
                p.linear.iter_mut().for_each(|e| e.1 = false);
                p.matrix.iter_mut().for_each(|e| e.1 = false);
                p.buffers.iter_mut().for_each(|e| e.1 = false);
            }
        })
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        POOL.with_borrow_mut(|p| *p = None);
    }
}

/// The smallest entry of `entries` not held by this layer that `fits`, now held; else `make`'s,
/// held and kept for the layers after.
fn take<T>(
    gpu: &Gpu,
    entries: impl FnOnce(&mut Pool) -> &mut Vec<(T, bool)>,
    size: impl Fn(&T) -> usize,
    fits: impl Fn(&T) -> bool,
    make: impl FnOnce() -> Result<T>,
    seen: impl Fn(&T) -> T,
) -> Result<T> {
    POOL.with_borrow_mut(|pool| match pool {
        Some(pool) if pool.device == gpu.id() => {
            let entries = entries(pool);
            let free = entries.iter_mut().filter(|(t, held)| !held && fits(t));
            if let Some(entry) = free.min_by_key(|(t, _)| size(t)) {
                entry.1 = true;
                return Ok(seen(&entry.0));
            }
            let made = make()?;
            entries.push((seen(&made), true));
            Ok(made)
        }
        _ => make(),
    })
}

/// A linear texture of `len` floats for a layer's intermediate.
pub(crate) fn linear(gpu: &Gpu, op: &'static str, len: usize) -> Result<LinearTexture> {
    let room = |t: &LinearTexture| t.room();
    let make = || LinearTexture::zeros(gpu, op, len);
    take(gpu, |p| &mut p.linear, room, |t| t.room() >= len, make, |t| t.holding(len))
}

/// A `[rows, cols]` matrix texture for a layer's intermediate.
pub(crate) fn matrix(gpu: &Gpu, op: &'static str, rows: usize, cols: usize) -> Result<MatrixTexture> {
    let fits = |t: &MatrixTexture| t.has_room(rows, cols);
    let make = || MatrixTexture::zeros(gpu, op, rows, cols);
    take(gpu, |p| &mut p.matrix, MatrixTexture::len, fits, make, |t| t.holding(rows, cols))
}

/// A tensor of `shape` for a layer's intermediate.
pub(crate) fn tensor(gpu: &Gpu, shape: &[usize]) -> Result<Tensor> {
    let len = shape.iter().product::<usize>();
    let bytes = |t: &Tensor| t.buffer().size() as usize;
    // Kernels read tensors as whole vec4s.
    let fits = |t: &Tensor| t.buffer().size() as usize >= (4 * len).next_multiple_of(16);
    take(gpu, |p| &mut p.buffers, bytes, fits, || Tensor::zeros(gpu, shape), |t| t.holding(shape))
}
