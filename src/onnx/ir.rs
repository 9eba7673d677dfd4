//! The importer's own view of an ONNX graph, decoded and checked: nodes with their
//! attributes, constant tensors widened to f32 (or i64 for shapes and indices), the one
//! image input. Everything after the reader works on this, never on the wire format.

use std::collections::{BTreeMap, HashMap};

/// A constant's values.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Data {
    F32(Vec<f32>),
    I64(Vec<i64>),
}

/// A constant tensor.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Const {
    pub(crate) shape: Vec<usize>,
    pub(crate) data: Data,
}

impl Const {
    pub(crate) fn f32(shape: Vec<usize>, values: Vec<f32>) -> Const {
        Const { shape, data: Data::F32(values) }
    }
    pub(crate) fn i64(shape: Vec<usize>, values: Vec<i64>) -> Const {
        Const { shape, data: Data::I64(values) }
    }
    pub(crate) fn len(&self) -> usize {
        match &self.data {
            Data::F32(v) => v.len(),
            Data::I64(v) => v.len(),
        }
    }
    /// The values as f32 (integers converted).
    pub(crate) fn floats(&self) -> Vec<f32> {
        match &self.data {
            Data::F32(v) => v.clone(),
            Data::I64(v) => v.iter().map(|&x| x as f32).collect(),
        }
    }
    /// The values as i64 (floats truncated).
    pub(crate) fn ints(&self) -> Vec<i64> {
        match &self.data {
            Data::F32(v) => v.iter().map(|&x| x as i64).collect(),
            Data::I64(v) => v.clone(),
        }
    }
}

/// A node attribute's value.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Attr {
    Int(i64),
    Float(f32),
    Ints(Vec<i64>),
    Floats(Vec<f32>),
    Str(String),
    Tensor(Const),
}

/// One node.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Node {
    pub(crate) op: String,
    pub(crate) domain: String,
    pub(crate) name: String,
    pub(crate) inputs: Vec<String>,
    pub(crate) outputs: Vec<String>,
    pub(crate) attrs: BTreeMap<String, Attr>,
}

impl Node {
    /// The node's name, or its first output's where it has none.
    pub(crate) fn label(&self) -> &str {
        if self.name.is_empty() { self.outputs.first().map_or("", String::as_str) } else { &self.name }
    }
    pub(crate) fn int(&self, name: &str, default: i64) -> i64 {
        match self.attrs.get(name) {
            Some(Attr::Int(v)) => *v,
            _ => default,
        }
    }
    pub(crate) fn float(&self, name: &str, default: f32) -> f32 {
        match self.attrs.get(name) {
            Some(Attr::Float(v)) => *v,
            _ => default,
        }
    }
    pub(crate) fn ints(&self, name: &str) -> Option<&[i64]> {
        match self.attrs.get(name) {
            Some(Attr::Ints(v)) => Some(v),
            _ => None,
        }
    }
    pub(crate) fn string(&self, name: &str) -> Option<&str> {
        match self.attrs.get(name) {
            Some(Attr::Str(v)) => Some(v),
            _ => None,
        }
    }
    /// Input `k`, when it is given (ONNX marks a skipped optional input with "").
    pub(crate) fn input(&self, k: usize) -> Option<&str> {
        self.inputs.get(k).map(String::as_str).filter(|s| !s.is_empty())
    }
}

/// One dimension of the input: a number, or a name (symbolic).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Dim {
    Fixed(usize),
    Named(String),
}

/// A decoded graph.
#[derive(Clone, Debug)]
pub(crate) struct Graph {
    /// What messages call the model: its file name, or "model" for bytes.
    pub(crate) file: String,
    /// The default domain's opset.
    pub(crate) opset: i64,
    pub(crate) nodes: Vec<Node>,
    pub(crate) consts: HashMap<String, Const>,
    /// The image input's name and dimensions.
    pub(crate) input: (String, Vec<Dim>),
    pub(crate) outputs: Vec<String>,
}
