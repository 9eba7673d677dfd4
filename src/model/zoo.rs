//! The models the CLI knows by name.

use crate::attrs::{Activation, Conv2d, Lrn, Padding, Pool2d, PoolKind};
use crate::error::{Error, Result};
use crate::model::graph::{Layer, Model, Op};

/// The names [`build`] accepts.
pub const MODELS: &[&str] =
    &["alexnet", "alexnet-notes", "alexnet-torchvision", "bottleneck", "resnet50", "mobilenetv2", "squeezenet1_1"];

/// Builds the model called `name`.
pub fn build(name: &str) -> Result<Model> {
    match name {
        "alexnet" => alexnet(true),
        "alexnet-notes" => alexnet(false),
        "alexnet-torchvision" => alexnet_torchvision(),
        "bottleneck" => bottleneck(),
        "resnet50" => resnet50(),
        "mobilenetv2" => mobilenet_v2(),
        "squeezenet1_1" => squeezenet1_1(),
        other => Err(Error::UnknownModel { name: other.to_string(), known: MODELS }),
    }
}

/// The parameter count of model `name` as its original counts it: ResNet-50's and
/// MobileNetV2's convolutions each had a BatchNorm, folded here into the convolution (its
/// bias becomes the convolution's, which had none; its weight scales the convolution's), so
/// the original holds one more parameter per output channel of every convolution.
pub fn original_parameters(name: &str) -> Result<u64> {
    let model = build(name)?;
    let folded_norms: u64 = match name {
        "resnet50" | "mobilenetv2" => (model.layers().iter())
            .filter_map(|l| match l.op {
                Op::Conv2d { out_channels, .. } => Some(out_channels as u64),
                _ => None,
            })
            .sum(),
        _ => 0,
    };
    Ok(model.parameter_count() + folded_norms)
}

fn layer(name: &str, op: Op) -> Layer {
    Layer::new(name, op)
}

fn conv(name: &str, out_channels: usize, k: usize, stride: usize, pad: usize, groups: usize) -> Layer {
    layer(name, conv_op(out_channels, k, stride, pad, groups))
}

fn conv_op(out_channels: usize, k: usize, stride: usize, pad: usize, groups: usize) -> Op {
    let attrs =
        Conv2d::default().with_stride(stride, stride).with_padding(Padding::symmetric(pad, pad)).with_groups(groups);
    Op::Conv2d { out_channels, kernel: [k, k], attrs }
}

fn max_pool(name: &str) -> Layer {
    layer(name, Op::Pool2d(Pool2d::new(PoolKind::Max, [3, 3], [2, 2])))
}

/// ResNet's 3x3/2 max pooling with a cell of padding on each side.
fn max_pool_padded(name: &str) -> Layer {
    layer(name, Op::Pool2d(Pool2d::new(PoolKind::Max, [3, 3], [2, 2]).with_padding(Padding::symmetric(1, 1))))
}

/// The 2012 two-tower AlexNet on 3x227x227. Each tower holds half the channels: conv2, conv4
/// and conv5 have groups 2; LRN normalises each tower apart. `pool5 = false` gives the
/// variant the notes count, whose fc6 reads the 13x13x256 map directly.
fn alexnet(pool5: bool) -> Result<Model> {
    let relu = |n: &str| layer(n, Op::Relu);
    let lrn = |n: &str| layer(n, Op::Lrn(Lrn::alexnet().with_groups(2)));
    let mut layers = vec![
        conv("conv1", 96, 11, 4, 0, 1),
        relu("relu1"),
        lrn("lrn1"),
        max_pool("pool1"),
        conv("conv2", 256, 5, 1, 2, 2),
        relu("relu2"),
        lrn("lrn2"),
        max_pool("pool2"),
        conv("conv3", 384, 3, 1, 1, 1),
        relu("relu3"),
        conv("conv4", 384, 3, 1, 1, 2),
        relu("relu4"),
        conv("conv5", 256, 3, 1, 1, 2),
        relu("relu5"),
    ];
    if pool5 {
        layers.push(max_pool("pool5"));
    }
    layers.extend([
        layer("flatten", Op::Flatten),
        layer("fc6", Op::Dense { out_features: 4096 }),
        relu("relu6"),
        layer("drop6", Op::Dropout),
        layer("fc7", Op::Dense { out_features: 4096 }),
        relu("relu7"),
        layer("drop7", Op::Dropout),
        layer("fc8", Op::Dense { out_features: 1000 }),
        layer("softmax", Op::Softmax),
    ]);
    Model::build(if pool5 { "alexnet" } else { "alexnet-notes" }, &[3, 227, 227], layers)
}

/// torchvision's one-tower AlexNet on 3x224x224, its layers named as its state_dict
/// (features.0, …, classifier.6), so that its weights load by name.
fn alexnet_torchvision() -> Result<Model> {
    let relu = |n: &str| layer(n, Op::Relu);
    let layers = vec![
        conv("features.0", 64, 11, 4, 2, 1),
        relu("features.1"),
        max_pool("features.2"),
        conv("features.3", 192, 5, 1, 2, 1),
        relu("features.4"),
        max_pool("features.5"),
        conv("features.6", 384, 3, 1, 1, 1),
        relu("features.7"),
        conv("features.8", 256, 3, 1, 1, 1),
        relu("features.9"),
        conv("features.10", 256, 3, 1, 1, 1),
        relu("features.11"),
        max_pool("features.12"),
        layer("avgpool", Op::AdaptiveAvgPool([6, 6])),
        layer("flatten", Op::Flatten),
        layer("classifier.0", Op::Dropout),
        layer("classifier.1", Op::Dense { out_features: 4096 }),
        relu("classifier.2"),
        layer("classifier.3", Op::Dropout),
        layer("classifier.4", Op::Dense { out_features: 4096 }),
        relu("classifier.5"),
        layer("classifier.6", Op::Dense { out_features: 1000 }),
    ];
    Model::build("alexnet-torchvision", &[3, 224, 224], layers)
}

/// A ResNet bottleneck block on 256x56x56: 1x1 256→64, 3x3 64→64, 1x1 64→256, plus the input.
fn bottleneck() -> Result<Model> {
    let layers = vec![
        conv("reduce", 64, 1, 1, 0, 1),
        layer("relu1", Op::Relu),
        conv("conv3x3", 64, 3, 1, 1, 1),
        layer("relu2", Op::Relu),
        conv("expand", 256, 1, 1, 0, 1),
        layer("residual", Op::Add { from: "input".into(), relu: true }),
    ];
    Model::build("bottleneck", &[256, 56, 56], layers)
}

/// torchvision's ResNet-50 (v1.5: the stride in the 3x3) on 3x224x224, BatchNorm folded into
/// the convolutions as a deployed graph has it.
fn resnet50() -> Result<Model> {
    let mut layers = vec![conv("conv1", 64, 7, 2, 3, 1), layer("relu", Op::Relu), max_pool_padded("maxpool")];
    let mut input = "maxpool".to_string();
    for (stage, (width, blocks, stride)) in [(64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)].into_iter().enumerate()
    {
        for b in 0..blocks {
            let name = format!("layer{}.{b}", stage + 1);
            let n = |part: &str| format!("{name}.{part}");
            let s = if b == 0 { stride } else { 1 };
            layers.push(Layer::reading(&n("conv1"), conv_op(width, 1, 1, 0, 1), &[&input]));
            layers.push(layer(&n("relu1"), Op::Relu));
            layers.push(conv(&n("conv2"), width, 3, s, 1, 1));
            layers.push(layer(&n("relu2"), Op::Relu));
            layers.push(conv(&n("conv3"), 4 * width, 1, 1, 0, 1));
            let shortcut = match b {
                0 => {
                    layers.push(Layer::reading(&n("downsample"), conv_op(4 * width, 1, s, 0, 1), &[&input]));
                    n("downsample")
                }
                _ => input.clone(),
            };
            layers.push(Layer::reading(&n("add"), Op::Add { from: shortcut, relu: true }, &[&n("conv3")]));
            input = n("add");
        }
    }
    layers.extend([
        layer("avgpool", Op::GlobalAvgPool),
        layer("flatten", Op::Flatten),
        layer("fc", Op::Dense { out_features: 1000 }),
    ]);
    Model::build("resnet50", &[3, 224, 224], layers)
}

/// torchvision's MobileNetV2 on 3x224x224: inverted residuals (expand 1x1, depthwise 3x3,
/// project 1x1), ReLU6, BatchNorm folded into the convolutions.
fn mobilenet_v2() -> Result<Model> {
    let relu6 = |n: &str| layer(n, Op::Activation(Activation::Clip { min: 0.0, max: 6.0 }));
    let mut layers = vec![conv("features.0", 32, 3, 2, 1, 1), relu6("features.0.relu")];
    let (mut input, mut channels) = ("features.0.relu".to_string(), 32);
    let settings =
        [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)];
    let mut index = 1;
    for (t, out, n, stride) in settings {
        for b in 0..n {
            let name = format!("features.{index}");
            let f = |part: &str| format!("{name}.{part}");
            let (s, hidden) = (if b == 0 { stride } else { 1 }, channels * t);
            let mut first = true;
            let mut push = |layers: &mut Vec<Layer>, l: Layer| {
                layers.push(match first {
                    true => Layer::reading(&l.name, l.op, &[&input]),
                    false => l,
                });
                first = false;
            };
            if t != 1 {
                push(&mut layers, conv(&f("expand"), hidden, 1, 1, 0, 1));
                layers.push(relu6(&f("expand.relu")));
            }
            push(&mut layers, conv(&f("depthwise"), hidden, 3, s, 1, hidden));
            layers.push(relu6(&f("depthwise.relu")));
            layers.push(conv(&f("project"), out, 1, 1, 0, 1));
            if s == 1 && channels == out {
                layers.push(layer(&f("add"), Op::Add { from: input.clone(), relu: false }));
            }
            input = layers.last().map(|l| l.name.clone()).unwrap_or_default();
            channels = out;
            index += 1;
        }
    }
    layers.extend([
        conv("features.18", 1280, 1, 1, 0, 1),
        relu6("features.18.relu"),
        layer("avgpool", Op::GlobalAvgPool),
        layer("flatten", Op::Flatten),
        layer("classifier.0", Op::Dropout),
        layer("classifier.1", Op::Dense { out_features: 1000 }),
    ]);
    Model::build("mobilenetv2", &[3, 224, 224], layers)
}

/// torchvision's SqueezeNet 1.1 on 3x224x224: fire modules (squeeze 1x1, then expand 1x1 and
/// 3x3 side by side), a 1x1 convolution as the classifier.
fn squeezenet1_1() -> Result<Model> {
    let relu = |n: &str| layer(n, Op::Relu);
    let pool = |n: &str| layer(n, Op::Pool2d(Pool2d::new(PoolKind::Max, [3, 3], [2, 2]).with_ceil_mode(true)));
    let mut layers = vec![conv("features.0", 64, 3, 2, 0, 1), relu("features.1"), pool("features.2")];
    let fires = [
        (3, 16, 64),
        (4, 16, 64),
        (6, 32, 128),
        (7, 32, 128),
        (9, 48, 192),
        (10, 48, 192),
        (11, 64, 256),
        (12, 64, 256),
    ];
    for (i, squeeze, expand) in fires {
        let f = |part: &str| format!("features.{i}.{part}");
        layers.extend([conv(&f("squeeze"), squeeze, 1, 1, 0, 1), relu(&f("squeeze_activation"))]);
        layers.push(conv(&f("expand1x1"), expand, 1, 1, 0, 1));
        layers.push(relu(&f("expand1x1_activation")));
        layers.push(Layer::reading(&f("expand3x3"), conv_op(expand, 3, 1, 1, 1), &[&f("squeeze_activation")]));
        layers.push(relu(&f("expand3x3_activation")));
        layers.push(Layer::reading(&f("cat"), Op::Concat, &[&f("expand1x1_activation"), &f("expand3x3_activation")]));
        if i == 4 || i == 7 {
            layers.push(pool(&format!("features.{}", i + 1)));
        }
    }
    layers.extend([
        layer("classifier.0", Op::Dropout),
        conv("classifier.1", 1000, 1, 1, 0, 1),
        relu("classifier.2"),
        layer("classifier.3", Op::GlobalAvgPool),
        layer("flatten", Op::Flatten),
    ]);
    Model::build("squeezenet1_1", &[3, 224, 224], layers)
}
