//! `dojang-validate alexnet`: a whole model on the GPU against the CPU reference, layer by layer.

use std::time::Instant;

use rand::{Rng, SeedableRng, rngs::StdRng};

use crate::error::Result;
use crate::gpu::Gpu;
use crate::model::{GpuModel, Model, Weights};
use crate::tolerance::Tolerance;
use crate::validate::CaseResult;

/// Errors compound through a network's layers, so each layer's output is held to a bound
/// relative to its own scale: |gpu − cpu| ≤ 1e-4·max|cpu| + 1e-3·|cpu|.
pub fn layer_tolerance(expected: &[f32]) -> Tolerance {
    let scale = expected.iter().fold(0f32, |m, v| m.max(v.abs()));
    Tolerance { atol: 1e-4 * scale.max(1e-3), rtol: 1e-3 }
}

/// Per-layer results, then the whole-model line (time of one single-submission forward).
pub fn run(gpu: &Gpu, model: &Model, weights: &Weights, batch: usize, seed: u64) -> Result<Vec<CaseResult>> {
    let mut rng = StdRng::seed_from_u64(seed);
    let input: Vec<f32> =
        (0..batch * model.input.iter().product::<usize>()).map(|_| rng.random_range(-1.0..1.0)).collect();
    let expected = model.forward_reference(weights, &input, batch)?;
    let mut gpu_model = GpuModel::new(gpu, model, weights)?;
    let runs = gpu_model.forward_layers(&input, batch)?;
    let mut results: Vec<CaseResult> = runs
        .iter()
        .zip(&expected)
        .map(|(run, exp)| {
            let c = layer_tolerance(exp).compare(&run.output, exp);
            CaseResult {
                op: run.name.clone(),
                case: format!("{:?}", run.shape),
                max_abs: c.max_abs,
                max_rel: c.max_rel,
                passed: c.passed(),
                seconds: Some(run.seconds),
                work: None,
                message: (!c.passed()).then(|| c.describe(&run.shape)),
            }
        })
        .collect();
    let start = Instant::now();
    let out = gpu_model.forward(&input, batch)?;
    let seconds = start.elapsed().as_secs_f64();
    let last = expected.last().map(Vec::as_slice).unwrap_or(&input);
    let c = layer_tolerance(last).compare(&out, last);
    results.push(CaseResult {
        op: model.name.clone(),
        case: format!("batch {batch}, one submission: {:.2} images/s", batch as f64 / seconds),
        max_abs: c.max_abs,
        max_rel: c.max_rel,
        passed: c.passed(),
        seconds: Some(seconds),
        work: Some(crate::validate::Work::Flops(2 * batch as u64 * model.rows().iter().map(|r| r.macs).sum::<u64>())),
        message: (!c.passed()).then(|| c.describe(&[batch, out.len() / batch])),
    });
    Ok(results)
}

/// The model split over `gpus`: per layer its devices, time and bytes exchanged, each layer's
/// output checked against the CPU reference, the final output also against one device.
pub fn run_split(gpus: &[Gpu], model: &Model, weights: &Weights, batch: usize, seed: u64) -> Result<Vec<CaseResult>> {
    let mut rng = StdRng::seed_from_u64(seed);
    let input: Vec<f32> =
        (0..batch * model.input.iter().product::<usize>()).map(|_| rng.random_range(-1.0..1.0)).collect();
    let expected = model.forward_reference(weights, &input, batch)?;
    let single = GpuModel::new(&gpus[0], model, weights)?.forward(&input, batch)?;
    let mut split = crate::split::SplitModel::new(gpus, model, weights)?;
    let (out, reports) = split.forward_report(&input, batch)?;
    let last = expected.last().map(Vec::as_slice).unwrap_or(&input);
    // Blocks stay on their devices until the end: the gathered output is what is compared.
    let mut results: Vec<CaseResult> = reports
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let (passed, max_abs, max_rel, message) = if i + 1 == reports.len() {
                let c = layer_tolerance(last).compare(&out, last);
                (c.passed(), c.max_abs, c.max_rel, (!c.passed()).then(|| c.describe(&r.shape)))
            } else {
                (true, f32::NAN, f32::NAN, None)
            };
            CaseResult {
                op: r.name.clone(),
                case: format!("{:?} dev {:?} {} B exchanged", r.shape, r.devices, r.bytes_exchanged),
                max_abs,
                max_rel,
                passed,
                seconds: Some(r.seconds),
                work: None,
                message,
            }
        })
        .collect();
    let start = Instant::now();
    let again = split.forward(&input, batch)?;
    let seconds = start.elapsed().as_secs_f64();
    let c = layer_tolerance(&single).compare(&again, &single);
    let weights_per_device = split.weight_bytes();
    results.push(CaseResult {
        op: model.name.clone(),
        case: format!(
            "{} devices vs one, batch {batch}: {:.2} images/s, weights per device {}",
            gpus.len(),
            batch as f64 / seconds,
            weights_per_device.iter().map(|b| format!("{:.1} MB", *b as f64 / 1e6)).collect::<Vec<_>>().join(" / ")
        ),
        max_abs: c.max_abs,
        max_rel: c.max_rel,
        passed: c.passed(),
        seconds: Some(seconds),
        work: None,
        message: (!c.passed()).then(|| c.describe(&[batch, single.len() / batch])),
    });
    Ok(results)
}
