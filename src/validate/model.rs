//! `dojang-validate alexnet`: a whole model on the GPU against the CPU reference, layer by layer.

use std::time::Instant;

use rand::{Rng, SeedableRng, rngs::StdRng};

use crate::error::Result;
use crate::gpu::Gpu;
use crate::model::{GpuModel, Model, Weights};
use crate::tolerance::Tolerance;
use crate::validate::{CaseResult, Work};

/// Errors compound through a network's layers, so each layer's output is held to a bound
/// relative to its own scale: |gpu − cpu| ≤ 1e-4·max|cpu| + 1e-3·|cpu|.
pub fn layer_tolerance(expected: &[f32]) -> Tolerance {
    let scale = expected.iter().fold(0f32, |m, v| m.max(v.abs()));
    Tolerance { atol: 1e-4 * scale.max(1e-3), rtol: 1e-3 }
}

/// `batch` images of the model's input shape, uniform in [-1, 1) from `seed`.
fn random_input(model: &Model, batch: usize, seed: u64) -> Vec<f32> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..batch * model.input.iter().product::<usize>()).map(|_| rng.random_range(-1.0..1.0)).collect()
}

/// Per-layer results, then the whole-model line (time of one single-submission forward).
pub fn run(gpu: &Gpu, model: &Model, weights: &Weights, batch: usize, seed: u64) -> Result<Vec<CaseResult>> {
    let input = random_input(model, batch, seed);
    let expected = model.forward_reference(weights, &input, batch)?;
    let mut gpu_model = GpuModel::new(gpu, model, weights)?;
    let runs = gpu_model.forward_layers(&input, batch)?;
    let mut results: Vec<CaseResult> = runs
        .iter()
        .zip(&expected)
        .map(|(run, exp)| {
            let c = layer_tolerance(exp).compare(&run.output, exp);
            CaseResult {
                seconds: Some(run.seconds),
                ..CaseResult::from_comparison(&run.name, &format!("{:?}", run.shape), &c, &run.shape)
            }
        })
        .collect();
    let start = Instant::now();
    let out = gpu_model.forward(&input, batch)?;
    let seconds = start.elapsed().as_secs_f64();
    let last = expected.last().map(Vec::as_slice).unwrap_or(&input);
    let c = layer_tolerance(last).compare(&out, last);
    let case = format!("batch {batch}, one submission: {:.2} images/s", batch as f64 / seconds);
    results.push(CaseResult {
        seconds: Some(seconds),
        work: Some(Work::Flops(2 * batch as u64 * model.rows().iter().map(|r| r.macs).sum::<u64>())),
        ..CaseResult::from_comparison(&model.name, &case, &c, &[batch, out.len() / batch])
    });
    Ok(results)
}

/// The model split over `gpus`: per layer its devices, time and bytes exchanged; the gathered
/// output checked against the CPU reference (blocks stay on their devices until the end), and
/// a second, single-submission pass against one device.
pub fn run_split(gpus: &[Gpu], model: &Model, weights: &Weights, batch: usize, seed: u64) -> Result<Vec<CaseResult>> {
    let input = random_input(model, batch, seed);
    let expected = model.forward_reference(weights, &input, batch)?;
    let single = GpuModel::new(&gpus[0], model, weights)?.forward(&input, batch)?;
    let mut split = crate::split::SplitModel::new(gpus, model, weights)?;
    let (out, reports) = split.forward_report(&input, batch)?;
    let last = expected.last().map(Vec::as_slice).unwrap_or(&input);
    let mut results: Vec<CaseResult> = reports
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let case = format!("{:?} dev {:?} {} B exchanged", r.shape, r.devices, r.bytes_exchanged);
            if i + 1 == reports.len() {
                let c = layer_tolerance(last).compare(&out, last);
                CaseResult { seconds: Some(r.seconds), ..CaseResult::from_comparison(&r.name, &case, &c, &r.shape) }
            } else {
                // Not compared: the layer's output is spread over the devices.
                CaseResult {
                    op: r.name.clone(),
                    case,
                    max_abs: f32::NAN,
                    max_rel: f32::NAN,
                    passed: true,
                    seconds: Some(r.seconds),
                    work: None,
                    message: None,
                }
            }
        })
        .collect();
    let start = Instant::now();
    let again = split.forward(&input, batch)?;
    let seconds = start.elapsed().as_secs_f64();
    let c = layer_tolerance(&single).compare(&again, &single);
    let weights_per_device =
        split.weight_bytes().iter().map(|b| format!("{:.1} MB", *b as f64 / 1e6)).collect::<Vec<_>>();
    let case = format!(
        "{} devices vs one, batch {batch}: {:.2} images/s, weights per device {}",
        gpus.len(),
        batch as f64 / seconds,
        weights_per_device.join(" / ")
    );
    results.push(CaseResult {
        seconds: Some(seconds),
        ..CaseResult::from_comparison(&model.name, &case, &c, &[batch, single.len() / batch])
    });
    Ok(results)
}
