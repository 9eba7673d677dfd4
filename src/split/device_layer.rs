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
use crate::split::placement::{ParamRange, Share};
use crate::tensor::Tensor;

/// What one device runs for one layer.
pub(crate) enum DeviceLayer {
    Conv {
        attrs: Conv2d,
        weight: ConvWeight,
    },
    Dense {
        weight: DenseWeight,
        act: Option<Activation>,
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
    /// Uploads `share` of layer `i` of `model` to `gpu`; `fused` is the activation of the
    /// layer that follows, run inside this one.
    pub(crate) fn upload(
        gpu: &Gpu,
        model: &Model,
        i: usize,
        share: &Share,
        weights: &Weights,
        fused: Option<Activation>,
    ) -> Result<DeviceLayer> {
        let name = &model.layers()[i].name;
        let param = |suffix: &str, range: &std::ops::Range<usize>| -> Result<&[f32]> {
            let tensor = format!("{name}.{suffix}");
            let values = weights.get(&tensor)?;
            values.get(range.clone()).ok_or(Error::WeightValues {
                tensor,
                shape: weights.shape(&format!("{name}.{suffix}")).unwrap_or_default().into(),
                expected: range.end,
                got: values.len(),
            })
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
                let attrs = Conv2d { activation: attrs.activation.or(fused), ..*attrs };
                DeviceLayer::Conv { attrs, weight: ConvWeight::upload(gpu, w, Some(b), shape, attrs.groups)? }
            }
            Op::Dense { .. } => {
                let p = params(&share.params)?;
                let (w, b) = (param("weight", &p.weight)?, param("bias", &p.bias)?);
                let weight = DenseWeight::upload(gpu, w, Some(b), p.weight_shape[0], p.weight_shape[1])?;
                DeviceLayer::Dense { weight, act: fused }
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
                DeviceLayer::Affine { params, act: relu.then_some(Activation::Relu).or(fused) }
            }
            Op::PRelu => {
                let p = params(&share.params)?;
                DeviceLayer::PRelu { slope: Tensor::from_slice(gpu, param("weight", &p.weight)?, &[p.weight.len()])? }
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
            DeviceLayer::Conv { weight, .. } => weight.bytes(),
            DeviceLayer::Dense { weight, .. } => weight.bytes(),
            DeviceLayer::Affine { params, .. } => 4 * params.len() as u64,
            DeviceLayer::PRelu { slope } => 4 * slope.len() as u64,
            _ => 0,
        }
    }

    /// Records the layer from `x` into `out`; None for views. `other` is what an add adds or
    /// a product multiplies by,
    /// `parts` what a concatenation joins (the other layers leave them unread).
    pub(crate) fn record(&self, x: &Tensor, other: &Tensor, parts: &[&Tensor], out: &Tensor) -> Result<Option<Launch>> {
        Ok(Some(match self {
            DeviceLayer::Conv { attrs, weight } => weight.record(x, out, attrs)?,
            DeviceLayer::Dense { weight, act } => weight.record(x, out, &Dense { activation: *act })?,
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
