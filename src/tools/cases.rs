//! The validation cases: every op over representative and awkward shapes — AlexNet's and
//! ResNet's layers, odd channel counts, asymmetric padding, a stride per axis, dilation,
//! groups and depthwise, batch > 1, 1x1 outputs, non-square images. One table feeds both the
//! validator (`dojang-validate ops`) and the test suite.

use crate::attrs::{Conv2d, Lrn, Padding, Pool2d, PoolKind};

/// A convolution of an `input` by a `weight` (OIHW), with or without bias.
#[derive(Clone, Copy, Debug)]
pub struct ConvCase {
    /// The case's name in reports.
    pub name: &'static str,
    /// Input shape, NCHW.
    pub input: [usize; 4],
    /// Weight shape, OIHW.
    pub weight: [usize; 4],
    /// With a bias.
    pub bias: bool,
    /// The op's attributes.
    pub attrs: Conv2d,
}

/// Every convolution case; the first ones are the layers of real networks.
pub fn conv2d() -> Vec<ConvCase> {
    let c = Conv2d::default();
    let pad = |p| c.with_padding(Padding::symmetric(p, p));
    let case = |name, input, weight, bias, attrs| ConvCase { name, input, weight, bias, attrs };
    vec![
        case("alexnet conv1 11x11/4", [1, 3, 227, 227], [96, 3, 11, 11], true, c.with_stride(4, 4).with_relu(true)),
        case(
            "alexnet conv2 5x5 groups 2",
            [1, 96, 27, 27],
            [256, 48, 5, 5],
            true,
            pad(2).with_groups(2).with_relu(true),
        ),
        case("alexnet conv3 3x3", [1, 256, 13, 13], [384, 256, 3, 3], true, pad(1).with_relu(true)),
        case("resnet 3x3 64->64", [1, 64, 56, 56], [64, 64, 3, 3], true, pad(1).with_relu(true)),
        case("resnet 1x1 256->64", [1, 256, 56, 56], [64, 256, 1, 1], true, c.with_relu(true)),
        case("resnet 1x1 64->256", [1, 64, 56, 56], [256, 64, 1, 1], true, c),
        case("1x1 384->192 on 13x13", [1, 384, 13, 13], [192, 384, 1, 1], false, c.with_relu(true)),
        // Planes of whole texels but not whole 16-column tiles: one image reads its input as
        // it stands (its last tile runs into the next channel, not stored), two lay it out.
        case("1x1 40->24 on 14x14", [1, 40, 14, 14], [24, 40, 1, 1], false, c.with_relu(true)),
        case("1x1 20->24 on 6x6, batch 2", [2, 20, 6, 6], [24, 20, 1, 1], false, c),
        // AlexNet conv4's kind: two groups, 3x3 of stride 1 (Winograd runs it in 2·A² groups).
        case("3x3 groups 2, 24->32, batch 2", [2, 24, 9, 11], [32, 12, 3, 3], true, pad(1).with_groups(2)),
        case("depthwise 32, batch 2", [2, 32, 28, 28], [32, 1, 3, 3], true, pad(1).with_groups(32).with_relu(true)),
        case("3x3 pad 1, batch 3", [3, 5, 13, 11], [17, 5, 3, 3], true, pad(1)),
        case("asymmetric padding", [1, 3, 10, 9], [5, 3, 3, 4], false, c.with_padding(Padding::new(1, 2, 0, 3))),
        case(
            "asymmetric padding, batch 3",
            [3, 5, 17, 13],
            [17, 5, 3, 3],
            true,
            c.with_padding(Padding::new(1, 2, 0, 1)),
        ),
        // Padding that keeps the width, unevenly: the row windows are the input read flat.
        case(
            "asymmetric padding keeping the width",
            [2, 3, 7, 11],
            [5, 3, 3, 4],
            true,
            c.with_padding(Padding::new(2, 1, 0, 2)),
        ),
        case("stride (2, 1)", [2, 3, 15, 12], [5, 3, 3, 3], true, c.with_stride(2, 1)),
        case(
            "stride (1, 3), pad",
            [1, 4, 9, 20],
            [3, 4, 2, 5],
            false,
            c.with_stride(1, 3).with_padding(Padding::new(0, 2, 1, 2)),
        ),
        case(
            "dilation 2",
            [1, 3, 17, 17],
            [5, 3, 3, 3],
            true,
            c.with_dilation(2, 2).with_padding(Padding::symmetric(2, 2)),
        ),
        case("dilation (3, 1)", [2, 2, 14, 9], [3, 2, 3, 2], false, c.with_dilation(3, 1)),
        case("depthwise 5", [2, 5, 12, 10], [5, 1, 3, 3], true, pad(1).with_groups(5)),
        case("depthwise x2 multiplier", [1, 5, 8, 8], [10, 1, 3, 3], false, c.with_groups(5).with_stride(2, 2)),
        case(
            "depthwise 5x5 dilated, strides 2x1, asymmetric pad",
            [2, 7, 11, 9],
            [7, 1, 5, 5],
            true,
            c.with_groups(7).with_dilation(2, 1).with_stride(2, 1).with_padding(Padding::new(3, 0, 1, 2)),
        ),
        // The depthwise kernel's paths: rows of whole vec4s read from a shifted start, blocks
        // of rows with a remainder, outputs not whole vec4s, rows carried at stride = dilation,
        // a multiplier with a dilated row, a small plane, rows of OW % 4 = 2 stored in pairs
        // (and not, where the rows are odd); a 7x7 runs on the direct kernel.
        case(
            "depthwise 3x3 on 56 wide, pad left 2, 19 rows",
            [1, 6, 19, 56],
            [6, 1, 3, 3],
            true,
            c.with_groups(6).with_padding(Padding::new(1, 2, 1, 0)),
        ),
        case("depthwise 5x5/2 on 28 wide, 14 out", [2, 4, 13, 28], [4, 1, 5, 5], false, pad(2).with_groups(4)),
        case(
            "depthwise x3 multiplier, dilation (1, 2)",
            [2, 3, 9, 16],
            [9, 1, 3, 3],
            true,
            c.with_groups(3).with_dilation(1, 2).with_padding(Padding::new(1, 2, 1, 2)),
        ),
        case(
            "depthwise stride 2 dilation 2",
            [1, 3, 17, 20],
            [3, 1, 3, 3],
            false,
            pad(2).with_groups(3).with_stride(2, 2).with_dilation(2, 2),
        ),
        case("depthwise on 7x7", [1, 8, 7, 7], [8, 1, 3, 3], true, pad(1).with_groups(8).with_relu(true)),
        case("depthwise 7x7", [1, 4, 14, 14], [4, 1, 7, 7], true, pad(3).with_groups(4)),
        case(
            "depthwise 14x14 rows in pairs, x2 multiplier",
            [2, 3, 14, 14],
            [6, 1, 3, 3],
            true,
            pad(1).with_groups(3).with_relu(true),
        ),
        case(
            "depthwise 5x5, 6 wide rows in pairs",
            [1, 4, 9, 7],
            [4, 1, 5, 5],
            false,
            c.with_groups(4).with_padding(Padding::new(2, 2, 3, 1)),
        ),
        case("depthwise 2 wide rows in pairs", [1, 2, 4, 2], [2, 1, 3, 3], true, pad(1).with_groups(2)),
        case(
            "depthwise stride 2 rows in pairs from a shifted start",
            [1, 2, 12, 12],
            [2, 1, 3, 3],
            true,
            pad(1).with_groups(2).with_stride(2, 2),
        ),
        case(
            "depthwise dilation 2 rows in pairs",
            [1, 2, 8, 10],
            [2, 1, 3, 3],
            false,
            pad(2).with_groups(2).with_dilation(2, 2),
        ),
        case("depthwise 10 wide, 7 rows", [1, 3, 7, 10], [3, 1, 3, 3], true, pad(1).with_groups(3)),
        case("groups 3 odd channels", [1, 9, 7, 7], [15, 3, 3, 3], true, c.with_groups(3).with_relu(true)),
        case("cin 1 cout 1", [1, 1, 6, 6], [1, 1, 3, 3], false, c),
        case("7x7, wider than a row preload", [1, 2, 12, 15], [3, 2, 7, 7], true, pad(3)),
        case("5x5 pad (0, 3)", [2, 3, 9, 23], [9, 3, 5, 5], true, c.with_padding(Padding::new(0, 3, 1, 0))),
        case("cin 17 cout 5", [1, 17, 9, 8], [5, 17, 3, 3], true, pad(1)),
        case("cin 5 cout 17 batch 3", [3, 5, 6, 7], [17, 5, 2, 2], false, c),
        case("non-square 7x19", [1, 3, 7, 19], [5, 3, 3, 3], true, pad(1).with_relu(true)),
        case("1x1 output", [2, 3, 5, 5], [4, 3, 5, 5], true, c.with_relu(true)),
        case("1x1 output by stride", [1, 2, 6, 6], [3, 2, 3, 3], false, c.with_stride(4, 4)),
        // Strided kernels that fold space-to-depth into 3x3 and 5x5 ones (Winograd over them).
        case("11x11/4, 1x1 output, batch 2", [2, 3, 11, 11], [8, 3, 11, 11], true, c.with_stride(4, 4)),
        case(
            "6x6/2 groups 2, asymmetric padding, batch 2",
            [2, 6, 13, 11],
            [16, 3, 6, 6],
            true,
            c.with_stride(2, 2).with_groups(2).with_padding(Padding::new(1, 2, 0, 3)).with_relu(true),
        ),
        case("5x5/2 pad 2, odd channels", [1, 5, 15, 12], [9, 5, 5, 5], false, pad(2).with_stride(2, 2)),
        case("9x9/2 pad 1", [1, 3, 21, 17], [8, 3, 9, 9], true, pad(1).with_stride(2, 2)),
        case("pointwise 3->5 on 7x19", [1, 3, 7, 19], [5, 3, 1, 1], true, c.with_relu(true)),
        case("pointwise groups 2, batch 3", [3, 6, 5, 9], [4, 3, 1, 1], true, c.with_groups(2)),
        case("pointwise groups 2 on 14x14", [3, 64, 14, 14], [64, 32, 1, 1], true, c.with_groups(2).with_relu(true)),
        case("pointwise odd pixels and channels", [2, 5, 7, 3], [9, 5, 1, 1], true, c.with_relu(true)),
        case("pointwise with stride", [1, 4, 9, 9], [6, 4, 1, 1], false, c.with_stride(2, 2)),
        case("pointwise with padding", [1, 4, 5, 6], [6, 4, 1, 1], true, c.with_padding(Padding::new(1, 0, 0, 1))),
        case(
            "1x1 stride (2, 3), groups 2, padding, batch 2",
            [2, 6, 11, 14],
            [4, 3, 1, 1],
            true,
            c.with_stride(2, 3).with_groups(2).with_padding(Padding::new(0, 1, 1, 0)).with_relu(true),
        ),
        case("1x1/2 32->48 on 14x14, batch 2", [2, 32, 14, 14], [48, 32, 1, 1], false, c.with_stride(2, 2)),
    ]
}

/// A pooling of an `input`.
#[derive(Clone, Copy, Debug)]
pub struct PoolCase {
    /// The case's name in reports.
    pub name: &'static str,
    /// Input shape, NCHW.
    pub input: [usize; 4],
    /// The op's attributes.
    pub attrs: Pool2d,
}

/// Every pooling case.
pub fn pool2d() -> Vec<PoolCase> {
    let max = |k, s| Pool2d::new(PoolKind::Max, k, s);
    let avg = |k, s| Pool2d::new(PoolKind::Avg, k, s);
    let case = |name, input, attrs| PoolCase { name, input, attrs };
    vec![
        case("alexnet pool1 55->27", [1, 96, 55, 55], max([3, 3], [2, 2])),
        case("alexnet pool2 27->13, batch 3", [3, 256, 27, 27], max([3, 3], [2, 2])),
        case("alexnet pool5 13->6", [1, 256, 13, 13], max([3, 3], [2, 2])),
        case("global average 7x7", [2, 512, 7, 7], Pool2d::global_avg([7, 7])),
        case("2x2 avg", [2, 5, 8, 8], avg([2, 2], [2, 2])),
        case("non-square 7x19 max", [1, 3, 7, 19], max([2, 3], [1, 2])),
        case("asymmetric pad max", [1, 3, 9, 8], max([3, 3], [2, 1]).with_padding(Padding::new(1, 0, 0, 1))),
        case("avg pad excl", [3, 17, 9, 11], avg([3, 3], [2, 2]).with_padding(Padding::symmetric(1, 1))),
        case(
            "avg pad incl",
            [1, 5, 9, 11],
            avg([3, 3], [2, 2]).with_padding(Padding::symmetric(1, 1)).with_count_include_pad(true),
        ),
        case("ceil max", [1, 3, 10, 10], max([3, 3], [2, 2]).with_ceil_mode(true)),
        case(
            "ceil max asymmetric pad",
            [2, 3, 10, 7],
            max([3, 3], [2, 2]).with_padding(Padding::new(1, 1, 0, 1)).with_ceil_mode(true),
        ),
        case(
            "ceil avg pad incl",
            [2, 3, 10, 7],
            avg([3, 2], [2, 2])
                .with_padding(Padding::new(1, 1, 1, 0))
                .with_ceil_mode(true)
                .with_count_include_pad(true),
        ),
        case("1x1 output", [2, 3, 4, 4], max([4, 4], [1, 1])),
        case("max, padding past the window", [2, 3, 5, 6], max([2, 3], [2, 2]).with_padding(Padding::new(3, 1, 2, 4))),
        case(
            "avg, padding past the window, ceil",
            [1, 4, 6, 5],
            avg([3, 2], [2, 3]).with_padding(Padding::new(2, 3, 4, 1)).with_ceil_mode(true),
        ),
    ]
}

/// A dense layer: x `[batch, in]`, W `[out, in]`.
#[derive(Clone, Copy, Debug)]
pub struct DenseCase {
    /// The case's name in reports.
    pub name: &'static str,
    /// Rows of the input.
    pub batch: usize,
    /// Input features.
    pub in_features: usize,
    /// Output features.
    pub out_features: usize,
    /// With a bias.
    pub bias: bool,
    /// With ReLU fused.
    pub relu: bool,
}

/// Every dense case.
pub fn dense() -> Vec<DenseCase> {
    let case = |name, batch, in_features, out_features, bias, relu| DenseCase {
        name,
        batch,
        in_features,
        out_features,
        bias,
        relu,
    };
    vec![
        case("alexnet fc6", 1, 9216, 4096, true, true),
        case("alexnet fc7", 1, 4096, 4096, true, true),
        case("alexnet fc8", 1, 4096, 1000, true, false),
        case("alexnet fc6, batch 4", 4, 9216, 4096, true, true),
        case("batch 3", 3, 257, 129, true, false),
        case("batch 4 relu", 4, 100, 37, true, true),
        case("odd everything", 5, 17, 3, false, false),
        case("one output", 2, 9, 1, true, false),
        case("one feature", 3, 1, 5, true, true),
        case("batch 1 small", 1, 5, 3, false, true),
    ]
}

/// An LRN of an `input`.
#[derive(Clone, Copy, Debug)]
pub struct LrnCase {
    /// The case's name in reports.
    pub name: &'static str,
    /// Input shape, NCHW.
    pub input: [usize; 4],
    /// The op's attributes.
    pub attrs: Lrn,
}

/// Every LRN case.
pub fn lrn() -> Vec<LrnCase> {
    let case = |name, input, attrs| LrnCase { name, input, attrs };
    vec![
        case("alexnet lrn1, groups 2", [1, 96, 55, 55], Lrn::alexnet().with_groups(2)),
        case("alexnet lrn2, batch 3", [3, 256, 13, 13], Lrn::alexnet()),
        case("odd channels, size 3", [2, 7, 5, 9], Lrn { size: 3, alpha: 0.5, beta: 0.6, k: 1.0, groups: 1 }),
        case(
            "channels across walks of 16, size 7",
            [2, 37, 4, 3],
            Lrn { size: 7, alpha: 1.5, beta: 0.75, k: 2.0, groups: 1 },
        ),
        case("window wider than a group", [1, 6, 3, 3], Lrn { size: 7, alpha: 2.0, beta: 0.75, k: 1.0, groups: 3 }),
        // Planes of 14 and 15 pixels: the vec4s the kernel writes straddle channels, groups and
        // images at every offset within a vec4.
        case("14 pixels, groups 2, batch 2", [2, 6, 2, 7], Lrn { size: 5, alpha: 0.8, beta: 0.75, k: 1.5, groups: 2 }),
        case("15 pixels, batch 3", [3, 5, 3, 5], Lrn { size: 3, alpha: 1.0, beta: 0.5, k: 2.0, groups: 1 }),
        // A vec4 spans four groups of one 1x1 channel each, and two images.
        case("1x1, a channel a group", [3, 4, 1, 1], Lrn { size: 3, alpha: 1.0, beta: 0.75, k: 1.0, groups: 4 }),
        case("2 pixels, 5 channels", [2, 5, 1, 2], Lrn { size: 5, alpha: 1.2, beta: 0.75, k: 1.0, groups: 1 }),
        // Past the sizes the kernel unrolls: the window's loop runs to a uniform bound.
        case("size 11", [1, 13, 2, 3], Lrn { size: 11, alpha: 1.0, beta: 0.6, k: 1.0, groups: 1 }),
    ]
}

/// A softmax of random logits of `scale` around `offset`.
#[derive(Clone, Debug)]
pub struct SoftmaxCase {
    /// The case's name in reports.
    pub name: &'static str,
    /// Input shape.
    pub shape: Vec<usize>,
    /// Logits are uniform in ±scale …
    pub scale: f32,
    /// … around this offset.
    pub offset: f32,
}

/// Every softmax case.
pub fn softmax() -> Vec<SoftmaxCase> {
    let case = |name, shape: &[usize], scale, offset| SoftmaxCase { name, shape: shape.to_vec(), scale, offset };
    vec![
        case("1000 classes, batch 4", &[4, 1000], 20.0, 0.0),
        case("logits near 1000", &[3, 1000], 20.0, 1000.0),
        case("4-D", &[2, 5, 3, 2], 1.0, 0.0),
        case("13 rows of 37 classes", &[13, 37], 5.0, 0.0),
    ]
}

/// ReLU of an input, or the sum of two then ReLU.
#[derive(Clone, Copy, Debug)]
pub struct ElementwiseCase {
    /// The case's name in reports.
    pub name: &'static str,
    /// Shape of each operand.
    pub shape: [usize; 4],
    /// An add of two tensors (then ReLU) rather than a ReLU.
    pub add: bool,
}

/// Every element-wise case.
pub fn elementwise() -> Vec<ElementwiseCase> {
    let case = |name, shape, add| ElementwiseCase { name, shape, add };
    vec![
        case("alexnet relu1", [1, 96, 55, 55], false),
        case("resnet residual", [1, 256, 56, 56], true),
        case("odd length", [3, 17, 33, 29], false),
        case("odd length", [3, 17, 33, 29], true),
    ]
}

/// The layers the benchmarks time (`dojang-validate bench`, `cargo bench`), by the names
/// scripts know them by: AlexNet's convolutions at batch 1 (ReLU fused, as the model runs
/// them) and the ResNet bottleneck's 1x1 convolutions and downsampling shortcut.
pub fn bench_convs() -> Vec<ConvCase> {
    let c = Conv2d::default().with_relu(true);
    let pad = |p| c.with_padding(Padding::symmetric(p, p));
    let case = |name, input, weight, attrs| ConvCase { name, input, weight, bias: true, attrs };
    vec![
        case("alexnet-conv1", [1, 3, 227, 227], [96, 3, 11, 11], c.with_stride(4, 4)),
        case("alexnet-conv2", [1, 96, 27, 27], [256, 48, 5, 5], pad(2).with_groups(2)),
        case("alexnet-conv3", [1, 256, 13, 13], [384, 256, 3, 3], pad(1)),
        case("alexnet-conv4", [1, 384, 13, 13], [384, 192, 3, 3], pad(1).with_groups(2)),
        case("alexnet-conv5", [1, 384, 13, 13], [256, 192, 3, 3], pad(1).with_groups(2)),
        case("bottleneck-1x1-256-64", [1, 256, 56, 56], [64, 256, 1, 1], c),
        case("bottleneck-1x1-64-256", [1, 64, 56, 56], [256, 64, 1, 1], c),
        // ResNet's downsampling shortcut into its second stage (ReLU after the add, not here).
        case("downsample-1x1-s2-256-56", [1, 256, 56, 56], [512, 256, 1, 1], Conv2d::default().with_stride(2, 2)),
        // ResNet's 3x3 convolutions: the first stage's and the third's.
        case("resnet-3x3-64-56", [1, 64, 56, 56], [64, 64, 3, 3], pad(1)),
        case("resnet-3x3-256-14", [1, 256, 14, 14], [256, 256, 3, 3], pad(1)),
        // A stride-1 convolution over a large image, where laying windows out costs the most.
        case("conv-3x3-16-2048", [1, 16, 2048, 2048], [16, 16, 3, 3], pad(1)),
        // MobileNetV2's depthwise layers: memory-bound, compared with relu-144-56.
        case("dw-3x3-144-56", [1, 144, 56, 56], [144, 1, 3, 3], pad(1).with_groups(144)),
        case("dw-3x3-s2-144-56", [1, 144, 56, 56], [144, 1, 3, 3], pad(1).with_groups(144).with_stride(2, 2)),
    ]
}

/// AlexNet's dense layers at batch 1 and 64, as the benchmarks name them.
pub fn bench_dense() -> Vec<DenseCase> {
    let case = |name, batch, in_features, out_features| DenseCase {
        name,
        batch,
        in_features,
        out_features,
        bias: true,
        relu: true,
    };
    vec![
        case("fc6-b1", 1, 9216, 4096),
        case("fc7-b1", 1, 4096, 4096),
        case("fc8-b1", 1, 4096, 1000),
        case("fc6-b64", 64, 9216, 4096),
        case("fc7-b64", 64, 4096, 4096),
        case("fc8-b64", 64, 4096, 1000),
    ]
}
