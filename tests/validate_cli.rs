//! dojang-validate as a user runs it: golden fixtures pass; broken cases fail with their reason
//! while the run goes on; exit codes 0, 1 and 2.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::onnx_graph::{A, Onnx};

fn validate(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dojang-validate")).args(args).output().expect("dojang-validate runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// A scratch copy of the fixtures to break.
fn copy_fixtures(name: &str) -> PathBuf {
    let dst = std::env::temp_dir().join(format!("dojang-golden-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dst);
    copy_dir(&fixtures(), &dst);
    dst
}

fn copy_dir(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for e in std::fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        let to = dst.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to);
        } else {
            std::fs::copy(e.path(), to).unwrap();
        }
    }
}

/// The report line of `case`.
fn line_of<'a>(out: &'a str, case: &str) -> &'a str {
    out.lines().find(|l| l.contains(case)).unwrap_or_else(|| panic!("no line for {case} in:\n{out}"))
}

/// `data` as a C-order .npy of `shape` (its dtype: f32 or f64).
fn write_npy<T: npyz::AutoSerialize + Copy>(path: &Path, shape: &[u64], data: &[T]) {
    use npyz::WriterBuilder;
    let mut bytes = Vec::new();
    let mut w = npyz::WriteOptions::new().default_dtype().shape(shape).writer(&mut bytes).begin_nd().unwrap();
    w.extend(data.iter().copied()).unwrap();
    w.finish().unwrap();
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn golden_fixtures_all_pass() {
    let out = validate(&["golden", fixtures().to_str().unwrap(), "--verbose"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    let cases = text.lines().filter(|l| l.contains(" pass ")).count();
    assert!(cases >= 17, "{text}");
    assert!(text.trim_end().ends_with(&format!("{cases} passed, 0 failed")), "{text}");

    // Without --verbose: the section's verdict in one line, no table of passing cases.
    let text = stdout(&validate(&["golden", fixtures().to_str().unwrap()]));
    assert!(!text.contains(" pass "), "{text}");
    assert!(text.lines().any(|l| l == format!("{cases} cases, 0 failed")), "{text}");
}

#[test]
fn broken_cases_fail_with_their_reason_and_the_run_goes_on() {
    let dir = copy_fixtures("broken");
    // Corrupted expected values.
    let y = dir.join("conv2d/3x3_pad1/y.npy");
    let mut bytes = std::fs::read(&y).unwrap();
    let n = bytes.len();
    bytes[n - 2] ^= 0x40;
    std::fs::write(&y, bytes).unwrap();
    // A missing weight.
    std::fs::remove_file(dir.join("conv2d/depthwise/w.npy")).unwrap();
    // A float64 input.
    write_npy(&dir.join("relu/basic/x.npy"), &[2, 3], &[1.0f64, -1.0, 2.0, -2.0, 3.0, -3.0]);
    // An unknown op.
    let case = dir.join("dense/bias_relu/case.json");
    let text = std::fs::read_to_string(&case).unwrap().replace("\"dense\"", "\"convolve3d\"");
    std::fs::write(&case, text).unwrap();

    let json = dir.join("results.json");
    let out = validate(&["golden", dir.to_str().unwrap(), "--verbose", "--json", json.to_str().unwrap()]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(line_of(&text, "conv2d/3x3_pad1").contains("FAIL"), "{text}");
    assert!(text.contains("first at [1, 4, 8, 7]"), "the mismatch is located at the last element:\n{text}");
    assert!(text.contains("cannot read w.npy"), "{text}");
    assert!(text.contains("x.npy has dtype <f8, expected float32"), "{text}");
    assert!(text.contains("unknown op `convolve3d`"), "{text}");
    assert!(line_of(&text, "softmax/large_logits").contains("pass"), "later cases still run:\n{text}");
    assert!(text.trim_end().ends_with("33 passed, 4 failed"), "{text}");

    let results: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let results = results.as_array().unwrap();
    assert_eq!(results.len(), 37);
    assert_eq!(results.iter().filter(|r| r["passed"] == false).count(), 4);

    // Without --verbose the failures still show in full, with the section's summary.
    let text = stdout(&validate(&["golden", dir.to_str().unwrap()]));
    assert!(text.contains("unknown op `convolve3d`") && !text.contains("softmax/large_logits"), "{text}");
    assert!(text.lines().any(|l| l.starts_with("37 cases, 4 failed")), "{text}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn quiet_prints_only_failures_and_the_closing_line() {
    let out = validate(&["golden", fixtures().to_str().unwrap(), "--quiet"]);
    assert_eq!(stdout(&out).trim(), "37 passed, 0 failed");
}

#[test]
fn environment_errors_exit_2_with_advice() {
    let out = validate(&["golden", "/nonexistent/dojang"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read the cases under /nonexistent/dojang"));
    let out = validate(&["--adapter", "no-such-gpu-anywhere", "ops"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no adapter matches `no-such-gpu-anywhere`"));
    let out = validate(&["frobnicate"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_folder_without_cases_is_an_error() {
    let empty = std::env::temp_dir().join(format!("dojang-no-cases-{}", std::process::id()));
    std::fs::create_dir_all(empty.join("not-a-case")).unwrap();
    let out = validate(&["golden", empty.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains(&format!("no cases under {}", empty.display())), "{err}");
    assert!(!stdout(&out).contains("0 passed"), "{}", stdout(&out));
    std::fs::remove_dir_all(&empty).unwrap();
}

#[test]
fn zero_counts_and_unmatched_adapters_are_usage_errors_everywhere() {
    for args in [&["alexnet", "--batch", "0"][..], &["alexnet", "--devices", "0"], &["alexnet", "--batch", "-1"]] {
        let out = validate(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(args[2]), "{args:?}: {err}");
    }
    // An index past the adapters, and a name nothing has, in every subcommand.
    let dir = fixtures();
    let subcommands: [&[&str]; 6] =
        [&["devices"], &["ops"], &["golden", dir.to_str().unwrap()], &["summary", "alexnet"], &["alexnet"], &["bench"]];
    for wanted in ["4096", "no-such-gpu-anywhere"] {
        for sub in subcommands {
            let out = validate(&[&["--adapter", wanted][..], sub].concat());
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "--adapter {wanted} {sub:?}: {err}");
            assert!(err.contains(&format!("no adapter matches `{wanted}`")), "{sub:?}: {err}");
        }
    }
}

#[test]
fn devices_lists_the_adapter_and_its_limits() {
    let out = validate(&["devices"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.starts_with("0: "), "{text}");
    assert!(text.contains("storage binding") && text.contains("workgroups per dimension"), "{text}");
}

#[test]
fn a_timed_section_names_its_slowest_case() {
    let out = validate(&["alexnet", "--model", "bottleneck"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    let summary = text.lines().find(|l| l.contains(" cases, 0 failed; slowest ")).unwrap_or_else(|| panic!("{text}"));
    assert!(summary.ends_with(" ms)"), "{summary}");
    // The table of passing layers is behind --verbose.
    assert!(!text.contains(" pass "), "{text}");
    assert!(stdout(&validate(&["alexnet", "--model", "bottleneck", "-v"])).contains(" pass "));
}

#[test]
fn progress_in_a_log_is_plain_lines_and_quiet_has_none() {
    let out = validate(&["golden", fixtures().to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("golden cases: ")).collect();
    assert!((5..=10).contains(&lines.len()) && lines.last().unwrap().ends_with("/37"), "{err}");
    for args in [&["--quiet"][..], &["--json", "/dev/null"]] {
        let out = validate(&[&["golden", fixtures().to_str().unwrap()][..], args].concat());
        assert!(String::from_utf8_lossy(&out.stderr).trim().is_empty(), "{args:?}");
    }
}

#[test]
fn a_batch_the_machine_cannot_hold_is_refused_with_the_figures() {
    // 100,000 AlexNet images: over a terabyte, refused before anything is allocated.
    let out = validate(&["alexnet", "--batch", "100000"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("alexnet at batch 100000 needs about"), "{err}");
    assert!(err.contains(" TB of host memory") && err.contains("available; try a smaller --batch"), "{err}");
}

/// A model line's JSON: its bound on every line; a batch's cost per image against batch 1's,
/// from passes taken in turn, on batch lines only, and said on the line.
#[test]
fn a_batch_line_weighs_its_images_against_batch_1() {
    let json = std::env::temp_dir().join(format!("dojang-bench-{}.json", std::process::id()));
    let out = validate(&["bench", "--only", "squeezenet-b1,squeezenet-b8", "--json", json.to_str().unwrap()]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    let lines: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let line = |name: &str| lines.as_array().unwrap().iter().find(|l| l["name"] == name).unwrap().clone();
    let (b1, b8) = (line("squeezenet-b1"), line("squeezenet-b8"));
    for l in [&b1, &b8] {
        assert!(l["bound_ms"].as_f64().is_some_and(|b| b > 0.0), "{l}");
        assert!(l["over_one_device"].is_null(), "{l}");
    }
    assert!(b1["over_batch1"].is_null(), "{b1}");
    // Per image, batch 8 costs more than nothing and less than twice batch 1.
    assert!(b8["over_batch1"].as_f64().is_some_and(|o| o > -1.0 && o < 1.0), "{b8}");
    assert!(line_of(&text, "squeezenet-b8").contains("% an image against batch 1"), "{text}");
    assert!(!line_of(&text, "squeezenet-b1").contains("against batch 1"), "{text}");
}

#[test]
fn a_model_run_says_what_it_needs_and_how_far_the_reference_is() {
    let out = validate(&["alexnet", "--model", "bottleneck", "--batch", "2"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let line = |start: &str| err.lines().find(|l| l.starts_with(start)).unwrap_or_else(|| panic!("{start}: {err}"));
    assert!(line("bottleneck: needs about ").contains(" MB of device memory"), "{err}");
    assert_eq!(line("bottleneck: the CPU reference: "), "bottleneck: the CPU reference: reduce (layer 1 of 6)");
    let later: Vec<&str> = err.lines().filter(|l| l.contains("% done, ")).collect();
    assert!(!later.is_empty() && later.len() <= 10, "{err}");
    assert!(later.iter().all(|l| l.ends_with(" s left") || l.ends_with(" min left")), "{err}");
}

/// `onnx` on a model written here (a 1x1 convolution by 2, then ReLU): exit 0 when its output
/// is the one expected, 1 when it is not, with the line that says so.
#[test]
fn onnx_holds_a_model_to_the_expected_output() {
    let dir = std::env::temp_dir().join(format!("dojang-validate-onnx-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut g = Onnx::new(13, &[None, Some(1), Some(1), Some(3)]);
    g.init("w", &[1, 1, 1, 1], &[2.0]);
    g.node("Conv", "double", &["x", "w"], "c", vec![("strides", A::Is(vec![1, 1]))]);
    g.node("Relu", "relu", &["c"], "y", vec![]);
    let model = dir.join("double.onnx");
    std::fs::write(&model, g.bytes()).unwrap();
    write_npy(&dir.join("x.npy"), &[1, 1, 1, 3], &[-1.0f32, 0.5, 2.0]);
    write_npy(&dir.join("y.npy"), &[1, 1, 1, 3], &[0.0f32, 1.0, 4.0]);
    write_npy(&dir.join("wrong.npy"), &[1, 1, 1, 3], &[0.0f32, 1.0, 5.0]);
    let run = |expect: &str| {
        let (m, x, y) = (model.to_str().unwrap(), dir.join("x.npy"), dir.join(expect));
        validate(&["onnx", m, "--input", x.to_str().unwrap(), "--expect", y.to_str().unwrap(), "-v"])
    };
    let ok = run("y.npy");
    assert_eq!(ok.status.code(), Some(0), "{}", stdout(&ok));
    assert!(line_of(&stdout(&ok), "output against --expect").contains("pass"), "{}", stdout(&ok));
    let bad = run("wrong.npy");
    assert_eq!(bad.status.code(), Some(1), "{}", stdout(&bad));
    assert!(line_of(&stdout(&bad), "output against --expect").contains("FAIL"), "{}", stdout(&bad));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A model dojang cannot run: exit 2, every unsupported op named. `summary` of a file prints
/// its parameters as the exporter counted them.
#[test]
fn onnx_refuses_what_it_cannot_run_and_summarises_a_file() {
    let dir = std::env::temp_dir().join(format!("dojang-validate-refuse-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut g = Onnx::new(17, &[Some(1), Some(1), Some(2), Some(2)]);
    g.node("Resize", "Resize_12", &["x"], "a", vec![]);
    g.node("Resize", "Resize_13", &["a"], "y", vec![]);
    let model = dir.join("resize.onnx");
    std::fs::write(&model, g.bytes()).unwrap();
    let out = validate(&["onnx", model.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("resize.onnx (opset 17): Resize ×2 (first 'Resize_12') is not supported by dojang"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/onnx");
    let out = validate(&["summary", fixtures.join("tv_resnet18.onnx").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let text = stdout(&out);
    assert!(text.contains("parameters in the file: 11,689,512"), "{text}");
    assert!(text.contains("rewritten at load: BatchNormalization into Conv ×20"), "{text}");
}
