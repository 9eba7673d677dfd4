//! The `onnx` package's light networks (AlexNet, ZFNet-512, VGG-19, SqueezeNet, GoogLeNet,
//! BN-Inception, ResNet-50, DenseNet-121, ShuffleNet v1) and torchvision's ResNet-18, VGG-16,
//! SqueezeNet 1.1, MobileNetV2, MobileNetV3-Small, EfficientNet-B0 and ShuffleNet v2 as PyTorch
//! exports them (tools/torchvision_graphs.py), with seeded weights, imported and run on the GPU —
//! on one device and split over two — against ONNX Runtime's outputs, recorded by
//! tools/onnx_fixtures.py in tests/fixtures/onnx/*.expected.json (no weights committed: the
//! test seeds them exactly as the script did).

mod common;

use std::path::Path;

use common::gpu;
use dojang::onnx::{Imported, Options, load_bytes};
use dojang::tolerance::Tolerance;
use dojang::tools::onnx_seed::{Expected, expected, seeded, uniform};
use dojang::{Gpu, GpuModel};

const FIXTURES: &str = "tests/fixtures/onnx";

fn fixture(name: &str) -> (Imported, Expected, Vec<f32>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(FIXTURES);
    let json = std::fs::read_to_string(dir.join(format!("{name}.expected.json"))).expect("the expected outputs");
    let exp = expected(&json).unwrap_or_else(|e| panic!("{name}: {e}"));
    let bytes = std::fs::read(dir.join(format!("{name}.onnx"))).expect("the light model");
    let bytes = seeded(&bytes, &exp.calibration).unwrap_or_else(|e| panic!("{name}: {e}"));
    let imported = load_bytes(&bytes, &Options::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
    let input = uniform("input", imported.model.input().iter().product());
    (imported, exp, input)
}

/// Runs `name` on `gpus` and holds its output to ONNX Runtime's, and its logits (the input of
/// a final softmax) too: |got − ort| ≤ 1e-4·max|ort| + 1e-3·|ort|.
fn agrees_with_onnx_runtime(name: &str, gpus: &[Gpu]) {
    let (m, exp, input) = fixture(name);
    let mut model = GpuModel::split(gpus, &m.model, &m.weights).unwrap_or_else(|e| panic!("{name}: {e}"));
    let reports = model.forward_report(&input, 1).unwrap_or_else(|e| panic!("{name}: {e}"));
    let out = &reports.last().expect("a layer").output;
    let check = |what: &str, got: &[f32], want: &[f32]| {
        let c = Tolerance::for_layer(want).compare(got, want);
        assert!(c.passed(), "{name} on {} device(s), {what}: {}", gpus.len(), c.describe(&[got.len()]));
        eprintln!("{name} on {} device(s): {what} max abs error {:.2e}", gpus.len(), c.max_abs);
    };
    check("output", out, &exp.output);
    if let Some(logits) = &exp.logits {
        let before = &reports[reports.len() - 2];
        check(&format!("logits ({})", before.name), &before.output, logits);
    }
}

fn two() -> Vec<Gpu> {
    Gpu::open_group(2, Some(&gpu().info().name)).expect("logical devices on the test adapter")
}

macro_rules! network {
    ($test:ident, $name:literal) => {
        #[test]
        fn $test() {
            agrees_with_onnx_runtime($name, &[gpu()]);
            agrees_with_onnx_runtime($name, &two());
        }
    };
}

network!(alexnet, "light_bvlc_alexnet");
network!(zfnet512, "light_zfnet512");
network!(vgg19, "light_vgg19");
network!(squeezenet, "light_squeezenet");
network!(googlenet, "light_inception_v1");
network!(bn_inception, "light_inception_v2");
network!(resnet50, "light_resnet50");
network!(densenet121, "light_densenet121");
network!(torchvision_resnet18, "tv_resnet18");
network!(torchvision_vgg16, "tv_vgg16");
network!(torchvision_squeezenet1_1, "tv_squeezenet1_1");
network!(shufflenet, "light_shufflenet");
network!(torchvision_mobilenet_v2, "tv_mobilenet_v2");
network!(torchvision_mobilenet_v3_small, "tv_mobilenet_v3_small");
network!(torchvision_efficientnet_b0, "tv_efficientnet_b0");
network!(torchvision_shufflenet_v2, "tv_shufflenet_v2_x0_5");

/// A model whose batch is symbolic runs at any batch: two images, each ONNX Runtime's output.
#[test]
fn a_symbolic_batch_runs_at_any_batch() {
    let (m, exp, input) = fixture("tv_squeezenet1_1");
    assert_eq!(m.batch, None);
    let mut model = GpuModel::new(&gpu(), &m.model, &m.weights).unwrap_or_else(|e| panic!("{e}"));
    let out = model.forward(&[input.clone(), input].concat(), 2).unwrap_or_else(|e| panic!("{e}"));
    let twice = [exp.output.clone(), exp.output].concat();
    let c = Tolerance::for_layer(&twice).compare(&out, &twice);
    assert!(c.passed(), "{}", c.describe(&[2, 1000]));
}

/// The CPU reference itself agrees with ONNX Runtime on a graph with branches and
/// concatenations (SqueezeNet's fire modules): the definition of correctness is checked
/// against an oracle it shares no code with.
#[test]
fn the_reference_agrees_with_onnx_runtime() {
    let (m, exp, input) = fixture("light_squeezenet");
    let outs = m.model.forward_reference(&m.weights, &input, 1).unwrap_or_else(|e| panic!("{e}"));
    let c = Tolerance::for_layer(&exp.output).compare(outs.last().expect("a layer"), &exp.output);
    assert!(c.passed(), "{}", c.describe(&[exp.output.len()]));
}

/// What `summary` prints: the parameters as torchvision counts ResNet-50's (25,557,032), and
/// what folding BatchNorm changed.
#[test]
fn summary_counts_parameters_as_the_exporter_did() {
    let (m, _, _) = fixture("light_resnet50");
    assert_eq!(m.file_parameters, 25_557_032);
    let s = m.summary();
    assert!(s.contains("parameters in the file: 25,557,032"), "{s}");
    assert!(s.contains("rewritten at load: BatchNormalization into Conv ×53"), "{s}");
}
