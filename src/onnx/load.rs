//! Loading: read, check every node is one dojang runs (listing all that are not), order,
//! lower, and build the model; a model that fails any step is refused whole.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

use crate::error::{Error, Result};
use crate::model::summary::thousands;
use crate::model::{Model, Weights};
use crate::onnx::ir::{Dim, Graph};
use crate::onnx::{fold, layers, lower, read, topo};

/// An imported model: dojang's model and weights, and what the file said.
#[derive(Clone, Debug)]
pub struct Imported {
    /// The layers; their names are the file's node names.
    pub model: Model,
    /// The weights, after the load-time rewrites (BatchNormalization folded in).
    pub weights: Weights,
    /// Per layer, the ONNX tensor its output stands for.
    pub tensors: Vec<String>,
    /// The batch the file fixes, or None where it is symbolic (any batch runs either way).
    pub batch: Option<usize>,
    /// The default domain's opset the file was written against.
    pub opset: i64,
    /// Parameters as the exporting framework counts them: weights and biases (BatchNorm's
    /// scale and bias included, its running statistics not).
    pub file_parameters: u64,
    /// The load-time rewrites, with how often each happened.
    pub rewrites: Vec<(String, usize)>,
}

/// What a file leaves open.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// `[C, H, W]` of the input, for a model whose file leaves them symbolic (a fixed size in
    /// the file must agree).
    pub input_shape: Option<[usize; 3]>,
}

/// Loads an `.onnx` file (external data is read from its folder).
pub fn load(path: &Path) -> Result<Imported> {
    load_with(path, &Options::default())
}

/// [`load`], with what the file leaves open.
pub fn load_with(path: &Path, options: &Options) -> Result<Imported> {
    let file = path.file_name().map_or_else(|| path.display().to_string(), |f| f.to_string_lossy().into_owned());
    let bytes = std::fs::read(path)
        .map_err(|e| Error::Onnx { model: path.display().to_string(), message: format!("cannot read it: {e}") })?;
    let folder = path.parent().map(|p| if p.as_os_str().is_empty() { Path::new(".") } else { p });
    import(read::read(&bytes, &file, folder)?, options)
}

/// Loads a model from its bytes; tensors stored in external files are refused.
pub fn load_bytes(bytes: &[u8], options: &Options) -> Result<Imported> {
    import(read::read(bytes, "model", None)?, options)
}

fn import(mut graph: Graph, options: &Options) -> Result<Imported> {
    let file = graph.file.clone();
    let fail = |message: String| Error::Onnx { model: file.clone(), message };
    let (input, batch) = input_shape(&graph, options).map_err(fail)?;
    topo::order(&mut graph).map_err(fail)?;
    unsupported(&graph).map_err(fail)?;
    let consts = std::mem::take(&mut graph.consts);
    let lowered = lower::lower(&graph, consts, &input).map_err(fail)?;
    let name = graph.file.split(' ').next().unwrap_or("model").trim_end_matches(".onnx").to_string();
    let model = Model::build(&name, &input, lowered.layers).map_err(|e| fail(e.to_string()))?;
    Ok(Imported {
        model,
        weights: lowered.weights,
        tensors: lowered.tensors,
        batch,
        opset: graph.opset,
        file_parameters: lowered.file_parameters,
        rewrites: lowered.rewrites.into_iter().collect(),
    })
}

/// `[C, H, W]` of the image input, and the batch the file fixes.
fn input_shape(graph: &Graph, options: &Options) -> std::result::Result<(Vec<usize>, Option<usize>), String> {
    let (name, dims) = &graph.input;
    let [n, chw @ ..] = dims.as_slice() else { return Err(format!("input '{name}' has no shape")) };
    if chw.len() != 3 {
        return Err(format!("input '{name}' has {} dimensions; dojang takes images [N, C, H, W]", dims.len()));
    }
    let mut shape = Vec::with_capacity(3);
    for (i, d) in chw.iter().enumerate() {
        let given = options.input_shape.map(|s| s[i]);
        shape.push(match (d, given) {
            (Dim::Fixed(v), Some(g)) if *v != g => {
                return Err(format!(
                    "input '{name}' is {:?} per image in the file; {g} was given for dimension {}",
                    chw,
                    i + 1
                ));
            }
            (Dim::Fixed(v), _) => *v,
            (Dim::Named(_), Some(g)) if g > 0 => g,
            (Dim::Named(p), _) => {
                return Err(format!("input '{name}' has a symbolic dimension '{p}': give the input shape C,H,W"));
            }
        });
    }
    Ok((
        shape,
        match n {
            Dim::Fixed(b) => Some(*b),
            Dim::Named(_) => None,
        },
    ))
}

/// Every node that is not an op dojang runs, listed at once: `Resize ×2 (first 'Resize_12')`.
fn unsupported(graph: &Graph) -> std::result::Result<(), String> {
    let mut found: BTreeMap<String, (usize, String)> = BTreeMap::new();
    for node in &graph.nodes {
        let known = fold::FOLDS.contains(&node.op.as_str()) || layers::RUNS.contains(&node.op.as_str());
        if !known || !node.domain.is_empty() {
            let op = if node.domain.is_empty() { node.op.clone() } else { format!("{}.{}", node.domain, node.op) };
            let entry = found.entry(op).or_insert((0, node.label().to_string()));
            entry.0 += 1;
        }
    }
    if found.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = found.iter().map(|(op, (n, first))| format!("{op} ×{n} (first '{first}')")).collect();
    Err(format!("{} {} not supported by dojang", list.join(", "), if found.len() == 1 { "is" } else { "are" }))
}

impl Imported {
    /// The layer table with parameter and MAC totals, then the file's own parameter count
    /// and what the rewrites changed.
    pub fn summary(&self) -> String {
        let mut s = self.model.summary();
        let here = self.model.parameter_count();
        let _ = writeln!(
            s,
            "parameters in the file: {} (weights and biases; BatchNorm's running statistics are not parameters)",
            thousands(self.file_parameters)
        );
        for (what, n) in &self.rewrites {
            let _ = writeln!(s, "rewritten at load: {what} ×{n}");
        }
        if here != self.file_parameters {
            let change = here as i64 - self.file_parameters as i64;
            let _ = writeln!(s, "folding changed the count by {change:+} ({} after folding)", thousands(here));
        }
        s
    }
}
