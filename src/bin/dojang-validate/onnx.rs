//! `dojang-validate onnx MODEL.onnx`: an imported network on the GPU against the CPU
//! reference layer by layer, and with `--expect`, its output against another framework's.

use std::path::{Path, PathBuf};

use dojang::Gpu;
use dojang::onnx::{self, Imported, Options};
use dojang::tolerance::Tolerance;

use crate::golden::read_npy;
use crate::model::{self, Run};
use crate::report::CaseResult;

#[derive(clap::Args)]
pub struct OnnxArgs {
    /// The .onnx file (external data is read from its folder).
    pub model: PathBuf,
    /// Input as a float32 NCHW .npy (default: seeded uniform values in [-1, 1)).
    #[arg(long, value_name = "X.npy")]
    pub input: Option<PathBuf>,
    /// The output another framework computed from --input, as a .npy: the GPU's output is
    /// held to |got − expected| ≤ atol + rtol·|expected|.
    #[arg(long, value_name = "Y.npy", requires = "input")]
    pub expect: Option<PathBuf>,
    /// Absolute part of --expect's bound (the default suits f32 through ~100 layers of
    /// outputs of order 1).
    #[arg(long, default_value_t = 1e-4, value_name = "A")]
    pub atol: f32,
    /// Relative part of --expect's bound.
    #[arg(long, default_value_t = 1e-3, value_name = "R")]
    pub rtol: f32,
    /// Images per pass (default: the file's batch, else 1; an --input sets it).
    #[arg(long, value_parser = crate::at_least_one)]
    pub batch: Option<usize>,
    /// C,H,W of the input, for a model whose file leaves them symbolic.
    #[arg(long, value_name = "C,H,W", value_parser = shape3)]
    pub input_shape: Option<[usize; 3]>,
    /// Split the channel groups over this many devices, compared against one device.
    #[arg(long, default_value_t = 1, value_parser = crate::at_least_one)]
    pub devices: usize,
}

pub fn shape3(text: &str) -> Result<[usize; 3], String> {
    let v: Vec<usize> = text
        .split(',')
        .map(|s| s.trim().parse().map_err(|_| format!("`{s}` is not a size")))
        .collect::<Result<_, _>>()?;
    <[usize; 3]>::try_from(v.as_slice()).map_err(|_| "give three sizes: C,H,W".into())
}

/// Loads the model (an error is exit 2: the file cannot be run).
pub fn load(path: &Path, input_shape: Option<[usize; 3]>) -> Result<Imported, String> {
    onnx::load_with(path, &Options { input_shape }).map_err(|e| e.to_string())
}

/// Runs it; Err for what makes it unrunnable (exit 2).
pub fn run(gpu: &Gpu, args: &OnnxArgs, seed: u64, phase: impl Fn(&str)) -> Result<(String, Vec<CaseResult>), String> {
    let imported = load(&args.model, args.input_shape)?;
    let m = &imported.model;
    let per_image: usize = m.input().iter().product();
    let (input, batch) = match &args.input {
        Some(path) => {
            let (shape, data) = read_npy(path, &path.display().to_string())?;
            if shape.len() != 4 || shape[1..] != *m.input() {
                return Err(format!("{}: shape {shape:?}; the model takes [N, {}]", path.display(), join(m.input())));
            }
            if args.batch.is_some_and(|b| b != shape[0]) {
                return Err(format!(
                    "--batch {} but {} holds {} images",
                    args.batch.unwrap_or(0),
                    path.display(),
                    shape[0]
                ));
            }
            (data, shape[0])
        }
        None => {
            let batch = args.batch.or(imported.batch).unwrap_or(1);
            (model::random_input(m, batch, seed), batch)
        }
    };
    debug_assert_eq!(input.len(), batch * per_image);
    let expected = match &args.expect {
        Some(path) => {
            let (_, data) = read_npy(path, &path.display().to_string())?;
            let out: usize = batch * m.output_shape().iter().product::<usize>();
            if data.len() != out {
                return Err(format!(
                    "{}: {} values; the model's output for {batch} images has {out}",
                    path.display(),
                    data.len()
                ));
            }
            Some(data)
        }
        None => None,
    };
    let needs = model::Needs::of(m, batch, args.devices);
    let on_host = gpu.info().device_type == wgpu::DeviceType::Cpu;
    needs.check(&format!("{} at batch {batch}", m.name()), on_host, model::available_memory())?;
    let gpus = match args.devices {
        1 => vec![gpu.clone()],
        n => Gpu::open_group(n, Some(&gpu.info().name)).map_err(|e| e.to_string())?,
    };
    let tolerance = Tolerance { atol: args.atol, rtol: args.rtol };
    let run = Run { input: &input, batch, expect: expected.as_deref().map(|e| (e, tolerance, "--expect")) };
    let results = model::run(&gpus, m, &imported.weights, &run, phase).map_err(|e| e.to_string())?;
    let devices = if args.devices > 1 { format!(", split over {} devices", args.devices) } else { String::new() };
    let title = format!(
        "{} (opset {}, {} layers) at batch {batch}{devices}, layer by layer against the CPU reference",
        args.model.display(),
        imported.opset,
        m.layers().len()
    );
    Ok((title, results))
}

fn join(s: &[usize]) -> String {
    s.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}
