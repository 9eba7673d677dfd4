//! Memory over time: repeated forward passes leave the device's live buffers, textures and
//! bytes where the first pass left them (`Gpu::memory`, wgpu's own counters).

mod common;

use common::gpu;
use dojang::model::{Layer, Model, Op, Weights, zoo};
use dojang::ops::{Conv2d, Padding, Pool2d, PoolKind};
use dojang::{Autotune, Gpu, GpuModel};

/// Runs `passes` forwards of AlexNet at batch 1 over `gpus` and checks every device's counters
/// after the last against those after the first.
fn steady(gpus: &[Gpu], passes: usize) {
    let model = zoo::build("alexnet").unwrap();
    let weights = Weights::he_normal(&model, 9);
    let mut m = GpuModel::split(gpus, &model, &weights).unwrap();
    let input = vec![0.25; model.input().iter().product()];
    let first = m.forward(&input, 1).unwrap();
    let settle = || gpus.iter().map(|g| g.wait_idle().map(|_| g.memory())).collect::<Result<Vec<_>, _>>().unwrap();
    let after_first = settle();
    assert!(after_first.iter().all(|c| c.buffers > 0 && c.bytes > 0), "no counters: {after_first:?}");
    for _ in 1..passes {
        m.forward(&input, 1).unwrap();
    }
    let last = m.forward(&input, 1).unwrap();
    assert_eq!(last, first, "the same input gives the same output");
    assert_eq!(settle(), after_first, "after {passes} passes on {} device(s)", gpus.len());
}

#[test]
fn a_thousand_passes_on_one_device_hold_steady() {
    steady(&[gpu()], 1000);
}

#[test]
fn two_hundred_split_passes_hold_steady() {
    let gpu = gpu();
    steady(&Gpu::open_group(2, Some(&gpu.info().name)).unwrap(), 200);
}

#[test]
fn counters_see_a_tensor_come_and_go() {
    let gpu = Gpu::new().unwrap();
    gpu.wait_idle().unwrap();
    let before = gpu.memory();
    let t = dojang::Tensor::zeros(&gpu, &[1 << 20]).unwrap();
    let with = gpu.memory();
    assert_eq!(with.buffers, before.buffers + 1);
    assert!(with.bytes >= before.bytes + (4 << 20), "{before:?} → {with:?}");
    drop(t);
    gpu.wait_idle().unwrap();
    assert_eq!(gpu.memory(), before);
}

/// Twelve ReLUs in a chain hold two activations between them, not twelve: a layer writes into
/// the buffer of an output whose readers have all run. Each output is still its input's max
/// with 0.
#[test]
fn a_chain_of_layers_writes_into_buffers_it_has_read() {
    let gpu = Gpu::new().unwrap();
    let shape = [4, 128, 128];
    let layers = (0..12).map(|k| Layer::new(&format!("relu{k}"), Op::Relu)).collect();
    let model = Model::build("chain", &shape, layers).unwrap();
    let mut m = GpuModel::new(&gpu, &model, &Weights::new()).unwrap();
    let input: Vec<f32> = (0..shape.iter().product::<usize>()).map(|i| (i % 7) as f32 - 3.0).collect();
    gpu.wait_idle().unwrap();
    let before = gpu.memory().bytes;
    let out = m.forward(&input, 1).unwrap();
    gpu.wait_idle().unwrap();
    let plan = gpu.memory().bytes - before;
    assert_eq!(out, input.iter().map(|v| v.max(0.0)).collect::<Vec<_>>());
    // The input, two activations and the buffer the output comes back through (uniforms
    // aside); one per layer would be 14.
    let one = 4 * input.len() as isize;
    assert!(plan < 5 * one, "the plan holds {plan} bytes, {} activations' worth", plan / one);
}

/// Twelve 3x3 max-pools of stride 1 in a chain over `gpus` (one device, or a split): each
/// copies its input into a texture to read it. Checks that each output is still the maximum of
/// its 3x3 window (the input rises along rows, so the window's bottom-right value, the edge's
/// where the window passes it) and returns what the plan holds on each device, in activations.
fn twelve_pools(gpus: &[Gpu]) -> Vec<isize> {
    let (c, h, w) = (4, 128, 128);
    let pool = Pool2d::new(PoolKind::Max, [3, 3], [1, 1]).with_padding(Padding::symmetric(1, 1));
    let layers = (0..12).map(|k| Layer::new(&format!("pool{k}"), Op::Pool2d(pool))).collect();
    let model = Model::build("chain", &[c, h, w], layers).unwrap();
    let mut m = GpuModel::split(gpus, &model, &Weights::new()).unwrap();
    let input: Vec<f32> = (0..c * h * w).map(|i| i as f32).collect();
    let bytes = || gpus.iter().map(|g| g.wait_idle().map(|_| g.memory().bytes)).collect::<Result<Vec<_>, _>>().unwrap();
    let before = bytes();
    let out = m.forward(&input, 1).unwrap();
    // Twelve windows on: row min(y + 12, 127) and column min(x + 12, 127) of the same plane.
    let expected: Vec<f32> = (0..c * h * w)
        .map(|i| {
            let (plane, y, x) = (i / (h * w), i / w % h, i % w);
            (plane * h * w + (y + 12).min(h - 1) * w + (x + 12).min(w - 1)) as f32
        })
        .collect();
    assert_eq!(out, expected);
    let one = 4 * input.len() as isize;
    bytes().iter().zip(before).map(|(after, before)| (after - before) / one).collect()
}

/// A layer takes the intermediates of the layers before it: twelve pools share one texture
/// copy of their input.
#[test]
fn a_chain_of_layers_shares_its_kernels_intermediates() {
    // The input, two activations, the buffer the output comes back through and one texture
    // copy (uniforms aside); a copy per layer would be 16.
    let plan = twelve_pools(&[Gpu::new().unwrap()]);
    assert!(plan[0] < 6, "the plan holds {} activations' worth", plan[0]);
}

/// So does a layer of a split, on each device.
#[test]
fn a_split_chain_shares_its_kernels_intermediates_on_each_device() {
    let gpu = gpu();
    let gpus = Gpu::open_group(2, Some(&gpu.info().name)).unwrap();
    // A split keeps each layer's output (12), the input, its copies and one texture copy; a
    // copy per layer would be 26.
    for (g, plan) in twelve_pools(&gpus).into_iter().enumerate() {
        assert!(plan < 17, "device {g}'s plan holds {plan} activations' worth");
    }
}

/// A plan whose convolutions are tuned as it is recorded holds what the same plan holds when
/// the choices are remembered: the candidates that lost leave nothing a later layer takes.
#[test]
fn tuning_a_plan_leaves_it_no_larger() {
    let gpu = Gpu::new().unwrap();
    gpu.set_autotune(Autotune::On { cache: None });
    let attrs = Conv2d::default().with_padding(Padding::symmetric(1, 1));
    let conv = |k: usize| Layer::new(&format!("conv{k}"), Op::Conv2d { out_channels: 32, kernel: [3, 3], attrs });
    let model = Model::build("convs", &[32, 40, 40], (0..6).map(conv).collect()).unwrap();
    let weights = Weights::he_normal(&model, 5);
    let input = common::random(32 * 40 * 40, 6);
    let plan = || {
        gpu.wait_idle().unwrap();
        let before = gpu.memory().bytes;
        let mut m = GpuModel::new(&gpu, &model, &weights).unwrap();
        let out = m.forward(&input, 1).unwrap();
        gpu.wait_idle().unwrap();
        (gpu.memory().bytes - before, out)
    };
    let (tuned, first) = plan();
    assert!(gpu.autotune_trials() > 1, "the first plan tuned its convolutions");
    let trials = gpu.autotune_trials();
    let (remembered, second) = plan();
    assert_eq!(gpu.autotune_trials(), trials, "the second plan tuned nothing");
    assert_eq!(first, second);
    // Uniforms aside; with the losers' scratch taken by later layers, 4.4 MB against 3.2.
    assert!(
        tuned.abs_diff(remembered) < 4096,
        "the plan tuned as it was recorded holds {tuned} bytes, remembering {remembered}"
    );
}
