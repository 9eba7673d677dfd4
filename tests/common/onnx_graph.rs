//! ONNX models written in a test: a node at a time, constants as initializers, through the
//! importer's own schema (so they are what a file on disk would be, byte for byte).
#![allow(dead_code)]

use dojang::onnx::proto::{
    AttributeProto, Dimension, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, TensorProto, TensorShapeProto,
    TensorTypeProto, TypeProto, ValueInfoProto, attribute_type as at, data_type, encode,
};

/// A graph being written: nodes, initializers, one image input and one output.
pub struct Onnx {
    pub opset: i64,
    pub ir: i64,
    pub input: Vec<Option<i64>>,
    pub nodes: Vec<NodeProto>,
    pub inits: Vec<TensorProto>,
    pub output: String,
}

/// An attribute value for [`Onnx::node`].
pub enum A {
    I(i64),
    F(f32),
    Is(Vec<i64>),
    S(&'static str),
    T(TensorProto),
}

impl Onnx {
    /// Input "x" of `[N, C, H, W]` (None: symbolic), at `opset`.
    pub fn new(opset: i64, input: &[Option<i64>]) -> Onnx {
        Onnx { opset, ir: 8, input: input.to_vec(), nodes: vec![], inits: vec![], output: "x".into() }
    }

    /// Adds a node reading `inputs`, writing `output` (which becomes the graph's output).
    pub fn node(&mut self, op: &str, name: &str, inputs: &[&str], output: &str, attrs: Vec<(&str, A)>) -> &mut Self {
        let attribute = attrs
            .into_iter()
            .map(|(n, a)| {
                let mut p = AttributeProto { name: n.into(), ..Default::default() };
                match a {
                    A::I(i) => (p.r#type, p.i) = (at::INT, i),
                    A::F(f) => (p.r#type, p.f) = (at::FLOAT, f),
                    A::Is(v) => (p.r#type, p.ints) = (at::INTS, v),
                    A::S(s) => (p.r#type, p.s) = (at::STRING, s.as_bytes().to_vec()),
                    A::T(t) => (p.r#type, p.t) = (at::TENSOR, Some(t)),
                }
                p
            })
            .collect();
        self.nodes.push(NodeProto {
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: vec![output.into()],
            name: name.into(),
            op_type: op.into(),
            attribute,
            ..Default::default()
        });
        self.output = output.into();
        self
    }

    /// Gives node `name` the outputs `outputs` (a Split's; the first is the one it wrote).
    pub fn outputs_of(&mut self, name: &str, outputs: &[&str]) -> &mut Self {
        let node = self.nodes.iter_mut().find(|n| n.name == name).expect("a node of that name");
        node.output = outputs.iter().map(|s| s.to_string()).collect();
        self
    }

    /// Adds a float initializer.
    pub fn init(&mut self, name: &str, dims: &[i64], values: &[f32]) -> &mut Self {
        self.inits.push(floats(name, dims, values));
        self
    }

    /// Adds an int64 initializer.
    pub fn ints(&mut self, name: &str, values: &[i64]) -> &mut Self {
        self.inits.push(TensorProto {
            dims: vec![values.len() as i64],
            data_type: data_type::INT64,
            name: name.into(),
            int64_data: values.to_vec(),
            ..Default::default()
        });
        self
    }

    pub fn model(&self) -> ModelProto {
        let dims = self
            .input
            .iter()
            .map(|d| match d {
                Some(v) => Dimension { dim_value: Some(*v), dim_param: None },
                None => Dimension { dim_value: None, dim_param: Some("N".into()) },
            })
            .collect();
        let ty = TypeProto {
            tensor_type: Some(TensorTypeProto { elem_type: 1, shape: Some(TensorShapeProto { dim: dims }) }),
        };
        let mut inputs = vec![ValueInfoProto { name: "x".into(), r#type: Some(ty) }];
        if self.ir < 4 {
            inputs.extend(self.inits.iter().map(|t| ValueInfoProto { name: t.name.clone(), r#type: None }));
        }
        ModelProto {
            ir_version: self.ir,
            opset_import: vec![OperatorSetIdProto { domain: String::new(), version: self.opset }],
            producer_name: "dojang-tests".into(),
            producer_version: String::new(),
            graph: Some(GraphProto {
                node: self.nodes.clone(),
                name: "test".into(),
                initializer: self.inits.clone(),
                input: inputs,
                output: vec![ValueInfoProto { name: self.output.clone(), r#type: None }],
            }),
        }
    }

    pub fn bytes(&self) -> Vec<u8> {
        encode(&self.model())
    }
}

/// A float tensor as raw little-endian bytes.
pub fn floats(name: &str, dims: &[i64], values: &[f32]) -> TensorProto {
    TensorProto {
        dims: dims.to_vec(),
        data_type: data_type::FLOAT,
        name: name.into(),
        raw_data: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        ..Default::default()
    }
}
