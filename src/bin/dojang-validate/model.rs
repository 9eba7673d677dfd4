//! `dojang-validate alexnet`: a whole model on the GPU — one device or split over several —
//! against the CPU reference, layer by layer.

use std::time::Instant;

use dojang::model::{Model, Op, Progress, Weights};
use dojang::tolerance::Tolerance;
use dojang::{Error, Gpu, GpuModel, Result};
use rand::{Rng, SeedableRng, rngs::StdRng};

use crate::report::{CaseResult, Work, median};

/// Reported passes a layer's GPU time is the median of.
const TIMED_PASSES: usize = 3;

/// `batch` images of the model's input shape, uniform in [-1, 1) from `seed`.
pub fn random_input(model: &Model, batch: usize, seed: u64) -> Vec<f32> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..batch * model.input().iter().product::<usize>()).map(|_| rng.random_range(-1.0..1.0)).collect()
}

/// What a model runs on and is held to: `batch` images, and optionally the output another
/// framework computed from them, with the tolerance to hold the GPU's output to.
pub struct Run<'a> {
    pub input: &'a [f32],
    pub batch: usize,
    pub expect: Option<(&'a [f32], Tolerance, &'a str)>,
}

/// Per layer: output shape (and, split, devices and bytes exchanged), errors against the
/// reference, GPU time (the median of [`TIMED_PASSES`]); then a whole-model line timing one
/// single-submission forward (and, split, comparing it with one device), and with an
/// expected output, a line comparing the GPU's with it.
/// `phase` hears what runs now (for a progress display).
pub fn run(gpus: &[Gpu], model: &Model, weights: &Weights, run: &Run, phase: impl Fn(&str)) -> Result<Vec<CaseResult>> {
    let (input, batch) = (run.input, run.batch);
    let first = gpus.first().ok_or(Error::Placement {
        layer: "(all)".into(),
        devices: 0,
        problem: dojang::error::PlacementProblem::NoDevices,
    })?;
    // A word at the start and at each tenth of the work: a log stays short, and a long run
    // (minutes at a large batch) says how far it is and how long it has left.
    let (start, mut told) = (Instant::now(), None);
    let expected = model.forward_reference_with(weights, input, batch, |p| {
        let tenth = p.done.saturating_mul(10) / p.total.max(1);
        if told.is_none_or(|t| tenth > t) {
            told = Some(tenth);
            phase(&reference_progress(model, p, start));
        }
    })?;
    phase("uploading the weights");
    let mut gpu_model = GpuModel::split(gpus, model, weights)?;
    phase("the GPU, layer by layer");
    let split = gpus.len() > 1;
    // A first pass builds the plan and compiles the kernels, outside the timings. A layer's
    // time is its median over a few reported passes: one pass in a slow stretch of a shared
    // machine read 1.3–2x the bench's.
    gpu_model.forward(input, batch)?;
    let reports = gpu_model.forward_report(input, batch)?;
    let mut times: Vec<Vec<f64>> = reports.iter().map(|r| vec![r.gpu_seconds]).collect();
    for _ in 1..TIMED_PASSES {
        for (t, r) in times.iter_mut().zip(gpu_model.forward_report(input, batch)?) {
            t.push(r.gpu_seconds);
        }
    }
    let mut results: Vec<CaseResult> = reports
        .iter()
        .zip(times)
        .map(|(r, t)| (r, median(t), &expected[r.layer]))
        .map(|(r, gpu_seconds, exp)| {
            let c = Tolerance::for_layer(exp).compare(&r.output, exp);
            let case = if split {
                format!("{:?} dev {:?} {} B exchanged", r.shape, r.devices, r.bytes_exchanged)
            } else {
                format!("{:?}", r.shape)
            };
            CaseResult { seconds: Some(gpu_seconds), ..CaseResult::from_comparison(&r.name, &case, &c, &r.shape) }
        })
        .collect();
    phase("the GPU, one submission");
    // The pass's wall clock, the median of a few: one pass on a shared machine varies by 20%.
    let mut walls = Vec::with_capacity(TIMED_PASSES);
    let mut out = Vec::new();
    for _ in 0..TIMED_PASSES {
        let start = Instant::now();
        out = gpu_model.forward(input, batch)?;
        walls.push(start.elapsed().as_secs_f64());
    }
    let seconds = median(walls);
    // Split: the pass is compared with one device; one device: with the reference.
    let against = if split {
        GpuModel::new(first, model, weights)?.forward(input, batch)?
    } else {
        expected.last().cloned().unwrap_or_default()
    };
    let c = Tolerance::for_layer(&against).compare(&out, &against);
    let case = if split {
        let per_device =
            gpu_model.weight_bytes().iter().map(|b| format!("{:.1} MB", *b as f64 / 1e6)).collect::<Vec<_>>();
        format!(
            "{} devices vs one, batch {batch}: {:.2} images/s (wall clock), weights per device {}",
            gpus.len(),
            batch as f64 / seconds,
            per_device.join(" / ")
        )
    } else {
        format!("batch {batch}, one submission: {:.2} images/s (wall clock)", batch as f64 / seconds)
    };
    results.push(CaseResult {
        seconds: Some(seconds),
        work: Some(Work::Flops(2 * batch as u64 * model.rows().iter().map(|r| r.macs).sum::<u64>())),
        ..CaseResult::from_comparison(model.name(), &case, &c, &[batch, out.len() / batch.max(1)])
    });
    if let Some((values, tolerance, by)) = run.expect {
        let c = tolerance.compare(&out, values);
        let case = format!("output against {by} (atol {}, rtol {})", tolerance.atol, tolerance.rtol);
        results.push(CaseResult::from_comparison(model.name(), &case, &c, &[batch, out.len() / batch.max(1)]));
    }
    Ok(results)
}

/// "the CPU reference: conv2 (layer 5 of 24), 41% done, about 2 min left".
fn reference_progress(model: &Model, p: Progress, start: Instant) -> String {
    let name = &model.layers()[p.layer].name;
    let of = format!("the CPU reference: {name} (layer {} of {})", p.layer + 1, model.layers().len());
    if p.done == 0 {
        return of;
    }
    let share = p.done as f64 / p.total.max(1) as f64;
    let left = start.elapsed().as_secs_f64() * (1.0 - share) / share;
    let left = match left {
        l if l < 1.0 => "under 1 s".to_string(),
        l if l < 90.0 => format!("about {l:.0} s"),
        l => format!("about {:.0} min", l / 60.0),
    };
    format!("{of}, {:.0}% done, {left} left", 100.0 * share)
}

/// What a run of a model at a batch size needs, in bytes, worked out before anything is
/// allocated: host memory (the input, the weights, every layer's output from the CPU
/// reference and from two GPU passes), and device memory from what it holds without windows
/// (the weights, every layer's output, the input copies the kernels read; on one device,
/// outputs share buffers once read, and on each device layers share the kernels'
/// intermediates, so this errs high) to what it may (with the windows im2col lays out for every
/// convolution).
pub struct Needs {
    pub host: u64,
    pub device: [u64; 2],
}

impl Needs {
    pub fn of(model: &Model, batch: usize, devices: usize) -> Needs {
        let batch = batch as u64;
        let words = |shape: &[usize]| shape.iter().product::<usize>() as u64;
        let input = words(model.input());
        let outputs: u64 = (0..model.layers().len()).map(|i| words(model.output_of(i))).sum();
        let params: u64 = model.parameters().iter().map(|(_, s)| words(s)).sum();
        let windows: u64 = (0..model.layers().len())
            .map(|i| match &model.layers()[i].op {
                // im2col's windows: every input channel's taps at every output pixel.
                Op::Conv2d { kernel, .. } => {
                    let out = model.output_of(i);
                    words(&[model.input_of(i)[0], kernel[0], kernel[1], out[1], out[2]])
                }
                Op::Dense { .. } => words(model.input_of(i)),
                _ => 0,
            })
            .sum();
        let bytes = |per_image: u64, once: u64| per_image.saturating_mul(batch).saturating_add(once).saturating_mul(4);
        // Split, the comparison with one device holds a second copy of everything.
        let copies = if devices > 1 { 2 } else { 1 };
        let sure = bytes(input + 2 * outputs, params).saturating_mul(copies);
        Needs {
            host: bytes(input + 3 * outputs, params),
            device: [sure, sure.saturating_add(bytes(windows, 0).saturating_mul(copies))],
        }
    }

    /// "about 0.12 GB of host memory and 0.25–0.43 GB of device memory".
    pub fn describe(&self) -> String {
        let [low, high] = self.device;
        format!("about {} of host memory and {}–{} of device memory", size(self.host), size(low), size(high))
    }

    /// Err(what the run needs and what the machine has) when it cannot hold the run: the host's
    /// needs, and on an adapter that computes in host memory (lavapipe) the device's at most,
    /// against the memory the system has available. A GPU's own memory is not something wgpu
    /// reports: what it cannot hold comes back as an out-of-memory error from the allocation.
    pub fn check(&self, what: &str, device_is_host: bool, available: Option<u64>) -> Result<(), String> {
        let needed = if device_is_host { self.host.saturating_add(self.device[1]) } else { self.host };
        let Some(free) = available.filter(|&free| needed > free) else {
            return Ok(());
        };
        let in_all = match device_is_host {
            true => format!("; on this adapter the device's memory is host memory too, {} in all", size(needed)),
            false => String::new(),
        };
        Err(format!(
            "{what} needs {}{in_all}, and this machine has {} available; try a smaller --batch",
            self.describe(),
            size(free)
        ))
    }
}

/// Bytes as "350 MB" or "1.24 GB".
fn size(bytes: u64) -> String {
    match bytes {
        b if b < 1_000_000_000 => format!("{} MB", b.div_ceil(1_000_000)),
        b if b < 1_000_000_000_000 => format!("{:.2} GB", b as f64 / 1e9),
        b => format!("{:.1} TB", b as f64 / 1e12),
    }
}

/// Bytes of memory the system can give now (Linux's MemAvailable); None where it is unknown.
pub fn available_memory() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}
