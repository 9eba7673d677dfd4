//! Which layers' outputs share a buffer, on one device: a layer writes into a buffer of its
//! output's size whose readers have all run (their order is the model's), so that a plan holds
//! a few activations, not one per layer, and a layer writes memory touched a few layers back
//! rather than memory last touched a pass ago. A convolution that adds its shortcut as it
//! stores (a residual add fused into it) writes onto the shortcut itself where nothing after
//! the add reads the shortcut: no copy of it first.

use crate::error::Result;
use crate::gpu::Gpu;
use crate::model::{Model, Source};
use crate::tensor::Tensor;

/// The buffers of one plan's layer outputs as the plan is built, layer after layer.
pub(crate) struct Reuse {
    /// owner[i]: the layer whose buffer layer i's output is (itself, or for a view or a fused
    /// layer the owner of what it sees); None for the model's input.
    owner: Vec<Option<usize>>,
    /// readers[o]: the layers that read the buffer of owner o, through any layer that sees it,
    /// in order (the model's last layer reads its own: it is read back).
    readers: Vec<Vec<usize>>,
    /// Buffers in use: (owner, tensor).
    held: Vec<(usize, Tensor)>,
    /// Buffers whose readers have all run.
    free: Vec<Tensor>,
}

impl Reuse {
    /// The buffers of `model`'s outputs, where `sees[i]` says that layer i allocates nothing
    /// (a view of its first input, or `fused`, inside the layer before it).
    pub(crate) fn new(model: &Model, sees: &[bool], fused: &[bool]) -> Reuse {
        let n = model.layers().len();
        let mut owner: Vec<Option<usize>> = Vec::with_capacity(n);
        for i in 0..n {
            owner.push(match (fused[i], sees[i]) {
                (true, _) => owner[i - 1],
                (false, true) => owner_of(&owner, model.reads_of(i)[0]),
                (false, false) => Some(i),
            });
        }
        let mut readers = vec![vec![]; n];
        for i in 0..n {
            // A fused add's term is read by the convolution before it, as late as the add.
            let sources = model.reads_of(i).iter().copied().chain(model.source_of(i));
            for o in sources.filter_map(|s| owner_of(&owner, s)) {
                readers[o].push(i);
            }
        }
        if let Some(o) = owner[n - 1] {
            readers[o].push(usize::MAX);
        }
        Reuse { owner, readers, held: vec![], free: vec![] }
    }

    /// The output of layer `i` (which allocates) of `shape`: onto the shortcut where it is a
    /// convolution adding `residual` that nothing after the add reads, else a free buffer of
    /// its size, else a new one.
    pub(crate) fn output(&mut self, gpu: &Gpu, i: usize, shape: &[usize], residual: Option<Source>) -> Result<Tensor> {
        // Buffers whose last reader ran before this layer are free.
        let (done, held): (Vec<_>, Vec<_>) =
            self.held.drain(..).partition(|(o, _)| self.readers[*o].last().is_none_or(|&r| r < i));
        self.held = held;
        self.free.extend(done.into_iter().map(|(_, t)| t));
        let len: usize = shape.iter().product();
        let onto = residual.and_then(|s| owner_of(&self.owner, s));
        let shortcut = onto.filter(|&o| self.readers[o].iter().filter(|&&r| r >= i).eq(&[i + 1]));
        let tensor = match shortcut.and_then(|o| self.held.iter().position(|(h, t)| *h == o && t.len() == len)) {
            Some(k) => self.held.swap_remove(k).1.reshape(shape)?,
            None => match self.free.iter().position(|t| t.len() == len) {
                Some(k) => self.free.swap_remove(k).reshape(shape)?,
                None => Tensor::zeros(gpu, shape)?,
            },
        };
        self.held.push((i, tensor.clone()));
        Ok(tensor)
    }
}

/// The layer whose buffer `source` is, by `owner` (None for the model's input).
fn owner_of(owner: &[Option<usize>], source: Source) -> Option<usize> {
    match source {
        Source::Layer(j) => owner[j],
        Source::Input => None,
    }
}
