//! `dojang-validate alexnet`: a whole model on the GPU — one device or split over several —
//! against the CPU reference, layer by layer.

use std::time::Instant;

use dojang::model::{Model, Weights};
use dojang::tolerance::Tolerance;
use dojang::{Error, Gpu, GpuModel, Result};
use rand::{Rng, SeedableRng, rngs::StdRng};

use crate::report::{CaseResult, Work, median};

/// Reported passes a layer's GPU time is the median of.
const TIMED_PASSES: usize = 3;

/// `batch` images of the model's input shape, uniform in [-1, 1) from `seed`.
fn random_input(model: &Model, batch: usize, seed: u64) -> Vec<f32> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..batch * model.input().iter().product::<usize>()).map(|_| rng.random_range(-1.0..1.0)).collect()
}

/// Per layer: output shape (and, split, devices and bytes exchanged), errors against the
/// reference, GPU time (the median of [`TIMED_PASSES`]); then a whole-model line timing one
/// single-submission forward (and, split, comparing it with one device).
/// `phase` hears what runs now (for a progress display).
pub fn run(
    gpus: &[Gpu],
    model: &Model,
    weights: &Weights,
    batch: usize,
    seed: u64,
    phase: impl Fn(&str),
) -> Result<Vec<CaseResult>> {
    let first = gpus.first().ok_or(Error::Placement {
        layer: "(all)".into(),
        devices: 0,
        problem: dojang::error::PlacementProblem::NoDevices,
    })?;
    let input = random_input(model, batch, seed);
    phase("the CPU reference, layer by layer");
    let expected = model.forward_reference(weights, &input, batch)?;
    phase("uploading the weights");
    let mut gpu_model = GpuModel::split(gpus, model, weights)?;
    phase("the GPU, layer by layer");
    let split = gpus.len() > 1;
    // A first pass builds the plan and compiles the kernels, outside the timings. A layer's
    // time is its median over a few reported passes: one pass in a slow stretch of a shared
    // machine read 1.3–2x the bench's.
    gpu_model.forward(&input, batch)?;
    let reports = gpu_model.forward_report(&input, batch)?;
    let mut times: Vec<Vec<f64>> = reports.iter().map(|r| vec![r.gpu_seconds]).collect();
    for _ in 1..TIMED_PASSES {
        for (t, r) in times.iter_mut().zip(gpu_model.forward_report(&input, batch)?) {
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
    let start = Instant::now();
    let out = gpu_model.forward(&input, batch)?;
    let seconds = start.elapsed().as_secs_f64();
    // Split: the pass is compared with one device; one device: with the reference.
    let against = if split {
        GpuModel::new(first, model, weights)?.forward(&input, batch)?
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
    Ok(results)
}
