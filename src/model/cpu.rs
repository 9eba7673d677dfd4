//! A model run by the CPU reference: the definition its GPU forward passes are checked against.

use crate::attrs::{Activation, Dense, Softmax, check_len};
use crate::error::Result;
use crate::model::graph::{Model, Op, Source};
use crate::model::weights::Weights;
use crate::reference;

/// How far a CPU reference pass has come, told before each layer runs: enough for a caller
/// to show progress and estimate what is left.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// The layer about to run.
    pub layer: usize,
    /// Work done before it, in multiply-adds (a layer without them counts an output element
    /// as one).
    pub done: u64,
    /// The whole pass's work, in the same units.
    pub total: u64,
}

impl Model {
    /// Runs the model on the CPU reference and returns every layer's output.
    pub fn forward_reference(&self, weights: &Weights, input: &[f32], batch: usize) -> Result<Vec<Vec<f32>>> {
        self.forward_reference_with(weights, input, batch, |_| {})
    }

    /// [`Model::forward_reference`], telling `progress` before each layer how far it has come
    /// (a pass over a large batch takes minutes).
    pub fn forward_reference_with(
        &self,
        weights: &Weights,
        input: &[f32],
        batch: usize,
        mut progress: impl FnMut(Progress),
    ) -> Result<Vec<Vec<f32>>> {
        weights.check(self)?;
        let with_batch = |s: &[usize]| [&[batch], s].concat();
        check_len(&with_batch(self.input()), input)?;
        let work: Vec<u64> =
            self.rows().iter().map(|r| r.macs.max(r.output.iter().product::<usize>() as u64)).collect();
        let total = work.iter().sum::<u64>().saturating_mul(batch as u64);
        let mut done = 0u64;
        let mut outputs: Vec<Vec<f32>> = Vec::new();
        for (i, layer) in self.layers().iter().enumerate() {
            progress(Progress { layer: i, done, total });
            done = done.saturating_add(work[i].saturating_mul(batch as u64));
            let read = |s: Source| match s {
                Source::Layer(j) => outputs[j].as_slice(),
                Source::Input => input,
            };
            let prev = read(self.reads_of(i)[0]);
            let in_shape = with_batch(self.input_of(i));
            let param = |suffix: &str| weights.get(&format!("{}.{suffix}", layer.name));
            if let Some(pool) = layer.op.pool(self.input_of(i))? {
                outputs.push(reference::pool2d(&pool.geometry(&in_shape)?, prev)?);
                continue;
            }
            let out = match &layer.op {
                Op::Conv2d { attrs, .. } => {
                    let ws = &self.parameters_of(i)[0].1;
                    let geo = attrs.geometry(&in_shape, ws, Some(ws[0]))?;
                    reference::conv2d(&geo, prev, param("weight")?, Some(param("bias")?))?
                }
                Op::Dense { out_features } => {
                    let geo =
                        Dense::default().geometry(&in_shape, &[*out_features, in_shape[1]], Some(*out_features))?;
                    reference::dense(&geo, prev, param("weight")?, Some(param("bias")?))?
                }
                Op::Lrn(l) => reference::lrn(&l.geometry(&in_shape)?, prev)?,
                Op::Relu => reference::relu(prev),
                // Pooling layers were run above.
                Op::Dropout | Op::Flatten | Op::Pool2d(_) | Op::GlobalAvgPool | Op::AdaptiveAvgPool(_) => prev.to_vec(),
                Op::Softmax => reference::softmax(&Softmax.geometry(&in_shape)?, prev)?,
                Op::Add { relu, .. } => reference::add(prev, read(self.source_of(i).unwrap_or(Source::Input)), *relu)?,
                Op::Mul { .. } => reference::mul(prev, read(self.source_of(i).unwrap_or(Source::Input)))?,
                Op::Activation(a) => reference::activation(prev, *a),
                Op::PRelu => reference::prelu(prev, &in_shape, param("weight")?)?,
                Op::Pad { padding, mode } => reference::pad(prev, &in_shape, padding, *mode)?,
                Op::ChannelShuffle { groups } => reference::channel_shuffle(prev, &in_shape, *groups)?,
                Op::Slice { start, end } => reference::channel_slice(prev, &in_shape, *start, *end)?,
                Op::Affine { relu } => reference::affine(
                    prev,
                    &in_shape,
                    param("weight")?,
                    param("bias")?,
                    relu.then_some(Activation::Relu),
                )?,
                Op::Concat => {
                    let parts: Vec<&[f32]> = self.reads_of(i).iter().map(|&s| read(s)).collect();
                    reference::concat(&parts, batch)
                }
            };
            outputs.push(out);
        }
        Ok(outputs)
    }
}
