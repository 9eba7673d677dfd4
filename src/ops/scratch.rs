//! Scratch: what a layer's kernels lay out and read back within the layer (the input copied
//! into a texture, im2col's windows, Winograd's transforms and products, split-K's partial
//! sums). While a model's plan is recorded ([`Shared`]), layers take it from a pool per
//! device: a device runs its layers one after the other, each done with its scratch before the
//! next starts, so a layer takes textures and buffers an earlier one left, as long as they have
//! room, and none that another intermediate of its own holds. Elsewhere (an op recorded alone)
//! every intermediate is its own. Scratch is not zeroed when it is taken again: the kernels
//! write every word of it they read for an output that they store. The autotuner records its
//! candidates as if each were alone and drops what the losers made ([`hold`], [`forget`]), so
//! a plan tuned as it is recorded holds what one that remembers its choices holds.
//!
//! The pools are the recording thread's, one per device: a device shared with other threads
//! (tests, an app's) never hands them another plan's scratch.

use std::cell::RefCell;

use crate::error::Result;
use crate::gpu::Gpu;
use crate::tensor::Tensor;
use crate::texture::{LinearTexture, MatrixTexture};

thread_local! {
    static POOLS: RefCell<Option<Pools>> = const { RefCell::new(None) };
}

/// The scratch of the layers recorded so far, a pool per device, and which of it the current
/// layer holds.
struct Pools {
    /// Entries made so far, on every device: each entry's `made` is its place in that count.
    made: u64,
    devices: Vec<Pool>,
}

struct Pool {
    device: u64,
    linear: Vec<Entry<LinearTexture>>,
    matrix: Vec<Entry<MatrixTexture>>,
    buffers: Vec<Entry<Tensor>>,
}

/// A texture or buffer in a pool: whether the current layer holds it, and its place in the
/// making (which names it).
struct Entry<T> {
    item: T,
    held: bool,
    made: u64,
}

/// Layers recorded on this thread for a model's devices share their scratch, per device, while
/// this lives; one layer after another, each after [`next_layer`](Shared::next_layer). Each
/// device runs its layers in order, each done with its scratch before the next starts, whatever
/// the other devices run beside them.
pub(crate) struct Shared;

impl Shared {
    /// Starts sharing the scratch of the layers on `gpus` recorded on this thread.
    pub(crate) fn begin(gpus: &[Gpu]) -> Shared {
        let pool = |gpu: &Gpu| Pool { device: gpu.id(), linear: vec![], matrix: vec![], buffers: vec![] };
        POOLS.with_borrow_mut(|p| *p = Some(Pools { made: 0, devices: gpus.iter().map(pool).collect() }));
        Shared
    }

    /// The layer before is recorded: what it took, the next layer may take.
    pub(crate) fn next_layer(&self) {
        hold(&[], u64::MAX);
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        POOLS.with_borrow_mut(|p| *p = None);
    }
}

/// The smallest entry of `entries` (in `gpu`'s pool) not held by this layer that `fits`, now
/// held; else `make`'s, held and kept for the layers after.
fn take<T>(
    gpu: &Gpu,
    entries: impl FnOnce(&mut Pool) -> &mut Vec<Entry<T>>,
    size: impl Fn(&T) -> usize,
    fits: impl Fn(&T) -> bool,
    make: impl FnOnce() -> Result<T>,
    seen: impl Fn(&T) -> T,
) -> Result<T> {
    POOLS.with_borrow_mut(|pools| {
        let Some(pools) = pools else { return make() };
        let Some(pool) = pools.devices.iter_mut().find(|p| p.device == gpu.id()) else { return make() };
        let entries = entries(pool);
        let free = entries.iter_mut().filter(|e| !e.held && fits(&e.item));
        if let Some(entry) = free.min_by_key(|e| size(&e.item)) {
            entry.held = true;
            return Ok(seen(&entry.item));
        }
        let item = make()?;
        entries.push(Entry { item: seen(&item), held: true, made: pools.made });
        pools.made += 1;
        Ok(item)
    })
}

/// How many entries the pools have made so far (0 without them): the mark [`forget`] takes.
pub(crate) fn made() -> u64 {
    POOLS.with_borrow(|p| p.as_ref().map_or(0, |p| p.made))
}

/// The entries the current layer holds, by the place each was made in.
pub(crate) fn held() -> Vec<u64> {
    POOLS.with_borrow(|p| {
        let pools = p.iter().flat_map(|p| &p.devices);
        pools.flat_map(Pool::all).filter(|(_, held)| *held).map(|(made, _)| made).collect()
    })
}

/// The current layer holds `entries` and every entry made since mark `since`, no others: the
/// autotuner records each candidate as if alone, from what the layers before left and never
/// from another candidate's (which may be larger than it needs), and the layer then holds what
/// the chosen one holds.
pub(crate) fn hold(entries: &[u64], since: u64) {
    POOLS.with_borrow_mut(|p| {
        let held = |made: u64| made >= since || entries.contains(&made);
        for p in p.iter_mut().flat_map(|p| &mut p.devices) {
            p.linear.iter_mut().for_each(|e| e.held = held(e.made));
            p.matrix.iter_mut().for_each(|e| e.held = held(e.made));
            p.buffers.iter_mut().for_each(|e| e.held = held(e.made));
        }
    })
}

/// Drops the entries made since mark `since`, but `keep`: the autotuner's candidates that lost
/// made scratch that only the pool holds now, and a later layer taking it would hold it beside
/// what the chosen candidate holds.
pub(crate) fn forget(since: u64, keep: &[u64]) {
    POOLS.with_borrow_mut(|p| {
        let lost = |made: u64| made >= since && !keep.contains(&made);
        for p in p.iter_mut().flat_map(|p| &mut p.devices) {
            p.linear.retain(|e| !lost(e.made));
            p.matrix.retain(|e| !lost(e.made));
            p.buffers.retain(|e| !lost(e.made));
        }
    })
}

impl Pool {
    /// Every entry's place in the making, and whether the current layer holds it.
    fn all(&self) -> impl Iterator<Item = (u64, bool)> + '_ {
        let linear = self.linear.iter().map(|e| (e.made, e.held));
        let matrix = self.matrix.iter().map(|e| (e.made, e.held));
        linear.chain(matrix).chain(self.buffers.iter().map(|e| (e.made, e.held)))
    }
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
