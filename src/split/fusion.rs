//! Which layers run inside the layer before them, decided from the model alone (no GPU), as
//! the placement is: an activation or PReLU in its convolution's or dense layer's launch, and
//! on one device a residual add (and an activation after it) in its convolution's GEMM.

use crate::attrs::Activation;
use crate::model::{Model, Op, Source};

/// Which layers run inside the layer before them (`fused`), and what a convolution that takes
/// in the add after it adds (`residual`).
pub(crate) struct Fusion {
    pub(crate) fused: Vec<bool>,
    pub(crate) residual: Vec<Option<Source>>,
}

/// The fusions of `model` on `devices` devices: an activation after a convolution, dense
/// layer or affine map of no activation of its own, and a PReLU after a convolution or dense
/// layer (a pass in its launch), where the layer reads that one and nothing else does (an
/// `Add` of the output before the activation would see it activated). On one device, an add
/// of a convolution of one group (no activation, read by nothing else) and an earlier tensor
/// of its shape runs in the convolution's GEMM (it adds the other term as it stores), and so
/// does an activation after such an add.
pub(crate) fn fusion(model: &Model, devices: usize) -> Fusion {
    let layers = model.layers();
    let mut fused = vec![false; layers.len()];
    let mut residual = vec![None; layers.len()];
    for i in 1..layers.len() {
        let only_reader = model.readers_of(i - 1) == [i];
        let reads_before = model.reads_of(i) == [Source::Layer(i - 1)];
        fused[i] = only_reader
            && match (&layers[i - 1].op, &layers[i].op) {
                (Op::Conv2d { out_channels, attrs, .. }, Op::Add { .. }) if devices == 1 => {
                    let terms = [model.reads_of(i)[0], model.source_of(i).unwrap_or(Source::Input)];
                    let other = terms.into_iter().find(|&t| t != Source::Layer(i - 1));
                    // A term of one value per channel stays an add of its own.
                    let whole = other.is_some_and(|t| model.shape_of(t) == model.output_of(i - 1));
                    let takes = terms.contains(&Source::Layer(i - 1))
                        && whole
                        && attrs.activation.is_none()
                        && attrs.groups == 1
                        && *out_channels >= 8;
                    residual[i - 1] = other.filter(|_| takes);
                    residual[i - 1].is_some()
                }
                (Op::Add { relu: false, .. }, op) => fused[i - 1] && reads_before && activation_of(op).is_some(),
                (Op::Conv2d { attrs, .. }, op) if activation_of(op).is_some() => {
                    reads_before && attrs.activation.is_none()
                }
                // A PReLU runs in the launch of the convolution or dense layer before it.
                (Op::Conv2d { .. } | Op::Dense { .. }, Op::PRelu) => reads_before,
                (Op::Dense { .. } | Op::Affine { relu: false }, op) => reads_before && activation_of(op).is_some(),
                _ => false,
            };
    }
    Fusion { fused, residual }
}

/// The activation a layer applies as it stores when `within` (from [`fusion`]) run inside it:
/// an activation layer's, or a fused add's ReLU or the activation after that add.
pub(crate) fn activation_within(model: &Model, within: &[usize]) -> Option<Activation> {
    let op = |k: usize| within.get(k).map(|&j| &model.layers()[j].op);
    match op(0)? {
        Op::Add { relu: true, .. } => Some(Activation::Relu),
        Op::Add { .. } => op(1).and_then(activation_of),
        first => activation_of(first),
    }
}

/// The activation a layer is, if it is one.
fn activation_of(op: &Op) -> Option<Activation> {
    match op {
        Op::Relu => Some(Activation::Relu),
        Op::Activation(a) => Some(*a),
        _ => None,
    }
}
