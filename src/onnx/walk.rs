//! The state of the walk from an ONNX graph to dojang's layers: every value so far (a
//! constant, or an activation and the layer that makes it), the layers and weights made, and
//! what the ops' conversions share — reading inputs, adding a layer, and the rewrite that
//! folds a per-channel scale and shift into the layer before it.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::attrs::Padding;
use crate::model::{Layer, Op, Weights, layer_shape};
use crate::onnx::ir::{Const, Graph, Node};

/// An activation: the layer that makes it (or "input"), its shape per image, and a zero
/// padding that a convolution must take.
#[derive(Clone, Debug)]
pub(crate) struct Act {
    pub(crate) layer: String,
    pub(crate) shape: Vec<usize>,
    pub(crate) pad: Option<Padding>,
    /// This name is the only one the layer's output is read through: a rewrite may change
    /// the layer when the name has one reader.
    pub(crate) fresh: bool,
}

#[derive(Clone, Debug)]
pub(crate) enum Value {
    Const(Const),
    Act(Act),
}

/// What the walk makes.
pub(crate) struct Lowered {
    pub(crate) layers: Vec<Layer>,
    pub(crate) weights: Weights,
    /// Per layer, the ONNX tensor its output stands for.
    pub(crate) tensors: Vec<String>,
    /// Parameters as the file holds them: weights and biases, not running statistics.
    pub(crate) file_parameters: u64,
    /// What the rewrites did: "BatchNormalization into Conv" → how many times.
    pub(crate) rewrites: BTreeMap<String, usize>,
}

/// A layer's parameters: the weight's shape and values, and the bias where it has one.
pub(crate) type Params = (Vec<usize>, Vec<f32>, Option<Vec<f32>>);

/// The walk's state.
pub(crate) struct Walk<'g> {
    pub(crate) graph: &'g Graph,
    pub(crate) values: HashMap<String, Value>,
    pub(crate) readers: HashMap<&'g str, usize>,
    pub(crate) out: Lowered,
    pub(crate) names: HashSet<String>,
    pub(crate) counted: HashSet<String>,
}

impl<'g> Walk<'g> {
    /// Input `k` as an activation (not padded, unless `padded`).
    pub(crate) fn act(&self, node: &Node, k: usize) -> Result<Act, String> {
        self.act_padded(node, k).and_then(|a| match a.pad {
            Some(_) => {
                Err("reads the output of a Pad; dojang folds a zero Pad into the convolution after it only".into())
            }
            None => Ok(a),
        })
    }

    pub(crate) fn act_padded(&self, node: &Node, k: usize) -> Result<Act, String> {
        match node.input(k).and_then(|n| self.values.get(n)) {
            Some(Value::Act(a)) => Ok(a.clone()),
            Some(Value::Const(_)) => Err(format!("input {k} is a constant; dojang runs this op on activations")),
            None => Err(format!("input {k} is missing")),
        }
    }

    /// Input `k` as a constant, if it is one.
    pub(crate) fn konst(&self, node: &Node, k: usize) -> Option<&Const> {
        match node.input(k).and_then(|n| self.values.get(n)) {
            Some(Value::Const(c)) => Some(c),
            _ => None,
        }
    }

    /// Input `k` as a constant, or the error naming it.
    pub(crate) fn need(&self, node: &Node, k: usize, what: &str) -> Result<&Const, String> {
        self.konst(node, k).ok_or_else(|| format!("its {what} (input {k}) must be a constant"))
    }

    /// Counts input `k` among the file's parameters (once per tensor).
    pub(crate) fn parameter(&mut self, node: &Node, k: usize) {
        if let (Some(name), Some(c)) = (node.input(k), self.konst(node, k)) {
            let len = c.len() as u64;
            if self.counted.insert(name.to_string()) {
                self.out.file_parameters += len;
            }
        }
    }

    /// Adds a layer for `node` reading `inputs` (layer names), with its parameters; returns
    /// its activation.
    pub(crate) fn emit(&mut self, node: &Node, op: Op, inputs: &[&Act], params: Option<Params>) -> Result<Act, String> {
        let reads: Vec<&[usize]> = inputs.iter().map(|a| a.shape.as_slice()).collect();
        let shape = layer_shape(&op, &reads).map_err(|e| e.to_string())?;
        let name = self.unique(node.label());
        if let Some((w_shape, w, b)) = params {
            let ins = |w: &mut Weights, n: String, s: &[usize], v| w.insert(&n, s, v).map_err(|e| e.to_string());
            ins(&mut self.out.weights, format!("{name}.weight"), &w_shape, w)?;
            if let Some(b) = b {
                ins(&mut self.out.weights, format!("{name}.bias"), &[b.len()], b)?;
            }
        }
        let names: Vec<&str> = inputs.iter().map(|a| a.layer.as_str()).collect();
        self.out.layers.push(Layer::reading(&name, op, &names));
        self.out.tensors.push(node.outputs[0].clone());
        Ok(Act { layer: name, shape, pad: None, fresh: true })
    }

    /// `act` under a new name (Dropout, Identity, a flatten of what is flat): fresh when it
    /// was and this node is its only reader.
    pub(crate) fn alias(&self, node: &Node, act: Act) -> Act {
        let fresh = act.fresh && self.sole_reader(node, 0);
        Act { fresh, ..act }
    }

    /// Whether `node` is the only reader of its input `k`.
    pub(crate) fn sole_reader(&self, node: &Node, k: usize) -> bool {
        node.input(k).is_some_and(|n| self.readers.get(n) == Some(&1))
    }

    /// Whether output `k` of `node` is read by anything.
    pub(crate) fn is_read(&self, node: &Node, k: usize) -> bool {
        node.outputs.get(k).is_some_and(|n| !n.is_empty() && self.readers.contains_key(n.as_str()))
    }

    /// The index of layer `name`, when `act` (read by `node` as input 0) is its output read
    /// through no other name: a rewrite may change that layer.
    pub(crate) fn own_layer(&self, node: &Node, act: &Act) -> Option<usize> {
        if !act.fresh || !self.sole_reader(node, 0) || act.pad.is_some() {
            return None;
        }
        self.out.layers.iter().rposition(|l| l.name == act.layer)
    }

    /// Notes one rewrite.
    pub(crate) fn rewrote(&mut self, what: String) {
        *self.out.rewrites.entry(what).or_default() += 1;
    }

    /// y = x·s + t per channel of `act` (s and t of C values): folded into the layer that
    /// makes `act` when the rewrite may change it, else an affine layer.
    pub(crate) fn scale_shift(&mut self, node: &Node, act: Act, s: Vec<f32>, t: Vec<f32>) -> Result<Value, String> {
        let c = act.shape[0];
        if let Some(i) = self.own_layer(node, &act) {
            let kind = match &self.out.layers[i].op {
                Op::Conv2d { .. } => Some("Conv"),
                Op::Dense { .. } => Some("Gemm"),
                Op::Affine { relu: false } => Some("affine"),
                _ => None,
            };
            if let Some(kind) = kind {
                let name = self.out.layers[i].name.clone();
                let w = self.out.weights.remove(&format!("{name}.weight")).ok_or("weights lost")?;
                let b = self.out.weights.remove(&format!("{name}.bias")).ok_or("weights lost")?;
                let rows = w.1.len() / c.max(1);
                let weight: Vec<f32> = w.1.iter().enumerate().map(|(k, &v)| v * s[k / rows]).collect();
                let bias: Vec<f32> = b.1.iter().enumerate().map(|(o, &v)| v * s[o] + t[o]).collect();
                let ins =
                    |ws: &mut Weights, n: String, sh: &[usize], v| ws.insert(&n, sh, v).map_err(|e| e.to_string());
                ins(&mut self.out.weights, format!("{name}.weight"), &w.0, weight)?;
                ins(&mut self.out.weights, format!("{name}.bias"), &b.0, bias)?;
                self.rewrote(format!("{} into {kind}", node.op));
                // The name now read is this node's output: it stands for the layer.
                self.out.tensors[i] = node.outputs[0].clone();
                return Ok(Value::Act(Act { fresh: true, ..act }));
            }
        }
        if act.shape.len() != 3 {
            return Err(format!(
                "a per-channel map of a {}-D activation that no layer before it takes",
                act.shape.len() + 1
            ));
        }
        self.emit(node, Op::Affine { relu: false }, &[&act], Some((vec![c], s, Some(t)))).map(Value::Act)
    }

    fn unique(&mut self, base: &str) -> String {
        let base = if base.is_empty() { "layer" } else { base };
        let mut name = base.to_string();
        let mut k = 2;
        while !self.names.insert(name.clone()) {
            name = format!("{base}_{k}");
            k += 1;
        }
        name
    }
}
