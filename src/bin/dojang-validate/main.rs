//! dojang-validate: does every kernel compute the right numbers on this GPU?
//!
//! `ops` runs every kernel over its validation matrix against the CPU reference; `alexnet`
//! runs a whole model against it layer by layer; with no subcommand, both. `golden DIR` runs
//! cases computed by other frameworks; `summary MODEL` prints the parameter arithmetic;
//! `devices` lists the adapters.
//! Exit codes: 0 all passed, 1 some case failed, 2 usage or environment error.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[path = "../common/app.rs"]
mod app;
mod bench;
mod golden;
mod model;
mod onnx;
mod ops;
mod report;

use clap::{Parser, Subcommand};
use dojang::Gpu;
use dojang::adapter::{adapters, find_adapter};
use dojang::model::summary::thousands;
use dojang::model::{Weights, zoo};
use report::CaseResult;

/// println! that stops quietly when stdout is closed (`dojang-validate | head`).
macro_rules! say {
    ($($arg:tt)*) => {{
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

#[derive(Parser)]
#[command(
    name = "dojang-validate",
    version,
    about = "Checks dojang's GPU kernels against the CPU reference and golden cases"
)]
struct Cli {
    /// Adapter to use: an index from `devices` or part of its name (default: DOJANG_ADAPTER,
    /// else the high-performance adapter).
    #[arg(long, global = true, env = "DOJANG_ADAPTER")]
    adapter: Option<String>,
    /// Also write the results, machine-readable, to FILE.
    #[arg(long, global = true, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Print only failures and the closing line.
    #[arg(long, global = true, conflicts_with = "verbose")]
    quiet: bool,
    /// Print every case's line, not only failures and each section's summary.
    #[arg(long, short, global = true)]
    verbose: bool,
    /// Seed of the random inputs.
    #[arg(long, global = true, default_value_t = 2012)]
    seed: u64,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// List every adapter wgpu sees, with the limits and features that matter to dojang.
    Devices,
    /// Run every kernel over its validation matrix against the CPU reference (the default).
    Ops,
    /// Run the golden cases under DIR (folders holding case.json and .npy files).
    Golden {
        /// Folder of cases.
        dir: PathBuf,
    },
    /// Print a model's layers with output shapes, weights, biases and multiply-adds.
    Summary {
        /// A zoo model (alexnet, alexnet-notes, alexnet-torchvision, bottleneck, resnet50,
        /// mobilenetv2, squeezenet1_1) or an .onnx file.
        model: String,
        /// C,H,W of an .onnx model's input, where its file leaves them symbolic.
        #[arg(long, value_name = "C,H,W", value_parser = onnx::shape3)]
        input_shape: Option<[usize; 3]>,
    },
    /// Import an ONNX network and run it on the GPU against the CPU reference, layer by layer
    /// (exit 0 all agree, 1 a mismatch, 2 the file or model cannot be run).
    Onnx(onnx::OnnxArgs),
    /// Run a whole model on the GPU and the CPU reference, and compare layer by layer.
    Alexnet(ModelArgs),
    /// Time the layers that matter beside the adapter's yardstick (a 1024³ GEMM).
    Bench {
        /// Only these layers (comma-separated names; see the README).
        #[arg(long, value_delimiter = ',', value_name = "NAME,…")]
        only: Vec<String>,
    },
}

#[derive(clap::Args)]
struct ModelArgs {
    /// alexnet, alexnet-notes, alexnet-torchvision, bottleneck, resnet50, mobilenetv2 or
    /// squeezenet1_1.
    #[arg(long, default_value = "alexnet")]
    model: String,
    /// Images per forward pass (1 or more).
    #[arg(long, default_value_t = 1, value_parser = at_least_one)]
    batch: usize,
    /// Weights as .safetensors (default: seeded He-normal).
    #[arg(long, value_name = "FILE")]
    weights: Option<PathBuf>,
    /// Split the channel groups over this many devices (one per adapter when there are
    /// enough, else logical devices on one adapter), compared against one device.
    #[arg(long, default_value_t = 1, value_parser = at_least_one)]
    devices: usize,
}

/// A count of 1 or more: 0 is a usage error, not a silent 1.
pub(crate) fn at_least_one(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

fn main() -> ExitCode {
    // SAFETY: first thing in main, one thread.
    unsafe { app::main("dojang-validate", || run(&Cli::parse())) }
}

/// Ok(all passed), or Err(a usage or environment problem).
fn run(cli: &Cli) -> Result<bool, String> {
    // Each section prints as soon as it is done; the closing line and --json cover them all.
    let mut all = Vec::new();
    // An adapter that matches nothing is a mistake whatever the subcommand.
    if let Some(wanted) = cli.adapter.as_deref().filter(|a| !a.trim().is_empty()) {
        find_adapter(wanted).map_err(|e| e.to_string())?;
    }
    match &cli.command {
        Some(Command::Devices) => return devices(cli),
        Some(Command::Summary { model, input_shape }) => {
            let summary = match model.ends_with(".onnx") {
                true => onnx::load(std::path::Path::new(model), *input_shape)?.summary(),
                false => {
                    let built = zoo::build(model).map_err(|e| e.to_string())?;
                    let original = zoo::original_parameters(model).map_err(|e| e.to_string())?;
                    let folded = match original == built.parameter_count() {
                        true => String::new(),
                        false => format!(
                            "parameters of the original: {} (its BatchNorms, folded into the convolutions here, \
                             counted)\n",
                            thousands(original)
                        ),
                    };
                    built.summary() + &folded
                }
            };
            let _ = write!(std::io::stdout(), "{summary}");
            return Ok(true);
        }
        Some(Command::Golden { dir }) => {
            let gpu = open(cli)?;
            let results = golden::run_dir(&gpu, dir, |n| progress(cli, n, "golden cases"))
                .map_err(|e| format!("cannot read the cases under {}: {e}", dir.display()))?;
            if results.is_empty() {
                return Err(format!("no cases under {} (a case is a folder holding case.json)", dir.display()));
            }
            section(cli, &format!("golden cases under {}", dir.display()), results, &mut all);
        }
        Some(Command::Ops) => {
            let gpu = open(cli)?;
            let results = ops::run_all(&gpu, cli.seed, 3, |n| progress(cli, n, "kernels"));
            section(cli, "kernels against the CPU reference", results, &mut all);
        }
        Some(Command::Bench { only }) => return run_bench(cli, only),
        Some(Command::Onnx(args)) => {
            let gpu = open(cli)?;
            let spinner = progress(cli, 0, "onnx");
            let (title, results) = onnx::run(&gpu, args, cli.seed, |phase| spinner.message(phase))?;
            drop(spinner);
            if let Some(first) = results.iter().find(|r| !r.passed) {
                say!("first layer that differs: {}", first.op);
            }
            section(cli, &title, results, &mut all);
        }
        Some(Command::Alexnet(args)) => {
            let gpu = open(cli)?;
            let title = model_title(args);
            section(cli, &title, run_model(cli, &gpu, args)?, &mut all);
        }
        None => {
            let gpu = open(cli)?;
            let results = ops::run_all(&gpu, cli.seed, 3, |n| progress(cli, n, "kernels"));
            section(cli, "kernels against the CPU reference", results, &mut all);
            let args = ModelArgs { model: "alexnet".into(), batch: 1, weights: None, devices: 1 };
            section(cli, &model_title(&args), run_model(cli, &gpu, &args)?, &mut all);
        }
    }
    say!("{}", report::summary(&all));
    if let Some(path) = &cli.json {
        let text = serde_json::to_string_pretty(&all).map_err(|e| e.to_string())?;
        std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(all.iter().all(|r| r.passed))
}

/// The bench: a line per layer as it finishes; the JSON, when asked, at the end.
fn run_bench(cli: &Cli, only: &[String]) -> Result<bool, String> {
    if let Some(unknown) = only.iter().find(|o| !bench::NAMES.contains(&o.as_str())) {
        return Err(format!("no bench layer `{unknown}`; the layers are: {}", bench::NAMES.join(", ")));
    }
    let gpu = open(cli)?;
    if !cli.quiet {
        let clock = if gpu.has_timestamps() { "GPU timestamps" } else { "wall clock: no timestamp queries" };
        say!(
            "\n== layers beside the roofline (median of 11 runs, {clock}; models of {}, wall clock)",
            bench::MODEL_RUNS
        );
        say!("{}", bench::BenchResult::header());
    }
    let results = bench::run(&gpu, only, |r| {
        if !cli.quiet {
            say!("{}", r.line());
        }
    })
    .map_err(|e| e.to_string())?;
    if let Some(path) = &cli.json {
        let text = serde_json::to_string_pretty(&results).map_err(|e| e.to_string())?;
        std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(true)
}

fn model_title(args: &ModelArgs) -> String {
    let devices = if args.devices > 1 { format!(", split over {} devices", args.devices) } else { String::new() };
    format!("{} at batch {}{devices}, layer by layer against the CPU reference", args.model, args.batch)
}

/// Prints a section: its title, the failures in full (every case with --verbose), and its
/// one-line summary; with --quiet only the failures. Keeps the results for the closing line.
fn section(cli: &Cli, title: &str, results: Vec<CaseResult>, all: &mut Vec<CaseResult>) {
    if !cli.quiet {
        say!("\n== {title}");
    }
    let shown: Vec<_> = results.iter().filter(|r| cli.verbose || !r.passed).collect();
    if !shown.is_empty() && !cli.quiet {
        say!("{}", CaseResult::header());
    }
    for r in shown {
        say!("{}", r.line());
    }
    if !cli.quiet {
        say!("{}", report::section_summary(&results));
    }
    all.extend(results);
}

/// A progress bar of `len` steps for `what`, on a terminal and unless output is asked to be
/// quiet or machine-readable.
fn progress(cli: &Cli, len: usize, what: &str) -> report::Progress {
    report::Progress::new(!cli.quiet && cli.json.is_none(), len as u64, what)
}

fn run_model(cli: &Cli, gpu: &Gpu, args: &ModelArgs) -> Result<Vec<CaseResult>, String> {
    let model = zoo::build(&args.model).map_err(|e| e.to_string())?;
    // Before anything is allocated: what the run needs, and whether the machine holds it.
    let needs = model::Needs::of(&model, args.batch, args.devices);
    let on_host = gpu.info().device_type == wgpu::DeviceType::Cpu;
    needs.check(&format!("{} at batch {}", args.model, args.batch), on_host, model::available_memory())?;
    let spinner = progress(cli, 0, &args.model);
    spinner.message(&format!("needs {}", needs.describe()));
    let weights = match &args.weights {
        Some(path) => {
            spinner.message(&format!("loading weights from {}", path.display()));
            Weights::load(path, &model).map_err(|e| e.to_string())?
        }
        None => Weights::he_normal(&model, cli.seed),
    };
    let gpus = if args.devices > 1 {
        Gpu::open_group(args.devices, Some(&gpu.info().name)).map_err(|e| e.to_string())?
    } else {
        vec![gpu.clone()]
    };
    let input = model::random_input(&model, args.batch, cli.seed);
    let run = model::Run { input: &input, batch: args.batch, expect: None };
    model::run(&gpus, &model, &weights, &run, |phase| spinner.message(phase)).map_err(|e| e.to_string())
}

fn open(cli: &Cli) -> Result<Gpu, String> {
    let gpu = Gpu::with_adapter(cli.adapter.as_deref()).map_err(|e| e.to_string())?;
    let info = gpu.info();
    if !cli.quiet {
        say!(
            "adapter: {} ({:?}, {:?}, driver {} {})",
            info.name,
            info.backend,
            info.device_type,
            info.driver,
            info.driver_info
        );
    }
    Ok(gpu)
}

fn devices(cli: &Cli) -> Result<bool, String> {
    let all = adapters();
    if all.is_empty() {
        return Err(dojang::Error::NoAdapter.to_string());
    }
    // The adapter the other subcommands would use, marked in the list.
    let picked = Gpu::with_adapter(cli.adapter.as_deref()).map(|g| g.info().clone()).ok();
    for a in all {
        let (i, l, f) = (&a.info, &a.limits, &a.features);
        let mark = match &picked {
            Some(p) if p.name == i.name && p.backend == i.backend => "   <- used by dojang-validate",
            _ => "",
        };
        say!("{}: {}{mark}", a.index, i.name);
        say!("   backend {:?}, type {:?}, driver {} {}", i.backend, i.device_type, i.driver, i.driver_info);
        say!(
            "   storage binding {} MiB, buffer {} MiB, workgroup storage {} KiB, workgroups per dimension {}, invocations per workgroup {}",
            l.max_storage_buffer_binding_size >> 20,
            l.max_buffer_size >> 20,
            l.max_compute_workgroup_storage_size >> 10,
            l.max_compute_workgroups_per_dimension,
            l.max_compute_invocations_per_workgroup
        );
        let has = |feature| if f.contains(feature) { "yes" } else { "no" };
        say!(
            "   timestamp queries {}, shader-f16 {}, subgroups {}",
            has(wgpu::Features::TIMESTAMP_QUERY),
            has(wgpu::Features::SHADER_F16),
            has(wgpu::Features::SUBGROUP)
        );
    }
    Ok(true)
}
