//! A model as a sequence of named layers, each checked against the shape it receives when
//! the model is built: what a layer computes ([`Op`]), where an `Add` reads its second
//! operand ([`Source`]), and every layer's input, output and parameter shapes.

use crate::attrs::{Conv2d, Dense, Lrn, Pool2d};
use crate::error::{Error, Result, Shape};

/// What a layer computes.
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    /// Convolution with bias; its weight is `[out_channels, Cin/groups, kh, kw]`.
    Conv2d {
        /// Output channels.
        out_channels: usize,
        /// Window height and width.
        kernel: [usize; 2],
        /// Stride, padding, dilation, groups.
        attrs: Conv2d,
    },
    /// Max or average pooling.
    Pool2d(Pool2d),
    /// The average of each channel.
    GlobalAvgPool,
    /// Average pooling to a fixed `[h, w]` (PyTorch's AdaptiveAvgPool2d), when the input size
    /// is a multiple of it.
    AdaptiveAvgPool([usize; 2]),
    /// Local response normalisation across channels.
    Lrn(Lrn),
    /// max(x, 0), keeping NaN.
    Relu,
    /// Identity at inference.
    Dropout,
    /// `[N, C, H, W]` → `[N, C·H·W]`, a view.
    Flatten,
    /// y = x·Wᵀ + b with W `[out_features, in]`.
    Dense {
        /// Output features.
        out_features: usize,
    },
    /// Softmax over dimension 1.
    Softmax,
    /// Adds the output of an earlier layer (or `"input"`), then ReLU when `relu`.
    Add {
        /// The earlier layer's name, or `"input"`.
        from: String,
        /// ReLU after the add.
        relu: bool,
    },
}

impl Op {
    /// The pooling window of a pooling op given its per-image input `[C, H, W]`; None for
    /// the other ops.
    pub(crate) fn pool(&self, input: &[usize]) -> Result<Option<Pool2d>> {
        if !matches!(self, Op::Pool2d(_) | Op::GlobalAvgPool | Op::AdaptiveAvgPool(_)) {
            return Ok(None);
        }
        if input.len() != 3 {
            return Err(Error::Rank { op: "pool2d", what: "input per image", expected: 3, got: Shape(input.to_vec()) });
        }
        let hw = [input[1], input[2]];
        Ok(match self {
            Op::Pool2d(p) => Some(*p),
            Op::GlobalAvgPool => Some(Pool2d::global_avg(hw)),
            Op::AdaptiveAvgPool(out) => Some(Pool2d::adaptive_avg(hw, *out)?),
            _ => None,
        })
    }
}

/// A named layer.
#[derive(Clone, Debug, PartialEq)]
pub struct Layer {
    /// The layer's name (its parameters are `NAME.weight`, `NAME.bias`).
    pub name: String,
    /// What it computes.
    pub op: Op,
}

/// Where an `Add` layer's second operand comes from, resolved when the model is built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// The model's input.
    Input,
    /// The output of layer `i`.
    Layer(usize),
}

/// A model whose layer shapes have been checked. Only [`Model::build`] makes one.
#[derive(Clone, Debug)]
pub struct Model {
    name: String,
    input: Vec<usize>,
    layers: Vec<Layer>,
    /// `shapes[i]`: layer i's output per image.
    shapes: Vec<Vec<usize>>,
    /// `sources[i]`: what layer i adds, for `Add` layers.
    sources: Vec<Option<Source>>,
}

impl Model {
    /// Checks every layer against the shape it receives; the first misfit is an error naming
    /// the layer and its input shape.
    pub fn build(name: &str, input: &[usize], layers: Vec<Layer>) -> Result<Model> {
        if layers.is_empty() {
            return Err(Error::NoLayers { model: name.into() });
        }
        let mut shapes: Vec<Vec<usize>> = Vec::with_capacity(layers.len());
        let mut sources = Vec::with_capacity(layers.len());
        for (i, layer) in layers.iter().enumerate() {
            let current = shapes.last().cloned().unwrap_or_else(|| input.to_vec());
            let fail = |source: Error| Error::Layer {
                layer: layer.name.clone(),
                input: Shape(current.clone()),
                source: Box::new(source),
            };
            let mut source = None;
            let out = match &layer.op {
                Op::Add { from, .. } => {
                    let (s, other) = if from == "input" {
                        (Source::Input, input.to_vec())
                    } else {
                        let j = layers[..i].iter().position(|l| &l.name == from);
                        let j = j.ok_or_else(|| Error::AddSource { layer: layer.name.clone(), from: from.clone() })?;
                        (Source::Layer(j), shapes[j].clone())
                    };
                    if other != current {
                        return Err(fail(Error::Mismatch { op: "add", a: Shape(current.clone()), b: Shape(other) }));
                    }
                    source = Some(s);
                    current.clone()
                }
                op => output_shape(op, &current).map_err(fail)?,
            };
            shapes.push(out);
            sources.push(source);
        }
        Ok(Model { name: name.to_string(), input: input.to_vec(), layers, shapes, sources })
    }

    /// The model's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Per-image input shape, `[C, H, W]`.
    pub fn input(&self) -> &[usize] {
        &self.input
    }

    /// The layers, in order.
    pub fn layers(&self) -> &[Layer] {
        &self.layers
    }

    /// The output shape of layer `i`, per image.
    ///
    /// # Panics
    /// When `i` is not below `self.layers().len()`, with a message naming both.
    pub fn output_of(&self, i: usize) -> &[usize] {
        &self.shapes[self.index(i)]
    }

    /// The input shape of layer `i`, per image.
    ///
    /// # Panics
    /// When `i` is not below `self.layers().len()`, with a message naming both.
    pub fn input_of(&self, i: usize) -> &[usize] {
        if self.index(i) == 0 { &self.input } else { &self.shapes[i - 1] }
    }

    /// Per-image output shape.
    pub fn output_shape(&self) -> &[usize] {
        self.shapes.last().map(Vec::as_slice).unwrap_or(&self.input)
    }

    /// What layer `i` adds, when it is an `Add`; None for other layers and past the last.
    pub fn source_of(&self, i: usize) -> Option<Source> {
        self.sources.get(i).copied().flatten()
    }

    /// The parameter tensors of layer `i`: (name, shape), weight first; none for a layer
    /// without parameters.
    ///
    /// # Panics
    /// When `i` is not below `self.layers().len()`, with a message naming both.
    pub fn parameters_of(&self, i: usize) -> Vec<(String, Vec<usize>)> {
        let l = &self.layers[self.index(i)];
        let input = self.input_of(i);
        match &l.op {
            Op::Conv2d { out_channels, kernel, attrs } => vec![
                (format!("{}.weight", l.name), vec![*out_channels, input[0] / attrs.groups, kernel[0], kernel[1]]),
                (format!("{}.bias", l.name), vec![*out_channels]),
            ],
            Op::Dense { out_features } => vec![
                (format!("{}.weight", l.name), vec![*out_features, input[0]]),
                (format!("{}.bias", l.name), vec![*out_features]),
            ],
            _ => vec![],
        }
    }

    /// Every parameter tensor of the model, layer by layer: (name, shape), weights first.
    pub fn parameters(&self) -> Vec<(String, Vec<usize>)> {
        (0..self.layers.len()).flat_map(|i| self.parameters_of(i)).collect()
    }

    /// `i`, when the model has a layer `i`.
    fn index(&self, i: usize) -> usize {
        let len = self.layers.len();
        assert!(i < len, "model {} has {len} layers; there is no layer {i}", self.name);
        i
    }
}

/// The per-image output shape of `op` (not an `Add`) on a per-image input `current`, checked
/// by the op's own geometry (seen at batch 1).
fn output_shape(op: &Op, current: &[usize]) -> Result<Vec<usize>> {
    let batch1 = |s: &[usize]| [&[1], s].concat();
    let per_image = |what: &'static str, op_name: &'static str, expected: usize| {
        if current.len() != expected {
            return Err(Error::Rank { op: op_name, what, expected, got: Shape(current.to_vec()) });
        }
        Ok(())
    };
    if let Some(pool) = op.pool(current)? {
        return Ok(pool.geometry(&batch1(current))?.output_shape()[1..].to_vec());
    }
    Ok(match op {
        Op::Conv2d { out_channels, kernel, attrs } => {
            per_image("input per image", "conv2d", 3)?;
            let w = [*out_channels, current[0] / attrs.groups.max(1), kernel[0], kernel[1]];
            attrs.geometry(&batch1(current), &w, None)?.output_shape()[1..].to_vec()
        }
        Op::Lrn(l) => {
            l.geometry(&batch1(current))?;
            current.to_vec()
        }
        Op::Relu | Op::Dropout | Op::Softmax => current.to_vec(),
        Op::Flatten => vec![current.iter().product()],
        Op::Dense { out_features } => {
            per_image("input per image (flatten it first)", "dense", 1)?;
            Dense::default().geometry(&batch1(current), &[*out_features, current[0]], None)?;
            vec![*out_features]
        }
        Op::Pool2d(_) | Op::GlobalAvgPool | Op::AdaptiveAvgPool(_) | Op::Add { .. } => current.to_vec(),
    })
}
