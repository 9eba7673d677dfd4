//! dojang-classify: points an image classifier (an ONNX file) at photos.
//!
//! Each photo is decoded, scaled so its shorter side covers the model's input, centre-cropped and normalised
//! (`dojang::tools::photo`), the photos run in batches on the GPU, and each gets its top K
//! classes with their probabilities (softmax applied where the model ends in logits). A
//! batch's photos are decoded side by side on the machine's cores, and after the first batch
//! the next one is decoded while the device runs this one (on a CPU adapter the two share
//! the cores, so the device's time per batch reads higher while photos/s rises). Exit
//! codes: 0 done, 2 usage or input error (an unreadable photo, a model whose input is not an
//! image batch, a labels file of the wrong length).

#[path = "../common/app.rs"]
mod app;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use dojang::model::Op;
use dojang::onnx::{self, Options};
use dojang::tools::photo::{self, Normalise, Prepare};
use dojang::{Gpu, GpuModel};
use serde_json::json;

#[derive(Parser)]
#[command(name = "dojang-classify", version, about = "Classifies photos with an ONNX image classifier on the GPU")]
struct Cli {
    /// The classifier: an ONNX file whose input is an image batch [N, 3 or 1, H, W].
    model: PathBuf,
    /// Photos to classify (PNG or JPEG).
    #[arg(required = true)]
    images: Vec<PathBuf>,
    /// Classes to print per photo.
    #[arg(long, default_value_t = 5)]
    top: usize,
    /// Class names, one per line, in the order of the model's outputs (default: the indices).
    #[arg(long)]
    labels: Option<PathBuf>,
    /// Input size, N or H,W, for a model whose file leaves it open (as three channels); a
    /// size the file fixes must agree.
    #[arg(long)]
    size: Option<String>,
    /// Per-channel mean subtracted from pixels in [0, 1] (default: ImageNet's).
    #[arg(long, default_value = "0.485,0.456,0.406")]
    mean: String,
    /// Per-channel standard deviation the pixels are divided by (default: ImageNet's).
    #[arg(long, default_value = "0.229,0.224,0.225")]
    std: String,
    /// Photos per batch.
    #[arg(long, default_value_t = 8)]
    batch: usize,
    /// Devices to split the model over (channel groups, as AlexNet's two GPUs).
    #[arg(long, default_value_t = 1)]
    devices: usize,
    /// Also write the results to this file as JSON.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Adapter to use: an index from `dojang-validate devices` or part of its name.
    #[arg(long, env = "DOJANG_ADAPTER")]
    adapter: Option<String>,
}

fn main() -> ExitCode {
    // SAFETY: first thing in main, one thread.
    unsafe { app::main("dojang-classify", || run(&Cli::parse())) }
}

fn run(cli: &Cli) -> Result<bool, String> {
    if cli.batch == 0 || cli.top == 0 || cli.devices == 0 {
        return Err("--batch, --top and --devices take 1 or more".into());
    }
    let normalise = Normalise { mean: triple("mean", &cli.mean)?, std: triple("std", &cli.std)? };
    if let Some(s) = normalise.std.iter().find(|s| **s <= 0.0 || !s.is_finite()) {
        return Err(format!("--std takes values above 0, not {s}"));
    }
    let input_shape = cli.size.as_deref().map(size).transpose()?.map(|[h, w]| [3, h, w]);
    let imported = onnx::load_with(&cli.model, &Options { input_shape }).map_err(|e| e.to_string())?;
    let model = &imported.model;
    let (classes, prepare) = match (model.input(), model.output_shape().iter().product::<usize>()) {
        (&[c @ (1 | 3), h, w], k) => (k, Prepare { channels: c, height: h, width: w, normalise }),
        (input, _) => {
            return Err(format!(
                "{}: its input is [N, {}], not an image batch [N, 3 or 1, H, W]",
                cli.model.display(),
                input.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
            ));
        }
    };
    let labels = match &cli.labels {
        Some(path) => read_labels(path, classes)?,
        None => (0..classes).map(|k| k.to_string()).collect(),
    };
    // A model that ends in a softmax gives probabilities; else its logits get one here.
    let ends_in_softmax = model.layers().last().is_some_and(|l| l.op == Op::Softmax);

    let gpu = Gpu::with_adapter(cli.adapter.as_deref()).map_err(|e| e.to_string())?;
    let gpus = match cli.devices {
        1 => vec![gpu.clone()],
        n => Gpu::open_group(n, Some(&gpu.info().name)).map_err(|e| e.to_string())?,
    };
    let mut net = GpuModel::split(&gpus, model, &imported.weights).map_err(|e| e.to_string())?;

    let bar = progress(cli.images.len());
    let (mut gpu_ms, mut wall, mut results) = (vec![], vec![], vec![]);
    // A batch's time runs from the end of the one before: its decoding where the device
    // outran it, and its pass.
    let mut start = Instant::now();
    let mut classify = |paths: &[PathBuf], input: Result<Vec<f32>, String>| -> Result<(), String> {
        let (output, seconds) = net.forward_timed(&input?, paths.len()).map_err(|e| e.to_string())?;
        gpu_ms.push(seconds * 1e3);
        for (path, scores) in paths.iter().zip(output.chunks(classes)) {
            let probabilities = if ends_in_softmax { scores.to_vec() } else { softmax(scores) };
            let top = top_k(&probabilities, cli.top);
            let lines: Vec<String> = top.iter().map(|&k| format!("  {:.4}  {}", probabilities[k], labels[k])).collect();
            let print = || println!("{}\n{}", path.display(), lines.join("\n"));
            match &bar {
                Some(bar) => bar.suspend(print),
                None => print(),
            }
            let top: Vec<_> = (top.iter())
                .map(|&k| json!({"class": k, "label": labels[k], "probability": probabilities[k]}))
                .collect();
            results.push(json!({"image": path.display().to_string(), "top": top}));
        }
        if let Some(bar) = &bar {
            bar.inc(paths.len() as u64);
        }
        wall.push(start.elapsed().as_secs_f64());
        start = Instant::now();
        Ok(())
    };
    // The first batch's pass builds the plan and may time kernels: nothing else runs beside
    // it. After it, the next batch is decoded while the device runs this one (a failed batch
    // closes the channel, which stops the decoding).
    let mut chunks = cli.images.chunks(cli.batch);
    if let Some(first) = chunks.next() {
        classify(first, decode(first, &prepare))?;
    }
    std::thread::scope(|s| {
        let (decoded, batches) = std::sync::mpsc::sync_channel(1);
        let (rest, prepare) = (chunks.clone(), &prepare);
        s.spawn(move || {
            for paths in rest {
                if decoded.send(decode(paths, prepare)).is_err() {
                    break;
                }
            }
        });
        chunks.zip(batches).try_for_each(|(paths, input)| classify(paths, input))
    })?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    // The first batch builds the plan and the pipelines (and tunes kernels new to this
    // adapter): the rate is of the batches after it.
    let n = cli.images.len();
    let rest = n - cli.batch.min(n);
    let rate = (rest > 0).then(|| rest as f64 / wall[1..].iter().sum::<f64>());
    let plural = |k: usize, one: &str, many: &str| format!("{k} {}", if k == 1 { one } else { many });
    println!(
        "{} in {} of up to {} on {}: the first batch {:.2} s (plans and pipelines built){}; \
         GPU time per batch {:.1} ms (median)",
        plural(n, "photo", "photos"),
        plural(wall.len(), "batch", "batches"),
        cli.batch,
        gpu.info().name,
        wall[0],
        rate.map(|r| format!(", then {r:.1} photos/s (decoding included)")).unwrap_or_default(),
        median(&gpu_ms),
    );
    if let Some(path) = &cli.json {
        let report = json!({
            "model": cli.model.display().to_string(),
            "adapter": gpu.info().name,
            "devices": cli.devices,
            "batch": cli.batch,
            "images": results,
            "seconds_per_batch": wall,
            "images_per_second_after_the_first_batch": rate,
            "gpu_ms_per_batch": gpu_ms,
        });
        let text = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
        std::fs::write(path, text + "\n").map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(true)
}

/// The photos of one batch, decoded and prepared side by side on the machine's cores, in order.
fn decode(paths: &[PathBuf], prepare: &Prepare) -> Result<Vec<f32>, String> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per_core = paths.len().div_ceil(cores).max(1);
    let parts: Vec<Result<Vec<Vec<f32>>, String>> = std::thread::scope(|s| {
        let decoding: Vec<_> = (paths.chunks(per_core))
            .map(|part| s.spawn(move || part.iter().map(|path| photo::load(path, prepare)).collect()))
            .collect();
        decoding.into_iter().map(|d| d.join().unwrap_or_else(|_| Err("a photo's decoder panicked".into()))).collect()
    });
    let photos = parts.into_iter().collect::<Result<Vec<Vec<Vec<f32>>>, String>>()?;
    Ok(photos.into_iter().flatten().flatten().collect())
}

/// A bar over the photos on a terminal; none in a pipe.
fn progress(len: usize) -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() || len < 2 {
        return None;
    }
    let bar = indicatif::ProgressBar::new(len as u64);
    if let Ok(style) = indicatif::ProgressStyle::with_template("classifying [{bar:30}] {pos}/{len} ({per_sec})") {
        bar.set_style(style.progress_chars("=> "));
    }
    Some(bar)
}

/// `R,G,B`, or one value for all three.
fn triple(what: &str, text: &str) -> Result<[f32; 3], String> {
    let values: Result<Vec<f32>, _> = text.split(',').map(|v| v.trim().parse::<f32>()).collect();
    match values.as_deref() {
        Ok(&[v]) if v.is_finite() => Ok([v; 3]),
        Ok(&[r, g, b]) if [r, g, b].iter().all(|v| v.is_finite()) => Ok([r, g, b]),
        _ => Err(format!("--{what} takes R,G,B or one number, not `{text}`")),
    }
}

/// `N` or `H,W`.
fn size(text: &str) -> Result<[usize; 2], String> {
    let dims: Vec<usize> = text.split(',').map(|v| v.trim().parse().unwrap_or(0)).collect();
    match *dims.as_slice() {
        [n] if n > 0 => Ok([n, n]),
        [h, w] if h > 0 && w > 0 => Ok([h, w]),
        _ => Err(format!("--size takes N or H,W of 1 or more, not `{text}`")),
    }
}

/// One label a line (trailing blank lines ignored); as many as the model has classes.
fn read_labels(path: &Path, classes: usize) -> Result<Vec<String>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let labels: Vec<String> = text.trim_end().lines().map(|l| l.trim().to_string()).collect();
    match labels.len() == classes {
        true => Ok(labels),
        false => Err(format!("{} has {} labels; the model has {classes} classes", path.display(), labels.len())),
    }
}

fn softmax(logits: &[f32]) -> Vec<f32> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exp: Vec<f32> = logits.iter().map(|v| (v - max).exp()).collect();
    let sum: f32 = exp.iter().sum();
    exp.iter().map(|e| e / sum).collect()
}

/// The `k` most probable classes, most probable first (NaN left out).
fn top_k(probabilities: &[f32], k: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..probabilities.len()).collect();
    order.sort_by(|&a, &b| probabilities[b].total_cmp(&probabilities[a]).then(a.cmp(&b)));
    order.retain(|&i| !probabilities[i].is_nan());
    order.truncate(k);
    order
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}
