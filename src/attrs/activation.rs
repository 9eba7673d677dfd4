//! The activations a layer applies (standalone, after an add, or fused into the epilogue of a
//! convolution, dense layer or affine map): ReLU and what mobile networks use beside it. Each
//! keeps NaN where its input is NaN.

/// An element-wise activation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Activation {
    /// x < 0 ? 0 : x.
    Relu,
    /// x clamped to [min, max] (ReLU6 is `Clip { min: 0, max: 6 }`).
    Clip {
        /// Lower bound.
        min: f32,
        /// Upper bound.
        max: f32,
    },
    /// 1 / (1 + e^−x).
    Sigmoid,
    /// clamp(alpha·x + beta, 0, 1) (ONNX's defaults: alpha 0.2, beta 0.5).
    HardSigmoid {
        /// Slope.
        alpha: f32,
        /// Offset.
        beta: f32,
    },
    /// x · clamp(x / 6 + 1/2, 0, 1).
    HardSwish,
    /// x · sigmoid(x) (SiLU, Swish).
    Silu,
    /// x < 0 ? alpha·x : x.
    LeakyRelu {
        /// Slope below 0.
        alpha: f32,
    },
}

impl Activation {
    /// For the kernels that take ReLU as a uniform flag: the flag, and the overrides of the
    /// other activations.
    pub(crate) fn relu_flag(act: Option<Activation>) -> (u32, [(&'static str, u32); 3]) {
        match act {
            Some(Activation::Relu) => (1, Activation::overrides(None)),
            other => (0, Activation::overrides(other)),
        }
    }

    /// The interval it clamps to, where it is a clamp (ReLU: `[0, ∞]`, Clip: `[min, max]`):
    /// the GEMM applies those as it stores.
    pub(crate) fn bounds(&self) -> Option<[f32; 2]> {
        match *self {
            Activation::Relu => Some([0.0, f32::INFINITY]),
            Activation::Clip { min, max } => Some([min, max]),
            _ => None,
        }
    }

    /// `act` as the GEMM takes it: the interval it clamps to as it stores ([`Activation::bounds`]),
    /// or the activation that runs after it from a tensor of its own.
    pub(crate) fn split(act: Option<Activation>) -> (Option<[f32; 2]>, Option<Activation>) {
        let clamp = act.and_then(|a| a.bounds());
        (clamp, act.filter(|_| clamp.is_none()))
    }

    /// shaders/activation.wgsl's code for `act` (0: none) and its two parameters.
    fn code(act: Option<Activation>) -> (u32, f32, f32) {
        match act {
            None => (0, 0.0, 0.0),
            Some(Activation::Relu) => (1, 0.0, 0.0),
            Some(Activation::Clip { min, max }) => (2, min, max),
            Some(Activation::Sigmoid) => (3, 0.0, 0.0),
            Some(Activation::HardSigmoid { alpha, beta }) => (4, alpha, beta),
            Some(Activation::HardSwish) => (5, 0.0, 0.0),
            Some(Activation::Silu) => (6, 0.0, 0.0),
            Some(Activation::LeakyRelu { alpha }) => (7, alpha, 0.0),
        }
    }

    /// The override values of shaders/activation.wgsl for `act`: its code and its two
    /// parameters' bits.
    pub(crate) fn overrides(act: Option<Activation>) -> [(&'static str, u32); 3] {
        let (code, p0, p1) = Activation::code(act);
        [("ACT", code), ("ACT_P0", f32::to_bits(p0)), ("ACT_P1", f32::to_bits(p1))]
    }

    /// ONNX's op name for it (`Relu`, `Clip`, …).
    pub fn name(&self) -> &'static str {
        match self {
            Activation::Relu => "Relu",
            Activation::Clip { .. } => "Clip",
            Activation::Sigmoid => "Sigmoid",
            Activation::HardSigmoid { .. } => "HardSigmoid",
            Activation::HardSwish => "HardSwish",
            Activation::Silu => "SiLU",
            Activation::LeakyRelu { .. } => "LeakyRelu",
        }
    }
}
