//! Moving activations between the devices of a group. wgpu offers no path between devices
//! but the host: a block is read back once and written to each device that lacks it; a
//! device's own block is copied on the device.

use crate::error::Result;
use crate::model::{Model, Source};
use crate::ops::copy;
use crate::pipeline::Step;
use crate::split::placement::Spread;
use crate::split::plan::Plan;
use crate::tensor::Tensor;

/// Assembles what layer i gathers (its whole input; a concatenation's whole output) on the
/// devices that gather it, reading blocks back through the plan's staging buffers. Returns
/// the bytes read back plus the bytes sent.
pub(crate) fn exchange(plan: &Plan, model: &Model, i: usize, batch: usize) -> Result<u64> {
    let targets = &plan.gathered[i];
    let (mut bytes, mut at) = (0, 0);
    for (k, &source) in model.reads_of(i).iter().enumerate() {
        let src_per_image: usize = model.shape_of(source).iter().product();
        let blocks: Vec<Option<Tensor>> = match source {
            Source::Layer(j) => plan.outputs[j].clone(),
            Source::Input => plan.input_whole.iter().cloned().map(Some).collect(),
        };
        let whole = blocks.iter().flatten().all(|b| b.len() == batch * src_per_image);
        bytes += match whole {
            // Every device that holds it holds all of it: each target copies its own.
            true => copy_own(&blocks, targets, batch, at)?,
            false => gather_into(&blocks, &plan.exchange_staging[i][k], targets, batch, at)?,
        };
        at += src_per_image;
    }
    Ok(bytes)
}

/// Copies each device's whole tensor into its target at `at` floats into each image.
fn copy_own(wholes: &[Option<Tensor>], targets: &[Option<Tensor>], batch: usize, at: usize) -> Result<u64> {
    for (whole, target) in wholes.iter().zip(targets) {
        if let (Some(w), Some(t)) = (whole, target) {
            w.copy_regions_to(t, &own_regions(w, t, batch, at))?;
        }
    }
    Ok(0)
}

/// The regions of a whole tensor `w` copied into `target` at `at` floats into each image.
fn own_regions(w: &Tensor, target: &Tensor, batch: usize, at: usize) -> Vec<(usize, usize, usize)> {
    let (per, per_image) = (w.len() / batch, target.len() / batch);
    (0..batch).map(|k| (k * per, k * per_image + at, per)).collect()
}

/// What [`exchange`] does for layer i on a model of one device (every tensor whole there),
/// recorded as copies rather than run: for a pass that stays on the device.
pub(crate) fn gather_steps(plan: &Plan, model: &Model, i: usize, batch: usize) -> Vec<Step> {
    let Some(target) = &plan.gathered[i][0] else { return vec![] };
    let mut at = 0;
    let mut steps = vec![];
    for &source in model.reads_of(i) {
        let whole = match source {
            Source::Layer(j) => plan.outputs[j][0].as_ref(),
            Source::Input => plan.input_whole.first(),
        };
        if let Some(w) = whole {
            let regions = own_regions(w, target, batch, at);
            steps.extend(regions.iter().map(|&(from, to, len)| copy(w, from, target, to, len)));
        }
        at += model.shape_of(source).iter().product::<usize>();
    }
    steps
}

/// Writes `blocks` (per device: its channel block of a tensor) into every target at `at`
/// floats into each image.
fn gather_into(
    blocks: &[Option<Tensor>],
    staging: &[Option<wgpu::Buffer>],
    targets: &[Option<Tensor>],
    batch: usize,
    at: usize,
) -> Result<u64> {
    let held: Vec<usize> = (0..blocks.len()).filter(|&g| blocks[g].is_some()).collect();
    let needed = |g: usize| targets.iter().enumerate().any(|(t, x)| x.is_some() && t != g);
    let parts: Vec<Option<Vec<f32>>> = (0..blocks.len())
        .map(|g| match (&blocks[g], staging.get(g)) {
            (Some(b), Some(Some(staging))) if needed(g) => pollster::block_on(b.download_via(staging)).map(Some),
            _ => Ok(None),
        })
        .collect::<Result<_>>()?;
    let mut bytes: u64 = parts.iter().flatten().map(|p| 4 * p.len() as u64).sum();
    for (t, target) in targets.iter().enumerate() {
        let Some(target) = target else { continue };
        let per_image = target.len() / batch;
        let mut own = Vec::new();
        for (slot, &g) in held.iter().enumerate() {
            let Some(b) = &blocks[g] else { continue };
            let per = b.len() / batch;
            for k in 0..batch {
                let dst = k * per_image + at + slot * per;
                match &parts[g] {
                    Some(p) if g != t => {
                        target.write_at(dst, &p[k * per..(k + 1) * per])?;
                        bytes += 4 * per as u64;
                    }
                    _ if g == t => own.push((k * per, dst, per)),
                    _ => {}
                }
            }
        }
        if let Some(b) = &blocks[t] {
            b.copy_regions_to(target, &own)?;
        }
    }
    Ok(bytes)
}

/// A layer's whole output from its per-device `parts`, read back through `staging` (one
/// host-readable buffer per part).
pub(crate) fn gather_output(
    parts: &[Option<Tensor>],
    spread: Spread,
    batch: usize,
    staging: &[Option<wgpu::Buffer>],
) -> Result<Vec<f32>> {
    let download = |g: usize| -> Result<Vec<f32>> {
        match (&parts[g], &staging[g]) {
            (Some(t), Some(s)) => pollster::block_on(t.download_via(s)),
            (Some(t), None) => t.download(),
            _ => Ok(vec![]),
        }
    };
    match spread {
        Spread::Split => Ok(interleave(&(0..parts.len()).map(download).collect::<Result<Vec<_>>>()?, batch)),
        Spread::Whole | Spread::Root => download(0),
    }
}

/// Whole `[N, …]` from per-device blocks `[N, …/G]`: image by image, blocks in device order.
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

/// Device g's channel block of a whole `[N, C, …]` tensor split over `devices`.
pub(crate) fn take_block(whole: &[f32], batch: usize, devices: usize, g: usize) -> Vec<f32> {
    let per_image = whole.len() / batch;
    let per = per_image / devices;
    (0..batch).flat_map(|n| whole[n * per_image + g * per..n * per_image + (g + 1) * per].iter().copied()).collect()
}
