//! A model as a list of named layers, each checked against the shapes it receives when the
//! model is built: what a layer computes ([`Op`]), what it reads ([`Source`]: the layer
//! before it unless it names others, so branches and concatenations make a DAG), and every
//! layer's input, output and parameter shapes.

use crate::attrs::{Activation, Conv2d, Dense, Lrn, PadMode, Padding, Pool2d, by_channel, pad_shape};
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
    /// Its inputs side by side along the channels (every other dimension equal).
    Concat,
    /// y = x·weight\[c\] + bias\[c\] per channel (a batch normalisation that cannot fold
    /// into the layer before it), then ReLU when `relu`. Its parameters are `[C]` each.
    Affine {
        /// ReLU after.
        relu: bool,
    },
    /// An activation other than a plain ReLU layer (ReLU6, sigmoid, hard swish, SiLU, …).
    Activation(Activation),
    /// PReLU: x where x ≥ 0, else x·weight\[c\] per channel c (NaN stays NaN). Its weight is
    /// `[C]`.
    PRelu,
    /// Multiplies by the output of an earlier layer: of the same shape, or `[C, 1, 1]` per
    /// image (a squeeze-and-excitation gate).
    Mul {
        /// The earlier layer's name.
        from: String,
    },
    /// Pads H and W by a mode (edge, reflect, a constant): ONNX's Pad where a convolution's
    /// zero padding cannot stand for it.
    Pad {
        /// Cells added on each side.
        padding: Padding,
        /// What they hold.
        mode: PadMode,
    },
    /// Channels `start..end` of its input: ShuffleNet v2's channel split (ONNX Split and
    /// Slice along the channels).
    Slice {
        /// The first channel.
        start: usize,
        /// One past the last.
        end: usize,
    },
    /// ShuffleNet's channel shuffle: the channels in `groups` groups, transposed.
    ChannelShuffle {
        /// The groups (they must divide the channels).
        groups: usize,
    },
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
    /// What it reads: names of earlier layers, or `"input"`; empty means the layer before it
    /// (the model's input for the first). A `Concat` reads all of them in order; other layers
    /// read one (an `Add` adds its `from` to it).
    pub inputs: Vec<String>,
}

impl Layer {
    /// A layer that reads the layer before it.
    pub fn new(name: &str, op: Op) -> Layer {
        Layer { name: name.into(), op, inputs: vec![] }
    }

    /// A layer that reads `inputs` (earlier layers' names, or `"input"`).
    pub fn reading(name: &str, op: Op, inputs: &[&str]) -> Layer {
        Layer { name: name.into(), op, inputs: inputs.iter().map(|s| s.to_string()).collect() }
    }
}

/// What a layer reads, resolved when the model is built.
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
    /// `reads[i]`: what layer i reads, its main input first.
    reads: Vec<Vec<Source>>,
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
        let mut reads = Vec::with_capacity(layers.len());
        for (i, layer) in layers.iter().enumerate() {
            let resolve = |from: &str| -> Result<(Source, Vec<usize>)> {
                if from == "input" {
                    return Ok((Source::Input, input.to_vec()));
                }
                let j = layers[..i].iter().position(|l| l.name == from);
                let j = j.ok_or_else(|| Error::AddSource { layer: layer.name.clone(), from: from.into() })?;
                Ok((Source::Layer(j), shapes[j].clone()))
            };
            let read: Vec<(Source, Vec<usize>)> = match layer.inputs.as_slice() {
                [] if i == 0 => vec![(Source::Input, input.to_vec())],
                [] => vec![(Source::Layer(i - 1), shapes[i - 1].clone())],
                names if matches!(layer.op, Op::Concat) => names.iter().map(|n| resolve(n)).collect::<Result<_>>()?,
                [one] => vec![resolve(one)?],
                [_, second, ..] => return Err(Error::AddSource { layer: layer.name.clone(), from: second.clone() }),
            };
            let current = read[0].1.clone();
            let fail = |source: Error| Error::Layer {
                layer: layer.name.clone(),
                input: Shape(current.clone()),
                source: Box::new(source),
            };
            let mut source = None;
            let out = match &layer.op {
                Op::Add { from, .. } | Op::Mul { from } => {
                    // Of the same shape, or one value per channel (`[C, 1, 1]`).
                    let (s, other) = resolve(from)?;
                    if !by_channel(&current, &other) {
                        let op = if matches!(layer.op, Op::Add { .. }) { "add" } else { "mul" };
                        return Err(fail(Error::Mismatch { op, a: Shape(current.clone()), b: Shape(other) }));
                    }
                    source = Some(s);
                    current.clone()
                }
                Op::Concat => concat_shape(read.iter().map(|(_, s)| s.as_slice())).map_err(fail)?,
                op => output_shape(op, &current).map_err(fail)?,
            };
            shapes.push(out);
            sources.push(source);
            reads.push(read.into_iter().map(|(s, _)| s).collect());
        }
        Ok(Model { name: name.to_string(), input: input.to_vec(), layers, shapes, reads, sources })
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
        self.shape_of(self.reads[self.index(i)][0])
    }

    /// What layer `i` reads, its main input first (a `Concat`'s inputs in order).
    ///
    /// # Panics
    /// When `i` is not below `self.layers().len()`, with a message naming both.
    pub fn reads_of(&self, i: usize) -> &[Source] {
        &self.reads[self.index(i)]
    }

    /// The shape, per image, of what `source` names.
    ///
    /// # Panics
    /// When it names a layer past the last.
    pub fn shape_of(&self, source: Source) -> &[usize] {
        match source {
            Source::Input => &self.input,
            Source::Layer(j) => self.output_of(j),
        }
    }

    /// The layers that read layer `i`'s output (an `Add` reading it as its `from` included).
    pub fn readers_of(&self, i: usize) -> Vec<usize> {
        let me = Some(Source::Layer(i));
        (0..self.layers.len()).filter(|&j| self.reads[j].contains(&Source::Layer(i)) || self.sources[j] == me).collect()
    }

    /// Per-image output shape.
    pub fn output_shape(&self) -> &[usize] {
        self.shapes.last().map(Vec::as_slice).unwrap_or(&self.input)
    }

    /// What layer `i` adds or multiplies by, when it is an `Add` or a `Mul`; None for other
    /// layers and past the last.
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
            Op::Affine { .. } => {
                vec![(format!("{}.weight", l.name), vec![input[0]]), (format!("{}.bias", l.name), vec![input[0]])]
            }
            Op::PRelu => vec![(format!("{}.weight", l.name), vec![input[0]])],
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

/// The per-image output shape of a layer computing `op` over what it reads (`reads`, the
/// main input first), as [`Model::build`] works it out.
pub(crate) fn layer_shape(op: &Op, reads: &[&[usize]]) -> Result<Vec<usize>> {
    match op {
        Op::Concat => concat_shape(reads.iter().copied()),
        Op::Add { .. } | Op::Mul { .. } => Ok(reads.first().map(|s| s.to_vec()).unwrap_or_default()),
        op => output_shape(op, reads.first().copied().unwrap_or_default()),
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
        Op::Affine { .. } => {
            per_image("input per image", "affine", 3)?;
            current.to_vec()
        }
        Op::ChannelShuffle { groups } => {
            let c = current.first().copied().unwrap_or(0);
            if *groups == 0 || !c.is_multiple_of(*groups) {
                return Err(Error::Groups { op: "channel_shuffle", what: "channels", channels: c, groups: *groups });
            }
            current.to_vec()
        }
        Op::Activation(_) => current.to_vec(),
        Op::Slice { start, end } => {
            let c = current.first().copied().unwrap_or(0);
            if start >= end || *end > c {
                return Err(Error::ChannelRange { op: "channel_slice", start: *start, end: *end, channels: c });
            }
            [&[end - start][..], &current[1..]].concat()
        }
        Op::PRelu => {
            if current.is_empty() {
                return Err(Error::Rank { op: "prelu", what: "input per image", expected: 3, got: Shape(vec![]) });
            }
            current.to_vec()
        }
        Op::Pad { padding, .. } => {
            per_image("input per image", "pad", 3)?;
            pad_shape(&batch1(current), padding)?[1..].to_vec()
        }
        Op::Pool2d(_) | Op::GlobalAvgPool | Op::AdaptiveAvgPool(_) | Op::Add { .. } | Op::Mul { .. } | Op::Concat => {
            current.to_vec()
        }
    })
}

/// The per-image shape of inputs of one rank side by side along the channels: every other
/// dimension must agree.
fn concat_shape<'a>(mut shapes: impl Iterator<Item = &'a [usize]>) -> Result<Vec<usize>> {
    let first = shapes.next().unwrap_or_default().to_vec();
    let mut out = first.clone();
    for s in shapes {
        if s.len() != first.len() || s.is_empty() || s[1..] != first[1..] {
            return Err(Error::Mismatch { op: "concat", a: Shape(first), b: Shape(s.to_vec()) });
        }
        out[0] = crate::attrs::add("concat", "the channels", out[0], s[0])?;
    }
    Ok(out)
}
