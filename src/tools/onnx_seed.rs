//! Seeded weights for the `onnx` package's light models, whose files hold placeholders: the
//! twin of tools/onnx_fixtures.py, which runs the same seeded models through ONNX Runtime.
//! Both compute every value bit for bit alike (see that script for the rule), so the tests
//! compare with its outputs without any weights committed.

use std::collections::HashMap;

use crate::onnx::proto::{self, ModelProto, NodeProto, TensorProto, data_type};

/// The seed the fixtures were made with.
pub const SEED: u64 = 1;

fn fnv1a64(name: &str) -> u64 {
    name.bytes().fold(0xCBF2_9CE4_8422_2325, |h, b| (h ^ b as u64).wrapping_mul(0x0100_0000_01B3))
}

fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// `n` values in [-1, 1) for the tensor `name`.
pub fn uniform(name: &str, n: usize) -> Vec<f32> {
    let base = fnv1a64(name) ^ SEED;
    (0..n).map(|i| (splitmix64(base.wrapping_add(i as u64)) >> 40) as f32 / 8_388_608.0 - 1.0).collect()
}

/// `model` with every float constant seeded (ConstantOfShape nodes become initializers);
/// `calibration` maps a BatchNormalization's mean tensor to its (mean, variance).
pub fn seeded(bytes: &[u8], calibration: &HashMap<String, (f32, f32)>) -> Result<Vec<u8>, String> {
    let mut model: ModelProto = proto::decode(bytes)?;
    let graph = model.graph.as_mut().ok_or("no graph")?;
    let mut readers: HashMap<&str, (usize, usize)> = HashMap::new();
    for (i, node) in graph.node.iter().enumerate() {
        for (k, name) in node.input.iter().enumerate() {
            readers.entry(name.as_str()).or_insert((i, k));
        }
    }
    let shapes: HashMap<&str, Vec<i64>> = (graph.initializer.iter())
        .filter(|t| t.data_type == data_type::INT64)
        .map(|t| (t.name.as_str(), ints(t)))
        .collect();
    let mut fresh: Vec<(String, Vec<i64>)> = (graph.initializer.iter())
        .filter(|t| t.data_type == data_type::FLOAT)
        .map(|t| (t.name.clone(), t.dims.clone()))
        .collect();
    let mut dropped = vec![];
    for (i, node) in graph.node.iter().enumerate() {
        let value_is_float = (node.attribute.iter())
            .find(|a| a.name == "value")
            .is_none_or(|a| a.t.as_ref().is_some_and(|t| t.data_type == data_type::FLOAT));
        let dims = node.input.first().and_then(|s| shapes.get(s.as_str()));
        if let (true, Some(dims)) = (node.op_type == "ConstantOfShape" && value_is_float, dims) {
            fresh.push((node.output[0].clone(), dims.clone()));
            dropped.push(i);
        }
    }
    let mut tensors = Vec::new();
    for (name, dims) in &fresh {
        let (node, k) = user(graph.node.as_slice(), &readers, name);
        let len: usize = dims.iter().map(|&d| d as usize).product();
        let values = match node.map(|n| (n.op_type.as_str(), k, n)) {
            Some(("BatchNormalization", 3 | 4, n)) => {
                let (mean, var) = calibration.get(&n.input[3]).copied().unwrap_or((0.0, 1.0));
                vec![if k == 3 { mean } else { var }; len]
            }
            Some((op, 1, n)) if matches!(op, "Conv" | "Gemm" | "MatMul") => {
                let trans = n.attribute.iter().any(|a| a.name == "transB" && a.i != 0);
                let fan_in: i64 = match op {
                    "Conv" => dims[1..].iter().product(),
                    "Gemm" if trans => dims[1],
                    _ => dims[0],
                };
                let scale = (6.0f64 / fan_in as f64).sqrt() as f32;
                uniform(name, len).iter().map(|u| u * scale).collect()
            }
            Some(("BatchNormalization", 1, _)) | Some(("Mul", _, _)) => {
                uniform(name, len).iter().map(|u| 1.0 + 0.1 * u).collect()
            }
            _ => uniform(name, len).iter().map(|u| 0.1 * u).collect(),
        };
        tensors.push(TensorProto {
            dims: dims.clone(),
            data_type: data_type::FLOAT,
            name: name.clone(),
            raw_data: values.iter().flat_map(|v: &f32| v.to_le_bytes()).collect(),
            ..Default::default()
        });
    }
    graph.initializer.retain(|t| t.data_type != data_type::FLOAT);
    graph.initializer.extend(tensors);
    let mut i = 0;
    graph.node.retain(|_| {
        i += 1;
        !dropped.contains(&(i - 1))
    });
    Ok(proto::encode(&model))
}

/// The node that uses constant `name` (through Unsqueeze, Identity and Reshape), and which
/// of its inputs it is.
fn user<'a>(
    nodes: &'a [NodeProto],
    readers: &HashMap<&str, (usize, usize)>,
    name: &str,
) -> (Option<&'a NodeProto>, usize) {
    let Some(&(mut i, mut k)) = readers.get(name) else { return (None, 0) };
    while matches!(nodes[i].op_type.as_str(), "Unsqueeze" | "Identity" | "Reshape") {
        match readers.get(nodes[i].output[0].as_str()) {
            Some(&(j, m)) => (i, k) = (j, m),
            None => break,
        }
    }
    (Some(&nodes[i]), k)
}

fn ints(t: &TensorProto) -> Vec<i64> {
    if t.raw_data.is_empty() {
        return t.int64_data.clone();
    }
    t.raw_data.chunks_exact(8).map(|b| i64::from_le_bytes(b.try_into().unwrap_or([0; 8]))).collect()
}

/// What tools/onnx_fixtures.py recorded for a model: the calibration and ONNX Runtime's
/// output (and logits before a final softmax).
#[derive(Clone, Debug)]
pub struct Expected {
    /// BatchNormalization mean tensor → (mean, variance).
    pub calibration: HashMap<String, (f32, f32)>,
    /// ONNX Runtime's output, flattened.
    pub output: Vec<f32>,
    /// Its input to a final softmax, when the graph ends in one.
    pub logits: Option<Vec<f32>>,
}

/// Reads a `.expected.json` the script wrote.
pub fn expected(json: &str) -> Result<Expected, String> {
    let v: serde_json::Value = serde_json::from_str(json).map_err(|e| e.to_string())?;
    let floats = |key: &str| -> Option<Vec<f32>> {
        v.get(key)?.as_array().map(|a| a.iter().map(|x| x.as_f64().unwrap_or(f64::NAN) as f32).collect())
    };
    let calibration = (v.get("batchnorm").and_then(|b| b.as_object()).into_iter().flatten())
        .map(|(k, mv)| {
            let pair = |i: usize| mv.get(i).and_then(|x| x.as_f64()).unwrap_or(f64::NAN) as f32;
            (k.clone(), (pair(0), pair(1)))
        })
        .collect();
    Ok(Expected { calibration, output: floats("output").ok_or("no output")?, logits: floats("logits") })
}
