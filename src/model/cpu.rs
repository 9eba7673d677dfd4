//! A model run by the CPU reference: the definition its GPU forward passes are checked against.

use crate::error::Result;
use crate::model::{Model, Op, Source, Weights};
use crate::params::{Dense, Softmax, check_len};
use crate::reference;

impl Model {
    /// Runs the model on the CPU reference and returns every layer's output.
    pub fn forward_reference(&self, weights: &Weights, input: &[f32], batch: usize) -> Result<Vec<Vec<f32>>> {
        weights.check(self)?;
        let with_batch = |s: &[usize]| [&[batch], s].concat();
        check_len(&with_batch(self.input()), input)?;
        let mut outputs: Vec<Vec<f32>> = Vec::new();
        for (i, layer) in self.layers().iter().enumerate() {
            let prev = outputs.last().map(Vec::as_slice).unwrap_or(input);
            let in_shape = with_batch(self.input_of(i));
            let param = |suffix: &str| weights.get(&format!("{}.{suffix}", layer.name));
            if let Some(pool) = layer.op.pool(self.input_of(i))? {
                outputs.push(reference::pool2d(&pool.geometry(&in_shape)?, prev)?);
                continue;
            }
            let out = match &layer.op {
                Op::Conv2d { attrs, .. } => {
                    let ws = &self.params_of(i)[0].1;
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
                Op::Add { relu, .. } => {
                    let other = match self.source_of(i) {
                        Some(Source::Layer(j)) => outputs[j].as_slice(),
                        _ => input,
                    };
                    reference::add(prev, other, *relu)?
                }
            };
            outputs.push(out);
        }
        Ok(outputs)
    }
}
