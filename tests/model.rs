//! Models: the document's parameter arithmetic row by row, build-time shape errors, weights
//! files, and GPU forward passes against the CPU reference.

mod common;

use common::{gpu, random};
use dojang::GpuModel;
use dojang::error::Error;
use dojang::model::summary::thousands;
use dojang::model::{Layer, Model, Op, Weights, zoo};
use dojang::ops::Conv2d;
use dojang::split::LayerReport;
use dojang::tolerance::Tolerance;

fn weights_of(model: &Model) -> Vec<(String, u64)> {
    model.rows().into_iter().filter(|r| r.weights > 0).map(|r| (r.name, r.weights)).collect()
}

#[test]
fn alexnet_notes_weights_are_the_documents() {
    let m = zoo::build("alexnet-notes").unwrap();
    let expected = [
        ("conv1", 34_848),
        ("conv2", 307_200),
        ("conv3", 884_736),
        ("conv4", 663_552),
        ("conv5", 442_368),
        ("fc6", 177_209_344),
        ("fc7", 16_777_216),
        ("fc8", 4_096_000),
    ];
    assert_eq!(weights_of(&m), expected.map(|(n, w)| (n.to_string(), w)).to_vec());
}

#[test]
fn alexnet_summary_matches_the_published_network() {
    let m = zoo::build("alexnet").unwrap();
    let w = weights_of(&m);
    assert_eq!(w[5], ("fc6".to_string(), 37_748_736));
    let biases: Vec<u64> = m.rows().iter().filter(|r| r.biases > 0).map(|r| r.biases).collect();
    assert_eq!(biases, vec![96, 256, 384, 384, 256, 4096, 4096, 1000]);
    // Layers without parameters have rows too, with zeros.
    let relu1 = m.rows().into_iter().find(|r| r.name == "relu1").unwrap();
    assert_eq!((relu1.weights, relu1.biases, relu1.macs, relu1.output), (0, 0, 0, vec![96, 55, 55]));
    assert_eq!(m.parameter_count(), 60_965_224);
    let macs: Vec<u64> = m.rows().iter().filter(|r| r.macs > 0).map(|r| r.macs).collect();
    // conv1 105.4M, conv2 223.9M, conv3 149.5M, conv4 112.1M, conv5 74.8M, fc6..fc8.
    assert_eq!(
        macs,
        vec![105_415_200, 223_948_800, 149_520_384, 112_140_288, 74_760_192, 37_748_736, 16_777_216, 4_096_000]
    );
    let shapes: Vec<Vec<usize>> = ["conv1", "pool1", "pool2", "pool5"]
        .iter()
        .map(|n| m.rows().into_iter().find(|r| r.name == *n).unwrap().output)
        .collect();
    assert_eq!(shapes, vec![vec![96, 55, 55], vec![96, 27, 27], vec![256, 13, 13], vec![256, 6, 6]]);
    let text = m.summary();
    assert!(text.contains("total parameters: 60,965,224"), "{text}");
    assert!(text.contains("37,748,736"), "{text}");
}

#[test]
fn torchvision_and_bottleneck_counts() {
    // torchvision's AlexNet has 61,100,840 parameters.
    assert_eq!(zoo::build("alexnet-torchvision").unwrap().parameter_count(), 61_100_840);
    // 1x1 256→64 (16,384 + 64), 3x3 64→64 (36,864 + 64), 1x1 64→256 (16,384 + 256).
    assert_eq!(zoo::build("bottleneck").unwrap().parameter_count(), 70_016);
}

/// The networks of the bench's model lines count what torchvision counts (BatchNorm's weight
/// and bias among the parameters: here they are folded into the convolutions), and ResNet-50's
/// multiply-adds are its published 4.09 billion.
#[test]
fn zoo_networks_count_their_torchvision_parameters() {
    for (name, count) in [("resnet50", 25_557_032), ("mobilenetv2", 3_504_872), ("squeezenet1_1", 1_235_496)] {
        assert_eq!(zoo::original_parameters(name).unwrap(), count, "{name}");
        assert_eq!(zoo::build(name).unwrap().output_shape().iter().product::<usize>(), 1000, "{name}");
    }
    assert_eq!(zoo::build("squeezenet1_1").unwrap().parameter_count(), 1_235_496);
    let macs: u64 = zoo::build("resnet50").unwrap().rows().iter().map(|r| r.macs).sum();
    assert!((4_085_000_000..4_095_000_000).contains(&macs), "{macs}");
}

#[test]
fn the_documents_small_example() {
    // 5x5 filters, 3 input channels, 4 outputs → 5·5·3·4 = 300 weights.
    let conv = Layer::new("c", Op::Conv2d { out_channels: 4, kernel: [5, 5], attrs: Conv2d::default() });
    let m = Model::build("example", &[3, 32, 32], vec![conv]).unwrap();
    assert_eq!(m.rows()[0].weights, 300);
    assert_eq!(thousands(177_209_344), "177,209,344");
    assert_eq!(thousands(999), "999");
}

#[test]
fn a_misfit_layer_is_a_build_error_naming_it() {
    let layers = vec![
        Layer::new("conv", Op::Conv2d { out_channels: 8, kernel: [3, 3], attrs: Conv2d::default() }),
        Layer::new("fc", Op::Dense { out_features: 10 }),
    ];
    let e = Model::build("bad", &[3, 8, 8], layers).unwrap_err();
    assert!(matches!(&e, Error::Layer { layer, .. } if layer == "fc"), "{e}");
    assert!(e.to_string().contains("[8, 6, 6]"), "{e}");
    let grouped =
        Layer::new("g", Op::Conv2d { out_channels: 4, kernel: [1, 1], attrs: Conv2d::default().with_groups(2) });
    let e = Model::build("bad", &[3, 8, 8], vec![grouped]).unwrap_err();
    assert!(e.to_string().contains("layer g") && e.to_string().contains("(3) is not divisible by groups (2)"), "{e}");
    let e = zoo::build("vgg").unwrap_err();
    assert_eq!(
        e.to_string(),
        "unknown model `vgg`; the models are: alexnet, alexnet-notes, alexnet-torchvision, bottleneck, resnet50, \
         mobilenetv2, squeezenet1_1"
    );
}

#[test]
fn hand_built_layers_go_through_build() {
    // Groups 0 would divide by zero in the parameter shapes: build refuses it by name.
    let layer = |op| vec![Layer::new("c", op)];
    let zero = Op::Conv2d { out_channels: 4, kernel: [1, 1], attrs: Conv2d::default().with_groups(0) };
    let e = Model::build("bad", &[4, 8, 8], layer(zero)).unwrap_err();
    assert!(matches!(&e, Error::Layer { source, .. } if matches!(**source, Error::Zero { what: "groups", .. })), "{e}");
    // An add of a layer that does not exist, or of another shape.
    let add = |from: &str| Layer::new("a", Op::Add { from: from.into(), relu: false });
    let e = Model::build("bad", &[4, 8, 8], vec![add("nowhere")]).unwrap_err();
    assert_eq!(e.to_string(), "layer a: reads `nowhere`, which is not an earlier layer");
    let pool = Layer::new("p", Op::GlobalAvgPool);
    let e = Model::build("bad", &[4, 8, 8], vec![pool, add("input")]).unwrap_err();
    assert!(matches!(&e, Error::Layer { layer, .. } if layer == "a") && e.to_string().contains("[4, 8, 8]"), "{e}");
    let e = Model::build("empty", &[4, 8, 8], vec![]).unwrap_err();
    assert!(matches!(e, Error::NoLayers { .. }), "{e}");
    // An adaptive pool whose sizes do not divide.
    let e = Model::build("bad", &[4, 8, 8], layer(Op::AdaptiveAvgPool([3, 3]))).unwrap_err();
    assert!(e.to_string().contains("pooling 8x8 to 3x3 needs sizes that divide"), "{e}");
}

/// `model` on the GPU against the CPU reference at `batch` (He-normal weights of `seeds[0]`,
/// input of `seeds[1]`): every layer of a report, then the single-submission pass, twice
/// (its buffers reused). The report, for what else a test holds it to.
fn matches_reference(model: &Model, batch: usize, seeds: [u64; 2]) -> Vec<LayerReport> {
    let name = model.name();
    let weights = Weights::he_normal(model, seeds[0]);
    let input = random(batch * model.input().iter().product::<usize>(), seeds[1]);
    let expected = model.forward_reference(&weights, &input, batch).unwrap();
    let mut g = GpuModel::new(&gpu(), model, &weights).unwrap();
    let report = g.forward_report(&input, batch).unwrap();
    for run in &report {
        let exp = &expected[run.layer];
        let c = Tolerance::for_layer(exp).compare(&run.output, exp);
        assert!(c.passed(), "{name} batch {batch}, layer {}: {}", run.name, c.describe(&run.shape));
    }
    let last = expected.last().unwrap();
    for _ in 0..2 {
        let c = Tolerance::for_layer(last).compare(&g.forward(&input, batch).unwrap(), last);
        assert!(c.passed(), "{name} batch {batch}, a pass: {}", c.describe(&report.last().unwrap().shape));
    }
    report
}

/// The zoo's model `name` on the GPU against the CPU reference, every layer, at `batch`.
fn check_forward(name: &str, batch: usize) {
    let model = zoo::build(name).unwrap();
    let report = matches_reference(&model, batch, [5, 6]);
    // One row per layer, but an activation or add fused into the layer before it shares its row.
    let fusable =
        (model.layers().iter()).filter(|l| matches!(l.op, Op::Relu | Op::Activation(_) | Op::Add { .. })).count();
    assert!(report.len() >= model.layers().len() - fusable && report.len() <= model.layers().len());
    assert_eq!(report.last().unwrap().layer, model.layers().len() - 1);
    if name == "bottleneck" {
        // Its shortcut is added in the expanding 1x1 conv's GEMM, ReLU and all: one row.
        assert!(
            report.iter().any(|r| r.name == "expand+residual"),
            "{:?}",
            report.iter().map(|r| &r.name).collect::<Vec<_>>()
        );
    }
}

#[test]
fn bottleneck_forward_matches_reference() {
    check_forward("bottleneck", 1);
    check_forward("bottleneck", 4);
}

#[test]
fn mobilenet_v2_and_squeezenet_forward_match_reference() {
    check_forward("mobilenetv2", 1);
    check_forward("squeezenet1_1", 2);
}

#[test]
fn alexnet_forward_matches_reference() {
    check_forward("alexnet", 1);
    check_forward("alexnet", 4);
}

#[test]
fn torchvision_names_load_from_safetensors() {
    let model = zoo::build("alexnet-torchvision").unwrap();
    let weights = Weights::he_normal(&model, 9);
    assert!(weights.shape("features.0.weight").is_some() && weights.shape("classifier.6.bias").is_some());
    let path = std::env::temp_dir().join(format!("dojang-tv-{}.safetensors", std::process::id()));
    weights.save(&path).unwrap();
    let loaded = Weights::load(&path, &model).unwrap();
    assert_eq!(loaded, weights);
    std::fs::remove_file(&path).unwrap();
    // The loaded file drives the forward pass.
    let input = random(3 * 224 * 224, 10);
    let expected = model.forward_reference(&weights, &input, 1).unwrap();
    let got = GpuModel::new(&gpu(), &model, &loaded).unwrap().forward(&input, 1).unwrap();
    let last = expected.last().unwrap();
    let c = Tolerance::for_layer(last).compare(&got, last);
    assert!(c.passed(), "{}", c.describe(&[1, 1000]));
}

#[test]
fn alexnet_torchvision_forward_matches_reference() {
    check_forward("alexnet-torchvision", 1);
    check_forward("alexnet-torchvision", 4);
}

#[test]
fn alexnet_notes_forward_matches_reference() {
    // fc6 reads 13x13x256: 708 MB of weights, cut into slices that fit a storage binding.
    check_forward("alexnet-notes", 1);
    check_forward("alexnet-notes", 4);
}

#[test]
fn bad_weight_files_are_typed_errors() {
    let model = zoo::build("bottleneck").unwrap();
    let mut weights = Weights::he_normal(&model, 1);
    let dir = std::env::temp_dir();
    let path = dir.join(format!("dojang-bad-{}.safetensors", std::process::id()));

    let mut missing = weights.clone();
    missing.remove("expand.bias");
    missing.save(&path).unwrap();
    let e = Weights::load(&path, &model).unwrap_err();
    assert!(matches!(&e, Error::WeightMissing { tensor } if tensor == "expand.bias"), "{e}");

    weights.insert("reduce.weight", &[64, 256, 3, 1], vec![0.0; 64 * 256 * 3]).unwrap();
    weights.save(&path).unwrap();
    let e = Weights::load(&path, &model).unwrap_err();
    assert_eq!(
        e.to_string(),
        "weights: tensor `reduce.weight` has shape [64, 256, 3, 1], the model expects [64, 256, 1, 1]"
    );
    // Nothing reaches the GPU from a mismatched set either.
    assert!(matches!(GpuModel::new(&gpu(), &model, &weights), Err(Error::WeightShape { .. })));
    std::fs::remove_file(&path).unwrap();

    // Values that do not fill their shape never enter a weight set.
    let e = weights.insert("reduce.weight", &[64, 256, 1, 1], vec![0.0; 100]).unwrap_err();
    assert!(matches!(e, Error::WeightValues { expected: 16384, got: 100, .. }), "{e}");
    let e = Weights::load(std::path::Path::new("/nonexistent/w.safetensors"), &model).unwrap_err();
    assert!(matches!(e, Error::WeightFile { .. }) && e.to_string().contains("cannot read it"), "{e}");
}

/// A .safetensors file by hand: the 8-byte header length, the JSON header, the data.
fn safetensors_bytes(header_len: Option<u64>, header: &str, data: &[u8]) -> Vec<u8> {
    let len = header_len.unwrap_or(header.len() as u64);
    [&len.to_le_bytes()[..], header.as_bytes(), data].concat()
}

#[test]
fn broken_weight_files_are_typed_errors_and_load_nothing() {
    let model = zoo::build("bottleneck").unwrap();
    let path = std::env::temp_dir().join(format!("dojang-broken-{}.safetensors", std::process::id()));
    let load = |bytes: &[u8]| {
        std::fs::write(&path, bytes).unwrap();
        Weights::load(&path, &model)
    };
    let tensor = |dtype: &str, shape: &str, end: usize| {
        format!(r#"{{"reduce.weight":{{"dtype":"{dtype}","shape":{shape},"data_offsets":[0,{end}]}}}}"#)
    };
    let good = Weights::he_normal(&model, 3);
    good.save(&path).unwrap();
    let whole = std::fs::read(&path).unwrap();

    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("truncated in the data", whole[..whole.len() / 2].to_vec(), "not a .safetensors file"),
        ("truncated in the header", whole[..20].to_vec(), "not a .safetensors file"),
        ("shorter than a header length", vec![1, 2, 3], "not a .safetensors file"),
        // A header length of 2^60: refused against the file's length, never allocated.
        ("a header length past the file", safetensors_bytes(Some(1 << 60), "{}", &[]), "not a .safetensors file"),
        (
            "offsets past the data",
            safetensors_bytes(None, &tensor("F32", "[4]", 16), &[0; 8]),
            "not a .safetensors file",
        ),
        // 64·256 floats declared, 16 bytes present.
        (
            "a shape larger than its bytes",
            safetensors_bytes(None, &tensor("F32", "[64,256,1,1]", 16), &[0; 16]),
            "not a .safetensors file",
        ),
        ("a header that is not JSON", safetensors_bytes(None, "{not json", &[]), "not a .safetensors file"),
    ];
    for (what, bytes, message) in cases {
        let e = load(&bytes).unwrap_err();
        assert!(matches!(e, Error::WeightFile { .. }) && e.to_string().contains(message), "{what}: {e}");
    }
    // A well-formed file with the right shape in a type dojang does not read.
    let ints = safetensors_bytes(None, &tensor("I32", "[64,256,1,1]", 64 * 256 * 4), &vec![0; 64 * 256 * 4]);
    let e = load(&ints).unwrap_err();
    assert!(matches!(&e, Error::WeightDtype { tensor, dtype } if tensor == "reduce.weight" && dtype == "I32"), "{e}");
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn half_precision_files_convert_on_load() {
    use safetensors::{Dtype, tensor::TensorView};
    let model = zoo::build("bottleneck").unwrap();
    let weights = Weights::he_normal(&model, 2);
    let halves: Vec<(String, Vec<u8>, Vec<usize>)> = weights
        .iter()
        .map(|(n, s, v)| {
            (n.to_string(), v.iter().flat_map(|x| half::f16::from_f32(*x).to_le_bytes()).collect(), s.to_vec())
        })
        .collect();
    let views: Vec<(String, TensorView)> =
        halves.iter().map(|(n, b, s)| (n.clone(), TensorView::new(Dtype::F16, s.clone(), b).unwrap())).collect();
    let path = std::env::temp_dir().join(format!("dojang-f16-{}.safetensors", std::process::id()));
    std::fs::write(&path, safetensors::serialize(views, None).unwrap()).unwrap();
    let loaded = Weights::load(&path, &model).unwrap();
    std::fs::remove_file(&path).unwrap();
    for (name, _, v) in weights.iter() {
        let got = loaded.get(name).unwrap();
        assert!(v.iter().zip(got).all(|(a, b)| (a - b).abs() <= 1e-3 * a.abs().max(1e-2)), "{name}");
    }
}

#[test]
fn layer_accessors_past_the_last_layer() {
    let m = zoo::build("bottleneck").unwrap();
    let last = m.layers().len() - 1;
    assert_eq!(m.input_of(0), [256, 56, 56]);
    assert_eq!(m.output_of(last), [256, 56, 56]);
    assert_eq!(m.parameters_of(last), vec![]);
    assert_eq!(m.source_of(last), Some(dojang::model::Source::Input));
    // Past the last layer: no source, as `get` gives none; the shape accessors panic, as
    // slice indexing does, with a message naming the index and the count.
    assert_eq!(m.source_of(last + 1), None);
    let accessors: [fn(&Model) -> usize; 3] =
        [|m| m.input_of(6).len(), |m| m.output_of(6).len(), |m| m.parameters_of(6).len()];
    for accessor in accessors {
        let panic = std::panic::catch_unwind(|| accessor(&m)).unwrap_err();
        let message = panic.downcast_ref::<String>().unwrap();
        assert_eq!(message, "model bottleneck has 6 layers; there is no layer 6");
    }
    assert_eq!(m.parameters().len(), 6, "three convolutions' weights and biases");
}

/// A 1x1 convolution to 8 channels of `from`.
fn conv8(name: &str, from: &str) -> Layer {
    let op = Op::Conv2d { out_channels: 8, kernel: [1, 1], attrs: Conv2d::default() };
    Layer::reading(name, op, &[from])
}

/// `of` + `from`.
fn add(name: &str, of: &str, from: &str) -> Layer {
    Layer::reading(name, Op::Add { from: from.into(), relu: false }, &[of])
}

/// On one device layer outputs share buffers once read, and a convolution with its add fused
/// writes onto the add's other term where nothing after reads it: c1 adds c0, which c2's add
/// reads again (c1 must leave it whole), c2 adds c0 for the last time (it may write onto it),
/// and a3 reads a1 past both. Every layer's output, and a pass's, match the CPU reference.
#[test]
fn outputs_share_buffers_only_once_read() {
    let layers = vec![
        conv8("c0", "input"),
        conv8("c1", "c0"),
        add("a1", "c1", "c0"),
        conv8("c2", "a1"),
        add("a2", "c2", "c0"),
        Layer::reading("r2", Op::Relu, &["a2"]),
        add("a3", "r2", "a1"),
    ];
    matches_reference(&Model::build("shared", &[8, 6, 5], layers).unwrap(), 2, [5, 6]);
}

/// Adds after a convolution, fused into its GEMM or not: a term of the convolution's shape
/// (fused, ReLU after it too: one report row), one value per channel (a pass of its own), and
/// a convolution that another layer also reads (a pass of its own); all against the reference.
#[test]
fn adds_after_convolutions_fuse_where_they_can() {
    let layers = vec![
        Layer::reading("pool", Op::GlobalAvgPool, &["input"]),
        conv8("c1", "input"),
        add("a1", "c1", "input"),
        Layer::new("r1", Op::Relu),
        conv8("c2", "r1"),
        add("a2", "c2", "pool"),
        conv8("c3", "a2"),
        Layer::reading("side", Op::Relu, &["c3"]),
        add("a3", "c3", "side"),
    ];
    let report = matches_reference(&Model::build("adds", &[8, 6, 5], layers).unwrap(), 2, [3, 4]);
    let names: Vec<&str> = report.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["pool", "c1+a1+r1", "c2", "a2", "c3", "side", "a3"]);
}
