//! The models the CLI knows by name.

use crate::attrs::{Conv2d, Lrn, Padding, Pool2d, PoolKind};
use crate::error::{Error, Result};
use crate::model::graph::{Layer, Model, Op};

/// The names [`build`] accepts.
pub const MODELS: &[&str] = &["alexnet", "alexnet-notes", "alexnet-torchvision", "bottleneck"];

/// Builds the model called `name`.
pub fn build(name: &str) -> Result<Model> {
    match name {
        "alexnet" => alexnet(true),
        "alexnet-notes" => alexnet(false),
        "alexnet-torchvision" => alexnet_torchvision(),
        "bottleneck" => bottleneck(),
        other => Err(Error::UnknownModel { name: other.to_string(), known: MODELS }),
    }
}

fn layer(name: &str, op: Op) -> Layer {
    Layer::new(name, op)
}

fn conv(name: &str, out_channels: usize, k: usize, stride: usize, pad: usize, groups: usize) -> Layer {
    let attrs =
        Conv2d::default().with_stride(stride, stride).with_padding(Padding::symmetric(pad, pad)).with_groups(groups);
    layer(name, Op::Conv2d { out_channels, kernel: [k, k], attrs })
}

fn max_pool(name: &str) -> Layer {
    layer(name, Op::Pool2d(Pool2d::new(PoolKind::Max, [3, 3], [2, 2])))
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
