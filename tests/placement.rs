//! Placement without a GPU: who holds which channels and weights, what each layer exchanges,
//! and the errors for models that cannot be split evenly.

use dojang::error::{Error, PlacementProblem};
use dojang::model::{Layer, Model, Op, zoo};
use dojang::ops::{Conv2d, Lrn};
use dojang::split::{Gather, Spread, place};

fn layer(name: &str, op: Op) -> Layer {
    Layer::new(name, op)
}

fn conv(out: usize, groups: usize) -> Op {
    Op::Conv2d { out_channels: out, kernel: [1, 1], attrs: Conv2d::default().with_groups(groups) }
}

#[test]
fn alexnet_on_two_devices_as_the_paper_placed_it() {
    let model = zoo::build("alexnet").unwrap();
    let p = place(&model, 2).unwrap();
    let at = |name: &str| model.layers().iter().position(|l| l.name == name).unwrap();
    // conv2, conv4 and conv5 stay on their towers; conv3 and the dense layers gather.
    for name in ["conv1", "conv2", "conv4", "conv5", "relu5", "pool5"] {
        assert_eq!(p.layers()[at(name)].gather, Gather::None, "{name}");
    }
    for name in ["conv3", "fc6", "fc7", "fc8"] {
        assert_eq!(p.layers()[at(name)].gather, Gather::All, "{name}");
    }
    assert_eq!(p.layers()[at("softmax")].gather, Gather::Root);
    assert_eq!(p.layers()[at("softmax")].output, Spread::Root);
    assert_eq!(p.devices_of(at("softmax")), vec![0]);
    assert_eq!(p.device_shape(&model, at("conv2"), 3), vec![3, 128, 27, 27]);

    // Each device holds exactly half of the 60,965,224 parameters.
    assert_eq!(p.weight_bytes(), vec![4 * 60_965_224 / 2; 2]);
    // conv2's tower 1 holds filters 128..256: rows of 48·5·5 weights.
    let share = p.layers()[at("conv2")].shares[1].as_ref().unwrap();
    let params = share.params.as_ref().unwrap();
    assert_eq!(params.weight, 128 * 1200..256 * 1200);
    assert_eq!(params.weight_shape, vec![128, 48, 5, 5]);
    assert_eq!(params.bias, 128..256);
    assert!(matches!(share.op, Op::Conv2d { out_channels: 128, attrs, .. } if attrs.groups == 1));

    // Exchanges at batch 1, from the layer shapes: conv3 gathers pool2 (256x13x13), fc6 the
    // flattened pool5 (9216), fc7 and fc8 their 4096 inputs; each device reads back its half
    // once and receives the other half. Softmax gathers fc8's 1000 outputs on device 0.
    let gather_all = |elements: u64| 4 * elements / 2 * 2 + 4 * elements / 2 * 2;
    let bytes: Vec<u64> = (0..model.layers().len()).map(|i| p.exchange_bytes(&model, i, 1)).collect();
    assert_eq!(bytes[at("conv3")], gather_all(256 * 13 * 13));
    assert_eq!(bytes[at("fc6")], gather_all(9216));
    assert_eq!(bytes[at("softmax")], 4 * 500 * 2);
    assert_eq!(bytes.iter().sum::<u64>(), 489_376);
    assert_eq!((0..model.layers().len()).map(|i| p.exchange_bytes(&model, i, 4)).sum::<u64>(), 4 * 489_376);
}

#[test]
fn one_device_gathers_nothing() {
    let model = zoo::build("alexnet").unwrap();
    let p = place(&model, 1).unwrap();
    assert!(p.layers().iter().all(|l| l.gather == Gather::None));
    assert_eq!(p.weight_bytes(), vec![4 * 60_965_224]);
    assert_eq!((0..model.layers().len()).map(|i| p.exchange_bytes(&model, i, 1)).sum::<u64>(), 0);
    let bottleneck = zoo::build("bottleneck").unwrap();
    assert_eq!(place(&bottleneck, 1).unwrap().weight_bytes(), vec![4 * 70_016]);
}

#[test]
fn uneven_splits_are_errors_naming_the_layer_and_numbers() {
    let build = |input: &[usize], layers| Model::build("m", input, layers).unwrap();
    let e = place(&build(&[2, 4, 4], vec![layer("c", conv(5, 1))]), 2).unwrap_err();
    assert!(matches!(&e, Error::Placement { layer, devices: 2, .. } if layer == "c"), "{e}");
    assert_eq!(
        e.to_string(),
        "placement of layer c on 2 devices: output channels (5) do not divide evenly by 2 devices"
    );

    let e = place(&build(&[6, 4, 4], vec![layer("c", conv(6, 3))]), 2).unwrap_err();
    assert!(e.to_string().ends_with("groups (3) do not divide evenly by 2 devices"), "{e}");

    // An LRN whose windows cross the devices' blocks gathers the whole input on each.
    let m = build(&[2, 4, 4], vec![layer("c", conv(4, 1)), layer("n", Op::Lrn(Lrn::alexnet()))]);
    let p = place(&m, 2).unwrap();
    assert_eq!((p.layers()[1].gather, p.layers()[1].output), (Gather::All, Spread::Whole));

    let m = build(&[4, 4, 4], vec![layer("s", Op::Softmax), layer("r", Op::Relu)]);
    let e = place(&m, 2).unwrap_err();
    assert!(matches!(e, Error::Placement { problem: PlacementProblem::AfterSoftmax, .. }), "{e}");

    let m = build(&[4, 4, 4], vec![layer("c", conv(4, 1))]);
    assert!(matches!(place(&m, 0).unwrap_err(), Error::Placement { problem: PlacementProblem::NoDevices, .. }));
    // Four devices split the same model evenly.
    assert_eq!(place(&m, 4).unwrap().device_shape(&m, 0, 2), vec![2, 1, 4, 4]);
}

#[test]
#[should_panic(expected = "the placement has 24 layers; there is no layer 24")]
fn a_layer_past_the_last_is_a_panic_naming_both() {
    let model = zoo::build("alexnet").unwrap();
    place(&model, 2).unwrap().devices_of(24);
}

#[test]
fn the_accessors_of_the_last_layer_answer() {
    let model = zoo::build("alexnet").unwrap();
    let p = place(&model, 2).unwrap();
    assert_eq!(p.devices_of(23), vec![0]);
    assert_eq!(p.device_shape(&model, 23, 2), vec![2, 1000]);
    assert_eq!(p.exchange_bytes(&model, 23, 1), 2 * 2000);
}
