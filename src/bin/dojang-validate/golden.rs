//! Golden cases: an op, its inputs and the output another framework computed for them, laid
//! out as `case.json` plus `.npy` files (the format is in the README). A case that cannot run
//! (unknown op, missing file, wrong dtype, shapes that do not fit) fails with its reason;
//! the run goes on.

use std::path::{Path, PathBuf};

use serde_json::Value;

use dojang::attrs::Activation;
use dojang::ops::{
    Conv2d, Dense, Lrn, PadMode, Padding, Pool2d, PoolKind, conv2d, dense, global_avg_pool, lrn, pool2d,
};
use dojang::ops::{relu, softmax};
use dojang::tolerance::Tolerance;
use dojang::{Gpu, Tensor};

use crate::report::{CaseResult, Progress};

/// Every folder under `dir` (itself included) that holds a `case.json`, sorted.
pub fn find_cases(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    if dir.join("case.json").is_file() {
        found.push(dir.to_path_buf());
    }
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<std::io::Result<_>>()?;
    entries.sort_by_key(|e| e.path());
    for e in entries {
        if e.file_type()?.is_dir() {
            found.extend(find_cases(&e.path())?);
        }
    }
    Ok(found)
}

/// Runs every case under `dir`.
pub fn run_dir(gpu: &Gpu, dir: &Path, progress: impl Fn(usize) -> Progress) -> std::io::Result<Vec<CaseResult>> {
    let cases = find_cases(dir)?;
    let bar = progress(cases.len());
    Ok(cases
        .iter()
        .map(|case| {
            let name = case.strip_prefix(dir).unwrap_or(case).display().to_string();
            let name = if name.is_empty() { ".".to_string() } else { name };
            bar.message(&name);
            let r = run_case(gpu, case).unwrap_or_else(|(op, reason)| CaseResult::broken(&op, &name, reason));
            bar.step(&name);
            r.named(&name)
        })
        .collect())
}

impl CaseResult {
    fn named(mut self, name: &str) -> CaseResult {
        self.case = name.to_string();
        self
    }
}

type Failure = (String, String);

/// A float32, C-order array from `dir/name`.
fn load_npy(dir: &Path, name: &str) -> Result<(Vec<usize>, Vec<f32>), String> {
    read_npy(&dir.join(name), name)
}

/// A float32, C-order array from `path`, called `name` in messages.
pub fn read_npy(path: &Path, name: &str) -> Result<(Vec<usize>, Vec<f32>), String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {name}: {e}"))?;
    let npy = npyz::NpyFile::new(&bytes[..]).map_err(|e| format!("{name} is not a valid .npy file: {e}"))?;
    let dtype = npy.dtype();
    match &dtype {
        npyz::DType::Plain(t) if t.to_string() == "<f4" || t.to_string() == "|f4" => {}
        other => {
            return Err(format!("{name} has dtype {}, expected float32 (<f4)", dtype_name(other)));
        }
    }
    if npy.order() == npyz::Order::Fortran {
        return Err(format!("{name} is in Fortran order; golden arrays are C order"));
    }
    let shape: Vec<usize> = npy.shape().iter().map(|&d| d as usize).collect();
    let data = npy.into_vec::<f32>().map_err(|e| format!("cannot read {name}: {e}"))?;
    Ok((shape, data))
}

fn dtype_name(d: &npyz::DType) -> String {
    match d {
        npyz::DType::Plain(t) => t.to_string(),
        other => format!("{other:?}"),
    }
}

/// `attrs[key]` as a list of `n` non-negative integers, or `default` when absent.
fn ints<const N: usize>(attrs: &Value, key: &str, default: [usize; N]) -> Result<[usize; N], String> {
    let Some(v) = attrs.get(key).filter(|v| !v.is_null()) else {
        return Ok(default);
    };
    let list: Option<Vec<usize>> =
        v.as_array().map(|a| a.iter().filter_map(|x| x.as_u64().map(|x| x as usize)).collect());
    match list {
        Some(l) if l.len() == N => Ok(l.try_into().unwrap_or(default)),
        _ => Err(format!("attribute {key} must be a list of {N} non-negative integers, got {v}")),
    }
}

fn int(attrs: &Value, key: &str, default: usize) -> Result<usize, String> {
    match attrs.get(key).filter(|v| !v.is_null()) {
        None => Ok(default),
        Some(v) => v
            .as_u64()
            .map(|x| x as usize)
            .ok_or_else(|| format!("attribute {key} must be a non-negative integer, got {v}")),
    }
}

fn float(attrs: &Value, key: &str, default: f64) -> Result<f64, String> {
    match attrs.get(key).filter(|v| !v.is_null()) {
        None => Ok(default),
        Some(v) => v.as_f64().ok_or_else(|| format!("attribute {key} must be a number, got {v}")),
    }
}

fn flag(attrs: &Value, key: &str) -> Result<bool, String> {
    match attrs.get(key).filter(|v| !v.is_null()) {
        None => Ok(false),
        Some(v) => v.as_bool().ok_or_else(|| format!("attribute {key} must be true or false, got {v}")),
    }
}

/// `activation`: null, a name ("relu", "sigmoid", "hard_swish", "silu"), or an object with
/// its parameters: {"name": "clip", "min", "max"}, {"name": "hard_sigmoid", "alpha", "beta"},
/// {"name": "leaky_relu", "alpha"} (ONNX's defaults where one is left out).
fn activation(attrs: &Value) -> Result<Option<Activation>, String> {
    let given = attrs.get("activation").unwrap_or(&Value::Null);
    let name = match given {
        Value::Null => return Ok(None),
        Value::String(s) => s.as_str(),
        Value::Object(o) => o.get("name").and_then(Value::as_str).unwrap_or(""),
        v => return Err(format!("activation must be null, a name or an object, got {v}")),
    };
    let f = |key: &str, default: f64| float(given, key, default).map(|v| v as f32);
    Ok(Some(match name {
        "relu" => Activation::Relu,
        "sigmoid" => Activation::Sigmoid,
        "hard_swish" => Activation::HardSwish,
        "silu" => Activation::Silu,
        "clip" => Activation::Clip { min: f("min", f64::NEG_INFINITY)?, max: f("max", f64::INFINITY)? },
        "hard_sigmoid" => Activation::HardSigmoid { alpha: f("alpha", 0.2)?, beta: f("beta", 0.5)? },
        "leaky_relu" => Activation::LeakyRelu { alpha: f("alpha", 0.01)? },
        other => return Err(format!("unknown activation `{other}`")),
    }))
}

fn padding(attrs: &Value) -> Result<Padding, String> {
    let [t, l, b, r] = ints(attrs, "padding", [0; 4])?;
    Ok(Padding::new(t, l, b, r))
}

fn run_case(gpu: &Gpu, dir: &Path) -> Result<CaseResult, Failure> {
    let text = std::fs::read_to_string(dir.join("case.json"))
        .map_err(|e| ("?".into(), format!("cannot read case.json: {e}")))?;
    let spec: Value =
        serde_json::from_str(&text).map_err(|e| ("?".into(), format!("case.json is not valid JSON: {e}")))?;
    let op = spec.get("op").and_then(Value::as_str).unwrap_or("?").to_string();
    let fail = |reason: String| (op.clone(), reason);
    let attrs = spec.get("attrs").cloned().unwrap_or(Value::Null);
    let tol = Tolerance {
        atol: float(&spec, "atol", 1e-4).map_err(fail)? as f32,
        rtol: float(&spec, "rtol", 1e-4).map_err(fail)? as f32,
    };
    let (ys, expected) = load_npy(dir, "y.npy").map_err(fail)?;
    let y = compute(gpu, dir, &op, &attrs).map_err(fail)?;
    if y.shape() != ys.as_slice() {
        return Err(fail(format!("output shape {:?} differs from y.npy's {:?}", y.shape(), ys)));
    }
    let got = y.download().map_err(|e| fail(e.to_string()))?;
    Ok(CaseResult::from_comparison(&op, "", &tol.compare(&got, &expected), &ys))
}

/// The case's op run on the GPU over the case's arrays.
fn compute(gpu: &Gpu, dir: &Path, op: &str, attrs: &Value) -> Result<Tensor, String> {
    let upload = |name: &str| -> Result<Tensor, String> {
        let (shape, data) = load_npy(dir, name)?;
        Tensor::from_slice(gpu, &data, &shape).map_err(|e| e.to_string())
    };
    let bias = || dir.join("b.npy").exists().then(|| upload("b.npy")).transpose();
    let x = upload("x.npy")?;
    let result = match op {
        "conv2d" => {
            let attrs = Conv2d {
                stride: ints(attrs, "stride", [1, 1])?,
                padding: padding(attrs)?,
                dilation: ints(attrs, "dilation", [1, 1])?,
                groups: int(attrs, "groups", 1)?,
                activation: activation(attrs)?,
            };
            conv2d(&x, &upload("w.npy")?, bias()?.as_ref(), &attrs)
        }
        "pool2d" => pool2d(&x, &pool_attrs(attrs)?),
        "global_avg_pool" => global_avg_pool(&x),
        "dense" => dense(&x, &upload("w.npy")?, bias()?.as_ref(), &Dense { activation: activation(attrs)? }),
        "relu" => relu(&x),
        "pad" => {
            let mode = match attrs.get("mode").and_then(Value::as_str).unwrap_or("constant") {
                "constant" => PadMode::Constant(float(attrs, "value", 0.0)? as f32),
                "edge" => PadMode::Edge,
                "reflect" => PadMode::Reflect,
                other => return Err(format!("pad mode must be constant, edge or reflect, got `{other}`")),
            };
            dojang::ops::pad(&x, &padding(attrs)?, mode)
        }
        "prelu" => dojang::ops::prelu(&x, &upload("w.npy")?),
        "activation" => match activation(attrs)? {
            Some(act) => dojang::ops::activation(&x, act),
            None => return Err("an activation case needs attrs.activation".into()),
        },
        "lrn" => {
            let l = Lrn {
                size: int(attrs, "size", 0)?,
                alpha: float(attrs, "alpha", 1e-4)? as f32,
                beta: float(attrs, "beta", 0.75)? as f32,
                k: float(attrs, "k", 1.0)? as f32,
                groups: int(attrs, "groups", 1)?,
            };
            lrn(&x, &l)
        }
        "softmax" => match int(attrs, "axis", 1)? {
            1 => softmax(&x),
            axis => return Err(format!("softmax supports axis 1, got {axis}")),
        },
        other => return Err(format!("unknown op `{other}`")),
    };
    result.map_err(|e| e.to_string())
}

fn pool_attrs(attrs: &Value) -> Result<Pool2d, String> {
    let kind = match attrs.get("kind").and_then(Value::as_str) {
        Some("max") => PoolKind::Max,
        Some("avg") => PoolKind::Avg,
        other => return Err(format!("pool2d kind must be \"max\" or \"avg\", got {other:?}")),
    };
    let kernel = ints(attrs, "kernel", [0, 0])?;
    Ok(Pool2d::new(kind, kernel, ints(attrs, "stride", kernel)?)
        .with_padding(padding(attrs)?)
        .with_ceil_mode(flag(attrs, "ceil_mode")?)
        .with_count_include_pad(flag(attrs, "count_include_pad")?))
}
