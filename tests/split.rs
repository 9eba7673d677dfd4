//! Channel groups split across devices (logical devices on one adapter here): the split
//! forward equals one device and the CPU reference; weights and exchanges are as placed.

mod common;

use common::{gpu, random};
use dojang::error::{Error, PlacementProblem};
use dojang::model::{Layer, Model, Op, Weights, zoo};
use dojang::ops::{Conv2d, Dense, Lrn, Padding, Pool2d, PoolKind};
use dojang::tolerance::Tolerance;
use dojang::{Gpu, GpuModel, Tensor};

fn group(n: usize) -> Vec<Gpu> {
    Gpu::open_group(n, Some(&gpu().info().name)).expect("logical devices on the test adapter")
}

/// Split over `n` devices vs one device vs the CPU reference, at `batch`.
fn check(model: &Model, n: usize, batch: usize) -> GpuModel {
    let weights = Weights::he_normal(model, 3);
    let input = random(batch * model.input().iter().product::<usize>(), 4);
    let expected = model.forward_reference(&weights, &input, batch).unwrap();
    let single = GpuModel::new(&gpu(), model, &weights).unwrap().forward(&input, batch).unwrap();
    let mut split = GpuModel::split(&group(n), model, &weights).unwrap();
    let name = model.name();
    // Every layer, gathered from the devices, against the reference.
    for layer in &split.forward_report(&input, batch).unwrap() {
        let exp = &expected[layer.layer];
        let c = Tolerance::for_layer(exp).compare(&layer.output, exp);
        assert!(c.passed(), "{name} on {n} devices, batch {batch}, layer {}: {}", layer.name, c.describe(&layer.shape));
    }
    let expected = expected.last().unwrap();
    for _ in 0..2 {
        let got = split.forward(&input, batch).unwrap();
        let c = Tolerance::for_layer(expected).compare(&got, expected);
        assert!(c.passed(), "{name} on {n} devices, batch {batch}, vs reference: {}", c.describe(&[got.len()]));
        let c = Tolerance::for_layer(&single).compare(&got, &single);
        assert!(c.passed(), "{name} on {n} devices, batch {batch}, vs one device: {}", c.describe(&[got.len()]));
    }
    split
}

#[test]
fn alexnet_on_two_devices_matches_one_and_the_reference() {
    let model = zoo::build("alexnet").unwrap();
    check(&model, 2, 4);
    let mut split = check(&model, 2, 1);

    // Each device holds half the parameters (conv1's filters split by tower too), as placed;
    // on the device, packing pads each weight to whole 16-channel tiles (fc8's 500 to 512),
    // and a convolution the autotuner runs by Winograd holds its weight transformed too (16
    // values for 9 taps by F(2x2, 3x3), 36 by F(4x4, 3x3), 36 for 25 by F(2x2, 5x5)): at most
    // that of conv2, conv3, conv4 and conv5's half.
    let total = 4 * model.parameter_count();
    assert_eq!(split.placement().weight_bytes(), vec![total / 2; 2]);
    let winograd = 36 * 4 * (256 * 48 + 384 * 256 + 384 * 192 + 256 * 192) / 2;
    for held in split.weight_bytes() {
        let most = total / 2 + total / 200 + winograd;
        assert!(held >= total / 2 && held <= most, "{held} bytes held, {} placed", total / 2);
    }

    // Exchanges, from the layer shapes: conv3 gathers pool2 (256x13x13), fc6 the flattened
    // pool5 (9216), fc7 and fc8 their 4096 inputs; each device reads back its half once and
    // receives the other half. Softmax gathers fc8's 1000 outputs on device 0: device 1's
    // 500 go down and up.
    let gather_all = |elements: u64| 4 * elements / 2 * 2 + 4 * elements / 2 * 2;
    let expected: u64 = [256 * 13 * 13, 9216, 4096, 4096].iter().map(|&e| gather_all(e)).sum::<u64>() + 4 * 500 * 2;
    let report = split.forward_report(&random(3 * 227 * 227, 5), 1).unwrap();
    let exchanged: u64 = report.iter().map(|r| r.bytes_exchanged).sum();
    assert_eq!(exchanged, expected);
    for r in &report {
        // A fused row's exchanges are its first layer's (a ReLU exchanges nothing).
        let first = if r.name.contains('+') { r.layer - 1 } else { r.layer };
        assert_eq!(r.bytes_exchanged, split.placement().exchange_bytes(&model, first, 1), "{}", r.name);
    }
    let conv3 = report.iter().find(|r| r.name == "conv3+relu3").unwrap();
    assert_eq!(conv3.bytes_exchanged, 4 * 256 * 13 * 13 * 2);
    let conv2 = report.iter().find(|r| r.name == "conv2+relu2").unwrap();
    assert_eq!(conv2.bytes_exchanged, 0, "conv2 stays on its own devices");
    assert_eq!(report.last().unwrap().devices, vec![0]);
}

#[test]
fn bottleneck_splits_too() {
    check(&zoo::build("bottleneck").unwrap(), 2, 1);
}

/// A grouped model with every kind of layer.
fn grouped_model() -> Model {
    let conv = |name: &str, out: usize, k: usize, groups: usize| {
        Layer::new(
            name,
            Op::Conv2d {
                out_channels: out,
                kernel: [k, k],
                attrs: Conv2d::default().with_padding(Padding::symmetric(k / 2, k / 2)).with_groups(groups),
            },
        )
    };
    let layer = |name: &str, op| Layer::new(name, op);
    let layers = vec![
        conv("c1", 16, 3, 1),
        layer("r1", Op::Relu),
        layer("n1", Op::Lrn(Lrn { size: 3, ..Lrn::alexnet() }.with_groups(4))),
        conv("c2", 16, 3, 4),
        layer("p", Op::Pool2d(Pool2d::new(PoolKind::Max, [2, 2], [2, 2]))),
        conv("c3", 8, 1, 1),
        layer("r3", Op::Relu),
        conv("c4", 8, 3, 8),
        layer("f", Op::Flatten),
        layer("d1", Op::Dense { out_features: 12 }),
        layer("r4", Op::Relu),
        layer("d2", Op::Dense { out_features: 8 }),
        layer("s", Op::Softmax),
    ];
    Model::build("grouped", &[4, 11, 9], layers).unwrap()
}

#[test]
fn a_random_grouped_model_on_two_and_four_devices() {
    let model = grouped_model();
    check(&model, 2, 3);
    check(&model, 4, 3);
}

#[test]
fn alexnet_notes_fc6_is_cut_to_fit_the_binding() {
    // fc6 holds 177,209,344 weights: 354 MB per device at N = 2, above lavapipe's 128 MiB
    // binding, so each device holds it as several row slices.
    let model = zoo::build("alexnet-notes").unwrap();
    check(&model, 2, 1);
}

#[test]
fn uneven_splits_are_placement_errors_naming_the_numbers() {
    let layer = |name: &str, op| Layer::new(name, op);
    let conv =
        |out, groups| Op::Conv2d { out_channels: out, kernel: [1, 1], attrs: Conv2d::default().with_groups(groups) };
    let gpus = group(2);

    let m = Model::build("odd", &[2, 4, 4], vec![layer("c", conv(5, 1))]).unwrap();
    let e = GpuModel::split(&gpus, &m, &Weights::he_normal(&m, 1)).err().unwrap();
    assert!(matches!(&e, Error::Placement { layer, devices: 2, .. } if layer == "c"), "{e}");
    assert!(e.to_string().contains("output channels (5) do not divide evenly by 2 devices"), "{e}");

    let m = Model::build("g3", &[6, 4, 4], vec![layer("c", conv(6, 3))]).unwrap();
    let e = GpuModel::split(&gpus, &m, &Weights::he_normal(&m, 1)).err().unwrap();
    assert!(e.to_string().contains("groups (3) do not divide evenly by 2 devices"), "{e}");

    // An LRN whose windows cross the devices' blocks is no error: it gathers its input.
    let layers = vec![layer("c", conv(4, 1)), layer("n", Op::Lrn(Lrn::alexnet()))];
    check(&Model::build("lrn", &[2, 4, 4], layers).unwrap(), 2, 2);

    // A tensor from one logical device is refused by another.
    let x = Tensor::zeros(&gpus[0], &[1, 4]).unwrap();
    let w = Tensor::zeros(&gpus[1], &[2, 4]).unwrap();
    assert!(matches!(dojang::ops::dense(&x, &w, None, &Dense::default()), Err(Error::WrongDevice { .. })));

    // A group of no devices is refused, not indexed.
    let e = GpuModel::split(&[], &m, &Weights::he_normal(&m, 1)).err().unwrap();
    assert!(matches!(e, Error::Placement { problem: PlacementProblem::NoDevices, .. }), "{e}");
}
