//! The autotuner: on first use of a shape class it times every candidate and keeps the
//! fastest, in memory and in its cache file; a second device reading that file times
//! nothing; threads that meet on one shape time it once; with autotuning off, nothing is
//! timed and each op takes its fixed default.

mod common;

use common::random;
use dojang::ops::{Conv2d, ConvKernel, ConvWeight, Dense, DenseKernel, DenseWeight, Padding};
use dojang::{Autotune, Gpu, Tensor};

/// A fresh device (its own tuner) with `mode`.
fn device(mode: Autotune) -> Gpu {
    let gpu = Gpu::with_adapter(None).expect("an adapter");
    gpu.set_autotune(mode);
    gpu
}

/// Runs a 3x3 convolution and a batched dense layer; returns what they recorded.
fn run_layers(gpu: &Gpu) -> (String, String) {
    let attrs = Conv2d::default().with_padding(Padding::symmetric(1, 1));
    let weight = ConvWeight::upload(gpu, &random(32 * 16 * 9, 1), None, [32, 16, 3, 3], 1).unwrap();
    let x = Tensor::from_slice(gpu, &random(16 * 20 * 20, 2), &[1, 16, 20, 20]).unwrap();
    let y = Tensor::zeros(gpu, &[1, 32, 20, 20]).unwrap();
    let conv = weight.record(&x, &y, &attrs).unwrap();
    let dense = DenseWeight::upload(gpu, &random(40 * 24, 3), None, 40, 24).unwrap();
    let x = Tensor::from_slice(gpu, &random(8 * 24, 4), &[8, 24]).unwrap();
    let y = Tensor::zeros(gpu, &[8, 40]).unwrap();
    let fc = dense.record(&x, &y, &Dense::default()).unwrap();
    (conv.kernel().to_string(), fc.kernel().to_string())
}

/// The candidates of both of [`run_layers`]' shape classes.
fn candidates() -> u64 {
    let geo =
        Conv2d::default().with_padding(Padding::symmetric(1, 1)).geometry(&[1, 16, 20, 20], &[32, 16, 3, 3], None);
    let dense = Dense::default().geometry(&[8, 24], &[40, 24], None).unwrap();
    (ConvKernel::candidates(&geo.unwrap()).len() + DenseKernel::candidates(&dense).len()) as u64
}

/// An empty folder `name` for a test's cache file, its file, and the mode that uses it.
fn fresh_cache(name: &str) -> (std::path::PathBuf, std::path::PathBuf, Autotune) {
    let dir = std::env::temp_dir().join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let file = dir.join("autotune.json");
    let mode = Autotune::On { cache: Some(file.clone()) };
    (dir, file, mode)
}

#[test]
fn winners_are_cached_per_adapter_and_reused() {
    let (dir, file, mode) = fresh_cache("dojang-autotune");

    let first = device(mode.clone());
    let chosen = run_layers(&first);
    // Every candidate of both shape classes was timed once.
    assert_eq!(first.autotune_trials(), candidates());
    // The same shapes again on the same device: remembered.
    assert_eq!(run_layers(&first), chosen);
    assert_eq!(first.autotune_trials(), candidates());

    // The file names the adapter, driver and crate version, and both winners.
    let text = std::fs::read_to_string(&file).unwrap();
    let info = first.info();
    assert!(text.contains(&info.name) && text.contains(env!("CARGO_PKG_VERSION")), "{text}");
    assert!(text.contains(&chosen.0) && text.contains(&chosen.1), "{text}");

    // A new device reading the file starts tuned.
    let second = device(mode);
    assert_eq!(run_layers(&second), chosen);
    assert_eq!(second.autotune_trials(), 0);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Choices are a build's: a table another build of the crate left for this adapter is not
/// read, and this build's table replaces it.
#[test]
fn another_builds_choices_are_tuned_again_and_replaced() {
    let (dir, file, mode) = fresh_cache("dojang-autotune-build");
    run_layers(&device(mode.clone()));
    let ours = std::fs::read_to_string(&file).unwrap();
    // The same table and winners, as another build would name the table.
    let (at, end) = (ours.find("(sources ").unwrap() + 9, ours.find(")\": {").unwrap());
    let theirs = format!("{}{}{}", &ours[..at], "0".repeat(end - at), &ours[end..]);
    assert_ne!(theirs, ours);
    std::fs::write(&file, &theirs).unwrap();

    let next = device(mode);
    run_layers(&next);
    assert_eq!(next.autotune_trials(), candidates());
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(!text.contains(&"0".repeat(end - at)) && text.contains(&ours[at..end]), "{text}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn off_takes_the_fixed_default_and_times_nothing() {
    let gpu = device(Autotune::Off);
    let (conv, fc) = run_layers(&gpu);
    assert_eq!(gpu.autotune_trials(), 0);
    let geo =
        Conv2d::default().with_padding(Padding::symmetric(1, 1)).geometry(&[1, 16, 20, 20], &[32, 16, 3, 3], None);
    assert_eq!(conv, ConvKernel::candidates(&geo.unwrap())[0].name());
    let dense_geo = Dense::default().geometry(&[8, 24], &[40, 24], None).unwrap();
    assert_eq!(fc, DenseKernel::candidates(&dense_geo)[0].name());
}

#[test]
fn the_environment_sets_the_mode() {
    // DOJANG_AUTOTUNE_CACHE moves the file; DOJANG_AUTOTUNE=off writes none.
    let dir = std::env::temp_dir().join(format!("dojang-autotune-env-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let bench = |file: &std::path::Path, off: bool| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_dojang-validate"));
        cmd.args(["bench", "--only", "alexnet-conv5", "--quiet"]).env("DOJANG_AUTOTUNE_CACHE", file);
        if off {
            cmd.env("DOJANG_AUTOTUNE", "off");
        } else {
            cmd.env_remove("DOJANG_AUTOTUNE");
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    };
    let on = dir.join("on.json");
    bench(&on, false);
    let text = std::fs::read_to_string(&on).unwrap();
    assert!(text.contains("conv2d k3x3"), "{text}");
    let off = dir.join("off.json");
    bench(&off, true);
    assert!(!off.exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn threads_tuning_one_shape_on_one_device_time_it_once() {
    let gpu = device(Autotune::On { cache: None });
    let threads: Vec<_> = (0..3)
        .map(|_| {
            let gpu = gpu.clone();
            std::thread::spawn(move || run_layers(&gpu))
        })
        .collect();
    let chosen: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert!(chosen.windows(2).all(|w| w[0] == w[1]), "{chosen:?}");
    assert_eq!(gpu.autotune_trials(), candidates());
}
