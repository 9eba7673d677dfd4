//! `dojang-validate bench`: the layers that matter, timed on this adapter beside its yardstick
//! (a plain 1024³ GEMM), one line each: median time, GFLOP/s, GB/s where it applies, and the
//! kernel the autotuner chose. Weights are prepared and kernels chosen outside the timing.
//!
//! A shared machine's speed drifts by tens of percent over seconds, so each layer's runs
//! alternate with runs of the yardstick, and its share of the roofline compares the two
//! medians of the same stretch of time; each timed run follows an untimed one of the same
//! launch, so that both are timed warm (`time_launch`). Layers are timed on the device (GPU
//! timestamps where the adapter has them); whole models by the wall clock of `forward`, upload
//! and download included. A model's passes alternate with both yardsticks' runs (its bound
//! comes from those), and with the passes it is compared with: a split's with passes on one
//! device, a batch's with passes at batch 1 (its cost per image against batch 1's).

use std::cell::{OnceCell, RefCell};
use std::time::Instant;

use dojang::model::{Weights, zoo};
use dojang::ops::{
    ConvWeight, Dense, DenseWeight, Lrn, Pool2d, PoolKind, record_add, record_lrn, record_pool2d, record_relu,
    record_softmax,
};
use dojang::tools::cases::{self, ConvCase, DenseCase};
use dojang::tools::{roofline_gemm, roofline_gemv};
use dojang::{Gpu, GpuModel, Launch, Result, Tensor};
use serde::Serialize;

use crate::report::median;

/// One line of the bench.
#[derive(Clone, Debug, Serialize)]
pub struct BenchResult {
    pub name: String,
    /// The yardstick's GFLOP/s in the same stretch of time.
    pub roofline_gflops: f64,
    pub median_ms: f64,
    pub gflops: Option<f64>,
    pub gbps: Option<f64>,
    pub kernel: String,
    /// GFLOP/s over the roofline's for compute-bound layers; for batch-1 dense layers, GB/s
    /// over `roofline-gemv`'s; for models, the sum of their layers' roofline times (compute or
    /// streaming, whichever bounds each) over the model's time (the last two when
    /// `roofline-gemv` ran).
    pub of_roofline: Option<f64>,
    /// For a model split over devices: its time over the same model's on one device, in runs
    /// taken in turn with its own, minus one (0.08: the split takes 8% longer).
    pub over_one_device: Option<f64>,
    /// For a model at batch N > 1 on one device: its time per image over the same model's at
    /// batch 1, in runs taken in turn with its own, minus one (−0.07: an image costs 7% less).
    pub over_batch1: Option<f64>,
    /// For a model: its flops at the yardstick's GFLOP/s plus its weights at the streaming
    /// yardstick's GB/s (`roofline-gemv`'s launch), both timed in turn with the model's passes
    /// (a lower bound: activations and launches are left out).
    pub bound_ms: Option<f64>,
}

/// Every layer name, in the order they run.
pub const NAMES: &[&str] = &[
    "roofline-gemm-1024",
    "alexnet-conv1",
    "alexnet-conv2",
    "alexnet-conv3",
    "alexnet-conv4",
    "alexnet-conv5",
    "alexnet-pool1",
    "alexnet-lrn1",
    "relu-4m",
    "add-4m",
    "softmax-64x1000",
    "bottleneck-1x1-256-64",
    "bottleneck-1x1-64-256",
    "downsample-1x1-s2-256-56",
    "resnet-3x3-64-56",
    "resnet-3x3-256-14",
    "conv-3x3-16-2048",
    "dw-3x3-144-56",
    "dw-3x3-s2-144-56",
    "relu-144-56",
    "roofline-gemv",
    "fc6-b1",
    "fc7-b1",
    "fc8-b1",
    "fc6-b64",
    "fc7-b64",
    "fc8-b64",
    "alexnet-b1",
    "alexnet-b8",
    "alexnet-b1-split2",
    "resnet50-b1",
    "resnet50-b8",
    "mobilenetv2-b1",
    "mobilenetv2-b8",
    "squeezenet-b1",
    "squeezenet-b8",
];

/// What one layer measures.
enum Work {
    Flops(u64),
    /// Bytes moved, and flops when they count too.
    Bytes(u64, Option<u64>),
    /// A whole model: see [`ModelWork`].
    Model(ModelWork),
}

/// What a model line measures beside its passes.
struct ModelWork {
    flops: u64,
    weight_bytes: u64,
    /// Each layer's (flops, bytes moved).
    layers: Vec<(u64, u64)>,
    /// The streaming yardstick's GB/s, timed in turn with the passes.
    stream_gbps: f64,
    /// A split's time over the same model's on one device, minus one, from runs taken in turn.
    over_one_device: Option<f64>,
    /// At batch N > 1: its time per image over the same model's at batch 1, minus one, from
    /// runs taken in turn.
    over_batch1: Option<f64>,
}

/// Median seconds of `runs` calls of each of `fs` (each returns its own time, finished before
/// the next), called in turn so that all of them see the same stretch of time, after two
/// warm-ups each.
fn medians<const K: usize>(runs: usize, mut fs: [&mut dyn FnMut() -> Result<f64>; K]) -> Result<[f64; K]> {
    for f in fs.iter_mut() {
        f()?;
        f()?;
    }
    let mut times = [(); K].map(|_| Vec::with_capacity(runs));
    for _ in 0..runs {
        for (f, t) in fs.iter_mut().zip(&mut times) {
            t.push(f()?);
        }
    }
    Ok(times.map(median))
}

/// The wall-clock seconds of `f`.
fn wall(f: impl FnOnce() -> Result<()>) -> Result<f64> {
    let start = Instant::now();
    f()?;
    Ok(start.elapsed().as_secs_f64())
}

/// A layer's median time and the yardstick's beside it.
type Timed = (f64, f64);

/// Each timed run of a layer, and of the yardstick, follows an untimed run of the same launch.
/// The first launch after other work or idling pays a fixed cost (its data back in the caches,
/// the driver's threads awake): about half a millisecond on lavapipe, which the 35 ms
/// yardstick hides and which is a fifth of a 2.5 ms layer. Whole models are timed as they
/// come: a pass pays that cost as a caller's does.
fn time_launch(launch: &Launch, beside: &Launch) -> Result<Timed> {
    let warm = |l: &Launch| l.time().and_then(|_| l.time());
    let [t, yardstick] = medians(11, [&mut || warm(launch), &mut || warm(beside)])?;
    Ok((t, yardstick))
}

/// A convolution of `xs` by `ws` with `attrs`, weights prepared.
fn conv(gpu: &Gpu, beside: &Launch, c: &ConvCase) -> Result<(Timed, Work, String)> {
    let (xs, ws, attrs) = (c.input, c.weight, c.attrs);
    let weight = ConvWeight::upload(gpu, &vec![0.01; ws.iter().product()], Some(&vec![0.0; ws[0]]), ws, attrs.groups)?;
    let geo = weight.geometry(&xs, &attrs)?;
    let x = Tensor::from_slice(gpu, &vec![0.5; xs.iter().product()], &xs)?;
    let y = Tensor::zeros(gpu, &geo.output_shape())?;
    let launch = weight.record(&x, &y, &attrs)?;
    Ok((time_launch(&launch, beside)?, Work::Flops(geo.flops()), launch.kernel().to_string()))
}

/// A dense layer `inp` → `out` at `batch`, weights prepared: flops, and the weights streamed.
fn dense(gpu: &Gpu, beside: &Launch, c: &DenseCase) -> Result<(Timed, Work, String)> {
    let (batch, inp, out) = (c.batch, c.in_features, c.out_features);
    let weight = DenseWeight::upload(gpu, &vec![0.01; inp * out], Some(&vec![0.0; out]), out, inp)?;
    let attrs = Dense::default().with_relu(true);
    let geo = weight.geometry(&[batch, inp], &attrs)?;
    let x = Tensor::from_slice(gpu, &vec![0.5; batch * inp], &[batch, inp])?;
    let y = Tensor::zeros(gpu, &[batch, out])?;
    let launch = weight.record(&x, &y, &attrs)?;
    let bytes = 4 * (inp * out + batch * (inp + out)) as u64;
    Ok((time_launch(&launch, beside)?, Work::Bytes(bytes, Some(geo.flops())), launch.kernel().to_string()))
}

/// A whole forward pass of the zoo's model `name` at `batch` on `devices` devices (input upload
/// and output download included: what a caller of `forward` waits for). Its runs alternate
/// with the yardstick's, the streaming yardstick's (for its bound) and, for a split, runs on
/// one device, or at batch N > 1, runs at batch 1, which it is compared with.
fn model(
    gpu: &Gpu,
    beside: &Launch,
    stream: &Stream,
    name: &str,
    batch: usize,
    devices: usize,
) -> Result<(Timed, Work, String)> {
    let m = zoo::build(name)?;
    let weights = Weights::he_normal(&m, 1);
    let image = m.input().iter().product::<usize>();
    let input = vec![0.5; batch * image];
    let one = RefCell::new(GpuModel::new(gpu, &m, &weights)?);
    let pass = |batch: usize| wall(|| one.borrow_mut().forward(&input[..batch * image], batch).map(|_| ()));
    let mut yardstick = || beside.time();
    let stream = stream.launch()?;
    let mut streaming = || stream.time();
    // The line's passes run right after the GEMM yardstick, as every layer's run does, those it
    // is compared with right after the line's; the streaming yardstick, which sweeps 151 MB
    // through the caches, before the GEMM's.
    let (t, y, s, over_one_device, over_batch1, kernel) = if devices > 1 {
        let gpus = Gpu::open_group(devices, Some(&gpu.info().name))?;
        let mut split = GpuModel::split(&gpus, &m, &weights)?;
        let mut split_pass = || wall(|| split.forward(&input, batch).map(|_| ()));
        let [one, s, y, t] =
            medians(MODEL_RUNS, [&mut || pass(batch), &mut streaming, &mut yardstick, &mut split_pass])?;
        (t, y, s, Some(t / one - 1.0), None, format!("{devices} devices"))
    } else if batch > 1 {
        let [single, s, y, t] =
            medians(MODEL_RUNS, [&mut || pass(1), &mut streaming, &mut yardstick, &mut || pass(batch)])?;
        (t, y, s, None, Some(t / batch as f64 / single - 1.0), "1 device".to_string())
    } else {
        let [s, y, t] = medians(MODEL_RUNS, [&mut streaming, &mut yardstick, &mut || pass(batch)])?;
        (t, y, s, None, None, "1 device".to_string())
    };
    // Each layer reads its (first) input and its weights, and writes its output.
    let batch = batch as u64;
    let rows = m.rows();
    let layers: Vec<_> = (rows.iter().enumerate())
        .map(|(i, r)| {
            let size = |s: &[usize]| s.iter().product::<usize>() as u64;
            let bytes = 4 * (r.weights + r.biases + batch * (size(m.input_of(i)) + size(&r.output)));
            (2 * batch * r.macs, bytes)
        })
        .collect();
    let flops = layers.iter().map(|l| l.0).sum();
    let weight_bytes = 4 * m.parameter_count();
    let stream_gbps = GEMV_BYTES as f64 / s / 1e9;
    Ok((
        (t, y),
        Work::Model(ModelWork { flops, weight_bytes, layers, stream_gbps, over_one_device, over_batch1 }),
        kernel,
    ))
}

/// The streaming yardstick, `roofline-gemv`: fc6's weight as the batch-1 kernel reads it, 9216
/// rows of 4096 outputs, and the bytes it streams.
const GEMV_OUT: usize = 4096;
const GEMV_IN: usize = 9216;
const GEMV_BYTES: u64 = 4 * (GEMV_OUT * GEMV_IN) as u64;

/// The streaming yardstick's launch, made on first use (a 151 MB texture) and shared by its
/// own line and every model line.
struct Stream<'g> {
    gpu: &'g Gpu,
    launch: OnceCell<Launch>,
}

impl Stream<'_> {
    fn launch(&self) -> Result<&Launch> {
        if let Some(l) = self.launch.get() {
            return Ok(l);
        }
        let made = roofline_gemv(self.gpu, GEMV_OUT, GEMV_IN)?;
        Ok(self.launch.get_or_init(|| made))
    }
}

/// Whole forward passes timed per model line: fewer than a layer's 11 runs, as a pass at
/// batch 8 takes a third of a second here.
pub const MODEL_RUNS: usize = 7;

/// A memory-bound launch from `x` into `y`: its bytes are one read of `x` and one write of `y`
/// (of each of `x` in an add).
fn streaming(beside: &Launch, launch: Launch, x: &[&Tensor], y: &Tensor) -> Result<(Timed, Work, String)> {
    let bytes = 4 * (x.iter().map(|x| x.len()).sum::<usize>() + y.len()) as u64;
    Ok((time_launch(&launch, beside)?, Work::Bytes(bytes, None), launch.kernel().to_string()))
}

fn run_one(gpu: &Gpu, beside: &Launch, stream: &Stream, name: &str) -> Result<(Timed, Work, String)> {
    if let Some(c) = cases::bench_convs().iter().find(|c| c.name == name) {
        return conv(gpu, beside, c);
    }
    if let Some(c) = cases::bench_dense().iter().find(|c| c.name == name) {
        return dense(gpu, beside, c);
    }
    match name {
        "roofline-gemm-1024" => Ok((time_launch(beside, beside)?, Work::Flops(ROOFLINE_FLOPS), "gemm-16x16".into())),
        "alexnet-pool1" => {
            let pool = Pool2d::new(PoolKind::Max, [3, 3], [2, 2]);
            let x = Tensor::zeros(gpu, &[1, 96, 55, 55])?;
            let y = Tensor::zeros(gpu, &[1, 96, 27, 27])?;
            streaming(beside, record_pool2d(&x, &y, &pool)?, &[&x], &y)
        }
        "roofline-gemv" => {
            let launch = stream.launch()?;
            Ok((time_launch(launch, beside)?, Work::Bytes(GEMV_BYTES, None), launch.kernel().to_string()))
        }
        "alexnet-lrn1" => {
            let x = Tensor::zeros(gpu, &[1, 96, 55, 55])?;
            let y = Tensor::zeros(gpu, x.shape())?;
            streaming(beside, record_lrn(&x, &y, &Lrn::alexnet())?, &[&x], &y)
        }
        "relu-4m" | "add-4m" => {
            let (a, b) = (Tensor::zeros(gpu, &[4_000_000])?, Tensor::zeros(gpu, &[4_000_000])?);
            let y = Tensor::zeros(gpu, a.shape())?;
            match name {
                "relu-4m" => streaming(beside, record_relu(&a, &y)?, &[&a], &y),
                _ => streaming(beside, record_add(&a, &b, &y, false)?, &[&a, &b], &y),
            }
        }
        "relu-144-56" => {
            let a = Tensor::zeros(gpu, &[1, 144, 56, 56])?;
            let y = Tensor::zeros(gpu, a.shape())?;
            streaming(beside, record_relu(&a, &y)?, &[&a], &y)
        }
        "softmax-64x1000" => {
            let x = Tensor::zeros(gpu, &[64, 1000])?;
            let y = Tensor::zeros(gpu, x.shape())?;
            streaming(beside, record_softmax(&x, &y)?, &[&x], &y)
        }
        "alexnet-b1" => model(gpu, beside, stream, "alexnet", 1, 1),
        "alexnet-b8" => model(gpu, beside, stream, "alexnet", 8, 1),
        "alexnet-b1-split2" => model(gpu, beside, stream, "alexnet", 1, 2),
        "resnet50-b1" => model(gpu, beside, stream, "resnet50", 1, 1),
        "resnet50-b8" => model(gpu, beside, stream, "resnet50", 8, 1),
        "mobilenetv2-b1" => model(gpu, beside, stream, "mobilenetv2", 1, 1),
        "mobilenetv2-b8" => model(gpu, beside, stream, "mobilenetv2", 8, 1),
        "squeezenet-b1" => model(gpu, beside, stream, "squeezenet1_1", 1, 1),
        "squeezenet-b8" => model(gpu, beside, stream, "squeezenet1_1", 8, 1),
        other => Err(dojang::Error::UnknownModel { name: other.to_string(), known: NAMES }),
    }
}

/// Flops of the yardstick, a 1024³ GEMM.
const ROOFLINE_FLOPS: u64 = 2 * 1024 * 1024 * 1024;

/// Runs the layers named in `only` (all when empty), each reported as soon as it is done.
pub fn run(gpu: &Gpu, only: &[String], mut report: impl FnMut(&BenchResult)) -> Result<Vec<BenchResult>> {
    let beside = roofline_gemm(gpu, 1024)?;
    let stream = Stream { gpu, launch: OnceCell::new() };
    let mut results: Vec<BenchResult> = Vec::new();
    // The streaming yardstick's GB/s, once measured: batch-1 dense layers are compared with it.
    let mut stream_gbps = None;
    for &name in NAMES.iter().filter(|n| only.is_empty() || only.iter().any(|o| o == *n)) {
        let ((seconds, yardstick), work, kernel) = run_one(gpu, &beside, &stream, name)?;
        let roofline = ROOFLINE_FLOPS as f64 / yardstick / 1e9;
        let (flops, bytes, model) = match work {
            Work::Flops(f) => (Some(f), None, None),
            Work::Bytes(b, f) => (f, Some(b), None),
            Work::Model(m) => (Some(m.flops), None, Some(m)),
        };
        let gflops = flops.map(|f| f as f64 / seconds / 1e9);
        let gbps = bytes.map(|b| b as f64 / seconds / 1e9);
        let streaming = name.starts_with("fc") && name.ends_with("-b1");
        let of_roofline = match (name, &model) {
            ("roofline-gemm-1024" | "roofline-gemv", _) => None,
            _ if streaming => gbps.zip(stream_gbps).map(|(g, s)| g / s),
            // A model: the sum of its layers' roofline times (each bound by the GEMM's
            // GFLOP/s or the streaming GB/s, whichever is slower for it) over its time.
            (_, Some(m)) => {
                let bound = |&(f, b): &(u64, u64)| (f as f64 / roofline).max(b as f64 / m.stream_gbps) / 1e9;
                Some(m.layers.iter().map(bound).sum::<f64>() / seconds)
            }
            _ => gflops.map(|g| g / roofline),
        };
        if name == "roofline-gemv" {
            stream_gbps = gbps;
        }
        let bound_ms =
            model.as_ref().map(|m| (m.flops as f64 / roofline + m.weight_bytes as f64 / m.stream_gbps) / 1e9 * 1e3);
        let r = BenchResult {
            name: name.to_string(),
            roofline_gflops: roofline,
            median_ms: seconds * 1e3,
            gflops,
            gbps,
            of_roofline,
            over_one_device: model.as_ref().and_then(|m| m.over_one_device),
            over_batch1: model.as_ref().and_then(|m| m.over_batch1),
            bound_ms,
            kernel,
        };
        report(&r);
        results.push(r);
    }
    Ok(results)
}

impl BenchResult {
    /// Column titles matching [`BenchResult::line`].
    pub fn header() -> String {
        format!("{:<24} {:>10} {:>10} {:>9} {:>10}  {}", "layer", "median", "GFLOP/s", "GB/s", "roofline", "kernel")
    }

    /// The report line.
    pub fn line(&self) -> String {
        let opt = |v: Option<f64>, unit: &str| v.map(|v| format!("{v:.1}{unit}")).unwrap_or_default();
        format!(
            "{:<24} {:>7.2} ms {:>10} {:>9} {:>10}  {}",
            self.name,
            self.median_ms,
            opt(self.gflops, ""),
            opt(self.gbps, ""),
            opt(self.of_roofline.map(|r| r * 100.0), "%"),
            match (self.over_one_device, self.bound_ms, self.over_batch1) {
                (Some(o), _, _) => format!("{}, {:+.0}% over one device", self.kernel, 100.0 * o),
                (None, Some(b), per_image) => format!(
                    "{}, {:.2}x its bound of {b:.1} ms{}",
                    self.kernel,
                    self.median_ms / b,
                    per_image.map(|o| format!(", {:+.0}% an image against batch 1", 100.0 * o)).unwrap_or_default()
                ),
                (None, None, _) => self.kernel.clone(),
            }
        )
    }
}
