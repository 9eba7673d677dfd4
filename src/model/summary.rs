//! The parameter arithmetic, as Keras and torchsummary print it: per layer its output shape,
//! weights, biases and multiply-adds per image; then the totals.

use std::fmt::Write;

use crate::model::graph::{Model, Op};

/// One row of the summary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// The layer's name.
    pub name: String,
    /// Its output shape for one image.
    pub output: Vec<usize>,
    /// Weight count.
    pub weights: u64,
    /// Bias count.
    pub biases: u64,
    /// Multiply-adds per image.
    pub macs: u64,
}

/// `1234567` → `"1,234,567"`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl Model {
    /// One row per layer.
    pub fn rows(&self) -> Vec<Row> {
        (0..self.layers().len())
            .map(|i| {
                let params = self.parameters_of(i);
                let count = |k: usize| params.get(k).map_or(0, |(_, s)| s.iter().product::<usize>() as u64);
                let out = self.output_of(i);
                let macs = match &self.layers()[i].op {
                    // Each output element sums weight-count / out-channels products.
                    Op::Conv2d { out_channels, .. } => {
                        count(0) / *out_channels as u64 * out.iter().product::<usize>() as u64
                    }
                    Op::Dense { .. } => count(0),
                    _ => 0,
                };
                Row {
                    name: self.layers()[i].name.clone(),
                    output: out.to_vec(),
                    weights: count(0),
                    biases: count(1),
                    macs,
                }
            })
            .collect()
    }

    /// Weights plus biases.
    pub fn parameter_count(&self) -> u64 {
        self.rows().iter().map(|r| r.weights + r.biases).sum()
    }

    /// The summary table as text.
    pub fn summary(&self) -> String {
        let rows = self.rows();
        let mut s = String::new();
        let _ = writeln!(s, "model {} on input {:?}", self.name(), self.input());
        // Imported models have long layer names (`/features/features.12/Concat`).
        let width = rows.iter().map(|r| r.name.chars().count()).max().unwrap_or(0).max(14);
        let _ = writeln!(s, "{:<width$} {:<16} {:>14} {:>8} {:>15}", "layer", "output", "weights", "biases", "MACs");
        for r in &rows {
            let shape = r.output.iter().map(ToString::to_string).collect::<Vec<_>>().join("x");
            let _ = writeln!(
                s,
                "{:<width$} {:<16} {:>14} {:>8} {:>15}",
                r.name,
                shape,
                thousands(r.weights),
                thousands(r.biases),
                thousands(r.macs)
            );
        }
        let (w, b, m) = rows.iter().fold((0, 0, 0), |(w, b, m), r| (w + r.weights, b + r.biases, m + r.macs));
        let _ =
            writeln!(s, "{:<width$} {:<16} {:>14} {:>8} {:>15}", "total", "", thousands(w), thousands(b), thousands(m));
        let _ = writeln!(s, "total parameters: {}", thousands(w + b));
        s
    }
}
