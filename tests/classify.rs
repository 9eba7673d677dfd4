//! A trained classifier on real photos, and `dojang-classify` as a user runs it.
//!
//! The model (PaddleOCR's text-direction classifier, a MobileNetV3-small with hard-swish and
//! squeeze-excitation, as the registry package rapidocr_onnxruntime ships it), the photos
//! (scikit-image's samples) and ONNX Runtime's probabilities for them are committed in
//! tests/fixtures/classify by tools/classify_fixtures.py: the GPU's output on the prepared
//! photos is held to ONNX Runtime's, on one device and two, and so is the tool's.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::gpu;
use common::onnx_graph::Onnx;
use dojang::onnx::{Options, load_with};
use dojang::tolerance::Tolerance;
use dojang::tools::photo::{self, Normalise, Prepare};
use dojang::{Gpu, GpuModel};
use image::{DynamicImage, Rgb, RgbImage};

const FIXTURES: &str = "tests/fixtures/classify";
const PHOTOS: [&str; 4] = ["text.png", "text_upside_down.png", "chelsea.png", "coffee.png"];
const HALF: Normalise = Normalise { mean: [0.5; 3], std: [0.5; 3] };

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(FIXTURES).join(name)
}

/// ONNX Runtime's probabilities, per photo in [`PHOTOS`]' order.
fn onnx_runtime() -> Vec<Vec<f32>> {
    let text = std::fs::read_to_string(fixture("expected.json")).expect("expected.json");
    let json: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let images = json["images"].as_array().expect("images");
    let names: Vec<&str> = images.iter().map(|i| i["image"].as_str().unwrap_or_default()).collect();
    assert_eq!(names, PHOTOS);
    let floats = |v: &serde_json::Value| v.as_array().map(|a| a.iter().filter_map(|x| x.as_f64()).collect());
    images
        .iter()
        .map(|i| floats(&i["probabilities"]).map(|p: Vec<f64>| p.iter().map(|&x| x as f32).collect()))
        .collect::<Option<_>>()
        .expect("probabilities")
}

/// The batch the script prepared in Python, `[4, 3, 48, 192]`.
fn prepared_batch() -> Vec<f32> {
    let bytes = std::fs::read(fixture("inputs.npy")).expect("inputs.npy");
    let npy = npyz::NpyFile::new(&bytes[..]).expect("a .npy file");
    assert_eq!(npy.shape(), [4, 3, 48, 192]);
    npy.into_vec::<f32>().expect("float32 values")
}

fn argmax(v: &[f32]) -> usize {
    (0..v.len()).max_by(|&a, &b| v[a].total_cmp(&v[b])).unwrap_or(0)
}

fn prepare(channels: usize, height: usize, width: usize) -> Prepare {
    Prepare { channels, height, width, normalise: HALF }
}

/// A 4x2 photo into a 2x2 input: no scaling (the height covers it already), the middle two
/// columns kept, (p − 0.5) / 0.5 per channel; as luma, 0.299 R + 0.587 G + 0.114 B.
#[test]
fn a_photo_is_cropped_to_the_middle_and_normalised() {
    let px = |x: u32, y: u32| Rgb([(x * 50 + y * 10) as u8, 255, 0]);
    let image = DynamicImage::ImageRgb8(RgbImage::from_fn(4, 2, px));
    assert_eq!(prepare(3, 2, 2).scaled_size(4, 2), [4, 2]);
    let got = prepare(3, 2, 2).apply(&image).expect("prepared");
    let n = |v: f32| (v / 255.0 - 0.5) / 0.5;
    // Red at (x, y) = (1, 0), (2, 0), (1, 1), (2, 1): 50, 100, 60, 110; green 255; blue 0.
    let want = [n(50.0), n(100.0), n(60.0), n(110.0), 1.0, 1.0, 1.0, 1.0, -1.0, -1.0, -1.0, -1.0];
    common::assert_close("RGB", &got, &want, &[3, 2, 2], Tolerance { atol: 1e-6, rtol: 0.0 });
    let luma = prepare(1, 2, 2).apply(&image).expect("prepared");
    let l = |r: f32| n(0.299 * r + 0.587 * 255.0);
    let want = [l(50.0), l(100.0), l(60.0), l(110.0)];
    common::assert_close("luma", &luma, &want, &[1, 2, 2], Tolerance { atol: 1e-5, rtol: 0.0 });
}

/// Scaling covers the input: the shorter side for a square input, either side for a wide one.
#[test]
fn a_photo_is_scaled_to_cover_the_input() {
    assert_eq!(prepare(3, 224, 224).scaled_size(640, 480), [299, 224]);
    assert_eq!(prepare(3, 224, 224).scaled_size(480, 640), [224, 299]);
    assert_eq!(prepare(3, 48, 192).scaled_size(448, 172), [192, 74]);
    assert_eq!(prepare(3, 48, 192).scaled_size(100, 100), [192, 192]);
    // A flat colour stays flat through the triangle filter, up or down.
    for (w, h) in [(7, 5), (900, 700)] {
        let image = DynamicImage::ImageRgb8(RgbImage::from_pixel(w, h, Rgb([51, 102, 204])));
        let got = prepare(3, 16, 16).apply(&image).expect("prepared");
        for (c, v) in [51.0, 102.0, 204.0].iter().enumerate() {
            let want = (v / 255.0 - 0.5) / 0.5;
            assert!(got[c * 256..(c + 1) * 256].iter().all(|g| (g - want).abs() < 1e-5), "{w}x{h}, channel {c}");
        }
    }
}

/// The committed photos, prepared here, against the batch the script prepared with PIL.
#[test]
fn photos_are_prepared_as_the_fixture_script_prepares_them() {
    let python = prepared_batch();
    let per = 3 * 48 * 192;
    for (k, name) in PHOTOS.iter().enumerate() {
        let got = photo::load(&fixture(name), &prepare(3, 48, 192)).expect("prepared");
        let want = &python[k * per..(k + 1) * per];
        common::assert_close(name, &got, want, &[3, 48, 192], Tolerance { atol: 1e-4, rtol: 0.0 });
    }
}

/// The trained classifier on the photos: ONNX Runtime's probabilities within 1e-4 and the
/// same top class for every photo, on one device and split over two, and on the CPU reference.
#[test]
fn the_trained_classifier_agrees_with_onnx_runtime_on_photos() {
    let m = load_with(&fixture("text_orientation.onnx"), &Options { input_shape: Some([3, 48, 192]) })
        .unwrap_or_else(|e| panic!("{e}"));
    let (batch, expected) = (prepared_batch(), onnx_runtime());
    let want: Vec<f32> = expected.concat();
    let two = Gpu::open_group(2, Some(&gpu().info().name)).expect("logical devices");
    let cpu = m.model.forward_reference(&m.weights, &batch, 4).expect("reference");
    let outputs = [
        ("one device, timed", GpuModel::new(&gpu(), &m.model, &m.weights).and_then(|mut g| timed(&mut g, &batch))),
        ("two devices", GpuModel::split(&two, &m.model, &m.weights).and_then(|mut g| g.forward(&batch, 4))),
        ("the CPU reference", Ok(cpu.last().cloned().unwrap_or_default())),
    ];
    for (on, got) in outputs {
        let got = got.unwrap_or_else(|e| panic!("{on}: {e}"));
        common::assert_close(on, &got, &want, &[4, 2], Tolerance { atol: 1e-4, rtol: 0.0 });
        for (k, name) in PHOTOS.iter().enumerate() {
            assert_eq!(argmax(&got[2 * k..2 * k + 2]), argmax(&expected[k]), "{name} on {on}");
        }
    }
    // The model is trained, not seeded: upright text reads "0", upside-down text "180".
    assert_eq!((argmax(&expected[0]), argmax(&expected[1])), (0, 1));
}

/// `forward_timed`: the output of `forward`, and a time for it.
fn timed(model: &mut GpuModel, batch: &[f32]) -> dojang::Result<Vec<f32>> {
    let (out, seconds) = model.forward_timed(batch, 4)?;
    assert!(seconds > 0.0 && seconds < 60.0, "{seconds} s");
    Ok(out)
}

fn classify(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dojang-classify")).args(args).output().expect("dojang-classify runs")
}

fn temp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("dojang-classify-{}", std::process::id()));
    std::fs::create_dir_all(&d).expect("a temporary folder");
    d.join(name)
}

fn text(p: &Path) -> String {
    p.to_str().expect("a UTF-8 path").to_string()
}

/// The tool on the committed photos in batches of 3 (a full batch and a short one): per photo
/// its classes in order, with ONNX Runtime's probabilities within 1e-3 (the photos are
/// prepared in Rust here, in Python there); the JSON file says the same.
#[test]
fn the_tool_classifies_photos_as_onnx_runtime_does() {
    let json = temp("out.json");
    let (model, labels) = (text(&fixture("text_orientation.onnx")), text(&fixture("text_orientation.labels")));
    let photos: Vec<String> = PHOTOS.iter().map(|p| text(&fixture(p))).collect();
    let mut args = vec![model.as_str(), "--size", "48,192", "--mean", "0.5", "--std", "0.5,0.5,0.5"];
    args.extend(["--labels", labels.as_str(), "--batch", "3", "--top", "2", "--json", json.to_str().unwrap_or("")]);
    args.extend(photos.iter().map(String::as_str));
    let out = classify(&args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("4 photos in 2 batches of up to 3"), "{stdout}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("the JSON file")).expect("JSON");
    for (k, want) in onnx_runtime().iter().enumerate() {
        let top = report["images"][k]["top"].as_array().expect("top classes");
        assert_eq!(top.len(), 2);
        let first = argmax(want);
        assert_eq!(top[0]["class"].as_u64(), Some(first as u64), "{}", PHOTOS[k]);
        assert_eq!(top[0]["label"].as_str(), Some(["0", "180"][first]));
        for t in top {
            let class = t["class"].as_u64().expect("a class") as usize;
            let p = t["probability"].as_f64().expect("a probability") as f32;
            assert!((p - want[class]).abs() < 1e-3, "{}: class {class} {p} vs {}", PHOTOS[k], want[class]);
        }
        // The printed lines: the path, then "  0.6752  0" for the top class.
        let mut lines = stdout.lines().skip_while(|l| *l != photos[k]).skip(1);
        let top: Vec<&str> = lines.next().unwrap_or_default().split_whitespace().collect();
        let p: f32 = top.first().and_then(|p| p.parse().ok()).unwrap_or(f32::NAN);
        assert!((p - want[first]).abs() < 1e-3 && top.get(1) == Some(&["0", "180"][first]), "{stdout}");
    }
}

/// Bad input: exit 2 and a message naming what is wrong.
#[test]
fn bad_input_exits_2_with_a_message() {
    let model = text(&fixture("text_orientation.onnx"));
    let photo = text(&fixture("text.png"));
    let not_a_photo = temp("notes.png");
    std::fs::write(&not_a_photo, "not an image").expect("written");
    let three = temp("three.labels");
    std::fs::write(&three, "up\ndown\nsideways\n").expect("written");
    // A model of five-channel input: not a photo's.
    let mut g = Onnx::new(13, &[Some(1), Some(5), Some(4), Some(4)]);
    g.node("Relu", "relu", &["x"], "y", vec![]);
    let five = temp("five.onnx");
    std::fs::write(&five, g.bytes()).expect("written");
    let (not_a_photo, three, five) = (text(&not_a_photo), text(&three), text(&five));
    let cases: [(Vec<&str>, &str); 7] = [
        (vec![&model, "--size", "48,192", &not_a_photo], "cannot read"),
        // In a later batch, decoded while the device runs the first.
        (vec![&model, "--size", "48,192", "--batch", "1", &photo, &photo, &not_a_photo], "cannot read"),
        (vec![&model, "--size", "48,192", "--labels", &three, &photo], "has 3 labels; the model has 2 classes"),
        (vec![&model, &photo], "symbolic dimension"),
        (vec![&five, &photo], "its input is [N, 5, 4, 4], not an image batch"),
        (vec![&model, "--size", "48,192", "--mean", "1,2", &photo], "--mean takes R,G,B"),
        (vec![&model, "--size", "48,192", "--std", "0", &photo], "--std takes values above 0"),
    ];
    for (args, message) in cases {
        let out = classify(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
}
