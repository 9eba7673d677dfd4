//! `GpuModel`: a model placed over a group of devices — one device is the N = 1 case — with
//! each device's share of the weights uploaded once, and per batch size a plan recorded once:
//! every activation buffer and launch, so that a pass allocates nothing on the devices after
//! the first at that size.

use std::collections::HashMap;
use std::time::Instant;

use crate::attrs::check_len;
use crate::error::{Error, Result, Shape};
use crate::gpu::Gpu;
use crate::launch::Launch;
use crate::model::{Model, Op, Source, Weights};
use crate::ops::scratch::Shared;
use crate::ops::{copies, copy};
use crate::pipeline::Step;
use crate::split::device_layer::DeviceLayer;
use crate::split::exchange::{exchange, gather_output, gather_steps, take_block};
use crate::split::fusion::{Fusion, fusion};
use crate::split::placement::{Gather, Placement, place};
use crate::split::plan::Plan;
use crate::split::reuse::Reuse;
use crate::tensor::Tensor;

/// A model with its weights on one device or split across a group (see [`crate::split`]).
pub struct GpuModel {
    model: Model,
    gpus: Vec<Gpu>,
    placement: Placement,
    /// fused[i]: layer i runs inside layer i − 1 (an activation, a PReLU, an add after a
    /// convolution; see `fusion`), its output that layer's.
    fused: Vec<bool>,
    /// residual[i]: what convolution i adds to its output as it stores (the add after it,
    /// fused).
    residual: Vec<Option<Source>>,
    /// layers[i][g]: layer i as device g runs it (None where it does not run there).
    layers: Vec<Vec<Option<DeviceLayer>>>,
    plans: HashMap<usize, Plan>,
}

/// One layer of [`GpuModel::forward_report`] (or two: an activation runs inside the convolution,
/// dense layer or affine map before it, and they report as one, `conv1+relu1`).
#[derive(Clone, Debug)]
pub struct LayerReport {
    /// The layer's name (`conv1+relu1` when an activation ran inside it).
    pub name: String,
    /// The model layer whose output this is (the last of the layers that ran).
    pub layer: usize,
    /// Devices the layer ran on.
    pub devices: Vec<usize>,
    /// Time from the layer's start to the slowest device's finish, exchange included.
    pub seconds: f64,
    /// The slowest device's time running the layer's kernels: GPU timestamps where the
    /// adapter has them ([`Gpu::has_timestamps`]), else the wall clock of its submission.
    pub gpu_seconds: f64,
    /// Bytes read back from devices plus bytes sent to them before the layer ran.
    pub bytes_exchanged: u64,
    /// `[N, …]` output shape of the whole layer.
    pub shape: Vec<usize>,
    /// The whole output, gathered from the devices.
    pub output: Vec<f32>,
}

impl GpuModel {
    /// Uploads `weights` (checked in full first: nothing is half-loaded) to `gpu`.
    pub fn new(gpu: &Gpu, model: &Model, weights: &Weights) -> Result<GpuModel> {
        Self::split(std::slice::from_ref(gpu), model, weights)
    }

    /// Places `model` over `gpus` and uploads each device's share of `weights`.
    pub fn split(gpus: &[Gpu], model: &Model, weights: &Weights) -> Result<GpuModel> {
        weights.check(model)?;
        let placement = place(model, gpus.len())?;
        let Fusion { fused, residual } = fusion(model, gpus.len());
        let mut layers = Vec::with_capacity(model.layers().len());
        for (i, placed) in placement.layers().iter().enumerate() {
            // The layers that run inside this one.
            let within: Vec<usize> = (i + 1..fused.len()).take_while(|&j| fused[j]).collect();
            let per_device = placed
                .shares
                .iter()
                .zip(gpus)
                .map(|(share, gpu)| {
                    share
                        .as_ref()
                        .map(|s| match fused[i] {
                            true => Ok(DeviceLayer::View),
                            false => DeviceLayer::upload(gpu, model, i, s, weights, &within, residual[i].is_some()),
                        })
                        .transpose()
                })
                .collect::<Result<Vec<_>>>()?;
            layers.push(per_device);
        }
        let model = model.clone();
        Ok(GpuModel { model, gpus: gpus.to_vec(), placement, fused, residual, layers, plans: HashMap::new() })
    }

    /// The model.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The devices of the group.
    pub fn gpus(&self) -> &[Gpu] {
        &self.gpus
    }

    /// Who holds what.
    pub fn placement(&self) -> &Placement {
        &self.placement
    }

    /// Bytes of weights and biases held by each device.
    pub fn weight_bytes(&self) -> Vec<u64> {
        (0..self.gpus.len())
            .map(|g| self.layers.iter().filter_map(|l| l[g].as_ref()).map(DeviceLayer::bytes).sum())
            .collect()
    }

    /// Runs `batch` images (`input` is `[N, C, H, W]` flattened) and returns the output.
    pub fn forward(&mut self, input: &[f32], batch: usize) -> Result<Vec<f32>> {
        let mut reports = self.run(input, batch, Pass::Plain)?;
        Ok(reports.pop().map(|r| r.output).unwrap_or_default())
    }

    /// Like [`GpuModel::forward`], and the devices' time running the pass: GPU timestamps
    /// where the adapter has them ([`Gpu::has_timestamps`]), else the wall clock of its
    /// submissions (the slowest device's, summed over the exchanges).
    pub fn forward_timed(&mut self, input: &[f32], batch: usize) -> Result<(Vec<f32>, f64)> {
        let last = self.run(input, batch, Pass::Timed)?.pop();
        Ok(last.map(|r| (r.output, r.gpu_seconds)).unwrap_or_default())
    }

    /// Like [`GpuModel::forward`], but waits after each layer to time it and downloads every
    /// layer's output: one report per layer.
    pub fn forward_report(&mut self, input: &[f32], batch: usize) -> Result<Vec<LayerReport>> {
        self.run(input, batch, Pass::Layers)
    }

    /// A forward pass that stays on the device: from `input` (`[N, …]` of the model's input)
    /// into `output` (`[N, …]` of its output), both on the model's device (tensors of the
    /// app's buffers among them, [`Tensor::from_buffer`]). The input is copied into the plan
    /// for N images (made once, on the first call for N), every layer runs, and the output is
    /// copied out: nothing is allocated after the first call. Run the launch with
    /// [`Launch::run`] or record it into the app's encoder with [`Launch::encode`], as often
    /// as needed. Models on one device only: a split exchanges activations through the host.
    pub fn record_forward(&mut self, input: &Tensor, output: &Tensor) -> Result<Launch> {
        const OP: &str = "GpuModel::record_forward";
        let gpu = self.gpus[0].clone();
        if self.gpus.len() > 1 {
            let got = format!("split over {} devices", self.gpus.len());
            return Err(Error::KernelShape { kernel: OP, runs: "models on one device", got });
        }
        input.check_on(&gpu, OP, "input")?;
        output.check_on(&gpu, OP, "output")?;
        let batch = input.shape()[0];
        let last = self.model.layers().len() - 1;
        for (t, per_image) in [(input, self.model.input()), (output, self.model.output_of(last))] {
            let expected = [&[batch], per_image].concat();
            if t.shape() != expected {
                return Err(Error::Mismatch { op: OP, a: t.shape().into(), b: expected.as_slice().into() });
            }
        }
        if !self.plans.contains_key(&batch) {
            let plan = self.build_plan(batch)?;
            self.plans.insert(batch, plan);
        }
        let plan = &self.plans[&batch];
        let mut steps: Vec<Step> =
            plan.input_whole.iter().chain(&plan.input_block).map(|t| copy(input, 0, t, 0, input.len())).collect();
        for (i, p) in self.placement.layers().iter().enumerate() {
            if matches!(p.gather, Gather::All | Gather::Root) {
                steps.extend(gather_steps(plan, &self.model, i, batch));
            }
            steps.extend(plan.launches[i][0].iter().flat_map(|l| l.steps().iter().cloned()));
        }
        let result = plan.outputs[last][0].as_ref().ok_or_else(|| self.misplaced(last))?;
        steps.push(copy(result, 0, output, 0, output.len()));
        Ok(Launch::with_steps(&gpu, "forward", steps))
    }

    /// Runs [`GpuModel::record_forward`]'s pass without waiting: `output` holds the result
    /// when the queue reaches it (a download, or the app's next pass, sees it).
    pub fn forward_into(&mut self, input: &Tensor, output: &Tensor) -> Result<()> {
        self.record_forward(input, output)?.run()
    }

    fn build_plan(&self, batch: usize) -> Result<Plan> {
        let n = self.gpus.len();
        let placed = self.placement.layers();
        let whole = [&[batch], self.model.input()].concat();
        let input_whole = self.gpus.iter().map(|g| Tensor::zeros(g, &whole)).collect::<Result<Vec<_>>>()?;
        let reads_input =
            |i: usize| self.model.reads_of(i)[0] == Source::Input || self.model.source_of(i) == Some(Source::Input);
        let slices_input = (0..placed.len()).any(|i| placed[i].gather == Gather::SliceInput && reads_input(i));
        let input_block = if slices_input {
            let mut block = whole.clone();
            block[1] /= n;
            self.gpus.iter().map(|g| Tensor::zeros(g, &block)).collect::<Result<Vec<_>>>()?
        } else {
            vec![]
        };
        let mut plan = Plan {
            input_whole,
            input_block,
            gathered: vec![],
            outputs: vec![],
            exchange_staging: vec![],
            launches: vec![],
            readback: vec![],
        };
        // On one device, layer outputs share buffers once read (a split keeps its own per layer:
        // its exchanges and channel blocks read them on their own schedule). Layers share their
        // kernels' intermediates on each device: none outlives its layer's launch.
        let mut reuse = (n == 1).then(|| {
            let sees: Vec<bool> = self.layers.iter().map(|l| matches!(l[0], Some(DeviceLayer::View))).collect();
            Reuse::new(&self.model, &sees, &self.fused)
        });
        let scratch = Shared::begin(&self.gpus);
        for (i, p) in placed.iter().enumerate() {
            scratch.next_layer();
            let (mut gathered, mut outs, mut launches) = (vec![], vec![], vec![]);
            for g in 0..n {
                let (target, out, launch) = match &self.layers[i][g] {
                    Some(layer) => self.plan_on(&plan, i, g, layer, batch, reuse.as_mut())?,
                    None => (None, None, None),
                };
                gathered.push(target);
                outs.push(out);
                launches.push(launch);
            }
            // A block that another device gathers comes back through a staging buffer.
            let staging = match p.gather {
                Gather::All | Gather::Root => (self.model.reads_of(i).iter())
                    .map(|&s| match s {
                        Source::Layer(j) => (plan.outputs[j].iter())
                            .map(|t| t.as_ref().map(Tensor::staging_buffer).transpose())
                            .collect::<Result<Vec<_>>>(),
                        Source::Input => Ok(vec![]),
                    })
                    .collect::<Result<_>>()?,
                _ => vec![],
            };
            plan.exchange_staging.push(staging);
            plan.gathered.push(gathered);
            plan.outputs.push(outs);
            plan.launches.push(launches);
        }
        let last = plan.outputs.last().map(Vec::as_slice).unwrap_or_default();
        plan.readback =
            last.iter().map(|t| t.as_ref().map(Tensor::staging_buffer).transpose()).collect::<Result<_>>()?;
        Ok(plan)
    }

    /// Layer `i` on device `g` for `batch` images: the tensor it gathers its input into (if it
    /// gathers), its output (from `reuse`'s buffers where given), and its recorded launch (none
    /// for a view).
    fn plan_on(
        &self,
        plan: &Plan,
        i: usize,
        g: usize,
        layer: &DeviceLayer,
        batch: usize,
        reuse: Option<&mut Reuse>,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Launch>)> {
        let gpu = &self.gpus[g];
        let p = &self.placement.layers()[i];
        // What a gather assembles: the input, or for a concatenation its output.
        let concat = matches!(self.model.layers()[i].op, Op::Concat);
        let gathered = if concat { self.model.output_of(i) } else { self.model.input_of(i) };
        let full = [&[batch], gathered].concat();
        let target = match p.gather {
            Gather::All => Some(Tensor::zeros(gpu, &full)?),
            Gather::Root if g == 0 => Some(Tensor::zeros(gpu, &full)?),
            _ => None,
        };
        let reads = (self.model.reads_of(i).iter())
            .map(|&s| self.read_on(plan, s, g, p.gather, i))
            .collect::<Result<Vec<_>>>()?;
        let mut x = match &target {
            Some(t) => t.clone(),
            None => reads[0].clone(),
        };
        // A grouped convolution of a layer's whole output, or an add or product of a split
        // tensor and a whole one, takes this device's channel block of the whole, copied on
        // the device before it runs.
        let n = self.gpus.len();
        let slices = p.gather == Gather::SliceInput;
        let mut prefix: Option<Launch> = None;
        let mut take = |whole: &Tensor| -> Result<Tensor> {
            let (block, copy) = block_of(whole, batch, n, g)?;
            prefix = Some(match prefix.take() {
                Some(before) => before.then(copy)?,
                None => copy,
            });
            Ok(block)
        };
        let conv = matches!(self.model.layers()[i].op, Op::Conv2d { .. });
        if conv && slices && self.model.reads_of(i)[0] != Source::Input {
            x = take(&x)?;
        }
        let other = match (self.residual[i], self.model.source_of(i)) {
            (Some(term), _) => self.read_on(plan, term, g, p.gather, i)?,
            (None, Some(Source::Layer(j))) => {
                let held = plan.outputs[j][g].clone().ok_or_else(|| self.misplaced(i))?;
                if slices { take(&held)? } else { held }
            }
            (None, Some(Source::Input)) => self.model_input_on(plan, g, p.gather)?,
            (None, None) => x.clone(),
        };
        let shape = self.placement.device_shape(&self.model, i, batch);
        if self.fused[i] {
            // Its work is done in the layer before it, into that layer's output.
            let before = plan.outputs[i - 1][g].as_ref().ok_or_else(|| self.misplaced(i))?;
            return Ok((target, Some(before.reshape(&shape)?), None));
        }
        if matches!(layer, DeviceLayer::View) || (concat && target.is_some()) {
            return Ok((target, Some(x.reshape(&shape)?), None));
        }
        let out = match reuse {
            Some(r) => r.output(gpu, i, &shape, self.residual[i])?,
            None => Tensor::zeros(gpu, &shape)?,
        };
        let parts: Vec<&Tensor> = reads.iter().collect();
        let launch = match (prefix, layer.record(&x, &other, &parts, &out)?) {
            (Some(copy), Some(run)) => Some(copy.then(run)?),
            (_, launch) => launch,
        };
        Ok((target, Some(out), launch))
    }

    /// What `source` names on device `g`, as layer `i` reads it when it gathers nothing.
    fn read_on(&self, plan: &Plan, source: Source, g: usize, gather: Gather, i: usize) -> Result<Tensor> {
        match source {
            Source::Input => self.model_input_on(plan, g, gather),
            Source::Layer(j) => plan.outputs[j][g].clone().ok_or_else(|| self.misplaced(i)),
        }
    }

    /// The model's input on device `g`: its channel block when the layer takes one.
    fn model_input_on(&self, plan: &Plan, g: usize, gather: Gather) -> Result<Tensor> {
        match gather {
            Gather::SliceInput => plan.input_block.get(g).cloned().ok_or_else(|| self.misplaced(0)),
            _ => Ok(plan.input_whole[g].clone()),
        }
    }

    /// Layer `i` found its input missing on a device: a placement that cannot run.
    fn misplaced(&self, i: usize) -> Error {
        Error::Placement {
            layer: self.model.layers()[i].name.clone(),
            devices: self.gpus.len(),
            problem: crate::error::PlacementProblem::Input { held: "on another device" },
        }
    }

    fn run(&mut self, input: &[f32], batch: usize, pass: Pass) -> Result<Vec<LayerReport>> {
        let by_layer = pass == Pass::Layers;
        let whole = [&[batch], self.model.input()].concat();
        if batch == 0 {
            return Err(Error::Empty { op: "forward", what: "input", shape: Shape(whole) });
        }
        check_len(&whole, input)?;
        if !self.plans.contains_key(&batch) {
            let plan = self.build_plan(batch)?;
            self.plans.insert(batch, plan);
        }
        let plan = &self.plans[&batch];
        let n = self.gpus.len();
        for t in &plan.input_whole {
            t.write(input)?;
        }
        for (g, t) in plan.input_block.iter().enumerate() {
            t.write(&take_block(input, batch, n, g))?;
        }
        let mut pending: Vec<Vec<&Launch>> = vec![vec![]; n];
        let mut reports = Vec::new();
        // A report row starts with a layer and ends after the activation fused into it, if any.
        let (mut start, mut bytes, mut gpu_seconds) = (Instant::now(), 0u64, 0.0);
        let mut pass_seconds = 0.0;
        for (i, p) in self.placement.layers().iter().enumerate() {
            if !self.fused[i] {
                (start, bytes, gpu_seconds) = (Instant::now(), 0, 0.0);
            }
            if matches!(p.gather, Gather::All | Gather::Root) {
                // Submit every device's work before waiting on any.
                pass_seconds += self.flush(&mut pending, pass)?;
                bytes += exchange(plan, &self.model, i, batch)?;
            }
            for (g, launch) in plan.launches[i].iter().enumerate() {
                pending[g].extend(launch);
            }
            if by_layer {
                gpu_seconds += self.time(&mut pending)?;
            } else if i + 1 == plan.launches.len() {
                pass_seconds += self.flush(&mut pending, pass)?;
            }
            if by_layer && !self.fused.get(i + 1).copied().unwrap_or(false) {
                let seconds = start.elapsed().as_secs_f64();
                reports.push(self.report(plan, i, batch, [seconds, gpu_seconds], bytes)?);
            }
        }
        if !by_layer {
            let last = self.model.layers().len() - 1;
            let output =
                gather_output(&plan.outputs[last], self.placement.layers()[last].output, batch, &plan.readback)?;
            reports.push(LayerReport {
                name: self.model.layers()[last].name.clone(),
                layer: last,
                devices: self.placement.devices_of(last),
                seconds: 0.0,
                gpu_seconds: pass_seconds,
                bytes_exchanged: 0,
                shape: [&[batch], self.model.output_of(last)].concat(),
                output,
            });
        }
        Ok(reports)
    }

    /// Submits each device's pending launches; in a timed pass, waits for them: the slowest
    /// device's seconds (else 0).
    fn flush(&self, pending: &mut [Vec<&Launch>], pass: Pass) -> Result<f64> {
        if pass == Pass::Timed {
            return self.time(pending);
        }
        for (gpu, launches) in self.gpus.iter().zip(pending) {
            Launch::submit_all(gpu, "forward", std::mem::take(launches))?;
        }
        Ok(0.0)
    }

    /// Runs each device's pending launches, all submitted before any is waited on: the
    /// slowest device's seconds.
    fn time(&self, pending: &mut [Vec<&Launch>]) -> Result<f64> {
        let timings = (self.gpus.iter().zip(pending))
            .map(|(gpu, launches)| Launch::submit_all_timed(gpu, "forward", std::mem::take(launches)))
            .collect::<Result<Vec<_>>>()?;
        let mut slowest: f64 = 0.0;
        for (gpu, timing) in self.gpus.iter().zip(timings) {
            slowest = slowest.max(gpu.finish_timing("forward", timing)?);
        }
        Ok(slowest)
    }

    /// Layer `i`'s report (wall and device seconds), its output gathered from the devices.
    fn report(
        &self,
        plan: &Plan,
        i: usize,
        batch: usize,
        [seconds, gpu_seconds]: [f64; 2],
        bytes: u64,
    ) -> Result<LayerReport> {
        let staging: Vec<_> = plan.outputs[i]
            .iter()
            .map(|t| t.as_ref().map(Tensor::staging_buffer).transpose())
            .collect::<Result<_>>()?;
        // The row's layers: the one that ran and those fused into it.
        let first = (0..=i).rev().find(|&j| !self.fused[j]).unwrap_or(0);
        let name = (first..=i).map(|j| self.model.layers()[j].name.as_str()).collect::<Vec<_>>().join("+");
        Ok(LayerReport {
            name,
            layer: i,
            devices: self.placement.devices_of(i),
            seconds,
            gpu_seconds,
            bytes_exchanged: bytes,
            shape: [&[batch], self.model.output_of(i)].concat(),
            output: gather_output(&plan.outputs[i], self.placement.layers()[i].output, batch, &staging)?,
        })
    }
}

/// What a pass measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pass {
    /// Nothing: submit and read the output back.
    Plain,
    /// The devices' time for the whole pass.
    Timed,
    /// Each layer: wait after it, time it, read its output back.
    Layers,
}

/// Device `g`'s channel block of `whole` (`[N, C, …]` over `n` devices), and the copies that
/// fill it.
fn block_of(whole: &Tensor, batch: usize, n: usize, g: usize) -> Result<(Tensor, Launch)> {
    let mut shape = whole.shape().to_vec();
    shape[1] /= n;
    let block = Tensor::zeros(whole.gpu(), &shape)?;
    let per = block.len() / batch;
    let regions: Vec<_> = (0..batch).map(|k| (k * per * n + g * per, k * per, per)).collect();
    let copy = copies(whole, &block, &regions);
    Ok((block, copy))
}
