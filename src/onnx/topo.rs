//! Topological order: the nodes the graph's outputs depend on, each after the nodes whose
//! outputs it reads (files need not list them so), the rest dropped. A name read but made by
//! no node, no initializer and not the input is a missing initializer.

use std::collections::HashMap;

use crate::onnx::ir::Graph;

/// Reorders `graph.nodes`; the error names what is missing or circular.
pub(crate) fn order(graph: &mut Graph) -> Result<(), String> {
    let maker: HashMap<&str, usize> =
        (graph.nodes.iter().enumerate()).flat_map(|(i, n)| n.outputs.iter().map(move |o| (o.as_str(), i))).collect();
    let known = |name: &str| name.is_empty() || graph.consts.contains_key(name) || name == graph.input.0;
    // Depth-first from the outputs; `state` 1 = on the path, 2 = placed.
    let mut state = vec![0u8; graph.nodes.len()];
    let mut placed = Vec::with_capacity(graph.nodes.len());
    let mut stack: Vec<(usize, usize)> = Vec::new();
    for out in &graph.outputs {
        match maker.get(out.as_str()) {
            Some(&i) => stack.push((i, 0)),
            None if known(out) => continue,
            None => return Err(format!("the graph's output '{out}' is made by no node")),
        }
        while let Some((i, k)) = stack.pop() {
            if k == 0 {
                if state[i] == 2 {
                    continue;
                }
                state[i] = 1;
            }
            let node = &graph.nodes[i];
            match node.inputs.get(k) {
                Some(input) => {
                    stack.push((i, k + 1));
                    match maker.get(input.as_str()) {
                        Some(&j) if state[j] == 1 => {
                            return Err(format!("the graph has a cycle through node '{}'", graph.nodes[j].label()));
                        }
                        Some(&j) if state[j] == 0 => stack.push((j, 0)),
                        Some(_) => {}
                        None if known(input) => {}
                        None => {
                            return Err(format!(
                                "missing initializer '{input}' (read by {} '{}')",
                                node.op,
                                node.label()
                            ));
                        }
                    }
                }
                None => {
                    state[i] = 2;
                    placed.push(i);
                }
            }
        }
    }
    let mut nodes: Vec<_> = std::mem::take(&mut graph.nodes).into_iter().map(Some).collect();
    graph.nodes = placed.into_iter().filter_map(|i| nodes[i].take()).collect();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::onnx::ir::{Dim, Node};

    fn node(name: &str, inputs: &[&str], output: &str) -> Node {
        Node {
            op: "Relu".into(),
            domain: String::new(),
            name: name.into(),
            inputs: inputs.iter().map(|s| s.to_string()).collect(),
            outputs: vec![output.into()],
            attrs: Default::default(),
        }
    }

    fn graph(nodes: Vec<Node>) -> Graph {
        Graph {
            file: "t".into(),
            opset: 13,
            nodes,
            consts: Default::default(),
            input: ("x".into(), vec![Dim::Fixed(1)]),
            outputs: vec!["y".into()],
        }
    }

    #[test]
    fn orders_readers_after_makers_and_drops_dead_nodes() {
        let mut g = graph(vec![
            node("c", &["a", "b"], "y"),
            node("dead", &["x"], "unused"),
            node("b", &["a"], "b"),
            node("a", &["x"], "a"),
        ]);
        order(&mut g).unwrap();
        let names: Vec<_> = g.nodes.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "c"]);
    }

    #[test]
    fn names_a_missing_initializer_and_a_cycle() {
        let mut g = graph(vec![node("c", &["x", "w"], "y")]);
        assert_eq!(order(&mut g).unwrap_err(), "missing initializer 'w' (read by Relu 'c')");
        let mut g = graph(vec![node("a", &["b"], "a"), node("b", &["a"], "b"), node("c", &["b"], "y")]);
        assert!(order(&mut g).unwrap_err().contains("cycle"), "a cycle is refused");
    }
}
