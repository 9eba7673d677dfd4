//! Dense (fully connected) layers: y = x·Wᵀ + b with W `[out, in]`, PyTorch `Linear`'s layout.

use crate::attrs::activation::Activation;
use crate::attrs::checks::{check_rank, mul, product};
use crate::attrs::conv2d::{Conv2d, Conv2dGeometry};
use crate::error::{Error, Result};

/// Attributes of a dense layer: `Dense::default()` and the `with_` methods.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Dense {
    /// The activation applied to the result (after the bias), fused into the kernel.
    pub activation: Option<Activation>,
}

impl Dense {
    /// Fused ReLU (or none).
    pub fn with_relu(self, relu: bool) -> Self {
        Dense { activation: relu.then_some(Activation::Relu) }
    }
    /// A fused activation.
    pub fn with_activation(self, activation: Activation) -> Self {
        Dense { activation: Some(activation) }
    }

    /// Checks x `[N, F]`, W `[out, F]` and an optional bias length.
    pub fn geometry(&self, x: &[usize], w: &[usize], bias_len: Option<usize>) -> Result<DenseGeometry> {
        const OP: &str = "dense";
        check_rank(OP, "input", x, 2)?;
        check_rank(OP, "weight", w, 2)?;
        if x[1] != w[1] {
            return Err(Error::Channels { op: OP, what: "features", got: x[1], expected: w[1] });
        }
        if let Some(len) = bias_len.filter(|&l| l != w[0]) {
            return Err(Error::BiasLength { op: OP, got: len, expected: w[0] });
        }
        // The counts the kernels and the reference derive, checked once here.
        product(OP, "the input's elements", x)?;
        product(OP, "the weight's elements", w)?;
        let outputs = product(OP, "the output's elements", &[x[0], w[0]])?;
        mul(OP, "the floating-point operations", mul(OP, "the multiply-adds", outputs, x[1])?, 2)?;
        Ok(DenseGeometry { attrs: *self, batch: x[0], in_features: x[1], out_features: w[0] })
    }
}

/// A checked dense layer: batch, in and out features. Only [`Dense::geometry`] makes one.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DenseGeometry {
    pub(crate) attrs: Dense,
    pub(crate) batch: usize,
    pub(crate) in_features: usize,
    pub(crate) out_features: usize,
}

impl DenseGeometry {
    /// The attributes checked.
    pub fn attrs(&self) -> &Dense {
        &self.attrs
    }
    /// `[N, in]`.
    pub fn input_shape(&self) -> [usize; 2] {
        [self.batch, self.in_features]
    }
    /// `[out, in]`.
    pub fn weight_shape(&self) -> [usize; 2] {
        [self.out_features, self.in_features]
    }
    /// `[N, out]`.
    pub fn output_shape(&self) -> [usize; 2] {
        [self.batch, self.out_features]
    }
    /// Multiply-adds: N · in · out.
    pub fn macs(&self) -> u64 {
        (self.batch * self.in_features * self.out_features) as u64
    }
    /// Floating-point operations, two per multiply-add.
    pub fn flops(&self) -> u64 {
        2 * self.macs()
    }
    /// The same layer as the 1x1 convolution of the batch's 1x1 images, as the GEMM runs it.
    pub(crate) fn as_pointwise_conv(&self) -> Conv2dGeometry {
        Conv2dGeometry {
            attrs: Conv2d { activation: self.attrs.activation, ..Conv2d::default() },
            n: self.batch,
            cin: self.in_features,
            h: 1,
            w: 1,
            cout: self.out_features,
            kh: 1,
            kw: 1,
            oh: 1,
            ow: 1,
            extent: [1, 1],
        }
    }
}
