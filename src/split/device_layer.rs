//! A layer as one device runs it: its op with that device's share of the parameters uploaded,
//! and the recording of its launch.

use crate::attrs::Activation;
use crate::attrs::{Conv2d, Dense, Lrn, PadMode, Padding, Pool2d};
use crate::error::{Error, Result};
use crate::gpu::Gpu;
use crate::launch::Launch;
use crate::model::{Model, Op, Weights};
use crate::ops::{
    ConvWeight, DenseWeight, record_activation, record_add, record_affine, record_channel_shuffle,
    record_channel_slice, record_concat, record_lrn, record_mul, record_pad, record_pool2d, record_prelu, record_relu,
    record_softmax,
};
use crate::split::fusion::activation_within;
use crate::split::placement::{ParamRange, Share};
use crate::tensor::Tensor;

/// What one device runs for one layer.
pub(crate) enum DeviceLayer {
    /// `prelu`: the slopes of this device's output channels when a PReLU runs in its launch.
    Conv {
        attrs: Conv2d,
        weight: Box<ConvWeight>,
        prelu: Option<Tensor>,
        /// It adds `other` (the add after it, fused) to its output as it stores.
        residual: bool,
    },
    Dense {
        weight: DenseWeight,
        act: Option<Activation>,
        prelu: Option<Tensor>,
    },
    Pool(Pool2d),
    Lrn(Lrn),
    Relu,
    /// Dropout and flatten: a view of the input, nothing to run.
    View,
    Softmax,
    Add {
        relu: bool,
    },
    /// `[2, C]`: the scales, then the shifts of this device's channels.
    Affine {
        params: Tensor,
        act: Option<Activation>,
    },
    /// `[C]`: the slopes of this device's channels.
    PRelu {
        slope: Tensor,
    },
    Activation(Activation),
    Pad {
        padding: Padding,
        mode: PadMode,
    },
    Mul,
    Shuffle {
        groups: usize,
    },
    Slice {
        start: usize,
        end: usize,
    },
    /// Its inputs side by side (where a device holds them all; over several devices the
    /// exchange assembles it instead, and the layer is a view).
    Concat,
}

impl DeviceLayer {
    /// Uploads `share` of layer `i` of `model` to `gpu`; `fused` are the layers after it that
    /// run inside this one: an activation, a PReLU after a convolution or dense layer (its pass
    /// recorded into the same launch), or for a convolution that takes in the add after it
    /// (`residual`), that add and an activation after it.
    pub(crate) fn upload(
        gpu: &Gpu,
        model: &Model,
        i: usize,
        share: &Share,
        weights: &Weights,
        fused: &[usize],
        residual: bool,
    ) -> Result<DeviceLayer> {
        let name = &model.layers()[i].name;
        let values_of = |layer: &str, suffix: &str, range: &std::ops::Range<usize>| -> Result<Vec<f32>> {
            let tensor = format!("{layer}.{suffix}");
            let values = weights.get(&tensor)?;
            values.get(range.clone()).map(<[f32]>::to_vec).ok_or(Error::WeightValues {
                shape: weights.shape(&tensor).unwrap_or_default().into(),
                tensor,
                expected: range.end,
                got: values.len(),
            })
        };
        let param = |suffix: &str, range: &std::ops::Range<usize>| values_of(name, suffix, range);
        let fused_op = fused.first().map(|&j| &model.layers()[j]);
        let act = activation_within(model, fused);
        // A fused PReLU's slopes for this device's output channels (its bias range).
        let prelu = |channels: &std::ops::Range<usize>| -> Result<Option<Tensor>> {
            match fused_op.filter(|l| l.op == Op::PRelu) {
                Some(l) => {
                    Ok(Some(Tensor::from_slice(gpu, &values_of(&l.name, "weight", channels)?, &[channels.len()])?))
                }
                None => Ok(None),
            }
        };
        // Placement gives every convolution and dense layer its range.
        let params =
            |p: &Option<ParamRange>| p.clone().ok_or(Error::WeightMissing { tensor: format!("{name}.weight") });
        if let Some(pool) = share.op.pool(model.input_of(i))? {
            return Ok(DeviceLayer::Pool(pool));
        }
        Ok(match &share.op {
            Op::Conv2d { attrs, .. } => {
                let p = params(&share.params)?;
                let shape = [p.weight_shape[0], p.weight_shape[1], p.weight_shape[2], p.weight_shape[3]];
                let (w, b) = (param("weight", &p.weight)?, param("bias", &p.bias)?);
                let attrs = Conv2d { activation: attrs.activation.or(act), ..*attrs };
                let weight = Box::new(ConvWeight::upload(gpu, &w, Some(&b), shape, attrs.groups)?);
                DeviceLayer::Conv { attrs, weight, prelu: prelu(&p.bias)?, residual }
            }
            Op::Dense { .. } => {
                let p = params(&share.params)?;
                let (w, b) = (param("weight", &p.weight)?, param("bias", &p.bias)?);
                let weight = DenseWeight::upload(gpu, &w, Some(&b), p.weight_shape[0], p.weight_shape[1])?;
                DeviceLayer::Dense { weight, act, prelu: prelu(&p.bias)? }
            }
            Op::Lrn(l) => DeviceLayer::Lrn(*l),
            Op::Relu => DeviceLayer::Relu,
            // Pooling layers returned above.
            Op::Dropout | Op::Flatten | Op::Pool2d(_) | Op::GlobalAvgPool | Op::AdaptiveAvgPool(_) => DeviceLayer::View,
            Op::Softmax => DeviceLayer::Softmax,
            Op::Add { relu, .. } => DeviceLayer::Add { relu: *relu },
            Op::Affine { relu } => {
                let p = params(&share.params)?;
                let values = [param("weight", &p.weight)?, param("bias", &p.bias)?].concat();
                let params = Tensor::from_slice(gpu, &values, &[2, p.weight.len()])?;
                DeviceLayer::Affine { params, act: relu.then_some(Activation::Relu).or(act) }
            }
            Op::PRelu => {
                let p = params(&share.params)?;
                DeviceLayer::PRelu { slope: Tensor::from_slice(gpu, &param("weight", &p.weight)?, &[p.weight.len()])? }
            }
            Op::Concat => DeviceLayer::Concat,
            Op::Activation(a) => DeviceLayer::Activation(*a),
            Op::Pad { padding, mode } => DeviceLayer::Pad { padding: *padding, mode: *mode },
            Op::Mul { .. } => DeviceLayer::Mul,
            Op::ChannelShuffle { groups } => DeviceLayer::Shuffle { groups: *groups },
            Op::Slice { start, end } => DeviceLayer::Slice { start: *start, end: *end },
        })
    }

    /// Bytes of parameters held.
    pub(crate) fn bytes(&self) -> u64 {
        match self {
            DeviceLayer::Conv { weight, prelu, .. } => {
                weight.bytes() + prelu.as_ref().map_or(0, |t| 4 * t.len() as u64)
            }
            DeviceLayer::Dense { weight, prelu, .. } => {
                weight.bytes() + prelu.as_ref().map_or(0, |t| 4 * t.len() as u64)
            }
            DeviceLayer::Affine { params, .. } => 4 * params.len() as u64,
            DeviceLayer::PRelu { slope } => 4 * slope.len() as u64,
            _ => 0,
        }
    }

    /// Records the layer from `x` into `out`; None for views. `other` is what an add adds or
    /// a product multiplies by (or a convolution with the add fused in), `parts` what a
    /// concatenation joins (the other layers leave them unread).
    pub(crate) fn record(&self, x: &Tensor, other: &Tensor, parts: &[&Tensor], out: &Tensor) -> Result<Option<Launch>> {
        Ok(Some(match self {
            DeviceLayer::Conv { attrs, weight, prelu, residual: false } => {
                then_prelu(out, prelu, |y| weight.record(x, y, attrs))?
            }
            DeviceLayer::Conv { attrs, weight, residual: true, .. } => weight.record_onto(x, other, out, attrs)?,
            DeviceLayer::Dense { weight, act, prelu } => {
                then_prelu(out, prelu, |y| weight.record(x, y, &Dense { activation: *act }))?
            }
            DeviceLayer::Pool(p) => record_pool2d(x, out, p)?,
            DeviceLayer::Lrn(l) => record_lrn(x, out, l)?,
            DeviceLayer::Relu => record_relu(x, out)?,
            DeviceLayer::View => return Ok(None),
            DeviceLayer::Softmax => record_softmax(x, out)?,
            DeviceLayer::Add { relu } => record_add(x, other, out, *relu)?,
            DeviceLayer::Affine { params, act } => record_affine(x, params, out, *act)?,
            DeviceLayer::PRelu { slope } => record_prelu(x, slope, out)?,
            DeviceLayer::Concat => record_concat(parts, out)?,
            DeviceLayer::Activation(a) => record_activation(x, out, *a)?,
            DeviceLayer::Pad { padding, mode } => record_pad(x, out, padding, *mode)?,
            DeviceLayer::Mul => record_mul(x, other, out)?,
            DeviceLayer::Shuffle { groups } => record_channel_shuffle(x, out, *groups)?,
            DeviceLayer::Slice { start, end } => record_channel_slice(x, out, *start, *end)?,
        }))
    }
}

/// The launch `record` makes into `out`, or, with a PReLU after it, into a tensor of its own
/// followed in the same launch by the PReLU into `out`.
fn then_prelu(out: &Tensor, prelu: &Option<Tensor>, record: impl FnOnce(&Tensor) -> Result<Launch>) -> Result<Launch> {
    match prelu {
        None => record(out),
        Some(slope) => {
            let raw = Tensor::zeros(out.gpu(), out.shape())?;
            record(&raw)?.then(record_prelu(&raw, slope, out)?)
        }
    }
}
