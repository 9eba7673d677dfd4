//! The walk from an ordered ONNX graph to dojang's layers and weights: constants fold, the
//! ops that map to a layer become one (`layers.rs`), and the load-time rewrites happen on the
//! way — Dropout and Identity vanish, BatchNormalization and Mul/Add by per-channel constants
//! fold into the convolution, dense layer or affine map before them when it is their only
//! reader (else become an affine map), a zero Pad becomes its convolution's padding, a ReLU
//! after an add or affine map runs inside it.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::model::Weights;
use crate::onnx::fold;
use crate::onnx::ir::{Const, Graph, Node};
use crate::onnx::layers;
use crate::onnx::walk::{Act, Lowered, Value, Walk};

/// Lowers `graph` (in topological order, its constants taken out as `consts`) whose image
/// input is `[C, H, W]` per image.
pub(crate) fn lower(graph: &Graph, consts: HashMap<String, Const>, input: &[usize]) -> Result<Lowered, String> {
    let mut readers: HashMap<&str, usize> = HashMap::new();
    for name in graph.nodes.iter().flat_map(|n| &n.inputs).chain(&graph.outputs) {
        *readers.entry(name.as_str()).or_default() += 1;
    }
    let mut walk = Walk {
        graph,
        values: consts.into_iter().map(|(k, v)| (k, Value::Const(v))).collect(),
        readers,
        out: Lowered {
            layers: vec![],
            weights: Weights::new(),
            tensors: vec![],
            file_parameters: 0,
            rewrites: BTreeMap::new(),
        },
        names: HashSet::from(["input".to_string()]),
        counted: HashSet::new(),
    };
    let image = Act { layer: "input".into(), shape: input.to_vec(), pad: None, fresh: false };
    walk.values.insert(graph.input.0.clone(), Value::Act(image));
    for node in &graph.nodes {
        step(&mut walk, node).map_err(|e| format!("{} '{}': {e}", node.op, node.label()))?;
    }
    let [output] = graph.outputs.as_slice() else {
        return Err(format!("dojang runs graphs of one output; this one has {}", graph.outputs.len()));
    };
    match walk.values.get(output) {
        Some(Value::Act(a)) if a.pad.is_none() && Some(&a.layer) == walk.out.layers.last().map(|l| &l.name) => {}
        _ => return Err(format!("the graph's output '{output}' is not the result of its last layer")),
    }
    Ok(walk.out)
}

/// Folds `node` when its inputs are constants, else lowers it.
fn step<'g>(w: &mut Walk<'g>, node: &'g Node) -> Result<(), String> {
    let given: Vec<Option<&Value>> =
        (0..node.inputs.len()).map(|k| node.input(k).and_then(|n| w.values.get(n))).collect();
    for (k, v) in given.iter().enumerate() {
        if v.is_none() && node.input(k).is_some() {
            return Err(format!("reads '{}', which nothing before it makes", node.inputs[k]));
        }
    }
    let consts: Option<Vec<Option<&Const>>> = given
        .iter()
        .map(|v| match v {
            None => Some(None),
            Some(Value::Const(c)) => Some(Some(c)),
            Some(Value::Act(_)) => None,
        })
        .collect();
    if let Some(consts) = consts.filter(|_| fold::FOLDS.contains(&node.op.as_str())) {
        let value = fold::eval(node, &consts, w.graph.opset)?;
        w.values.insert(node.outputs[0].clone(), Value::Const(value));
        return Ok(());
    }
    let value = layers::lower_node(w, node)?;
    w.values.insert(node.outputs[0].clone(), value);
    Ok(())
}
