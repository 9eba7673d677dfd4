//! The activations a layer applies (standalone, or after an add): ReLU and what mobile
//! networks use beside it. Each keeps NaN where its input is NaN.

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
