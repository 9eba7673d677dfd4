//! The mobile networks' element-wise layers on the GPU: the activations, the product by a
//! gate per channel (squeeze-and-excitation) and the channel shuffle, against the CPU
//! reference and values worked out by hand, NaN kept, bad arguments refused.

mod common;

use common::{assert_close, gpu, random};
use dojang::ops::Activation;
use dojang::tolerance::Tolerance;
use dojang::{Error, Tensor, ops, reference};

const ALL: [Activation; 7] = [
    Activation::Relu,
    Activation::Clip { min: 0.0, max: 6.0 },
    Activation::Sigmoid,
    Activation::HardSigmoid { alpha: 0.2, beta: 0.5 },
    Activation::HardSwish,
    Activation::Silu,
    Activation::LeakyRelu { alpha: 0.01 },
];

#[test]
fn activations_match_the_reference_and_keep_nan() {
    let gpu = gpu();
    // Values far out on both sides (exp overflows), near the bends, and odd lengths.
    for len in [1, 5, 4099] {
        let x: Vec<f32> = random(len, 7).iter().map(|v| v * 12.0).chain([-100.0, 100.0, -3.0, 3.0, 6.0]).collect();
        let t = Tensor::from_slice(&gpu, &x, &[1, x.len()]).unwrap();
        for act in ALL {
            let got = ops::activation(&t, act).unwrap().download().unwrap();
            assert_close(&format!("{act:?}"), &got, &reference::activation(&x, act), &[x.len()], Tolerance::default());
        }
    }
    let nan = Tensor::from_slice(&gpu, &[f32::NAN, 1.0], &[1, 2]).unwrap();
    for act in ALL {
        assert!(ops::activation(&nan, act).unwrap().download().unwrap()[0].is_nan(), "{act:?} keeps NaN");
    }
}

#[test]
fn activations_by_hand() {
    let gpu = gpu();
    let x = Tensor::from_slice(&gpu, &[-4.0, -1.0, 0.0, 2.0, 8.0], &[1, 5]).unwrap();
    let run = |act| ops::activation(&x, act).unwrap().download().unwrap();
    assert_eq!(run(Activation::Clip { min: 0.0, max: 6.0 }), [0.0, 0.0, 0.0, 2.0, 6.0]);
    assert_eq!(run(Activation::HardSigmoid { alpha: 0.2, beta: 0.5 }), [0.0, 0.3, 0.5, 0.9, 1.0]);
    // x · clamp(x/6 + 1/2, 0, 1): −4 → 0, −1 → −1/3, 2 → 2·5/6, 8 → 8.
    let hs = run(Activation::HardSwish);
    for (g, e) in hs.iter().zip([0.0, -1.0 / 3.0, 0.0, 5.0 / 3.0, 8.0]) {
        assert!((g - e).abs() < 1e-6, "{hs:?}");
    }
    assert_eq!(run(Activation::LeakyRelu { alpha: 0.5 }), [-2.0, -0.5, 0.0, 2.0, 8.0]);
    let s = run(Activation::Sigmoid);
    assert!((s[2] - 0.5).abs() < 1e-7 && (s[3] - 0.880_797).abs() < 1e-6, "{s:?}");
}

#[test]
fn a_gate_per_channel_and_a_product_of_equal_shapes() {
    let gpu = gpu();
    for shape in [[1, 3, 5, 7], [2, 16, 4, 4], [3, 5, 1, 1]] {
        let len: usize = shape.iter().product();
        let x = random(len, 1);
        let gate = random(shape[0] * shape[1], 2);
        let xt = Tensor::from_slice(&gpu, &x, &shape).unwrap();
        let gt = Tensor::from_slice(&gpu, &gate, &[shape[0], shape[1], 1, 1]).unwrap();
        let got = ops::mul(&xt, &gt).unwrap().download().unwrap();
        assert_close("gate", &got, &reference::mul(&x, &gate).unwrap(), &shape, Tolerance::default());
        let same = ops::mul(&xt, &xt).unwrap().download().unwrap();
        assert_close("square", &same, &reference::mul(&x, &x).unwrap(), &shape, Tolerance::default());
    }
    // Two channels of two pixels, gates 2 and −1.
    let x = Tensor::from_slice(&gpu, &[1.0, 2.0, 3.0, 4.0], &[1, 2, 1, 2]).unwrap();
    let g = Tensor::from_slice(&gpu, &[2.0, -1.0], &[1, 2, 1, 1]).unwrap();
    assert_eq!(ops::mul(&x, &g).unwrap().download().unwrap(), [2.0, 4.0, -3.0, -4.0]);
    let wrong = Tensor::from_slice(&gpu, &[1.0, 2.0, 3.0], &[1, 3, 1, 1]).unwrap();
    assert!(matches!(ops::mul(&x, &wrong).unwrap_err(), Error::Mismatch { op: "mul", .. }));
}

#[test]
fn channel_shuffle_by_hand_and_against_the_reference() {
    let gpu = gpu();
    // Six channels of one pixel in two groups: [0 1 2 | 3 4 5] → [0 3 1 4 2 5].
    let x = Tensor::from_slice(&gpu, &[0.0, 1.0, 2.0, 3.0, 4.0, 5.0], &[1, 6, 1, 1]).unwrap();
    assert_eq!(ops::channel_shuffle(&x, 2).unwrap().download().unwrap(), [0.0, 3.0, 1.0, 4.0, 2.0, 5.0]);
    let shape = [2, 12, 3, 5];
    let v = random(shape.iter().product(), 3);
    let t = Tensor::from_slice(&gpu, &v, &shape).unwrap();
    for groups in [1, 3, 4, 12] {
        let got = ops::channel_shuffle(&t, groups).unwrap().download().unwrap();
        assert_eq!(got, reference::channel_shuffle(&v, &shape, groups).unwrap(), "groups {groups}");
    }
    let e = ops::channel_shuffle(&t, 5).unwrap_err();
    assert!(e.to_string().contains("channels (12) is not divisible by groups (5)"), "{e}");
}

/// Every activation fused into the convolution's epilogue, through every kernel that runs it
/// (direct, im2col + GEMM, the implicit GEMM, depthwise), and into the dense layer's (the
/// batch-1 stream and the GEMM), against the reference; over a reduction longer than a
/// texture is high it applies once, after the last band.
#[test]
fn activations_fused_into_convolutions_and_dense_layers_match_the_reference() {
    use dojang::ops::{Conv2d, ConvKernel, Dense, DenseKernel, DenseWeight, Padding, Tile, conv2d_with};
    let gpu = gpu();
    let rows = gpu.limits().max_texture_dimension_2d as usize;
    let convs = [
        ("3x3 5→7, bias", [2, 5, 6, 7], [7, 5, 3, 3], Conv2d::default().with_padding(Padding::symmetric(1, 1))),
        ("depthwise 3x3 s2", [1, 6, 9, 8], [6, 1, 3, 3], Conv2d::default().with_groups(6).with_stride(2, 2)),
        ("1x1 8→12", [1, 8, 5, 4], [12, 8, 1, 1], Conv2d::default()),
        ("bands of channels", [1, rows / 9 + 3, 3, 3], [4, rows / 9 + 3, 3, 3], Conv2d::default()),
    ];
    for (name, xs, ws, base) in convs {
        let (x, w, b) = (random(xs.iter().product(), 4), random(ws.iter().product(), 5), random(ws[0], 6));
        let (xt, wt) = (Tensor::from_slice(&gpu, &x, &xs).unwrap(), Tensor::from_slice(&gpu, &w, &ws).unwrap());
        let bt = Tensor::from_slice(&gpu, &b, &[ws[0]]).unwrap();
        for act in ALL {
            // Scaled so that the bends and both tails are reached.
            let attrs = base.with_activation(act);
            let geo = attrs.geometry(&xs, &ws, Some(ws[0])).unwrap();
            let expected = reference::conv2d(&geo, &x, &w, Some(&b)).unwrap();
            let mut kernels = ConvKernel::candidates(&geo);
            kernels.extend([ConvKernel::Gemm(Tile { tm: 4, tn: 4 }), ConvKernel::Implicit(Tile { tm: 8, tn: 8 })]);
            let mut ran = 0;
            for kernel in kernels {
                let what = format!("{name}, {act:?}, {}", kernel.name());
                let got = match conv2d_with(&xt, &wt, Some(&bt), &attrs, kernel) {
                    // The direct kernel holds a channel's weights in one texture column.
                    Err(Error::Limit { .. }) if name == "bands of channels" => continue,
                    y => y.unwrap_or_else(|e| panic!("{what}: {e}")).download().unwrap(),
                };
                assert_close(
                    &what,
                    &got,
                    &expected,
                    &geo.output_shape(),
                    Tolerance::for_reduction(geo.reduction_len()),
                );
                ran += 1;
            }
            assert!(ran >= 2, "{name}: {ran} kernels ran");
        }
    }
    for (n, f, kernel) in [
        (1, 70, DenseKernel::Gemv { tm: 4 }),
        (3, 70, DenseKernel::Gemm(Tile { tm: 8, tn: 4 })),
        (1, rows + 6, DenseKernel::Gemv { tm: 8 }),
        (3, rows + 6, DenseKernel::Gemm(Tile { tm: 4, tn: 4 })),
    ] {
        let (x, w, b) = (random(n * f, 7), random(9 * f, 8), random(9, 9));
        let weight = DenseWeight::upload(&gpu, &w, Some(&b), 9, f).unwrap();
        let xt = Tensor::from_slice(&gpu, &x, &[n, f]).unwrap();
        for act in ALL {
            let attrs = Dense::default().with_activation(act);
            let geo = attrs.geometry(&[n, f], &[9, f], Some(9)).unwrap();
            let expected = reference::dense(&geo, &x, &w, Some(&b)).unwrap();
            let got = weight.forward_with(&xt, &attrs, kernel).unwrap().download().unwrap();
            let what = format!("dense {n}x{f}, {act:?}, {}", kernel.name());
            assert_close(&what, &got, &expected, &[n, 9], Tolerance::for_reduction(f));
        }
    }
}

/// ReLU6 inside a 1x1 convolution of weight 1, worked out by hand; and a convolution followed
/// by an activation layer runs as one layer in a model (`conv+act`), equal to the reference.
#[test]
fn a_fused_activation_by_hand_and_in_a_model() {
    use dojang::GpuModel;
    use dojang::model::{Layer, Model, Op, Weights};
    use dojang::ops::{Conv2d, conv2d};
    let gpu = gpu();
    let x = Tensor::from_slice(&gpu, &[-4.0, -1.0, 0.0, 2.0, 8.0, f32::NAN], &[1, 1, 1, 6]).unwrap();
    let w = Tensor::from_slice(&gpu, &[1.0], &[1, 1, 1, 1]).unwrap();
    let relu6 = Conv2d::default().with_activation(Activation::Clip { min: 0.0, max: 6.0 });
    let y = conv2d(&x, &w, None, &relu6).unwrap().download().unwrap();
    assert_eq!(y[..5], [0.0, 0.0, 0.0, 2.0, 6.0]);
    assert!(y[5].is_nan(), "NaN kept: {y:?}");

    // conv → hard swish → conv → sigmoid: each activation runs inside its convolution.
    let conv = |c| Op::Conv2d { out_channels: c, kernel: [3, 3], attrs: Conv2d::default() };
    let layers = vec![
        Layer::new("conv1", conv(6)),
        Layer::new("act1", Op::Activation(Activation::HardSwish)),
        Layer::new("conv2", conv(4)),
        Layer::new("act2", Op::Activation(Activation::Sigmoid)),
    ];
    let model = Model::build("fused", &[3, 9, 8], layers).unwrap();
    let weights = Weights::he_normal(&model, 3);
    let input = random(2 * 3 * 9 * 8, 10);
    let expected = model.forward_reference(&weights, &input, 2).unwrap();
    let mut gpu_model = GpuModel::new(&gpu, &model, &weights).unwrap();
    let reports = gpu_model.forward_report(&input, 2).unwrap();
    let names: Vec<&str> = reports.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["conv1+act1", "conv2+act2"]);
    for (r, want) in reports.iter().zip([&expected[1], &expected[3]]) {
        assert_close(&r.name, &r.output, want, &r.shape, Tolerance::for_layer(want));
    }
}

/// A 2x3 image padded by (top 1, left 2, bottom 0, right 1), worked out by hand for each mode;
/// then the GPU against the reference over batches, odd channels, pads past the image (reflect
/// is periodic), a 1x1 image; bad arguments refused.
#[test]
fn pad_by_hand_and_against_the_reference() {
    use dojang::ops::{PadMode, Padding, pad};
    let gpu = gpu();
    let x = Tensor::from_slice(&gpu, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[1, 1, 2, 3]).unwrap();
    let p = Padding::new(1, 2, 0, 1);
    let cases: [(PadMode, [f32; 18]); 3] = [
        (PadMode::Edge, [1., 1., 1., 2., 3., 3., 1., 1., 1., 2., 3., 3., 4., 4., 4., 5., 6., 6.]),
        (PadMode::Reflect, [6., 5., 4., 5., 6., 5., 3., 2., 1., 2., 3., 2., 6., 5., 4., 5., 6., 5.]),
        (PadMode::Constant(7.0), [7., 7., 7., 7., 7., 7., 7., 7., 1., 2., 3., 7., 7., 7., 4., 5., 6., 7.]),
    ];
    for (mode, want) in cases {
        let y = pad(&x, &p, mode).unwrap();
        assert_eq!(y.shape(), [1, 1, 3, 6]);
        assert_eq!(y.download().unwrap(), want, "{mode:?}");
        assert_eq!(reference::pad(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[1, 1, 2, 3], &p, mode).unwrap(), want);
    }
    for (shape, p) in [
        ([2, 3, 5, 7], Padding::new(2, 0, 3, 1)),
        ([1, 5, 3, 2], Padding::new(4, 5, 6, 3)),
        ([3, 1, 1, 1], Padding::symmetric(2, 1)),
    ] {
        let v = random(shape.iter().product(), 11);
        let t = Tensor::from_slice(&gpu, &v, &shape).unwrap();
        for mode in [PadMode::Edge, PadMode::Reflect, PadMode::Constant(-0.5)] {
            let got = pad(&t, &p, mode).unwrap();
            let want = reference::pad(&v, &shape, &p, mode).unwrap();
            assert_close(
                &format!("{shape:?} {p:?} {mode:?}"),
                &got.download().unwrap(),
                &want,
                got.shape(),
                Tolerance { atol: 0.0, rtol: 0.0 },
            );
        }
    }
    let flat = Tensor::from_slice(&gpu, &[1.0, 2.0], &[1, 2]).unwrap();
    assert!(matches!(pad(&flat, &p, PadMode::Edge).unwrap_err(), Error::Rank { op: "pad", .. }));
}

/// A pad layer in a model stays with its channels: conv → pad (reflect) → conv → pad (edge)
/// → conv on one device and split over two, against the reference.
#[test]
fn pad_layers_in_a_model_on_one_device_and_two() {
    use dojang::model::{Layer, Model, Op};
    use dojang::ops::{Conv2d, PadMode, Padding};
    let conv = |c| Op::Conv2d { out_channels: c, kernel: [3, 3], attrs: Conv2d::default() };
    let layers = vec![
        Layer::new("conv1", conv(6)),
        Layer::new("pad1", Op::Pad { padding: Padding::new(1, 2, 1, 0), mode: PadMode::Reflect }),
        Layer::new("conv2", Op::Conv2d { out_channels: 4, kernel: [3, 3], attrs: Conv2d::default().with_groups(2) }),
        Layer::new("pad2", Op::Pad { padding: Padding::symmetric(1, 1), mode: PadMode::Edge }),
        Layer::new("conv3", conv(2)),
    ];
    let model = Model::build("padded", &[3, 9, 8], layers).unwrap();
    agrees_on_one_device_and_two(&model, 4, 12, &[2, 2, 7, 6]);
}

/// A channel slice by hand and against the reference; a bad range refused; ShuffleNet v2's
/// unit (split, one branch convolved, concatenation, shuffle) in a model on one device and two.
#[test]
fn channel_slice_by_hand_and_shufflenet_v2_units() {
    use dojang::model::{Layer, Model, Op};
    use dojang::ops::{Conv2d, Padding};
    let gpu = gpu();
    // Two images of 3 channels of 2 values.
    let x: Vec<f32> = (0..12).map(|v| v as f32).collect();
    let xt = Tensor::from_slice(&gpu, &x, &[2, 3, 1, 2]).unwrap();
    let got = ops::channel_slice(&xt, 1, 3).unwrap();
    assert_eq!(got.shape(), [2, 2, 1, 2]);
    assert_eq!(got.download().unwrap(), [2.0, 3.0, 4.0, 5.0, 8.0, 9.0, 10.0, 11.0]);
    assert_eq!(reference::channel_slice(&x, &[2, 3, 1, 2], 1, 3).unwrap(), got.download().unwrap());
    for (start, end) in [(2, 2), (1, 4)] {
        let err = ops::channel_slice(&xt, start, end).unwrap_err();
        assert!(matches!(err, Error::ChannelRange { start: s, end: e, channels: 3, .. } if s == start && e == end));
        assert!(err.to_string().contains(&format!("channels {start}..{end} of 3")), "{err}");
    }

    let conv = |c, k: usize, groups| Op::Conv2d {
        out_channels: c,
        kernel: [k, k],
        attrs: Conv2d::default().with_groups(groups).with_padding(Padding::symmetric(k / 2, k / 2)),
    };
    let layers = vec![
        Layer::new("stem", conv(8, 3, 1)),
        Layer::new("left", Op::Slice { start: 0, end: 4 }),
        Layer::reading("right", Op::Slice { start: 4, end: 8 }, &["stem"]),
        Layer::new("pw1", conv(4, 1, 1)),
        Layer::new("relu1", Op::Relu),
        Layer::new("dw", conv(4, 3, 4)),
        Layer::new("pw2", conv(4, 1, 1)),
        Layer::reading("cat", Op::Concat, &["left", "pw2"]),
        Layer::new("shuffle", Op::ChannelShuffle { groups: 2 }),
        Layer::new("head", conv(6, 1, 1)),
    ];
    let model = Model::build("shufflenet_v2_unit", &[3, 7, 10], layers).unwrap();
    agrees_on_one_device_and_two(&model, 6, 24, &[2, 6, 7, 10]);
    let bad = vec![Layer::new("conv", conv(4, 1, 1)), Layer::new("slice", Op::Slice { start: 3, end: 5 })];
    let err = Model::build("bad", &[3, 4, 4], bad).unwrap_err().to_string();
    assert!(err.contains("slice") && err.contains("channels 3..5 of 4"), "{err}");
}

/// PReLU by hand (NaN kept), against the reference, in a model on one device and two, and a
/// slope of the wrong length refused.
#[test]
fn prelu_by_hand_against_the_reference_and_in_a_model() {
    use dojang::GpuModel;
    use dojang::model::{Layer, Model, Op, Weights};
    use dojang::ops::{Conv2d, PadMode, Padding};
    let gpu = gpu();
    let x = Tensor::from_slice(&gpu, &[-2.0, 0.0, 3.0, -4.0, f32::NAN, 1.0], &[1, 2, 1, 3]).unwrap();
    let slope = Tensor::from_slice(&gpu, &[0.5, -1.0], &[2]).unwrap();
    let got = ops::prelu(&x, &slope).unwrap().download().unwrap();
    assert_eq!([got[0], got[1], got[2], got[3], got[5]], [-1.0, 0.0, 3.0, 4.0, 1.0]);
    assert!(got[4].is_nan());
    for shape in [vec![2, 5, 3, 7], vec![3, 4]] {
        let len = shape.iter().product();
        let (x, s) = (random(len, 21), random(shape[1], 22));
        let xt = Tensor::from_slice(&gpu, &x, &shape).unwrap();
        let st = Tensor::from_slice(&gpu, &s, &[shape[1]]).unwrap();
        let got = ops::prelu(&xt, &st).unwrap().download().unwrap();
        assert_close("prelu", &got, &reference::prelu(&x, &shape, &s).unwrap(), &shape, Tolerance::default());
    }
    let wrong = Tensor::from_slice(&gpu, &[1.0, 2.0, 3.0], &[3]).unwrap();
    assert!(matches!(ops::prelu(&x, &wrong).unwrap_err(), Error::Mismatch { op: "prelu", .. }));

    let conv = |c, groups| Op::Conv2d { out_channels: c, kernel: [3, 3], attrs: Conv2d::default().with_groups(groups) };
    let layers = vec![
        Layer::new("conv1", conv(6, 1)),
        Layer::new("prelu1", Op::PRelu),
        Layer::new("conv2", conv(4, 2)),
        Layer::new("pad", Op::Pad { padding: Padding::symmetric(1, 1), mode: PadMode::Edge }),
        Layer::new("prelu2", Op::PRelu),
        Layer::new("conv3", conv(2, 1)),
        Layer::new("flat", Op::Flatten),
        Layer::new("fc", Op::Dense { out_features: 6 }),
        Layer::new("prelu3", Op::PRelu),
    ];
    let model = Model::build("prelu", &[3, 9, 8], layers).unwrap();
    assert_eq!(model.parameters_of(1), [("prelu1.weight".to_string(), vec![6])]);
    agrees_on_one_device_and_two(&model, 5, 23, &[2, 6]);
    // After a convolution or dense layer a PReLU runs in its launch; after the pad, alone.
    let weights = Weights::he_normal(&model, 5);
    let mut m = GpuModel::new(&gpu, &model, &weights).unwrap();
    let names: Vec<String> = m.forward_report(&random(3 * 9 * 8, 1), 1).unwrap().into_iter().map(|r| r.name).collect();
    assert_eq!(names, ["conv1+prelu1", "conv2", "pad", "prelu2", "conv3", "flat", "fc+prelu3"]);
}

/// `model` with seeded weights on a seeded batch of 2, on one device and split over two,
/// against the CPU reference; its output is `out` `[N, C, H, W]`.
fn agrees_on_one_device_and_two(model: &dojang::model::Model, weight_seed: u64, input_seed: u64, out: &[usize]) {
    use dojang::{Gpu, GpuModel};
    let weights = dojang::model::Weights::he_normal(model, weight_seed);
    let input = random(2 * model.input().iter().product::<usize>(), input_seed);
    let expected = model.forward_reference(&weights, &input, 2).unwrap();
    let want = expected.last().unwrap();
    let gpu = gpu();
    let two = Gpu::open_group(2, Some(&gpu.info().name)).unwrap();
    for gpus in [vec![gpu], two] {
        let got = GpuModel::split(&gpus, model, &weights).unwrap().forward(&input, 2).unwrap();
        assert_close(&format!("{} device(s)", gpus.len()), &got, want, out, Tolerance::for_layer(want));
    }
}

/// A sum by a value per channel ([N, C, H, W] + [N, C, 1, 1]), by hand and against the
/// reference, with and without ReLU; a shape that is neither refused.
#[test]
fn an_add_of_a_value_per_channel() {
    let gpu = gpu();
    let x = Tensor::from_slice(&gpu, &[1.0, 2.0, 3.0, 4.0], &[1, 2, 1, 2]).unwrap();
    let s = Tensor::from_slice(&gpu, &[10.0, -5.0], &[1, 2, 1, 1]).unwrap();
    assert_eq!(ops::add(&x, &s, false).unwrap().download().unwrap(), [11.0, 12.0, -2.0, -1.0]);
    assert_eq!(ops::add(&x, &s, true).unwrap().download().unwrap(), [11.0, 12.0, 0.0, 0.0]);
    for shape in [[2, 3, 5, 7], [3, 16, 4, 4], [1, 5, 1, 1]] {
        let (a, b) = (random(shape.iter().product(), 13), random(shape[0] * shape[1], 14));
        let (at, bt) = (
            Tensor::from_slice(&gpu, &a, &shape).unwrap(),
            Tensor::from_slice(&gpu, &b, &[shape[0], shape[1], 1, 1]).unwrap(),
        );
        for relu in [false, true] {
            let got = ops::add(&at, &bt, relu).unwrap().download().unwrap();
            let want = reference::add(&a, &b, relu).unwrap();
            assert_close(&format!("{shape:?} relu {relu}"), &got, &want, &shape, Tolerance::default());
        }
    }
    let wrong = Tensor::from_slice(&gpu, &[1.0, 2.0], &[1, 1, 1, 2]).unwrap();
    assert!(matches!(ops::add(&x, &wrong, false).unwrap_err(), Error::Mismatch { .. }));
}
