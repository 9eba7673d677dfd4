//! Channel groups split across devices, as AlexNet's "x 2" split the network over two GPUs.
//!
//! Every activation is either split (device g holds channel block g of every image) or whole
//! (each device holds all of it; only the model input is whole). Placement, decided once per
//! model and device count:
//! - a convolution whose groups divide by N keeps group block g on device g: no traffic;
//! - a convolution with groups = 1, and a dense layer, is split by output channels: device g
//!   holds Cout/N filters and computes them from the whole input, which it first gathers from
//!   the other devices (the exchange);
//! - ReLU, pooling, dropout and flatten run where their channels are; LRN with groups a
//!   multiple of N runs per device over its own channels;
//! - softmax gathers on device 0, where the output ends.
//!
//! An exchange is a host round trip, the only path wgpu offers between devices: every device's
//! work is submitted before any is waited on, each device's block is read back once, and each
//! device is sent only the blocks it lacks.

use std::collections::HashMap;
use std::time::Instant;

use crate::error::{Error, Result};
use crate::gpu::{Dispatch, Gpu};
use crate::model::forward::{Params, plan_layer};
use crate::model::{Model, Op, Weights};
use crate::ops::conv2d::Conv2d;
use crate::ops::dense::DenseWeight;
use crate::tensor::Tensor;

/// Where a layer's output lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    /// Device g holds block g of the channels (or features).
    Split,
    /// Every device holds all of it (the model input).
    Whole,
    /// Device 0 holds all of it (the gathered output).
    Root,
}

/// What a layer needs before it runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Gather {
    None,
    /// Every device needs the whole input.
    All,
    /// Device 0 needs the whole input.
    Root,
    /// Each device needs its block of the model input.
    SliceInput,
}

/// One layer as placed: what it gathers first, where its output lives, what each device runs.
struct Placed {
    gather: Gather,
    output: Placement,
    /// Per device: the layer as it runs there (its share of the channels) and its share of
    /// the weights; None where the layer does not run.
    ops: Vec<Option<(Op, Params)>>,
}

/// One layer's row of the split report.
#[derive(Clone, Debug)]
pub struct SplitLayerReport {
    pub name: String,
    /// Devices the layer ran on.
    pub devices: Vec<usize>,
    /// Slowest device's time for the layer (exchange included), in seconds.
    pub seconds: f64,
    /// Bytes read back from devices plus bytes sent to them before the layer ran.
    pub bytes_exchanged: u64,
    /// [N, …] output shape of the whole layer.
    pub shape: Vec<usize>,
}

/// A model placed across a group of devices.
pub struct SplitModel {
    pub model: Model,
    gpus: Vec<Gpu>,
    placed: Vec<Placed>,
    plans: HashMap<usize, Plan>,
}

/// Per batch size: per device, the input copies and one output per layer, with dispatches.
struct Plan {
    /// Per device: the whole input and (where some layer needs it) its channel block.
    input_whole: Vec<Tensor>,
    input_block: Vec<Tensor>,
    /// For layer i that gathers: per device, the tensor the gathered input is written to.
    gathered: Vec<Vec<Option<Tensor>>>,
    /// outputs[i][g]: layer i's output on device g (None where the layer does not run there).
    outputs: Vec<Vec<Option<Tensor>>>,
    steps: Vec<Vec<Vec<Dispatch>>>,
}

fn block(layer: &str, n: usize, what: &str, count: usize) -> Result<usize> {
    if count % n != 0 {
        return Err(Error::Placement {
            layer: layer.into(),
            devices: n,
            message: format!("{what} ({count}) do not divide evenly by {n} devices"),
        });
    }
    Ok(count / n)
}

impl SplitModel {
    /// Places `model` over `gpus` and uploads each device's share of `weights`.
    pub fn new(gpus: &[Gpu], model: &Model, weights: &Weights) -> Result<SplitModel> {
        weights.check(model)?;
        let n = gpus.len();
        if n == 0 {
            return Err(Error::Placement {
                layer: "(all)".into(),
                devices: 0,
                message: "a device group needs a device".into(),
            });
        }
        let mut placed: Vec<Placed> = Vec::new();
        let mut current = Placement::Whole;
        for (i, layer) in model.layers.iter().enumerate() {
            let name = &layer.name;
            let input = model.input_of(i);
            let fail = |message: String| Error::Placement { layer: name.clone(), devices: n, message };
            let per_device = |f: &dyn Fn(usize, &Gpu) -> Result<(Op, Params)>| -> Result<Vec<Option<(Op, Params)>>> {
                gpus.iter().enumerate().map(|(g, gpu)| f(g, gpu).map(Some)).collect()
            };
            // Layers whose op is the same on every device, with no parameters.
            let everywhere = |op: Op| per_device(&|_, _| Ok((op.clone(), Params::None)));
            let (w_name, b_name) = (format!("{name}.weight"), format!("{name}.bias"));
            let p = match &layer.op {
                Op::Conv2d { out_channels, kernel, attrs } => {
                    let cout_d = block(name, n, "output channels", *out_channels)?;
                    let local = attrs.groups % n == 0;
                    if attrs.groups > 1 && !local {
                        return Err(fail(format!("groups ({}) do not divide evenly by {n} devices", attrs.groups)));
                    }
                    let cin_d = if local { block(name, n, "input channels", input[0])? } else { input[0] };
                    let row = cin_d / if local { attrs.groups / n } else { 1 } * kernel[0] * kernel[1];
                    let (w, b) = (weights.get(&w_name)?, weights.get(&b_name)?);
                    let device_attrs = Conv2d { groups: if local { attrs.groups / n } else { 1 }, ..*attrs };
                    let ops = per_device(&|g, gpu| {
                        let shape = [cout_d, row / (kernel[0] * kernel[1]), kernel[0], kernel[1]];
                        let op = Op::Conv2d { out_channels: cout_d, kernel: *kernel, attrs: device_attrs };
                        let params = Params::Conv {
                            w: Tensor::from_slice(gpu, &w[g * cout_d * row..(g + 1) * cout_d * row], &shape)?,
                            b: Tensor::from_slice(gpu, &b[g * cout_d..(g + 1) * cout_d], &[cout_d])?,
                        };
                        Ok((op, params))
                    })?;
                    let gather = match (local, current) {
                        (true, Placement::Split) | (false, Placement::Whole) => Gather::None,
                        (true, Placement::Whole) if i == 0 => Gather::SliceInput,
                        (false, Placement::Split) => Gather::All,
                        _ => return Err(fail(format!("cannot feed it from a {current:?} input"))),
                    };
                    Placed { gather, output: Placement::Split, ops }
                }
                Op::Dense { out_features } => {
                    let out_d = block(name, n, "output features", *out_features)?;
                    let f = input[0];
                    let (w, b) = (weights.get(&w_name)?, weights.get(&b_name)?);
                    let ops = per_device(&|g, gpu| {
                        let rows = g * out_d..(g + 1) * out_d;
                        let weight =
                            DenseWeight::upload(gpu, &w[rows.start * f..rows.end * f], Some(&b[rows]), out_d, f)?;
                        Ok((Op::Dense { out_features: out_d }, Params::Dense(weight)))
                    })?;
                    let gather = if current == Placement::Split { Gather::All } else { Gather::None };
                    Placed { gather, output: Placement::Split, ops }
                }
                Op::Softmax => {
                    let mut ops: Vec<Option<(Op, Params)>> = (0..n).map(|_| None).collect();
                    ops[0] = Some((Op::Softmax, Params::None));
                    let gather = if current == Placement::Split { Gather::Root } else { Gather::None };
                    Placed { gather, output: Placement::Root, ops }
                }
                Op::Lrn(l) => {
                    if current == Placement::Split && l.groups % n != 0 {
                        return Err(fail(format!(
                            "LRN with groups {} would normalise across devices; it needs groups a multiple of {n}",
                            l.groups
                        )));
                    }
                    let device_lrn = if current == Placement::Split { l.with_groups(l.groups / n) } else { *l };
                    Placed { gather: Gather::None, output: current, ops: everywhere(Op::Lrn(device_lrn))? }
                }
                Op::Add { from, relu } => {
                    let from_index = model.layers.iter().position(|l| &l.name == from);
                    let source = from_index.map_or(Placement::Whole, |j| placed[j].output);
                    let gather = match (current, source) {
                        (a, b) if a == b => Gather::None,
                        (Placement::Split, Placement::Whole) if from_index.is_none() => Gather::SliceInput,
                        _ => return Err(fail(format!("cannot add a {source:?} tensor to a {current:?} one"))),
                    };
                    let op = Op::Add { from: from.clone(), relu: *relu };
                    Placed { gather, output: current, ops: everywhere(op)? }
                }
                simple => {
                    if current == Placement::Root {
                        return Err(fail("layers after the gathered softmax are not supported".into()));
                    }
                    // Per-channel layers run where their channels are.
                    Placed { gather: Gather::None, output: current, ops: everywhere(simple.clone())? }
                }
            };
            current = p.output;
            placed.push(p);
        }
        Ok(SplitModel { model: model.clone(), gpus: gpus.to_vec(), placed, plans: HashMap::new() })
    }

    /// The devices of the group.
    pub fn gpus(&self) -> &[Gpu] {
        &self.gpus
    }

    /// Bytes of weights and biases held by each device.
    pub fn weight_bytes(&self) -> Vec<u64> {
        let mut bytes = vec![0u64; self.gpus.len()];
        for p in &self.placed {
            for (g, op) in p.ops.iter().enumerate() {
                bytes[g] += op.as_ref().map_or(0, |(_, params)| params.bytes());
            }
        }
        bytes
    }

    /// Per device, the shape of layer `i`'s output there, for `batch` images.
    fn device_shape(&self, i: usize, batch: usize) -> Vec<usize> {
        let full = [&[batch], self.model.shapes[i].as_slice()].concat();
        match self.placed[i].output {
            Placement::Split => {
                let mut s = full;
                s[1] /= self.gpus.len();
                s
            }
            _ => full,
        }
    }

    fn input_shape(&self, batch: usize, split: bool) -> Vec<usize> {
        let mut s = [&[batch], self.model.input.as_slice()].concat();
        if split {
            s[1] /= self.gpus.len();
        }
        s
    }

    fn build_plan(&self, batch: usize) -> Result<Plan> {
        let n = self.gpus.len();
        let needs_block = self.placed.iter().any(|p| p.gather == Gather::SliceInput);
        if needs_block {
            block("input", n, "input channels", self.model.input[0])?;
        }
        let input_whole =
            self.gpus.iter().map(|g| Tensor::zeros(g, &self.input_shape(batch, false))).collect::<Result<Vec<_>>>()?;
        let input_block = if needs_block {
            self.gpus.iter().map(|g| Tensor::zeros(g, &self.input_shape(batch, true))).collect::<Result<Vec<_>>>()?
        } else {
            vec![]
        };
        let mut gathered = Vec::new();
        let mut outputs: Vec<Vec<Option<Tensor>>> = Vec::new();
        let mut steps = Vec::new();
        for (i, p) in self.placed.iter().enumerate() {
            let full_in = [&[batch], self.model.input_of(i)].concat();
            let mut gathered_here = Vec::new();
            let mut outs = Vec::new();
            let mut device_steps = Vec::new();
            for (g, gpu) in self.gpus.iter().enumerate() {
                let Some(op) = &p.ops[g] else {
                    gathered_here.push(None);
                    outs.push(None);
                    device_steps.push(vec![]);
                    continue;
                };
                let gather_target = match p.gather {
                    Gather::All => Some(Tensor::zeros(gpu, &full_in)?),
                    Gather::Root if g == 0 => Some(Tensor::zeros(gpu, &full_in)?),
                    _ => None,
                };
                let x: Tensor = match (&gather_target, p.gather) {
                    (Some(t), _) => t.clone(),
                    (None, Gather::SliceInput) if i == 0 => input_block[g].clone(),
                    _ if i == 0 => input_whole[g].clone(),
                    _ => outputs[i - 1][g].clone().ok_or_else(|| Error::Placement {
                        layer: self.model.layers[i].name.clone(),
                        devices: n,
                        message: "its input is not on this device".into(),
                    })?,
                };
                let shape = self.device_shape(i, batch);
                let (op, params) = op;
                let (out, dispatches) = match op {
                    // Views of their input: no buffer, no dispatch.
                    Op::Dropout | Op::Flatten => (x.reshape(&shape)?, vec![]),
                    _ => {
                        let out = Tensor::zeros(gpu, &shape)?;
                        let other = match op {
                            Op::Add { from, .. } => {
                                let other = match self.model.layers.iter().position(|l| &l.name == from) {
                                    Some(j) => outputs[j][g].clone(),
                                    None if p.gather == Gather::SliceInput => input_block.get(g).cloned(),
                                    None => Some(input_whole[g].clone()),
                                };
                                Some(other.ok_or_else(|| Error::Placement {
                                    layer: self.model.layers[i].name.clone(),
                                    devices: n,
                                    message: "the added tensor is not on this device".into(),
                                })?)
                            }
                            _ => None,
                        };
                        let dispatches = plan_layer(op, params, &x, other.as_ref(), &out)?;
                        (out, dispatches)
                    }
                };
                gathered_here.push(gather_target);
                outs.push(Some(out));
                device_steps.push(dispatches);
            }
            gathered.push(gathered_here);
            outputs.push(outs);
            steps.push(device_steps);
        }
        Ok(Plan { input_whole, input_block, gathered, outputs, steps })
    }

    /// Runs `batch` images through the group and returns the final output (gathered).
    pub fn forward(&mut self, input: &[f32], batch: usize) -> Result<Vec<f32>> {
        Ok(self.run(input, batch, false)?.0)
    }

    /// Like [`SplitModel::forward`], but waits after each layer to time it; returns the
    /// output and one report row per layer.
    pub fn forward_report(&mut self, input: &[f32], batch: usize) -> Result<(Vec<f32>, Vec<SplitLayerReport>)> {
        self.run(input, batch, true)
    }

    fn run(&mut self, input: &[f32], batch: usize, timed: bool) -> Result<(Vec<f32>, Vec<SplitLayerReport>)> {
        crate::ops::check_len(&self.input_shape(batch, false), input)?;
        if !self.plans.contains_key(&batch) {
            let plan = self.build_plan(batch)?;
            self.plans.insert(batch, plan);
        }
        let plan = &self.plans[&batch];
        let n = self.gpus.len();
        for t in &plan.input_whole {
            t.write(input)?;
        }
        if !plan.input_block.is_empty() {
            for (g, t) in plan.input_block.iter().enumerate() {
                t.write(&take_block(input, batch, n, g))?;
            }
        }
        let mut pending: Vec<Vec<&Dispatch>> = vec![vec![]; n];
        let mut reports = Vec::new();
        for (i, p) in self.placed.iter().enumerate() {
            let start = Instant::now();
            let mut bytes = 0u64;
            if matches!(p.gather, Gather::All | Gather::Root) {
                // Submit every device's work before waiting on any.
                for (g, gpu) in self.gpus.iter().enumerate() {
                    gpu.submit("forward", &std::mem::take(&mut pending[g]))?;
                }
                bytes += self.exchange(plan, i, batch)?;
            }
            for (g, d) in plan.steps[i].iter().enumerate() {
                pending[g].extend(d.iter());
            }
            if timed {
                for (g, gpu) in self.gpus.iter().enumerate() {
                    gpu.run(&self.model.layers[i].name, &std::mem::take(&mut pending[g]))?;
                }
                reports.push(SplitLayerReport {
                    name: self.model.layers[i].name.clone(),
                    devices: (0..n).filter(|&g| p.ops[g].is_some()).collect(),
                    seconds: start.elapsed().as_secs_f64(),
                    bytes_exchanged: bytes,
                    shape: [&[batch], self.model.shapes[i].as_slice()].concat(),
                });
            }
        }
        for (g, gpu) in self.gpus.iter().enumerate() {
            gpu.submit("forward", &std::mem::take(&mut pending[g]))?;
        }
        let last = plan.outputs.last().ok_or_else(|| Error::Placement {
            layer: "(none)".into(),
            devices: n,
            message: "the model has no layers".into(),
        })?;
        let output = match self.placed.last().map(|p| p.output) {
            Some(Placement::Split) => {
                let parts =
                    last.iter().map(|t| t.as_ref().map_or(Ok(vec![]), Tensor::download)).collect::<Result<Vec<_>>>()?;
                interleave(&parts, batch)
            }
            _ => last[0].as_ref().map_or(Ok(vec![]), Tensor::download)?,
        };
        Ok((output, reports))
    }
}

impl SplitModel {
    /// Assembles layer i's whole input on the devices that gather it: each block another
    /// device needs is read back once and sent only where it is missing; a device's own block
    /// is copied on the device. Returns the bytes read back plus the bytes sent.
    fn exchange(&self, plan: &Plan, i: usize, batch: usize) -> Result<u64> {
        let blocks = &plan.outputs[i - 1];
        let targets = &plan.gathered[i];
        let needed = |g: usize| targets.iter().enumerate().any(|(t, x)| x.is_some() && t != g);
        let parts: Vec<Option<Vec<f32>>> = blocks
            .iter()
            .enumerate()
            .map(|(g, b)| match b {
                Some(b) if needed(g) => b.download().map(Some),
                _ => Ok(None),
            })
            .collect::<Result<_>>()?;
        let mut bytes: u64 = parts.iter().flatten().map(|p| 4 * p.len() as u64).sum();
        for (t, target) in targets.iter().enumerate() {
            let Some(target) = target else { continue };
            let per_image = target.len() / batch;
            let per = per_image / blocks.len();
            let mut own = Vec::new();
            for (g, part) in parts.iter().enumerate() {
                for k in 0..batch {
                    let dst = k * per_image + g * per;
                    match part {
                        Some(p) if g != t => {
                            target.write_at(dst, &p[k * per..(k + 1) * per])?;
                            bytes += 4 * per as u64;
                        }
                        _ => own.push((k * per, dst, per)),
                    }
                }
            }
            if let Some(b) = &blocks[t] {
                b.copy_regions_to(target, &own)?;
            }
        }
        Ok(bytes)
    }
}

/// Whole [N, …] from per-device blocks [N, …/G]: image by image, blocks in device order.
fn interleave(parts: &[Vec<f32>], batch: usize) -> Vec<f32> {
    let mut whole = Vec::with_capacity(parts.iter().map(Vec::len).sum());
    for n in 0..batch {
        for p in parts {
            let per = p.len() / batch;
            whole.extend_from_slice(&p[n * per..(n + 1) * per]);
        }
    }
    whole
}

/// Device g's channel block of a whole [N, C, …] tensor split over `devices`.
fn take_block(whole: &[f32], batch: usize, devices: usize, g: usize) -> Vec<f32> {
    let per_image = whole.len() / batch;
    let per = per_image / devices;
    (0..batch).flat_map(|n| whole[n * per_image + g * per..n * per_image + (g + 1) * per].iter().copied()).collect()
}
