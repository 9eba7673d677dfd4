//! Models: a sequence of layers with shapes inferred at build time, the parameter arithmetic
//! of the source document (`summary`), weights, and forward passes on the GPU and the CPU.

pub mod forward;
pub mod summary;
pub mod weights;
pub mod zoo;

use crate::error::{Error, Result, Shape};
use crate::ops::conv2d::Conv2d;
use crate::ops::dense::DenseGeometry;
use crate::ops::lrn::Lrn;
use crate::ops::pool2d::{Pool2d, PoolKind};

pub use forward::GpuModel;
pub use weights::Weights;

/// What a layer computes.
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    /// Convolution with bias; its weight is `[out_channels, Cin/groups, kh, kw]`.
    Conv2d {
        out_channels: usize,
        kernel: [usize; 2],
        attrs: Conv2d,
    },
    Pool2d(Pool2d),
    GlobalAvgPool,
    /// Average pooling to a fixed `[h, w]` (PyTorch's AdaptiveAvgPool2d), when the input size
    /// is a multiple of it.
    AdaptiveAvgPool([usize; 2]),
    Lrn(Lrn),
    Relu,
    /// Identity at inference.
    Dropout,
    Flatten,
    /// y = x·Wᵀ + b with W `[out_features, in]`.
    Dense {
        out_features: usize,
    },
    Softmax,
    /// Adds the output of an earlier layer (or `"input"`), then ReLU when `relu`.
    Add {
        from: String,
        relu: bool,
    },
}

/// A named layer.
#[derive(Clone, Debug, PartialEq)]
pub struct Layer {
    pub name: String,
    pub op: Op,
}

/// A model whose layer shapes have been checked: `shapes[i]` is layer i's output per image.
#[derive(Clone, Debug)]
pub struct Model {
    pub name: String,
    /// Per-image input shape, [C, H, W].
    pub input: Vec<usize>,
    pub layers: Vec<Layer>,
    pub shapes: Vec<Vec<usize>>,
}

impl Model {
    /// Checks every layer against the shape it receives; the first misfit is an error naming
    /// the layer and both shapes.
    pub fn build(name: &str, input: &[usize], layers: Vec<Layer>) -> Result<Model> {
        let mut shapes: Vec<Vec<usize>> = Vec::with_capacity(layers.len());
        for layer in &layers {
            let current = shapes.last().cloned().unwrap_or_else(|| input.to_vec());
            let fail =
                |message: String| Error::Layer { layer: layer.name.clone(), input: Shape(current.clone()), message };
            // Op checks see a batch of one; their errors become this layer's.
            let with_batch = |s: &[usize]| [&[1], s].concat();
            let out = match &layer.op {
                Op::Conv2d { out_channels, kernel, attrs } => {
                    if current.len() != 3 {
                        return Err(fail("a convolution needs a [C, H, W] input".into()));
                    }
                    let w = [*out_channels, current[0] / attrs.groups.max(1), kernel[0], kernel[1]];
                    let geo = attrs.geometry(&with_batch(&current), &w, None).map_err(|e| fail(e.to_string()))?;
                    geo.output_shape()[1..].to_vec()
                }
                Op::Pool2d(p) => pool_shape(p, &current).map_err(|e| fail(e.to_string()))?,
                Op::GlobalAvgPool if current.len() == 3 => vec![current[0], 1, 1],
                Op::AdaptiveAvgPool([oh, ow]) if current.len() == 3 => {
                    adaptive_pool(&current, [*oh, *ow]).map_err(fail)?;
                    vec![current[0], *oh, *ow]
                }
                Op::GlobalAvgPool | Op::AdaptiveAvgPool(_) => {
                    return Err(fail("pooling needs a [C, H, W] input".into()));
                }
                Op::Lrn(l) => {
                    l.check(&with_batch(&current)).map_err(|e| fail(e.to_string()))?;
                    current.clone()
                }
                Op::Relu | Op::Dropout | Op::Softmax => current.clone(),
                Op::Flatten => vec![current.iter().product()],
                Op::Dense { out_features } => {
                    if current.len() != 1 {
                        return Err(fail("a dense layer needs a flat input: add a flatten layer".into()));
                    }
                    DenseGeometry::new(&[1, current[0]], &[*out_features, current[0]], None, false)
                        .map_err(|e| fail(e.to_string()))?;
                    vec![*out_features]
                }
                Op::Add { from, .. } => {
                    let other = if from == "input" {
                        input.to_vec()
                    } else {
                        let i = layers.iter().position(|l| &l.name == from).filter(|&i| i < shapes.len());
                        let i = i.ok_or_else(|| fail(format!("adds `{from}`, which is not an earlier layer")))?;
                        shapes[i].clone()
                    };
                    if other != current {
                        return Err(fail(format!("adds `{from}` of shape {other:?}")));
                    }
                    current.clone()
                }
            };
            shapes.push(out);
        }
        Ok(Model { name: name.to_string(), input: input.to_vec(), layers, shapes })
    }

    /// The input shape of layer `i`, per image.
    pub fn input_of(&self, i: usize) -> &[usize] {
        if i == 0 { &self.input } else { &self.shapes[i - 1] }
    }

    /// Per-image output shape.
    pub fn output_shape(&self) -> &[usize] {
        self.shapes.last().map(Vec::as_slice).unwrap_or(&self.input)
    }

    /// The parameter tensors of layer `i`: (name, shape), weight first.
    pub fn params_of(&self, i: usize) -> Vec<(String, Vec<usize>)> {
        let l = &self.layers[i];
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
}

fn pool_shape(p: &Pool2d, current: &[usize]) -> Result<Vec<usize>> {
    let geo = p.geometry(&[&[1], current].concat())?;
    Ok(geo.output_shape()[1..].to_vec())
}

/// The uniform pooling that an adaptive average pool to `out` is, for sizes that divide.
pub(crate) fn adaptive_pool(input: &[usize], out: [usize; 2]) -> std::result::Result<Pool2d, String> {
    let (h, w) = (input[1], input[2]);
    if out.contains(&0) || h % out[0] != 0 || w % out[1] != 0 {
        return Err(format!("adaptive pooling from {h}x{w} to {}x{} needs sizes that divide", out[0], out[1]));
    }
    let k = [h / out[0], w / out[1]];
    Ok(Pool2d::new(PoolKind::Avg, k, k))
}
