//! Forward passes: on the GPU through recorded dispatches (planned once per batch size, so a
//! pass allocates nothing after the first), and on the CPU through the reference ops.

use std::collections::HashMap;
use std::time::Instant;

use crate::error::{Error, Result};
use crate::gpu::{Dispatch, Gpu};
use crate::model::{Model, Op, Weights, adaptive_pool};
use crate::ops::conv2d::{self, ConvKernel};
use crate::ops::dense::{DenseGeometry, DenseKernel, DenseWeight};
use crate::ops::pool2d::{self, global_avg_attrs};
use crate::ops::{elementwise, lrn, softmax};
use crate::reference;
use crate::tensor::Tensor;

/// A layer's parameters on one device.
pub(crate) enum Params {
    None,
    Conv { w: Tensor, b: Tensor },
    Dense(DenseWeight),
}

impl Params {
    /// Bytes of weights and biases.
    pub(crate) fn bytes(&self) -> u64 {
        match self {
            Params::None => 0,
            Params::Conv { w, b } => 4 * (w.len() + b.len()) as u64,
            Params::Dense(d) => d.bytes(),
        }
    }
}

/// Records layer `op` with `params` from `x` into `out`; `other` is what an add adds.
/// Dropout and flatten are views, made by the caller: they record nothing.
pub(crate) fn plan_layer(
    op: &Op,
    params: &Params,
    x: &Tensor,
    other: Option<&Tensor>,
    out: &Tensor,
) -> Result<Vec<Dispatch>> {
    Ok(match (op, params) {
        (Op::Conv2d { attrs, .. }, Params::Conv { w, b }) => {
            let geo = attrs.geometry(x.shape(), w.shape(), Some(b.len()))?;
            vec![conv2d::plan(&geo, x, w, Some(b), out, ConvKernel::Auto)?]
        }
        (Op::Dense { .. }, Params::Dense(weight)) => weight.plan(x, out, false, DenseKernel::Auto)?,
        (Op::Pool2d(p), _) => vec![pool2d::plan(&p.geometry(x.shape())?, x, out)?],
        (Op::GlobalAvgPool, _) => vec![pool2d::plan(&global_avg_attrs(x.shape()).geometry(x.shape())?, x, out)?],
        (Op::AdaptiveAvgPool(size), _) => {
            let p = adaptive_pool(&x.shape()[1..], *size)
                .map_err(|message| Error::Attribute { op: "adaptive_avg_pool", message })?;
            vec![pool2d::plan(&p.geometry(x.shape())?, x, out)?]
        }
        (Op::Lrn(l), _) => vec![lrn::plan(x, out, l)?],
        (Op::Relu, _) => vec![elementwise::plan(x, None, out, true)?],
        (Op::Softmax, _) => vec![softmax::plan(x, out)?],
        (Op::Add { relu, .. }, _) => {
            let other = other.ok_or_else(|| Error::Attribute { op: "add", message: "nothing to add".into() })?;
            vec![elementwise::plan(x, Some(other), out, *relu)?]
        }
        (Op::Dropout | Op::Flatten, _) => vec![],
        (op, _) => {
            return Err(Error::Attribute { op: "model", message: format!("{op:?} is missing its parameters") });
        }
    })
}

/// Everything one batch size needs: input, one output per layer, the recorded dispatches,
/// and the host-readable buffer the result comes back through.
struct Plan {
    input: Tensor,
    outputs: Vec<Tensor>,
    steps: Vec<Vec<Dispatch>>,
    readback: wgpu::Buffer,
}

/// A model with its weights uploaded to one device.
pub struct GpuModel {
    pub model: Model,
    gpu: Gpu,
    params: Vec<Params>,
    plans: HashMap<usize, Plan>,
}

/// One layer's result from [`GpuModel::forward_layers`].
pub struct LayerRun {
    pub name: String,
    /// [N, …] output shape.
    pub shape: Vec<usize>,
    pub output: Vec<f32>,
    /// GPU time of the layer (submit to completion).
    pub seconds: f64,
}

impl GpuModel {
    /// Uploads `weights` (checked in full first: nothing is half-loaded) to `gpu`.
    pub fn new(gpu: &Gpu, model: &Model, weights: &Weights) -> Result<GpuModel> {
        weights.check(model)?;
        let mut params = Vec::with_capacity(model.layers.len());
        for (i, layer) in model.layers.iter().enumerate() {
            let (w, b) = (format!("{}.weight", layer.name), format!("{}.bias", layer.name));
            params.push(match &layer.op {
                Op::Conv2d { .. } => {
                    let shapes = model.params_of(i);
                    Params::Conv {
                        w: Tensor::from_slice(gpu, weights.get(&w)?, &shapes[0].1)?,
                        b: Tensor::from_slice(gpu, weights.get(&b)?, &shapes[1].1)?,
                    }
                }
                Op::Dense { out_features } => Params::Dense(DenseWeight::upload(
                    gpu,
                    weights.get(&w)?,
                    Some(weights.get(&b)?),
                    *out_features,
                    model.input_of(i)[0],
                )?),
                _ => Params::None,
            });
        }
        Ok(GpuModel { model: model.clone(), gpu: gpu.clone(), params, plans: HashMap::new() })
    }

    /// The device the model lives on.
    pub fn gpu(&self) -> &Gpu {
        &self.gpu
    }

    fn plan(&mut self, batch: usize) -> Result<&Plan> {
        if !self.plans.contains_key(&batch) {
            let plan = self.build_plan(batch)?;
            self.plans.insert(batch, plan);
        }
        Ok(&self.plans[&batch])
    }

    fn build_plan(&self, batch: usize) -> Result<Plan> {
        let gpu = &self.gpu;
        let with_batch = |s: &[usize]| [&[batch], s].concat();
        let input = Tensor::zeros(gpu, &with_batch(&self.model.input))?;
        let mut outputs: Vec<Tensor> = Vec::new();
        let mut steps = Vec::new();
        for (i, layer) in self.model.layers.iter().enumerate() {
            let prev = outputs.last().unwrap_or(&input).clone();
            let shape = with_batch(&self.model.shapes[i]);
            // Dropout and flatten are views of their input: no buffer, no dispatch.
            match layer.op {
                Op::Dropout => {
                    outputs.push(prev);
                    steps.push(vec![]);
                    continue;
                }
                Op::Flatten => {
                    outputs.push(prev.reshape(&shape)?);
                    steps.push(vec![]);
                    continue;
                }
                _ => {}
            }
            let out = Tensor::zeros(gpu, &shape)?;
            let other = match &layer.op {
                Op::Add { from, .. } => match self.model.layers.iter().position(|l| &l.name == from) {
                    Some(j) => Some(&outputs[j]),
                    None => Some(&input),
                },
                _ => None,
            };
            let dispatches = plan_layer(&layer.op, &self.params[i], &prev, other, &out)?;
            outputs.push(out);
            steps.push(dispatches);
        }
        let readback = outputs.last().unwrap_or(&input).staging_buffer()?;
        Ok(Plan { input, outputs, steps, readback })
    }

    /// Runs the whole model on `batch` images (`input` is [N, C, H, W] flattened) in one
    /// submission and returns the last layer's output. After the first pass at a batch size,
    /// it allocates no GPU memory.
    pub fn forward(&mut self, input: &[f32], batch: usize) -> Result<Vec<f32>> {
        let gpu = self.gpu.clone();
        let plan = self.plan(batch)?;
        plan.input.write(input)?;
        let all: Vec<&Dispatch> = plan.steps.iter().flatten().collect();
        gpu.run("forward", &all)?;
        pollster::block_on(plan.outputs.last().unwrap_or(&plan.input).download_via(&plan.readback))
    }

    /// Runs layer by layer, waiting after each to time it, and downloads every output.
    pub fn forward_layers(&mut self, input: &[f32], batch: usize) -> Result<Vec<LayerRun>> {
        let gpu = self.gpu.clone();
        let names: Vec<String> = self.model.layers.iter().map(|l| l.name.clone()).collect();
        let plan = self.plan(batch)?;
        plan.input.write(input)?;
        let mut runs = Vec::new();
        for (i, step) in plan.steps.iter().enumerate() {
            let start = Instant::now();
            gpu.run(&names[i], &step.iter().collect::<Vec<_>>())?;
            let seconds = start.elapsed().as_secs_f64();
            let out = &plan.outputs[i];
            runs.push(LayerRun {
                name: names[i].clone(),
                shape: out.shape().to_vec(),
                output: out.download()?,
                seconds,
            });
        }
        Ok(runs)
    }
}

impl Model {
    /// Runs the model on the CPU reference and returns every layer's output.
    pub fn forward_reference(&self, weights: &Weights, input: &[f32], batch: usize) -> Result<Vec<Vec<f32>>> {
        weights.check(self)?;
        let with_batch = |s: &[usize]| [&[batch], s].concat();
        crate::ops::check_len(&with_batch(&self.input), input)?;
        let mut outputs: Vec<Vec<f32>> = Vec::new();
        for (i, layer) in self.layers.iter().enumerate() {
            let prev = outputs.last().map(Vec::as_slice).unwrap_or(input);
            let in_shape = with_batch(self.input_of(i));
            let (w, b) = (format!("{}.weight", layer.name), format!("{}.bias", layer.name));
            let out = match &layer.op {
                Op::Conv2d { attrs, .. } => {
                    let ws = &self.params_of(i)[0].1;
                    let geo = attrs.geometry(&in_shape, ws, Some(ws[0]))?;
                    reference::conv2d(&geo, prev, weights.get(&w)?, Some(weights.get(&b)?))?
                }
                Op::Dense { out_features } => {
                    let geo = DenseGeometry::new(&in_shape, &[*out_features, in_shape[1]], Some(*out_features), false)?;
                    reference::dense(&geo, prev, weights.get(&w)?, Some(weights.get(&b)?))?
                }
                Op::Pool2d(p) => reference::pool2d(&p.geometry(&in_shape)?, prev)?,
                Op::GlobalAvgPool => reference::pool2d(&global_avg_attrs(&in_shape).geometry(&in_shape)?, prev)?,
                Op::AdaptiveAvgPool(size) => {
                    let p = adaptive_pool(self.input_of(i), *size)
                        .map_err(|message| Error::Attribute { op: "adaptive_avg_pool", message })?;
                    reference::pool2d(&p.geometry(&in_shape)?, prev)?
                }
                Op::Lrn(l) => {
                    let s = [in_shape[0], in_shape[1], in_shape[2], in_shape[3]];
                    reference::lrn(s, prev, l)?
                }
                Op::Relu => reference::relu(prev),
                Op::Dropout | Op::Flatten => prev.to_vec(),
                Op::Softmax => reference::softmax(&in_shape, prev)?,
                Op::Add { from, relu } => {
                    let other = match self.layers.iter().position(|l| &l.name == from) {
                        Some(j) => outputs[j].as_slice(),
                        None => input,
                    };
                    reference::add(prev, other, *relu)?
                }
            };
            outputs.push(out);
        }
        Ok(outputs)
    }
}
