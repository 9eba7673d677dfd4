//! From a file's bytes to the importer's graph: the protobuf decoded (through `proto`), the
//! opset checked, constant tensors widened to f32 from f16, bf16 and f64 (integers kept as
//! i64), external data read from beside the model, and the one image input found.

use std::collections::{BTreeMap, HashMap};
use std::path::{Component, Path};

use crate::error::{Error, Result};
use crate::onnx::ir::{Attr, Const, Dim, Graph, Node};
use crate::onnx::proto::{self, attribute_type as at, data_type as dt};

/// The default domain's opsets dojang reads.
pub(crate) const OPSETS: std::ops::RangeInclusive<i64> = 7..=21;

/// Decodes `bytes` as the model `file`; `folder` is where its external data lies (None for
/// bytes given without a file, which then must hold all their data).
pub(crate) fn read(bytes: &[u8], file: &str, folder: Option<&Path>) -> Result<Graph> {
    let fail = |message: String| Error::Onnx { model: file.into(), message };
    let model = proto::decode(bytes).map_err(|e| fail(format!("not an ONNX model: {e}")))?;
    let graph = model.graph.ok_or_else(|| fail("not an ONNX model: it has no graph".into()))?;
    let opset = (model.opset_import.iter())
        .find(|o| o.domain.is_empty() || o.domain == "ai.onnx")
        .map(|o| o.version)
        // IR version 1 and 2 files name no opset: they are opset 1.
        .unwrap_or(1);
    let file = format!("{file} (opset {opset})");
    let fail = |message: String| Error::Onnx { model: file.clone(), message };
    if !OPSETS.contains(&opset) {
        return Err(fail(format!(
            "opset {opset} of the default domain; dojang reads opsets {} to {}",
            OPSETS.start(),
            OPSETS.end()
        )));
    }
    let mut consts = HashMap::new();
    for t in &graph.initializer {
        consts.insert(t.name.clone(), tensor(t, folder).map_err(&fail)?);
    }
    // Before IR version 4 initializers are listed among the inputs too: the image is the
    // input that is not one.
    let images: Vec<_> = graph.input.iter().filter(|i| !consts.contains_key(&i.name)).collect();
    let [image] = images.as_slice() else {
        let names: Vec<_> = images.iter().map(|i| format!("'{}'", i.name)).collect();
        return Err(fail(format!(
            "dojang runs graphs of one image input; this one has {}: {}",
            names.len(),
            names.join(", ")
        )));
    };
    let dims = (image.r#type.as_ref().and_then(|t| t.tensor_type.as_ref()))
        .and_then(|t| t.shape.as_ref())
        .map(|s| {
            s.dim
                .iter()
                .map(|d| match (d.dim_value, &d.dim_param) {
                    (Some(v), _) if v > 0 => Dim::Fixed(v as usize),
                    (_, Some(p)) if !p.is_empty() => Dim::Named(p.clone()),
                    _ => Dim::Named("?".into()),
                })
                .collect()
        })
        .unwrap_or_default();
    let nodes = graph.node.iter().map(|n| node(n, folder)).collect::<std::result::Result<Vec<_>, String>>();
    Ok(Graph {
        file: file.clone(),
        opset,
        nodes: nodes.map_err(&fail)?,
        consts,
        input: (image.name.clone(), dims),
        outputs: graph.output.iter().map(|o| o.name.clone()).collect(),
    })
}

fn node(n: &proto::NodeProto, folder: Option<&Path>) -> std::result::Result<Node, String> {
    if n.output.first().is_none_or(String::is_empty) {
        return Err(format!("{} node '{}' has no output", n.op_type, n.name));
    }
    let mut attrs = BTreeMap::new();
    for a in &n.attribute {
        let value = match a.r#type {
            at::FLOAT => Attr::Float(a.f),
            at::INT => Attr::Int(a.i),
            at::STRING => Attr::Str(String::from_utf8_lossy(&a.s).into_owned()),
            at::TENSOR => match &a.t {
                Some(t) => Attr::Tensor(tensor(t, folder)?),
                None => continue,
            },
            at::FLOATS => Attr::Floats(a.floats.clone()),
            at::INTS => Attr::Ints(a.ints.clone()),
            // Graphs, sparse tensors and the like: no op dojang runs reads them.
            _ => continue,
        };
        attrs.insert(a.name.clone(), value);
    }
    Ok(Node {
        op: n.op_type.clone(),
        domain: if n.domain == "ai.onnx" { String::new() } else { n.domain.clone() },
        name: n.name.clone(),
        inputs: n.input.clone(),
        outputs: n.output.clone(),
        attrs,
    })
}

/// A tensor's values, from typed fields, raw bytes, or a file in `folder`.
pub(crate) fn tensor(t: &proto::TensorProto, folder: Option<&Path>) -> std::result::Result<Const, String> {
    let name = &t.name;
    let shape = (t.dims.iter())
        .map(|&d| usize::try_from(d).map_err(|_| format!("tensor '{name}' has a negative dimension {d}")))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let len = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
    let len = len.ok_or_else(|| format!("tensor '{name}' of shape {shape:?} has more elements than memory holds"))?;
    let external;
    let raw: &[u8] = if t.data_location == proto::EXTERNAL {
        external = external_data(t, folder)?;
        &external
    } else {
        &t.raw_data
    };
    let width = match t.data_type {
        dt::FLOAT | dt::INT32 => 4,
        dt::INT64 | dt::DOUBLE => 8,
        dt::FLOAT16 | dt::BFLOAT16 => 2,
        other => {
            let kind = match other {
                dt::INT8 | dt::UINT8 => "8-bit integers (quantised weights)",
                _ => "a data type dojang does not take",
            };
            return Err(format!(
                "tensor '{name}' holds {kind} (ONNX data type {other}); dojang takes float32, float16, bfloat16, \
                 float64 and, for shapes and indices, int32 and int64"
            ));
        }
    };
    let typed = match t.data_type {
        dt::FLOAT => t.float_data.len(),
        dt::INT32 | dt::FLOAT16 | dt::BFLOAT16 => t.int32_data.len(),
        dt::INT64 => t.int64_data.len(),
        _ => t.double_data.len(),
    };
    let got = if raw.is_empty() { typed } else { raw.len() / width };
    if got != len || (!raw.is_empty() && !raw.len().is_multiple_of(width)) {
        let what = if raw.is_empty() { format!("{typed} values") } else { format!("{} bytes", raw.len()) };
        return Err(format!(
            "tensor '{name}' of shape {shape:?} needs {len} values ({} bytes); it holds {what}",
            len * width
        ));
    }
    let words = |w: usize| raw.chunks_exact(w);
    let bits16 = |f: fn(u16) -> f32| -> Vec<f32> {
        if raw.is_empty() {
            t.int32_data.iter().map(|&v| f(v as u16)).collect()
        } else {
            words(2).map(|b| f(u16::from_le_bytes([b[0], b[1]]))).collect()
        }
    };
    Ok(match t.data_type {
        dt::FLOAT if raw.is_empty() => Const::f32(shape, t.float_data.clone()),
        dt::FLOAT => Const::f32(shape, words(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()),
        dt::DOUBLE if raw.is_empty() => Const::f32(shape, t.double_data.iter().map(|&v| v as f32).collect()),
        dt::DOUBLE => {
            Const::f32(shape, words(8).map(|b| f64::from_le_bytes(b.try_into().unwrap_or([0; 8])) as f32).collect())
        }
        dt::FLOAT16 => Const::f32(shape, bits16(|b| half::f16::from_bits(b).to_f32())),
        dt::BFLOAT16 => Const::f32(shape, bits16(|b| half::bf16::from_bits(b).to_f32())),
        dt::INT32 if raw.is_empty() => Const::i64(shape, t.int32_data.iter().map(|&v| v as i64).collect()),
        dt::INT32 => Const::i64(shape, words(4).map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as i64).collect()),
        _ if raw.is_empty() => Const::i64(shape, t.int64_data.clone()),
        _ => Const::i64(shape, words(8).map(|b| i64::from_le_bytes(b.try_into().unwrap_or([0; 8]))).collect()),
    })
}

/// The bytes of an external tensor: `location` (relative to the model's folder, never
/// leaving it), from `offset`, `length` long (or to the end).
fn external_data(t: &proto::TensorProto, folder: Option<&Path>) -> std::result::Result<Vec<u8>, String> {
    let name = &t.name;
    let key = |k: &str| t.external_data.iter().find(|e| e.key == k).map(|e| e.value.as_str());
    let location = key("location").ok_or_else(|| format!("tensor '{name}' is external but names no location"))?;
    let path = Path::new(location);
    if !path.components().all(|c| matches!(c, Component::Normal(_) | Component::CurDir)) {
        return Err(format!(
            "tensor '{name}': external data location '{location}' leaves the model's folder (absolute or with '..'); \
             dojang reads external data from the model's folder only"
        ));
    }
    let folder = folder.ok_or_else(|| {
        format!("tensor '{name}' is stored in the external file '{location}': load the model from its path")
    })?;
    let number = |k: &str| -> std::result::Result<Option<u64>, String> {
        key(k)
            .map(|v| v.parse::<u64>().map_err(|_| format!("tensor '{name}': external data {k} '{v}' is not a number")))
            .transpose()
    };
    let (offset, length) = (number("offset")?.unwrap_or(0), number("length")?);
    let full = folder.join(path);
    let bytes = std::fs::read(&full)
        .map_err(|e| format!("tensor '{name}': cannot read its external data file '{location}': {e}"))?;
    let start = usize::try_from(offset).unwrap_or(usize::MAX);
    let end = match length {
        Some(l) => start.saturating_add(usize::try_from(l).unwrap_or(usize::MAX)),
        None => bytes.len(),
    };
    bytes.get(start..end).map(<[u8]>::to_vec).ok_or_else(|| {
        format!(
            "tensor '{name}': external data '{location}' has {} bytes; bytes {start}..{end} were asked for",
            bytes.len()
        )
    })
}
