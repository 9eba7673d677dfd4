//! 2-D convolution: attributes and the output-size arithmetic.

use crate::attrs::activation::Activation;
use crate::attrs::checks::{add, check_nonzero, check_output, check_rank, extent, mul, product, window_out};
use crate::attrs::padding::Padding;
use crate::error::{Error, Result};

/// Attributes of a convolution. Build with `Conv2d::default()` and the `with_` methods.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Conv2d {
    /// (vertical, horizontal) step between windows.
    pub stride: [usize; 2],
    /// Zero padding on each side.
    pub padding: Padding,
    /// (vertical, horizontal) spacing between kernel taps.
    pub dilation: [usize; 2],
    /// Channel groups: Cin and Cout both split into `groups` independent blocks.
    pub groups: usize,
    /// The activation applied to the result (after the bias), fused into the kernel.
    pub activation: Option<Activation>,
}

impl Default for Conv2d {
    fn default() -> Self {
        Conv2d { stride: [1, 1], padding: Padding::default(), dilation: [1, 1], groups: 1, activation: None }
    }
}

impl Conv2d {
    /// (vertical, horizontal) stride.
    pub fn with_stride(self, sh: usize, sw: usize) -> Self {
        Conv2d { stride: [sh, sw], ..self }
    }
    /// Zero padding on each side.
    pub fn with_padding(self, padding: Padding) -> Self {
        Conv2d { padding, ..self }
    }
    /// (vertical, horizontal) dilation.
    pub fn with_dilation(self, dh: usize, dw: usize) -> Self {
        Conv2d { dilation: [dh, dw], ..self }
    }
    /// Channel groups (the input channels for a depthwise convolution).
    pub fn with_groups(self, groups: usize) -> Self {
        Conv2d { groups, ..self }
    }
    /// Fused ReLU (or none).
    pub fn with_relu(self, relu: bool) -> Self {
        Conv2d { activation: relu.then_some(Activation::Relu), ..self }
    }
    /// A fused activation.
    pub fn with_activation(self, activation: Activation) -> Self {
        Conv2d { activation: Some(activation), ..self }
    }

    /// Checks input `[N, Cin, H, W]`, weight `[Cout, Cin/groups, KH, KW]` and an optional bias
    /// length against these attributes, and works out the output size.
    pub fn geometry(&self, x: &[usize], w: &[usize], bias_len: Option<usize>) -> Result<Conv2dGeometry> {
        const OP: &str = "conv2d";
        check_rank(OP, "input", x, 4)?;
        check_rank(OP, "weight", w, 4)?;
        check_nonzero(OP, "stride", self.stride)?;
        check_nonzero(OP, "dilation", self.dilation)?;
        check_nonzero(OP, "groups", [self.groups; 2])?;
        let (n, cin, h, wd) = (x[0], x[1], x[2], x[3]);
        let (cout, cin_pg, kh, kw) = (w[0], w[1], w[2], w[3]);
        let groups = self.groups;
        if !cin.is_multiple_of(groups) {
            return Err(Error::Groups { op: OP, what: "input channels", channels: cin, groups });
        }
        if !cout.is_multiple_of(groups) {
            return Err(Error::Groups { op: OP, what: "output channels", channels: cout, groups });
        }
        if cin / groups != cin_pg {
            return Err(Error::Channels { op: OP, what: "channels per group", got: cin / groups, expected: cin_pg });
        }
        if let Some(len) = bias_len.filter(|&l| l != cout) {
            return Err(Error::BiasLength { op: OP, got: len, expected: cout });
        }
        let p = self.padding;
        let (eh, ew) = (
            extent(OP, "the dilated kernel height", kh, self.dilation[0])?,
            extent(OP, "the dilated kernel width", kw, self.dilation[1])?,
        );
        let padded_h = add(OP, "the padded height", h, add(OP, "the padding", p.top, p.bottom)?)?;
        let padded_w = add(OP, "the padded width", wd, add(OP, "the padding", p.left, p.right)?)?;
        let oh = window_out(padded_h, eh, self.stride[0]);
        let ow = window_out(padded_w, ew, self.stride[1]);
        let (oh, ow) = check_output(OP, [oh, ow], [h, wd], p, [eh, ew])?;
        // Every count the kernels and the reference derive from these, checked once here.
        product(OP, "the input's elements", x)?;
        product(OP, "the weight's elements", w)?;
        let outputs = product(OP, "the output's elements", &[n, cout, oh, ow])?;
        let reduction = product(OP, "the terms of a sum", &[cin_pg, kh, kw])?;
        let macs = mul(OP, "the multiply-adds", outputs, reduction)?;
        mul(OP, "the floating-point operations", macs, 2)?;
        Ok(Conv2dGeometry { attrs: *self, n, cin, h, w: wd, cout, kh, kw, oh, ow, extent: [eh, ew] })
    }
}

/// A convolution whose shapes have been checked: every size the kernels and the reference
/// use. Only [`Conv2d::geometry`] makes one, and it has checked that every count below (the
/// elements of input, weight and output, the multiply-adds) fits a `usize`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Conv2dGeometry {
    pub(crate) attrs: Conv2d,
    pub(crate) n: usize,
    pub(crate) cin: usize,
    pub(crate) h: usize,
    pub(crate) w: usize,
    pub(crate) cout: usize,
    pub(crate) kh: usize,
    pub(crate) kw: usize,
    pub(crate) oh: usize,
    pub(crate) ow: usize,
    /// The dilated kernel's extent, (rows, columns): d·(k − 1) + 1.
    pub(crate) extent: [usize; 2],
}

impl Conv2dGeometry {
    /// The attributes checked.
    pub fn attrs(&self) -> &Conv2d {
        &self.attrs
    }
    /// `[N, Cin, H, W]`.
    pub fn input_shape(&self) -> [usize; 4] {
        [self.n, self.cin, self.h, self.w]
    }
    /// `[Cout, Cin/groups, KH, KW]`.
    pub fn weight_shape(&self) -> [usize; 4] {
        [self.cout, self.cin / self.attrs.groups, self.kh, self.kw]
    }
    /// `[N, Cout, OH, OW]`.
    pub fn output_shape(&self) -> [usize; 4] {
        [self.n, self.cout, self.oh, self.ow]
    }
    /// Terms summed per output: Cin/groups · KH · KW.
    pub fn reduction_len(&self) -> usize {
        self.cin / self.attrs.groups * self.kh * self.kw
    }
    /// Multiply-adds: N · Cout · OH · OW · Cin/groups · KH · KW.
    pub fn macs(&self) -> u64 {
        (self.n * self.cout * self.oh * self.ow * self.reduction_len()) as u64
    }
    /// Floating-point operations, two per multiply-add.
    pub fn flops(&self) -> u64 {
        2 * self.macs()
    }
    /// The dilated kernel's extent, (rows, columns): d·(k − 1) + 1.
    pub fn extent(&self) -> [usize; 2] {
        self.extent
    }
    /// True when the convolution is a plain matrix product (1x1, stride 1, no padding).
    pub fn is_pointwise(&self) -> bool {
        let a = &self.attrs;
        self.kh == 1 && self.kw == 1 && a.stride == [1, 1] && a.padding == Padding::default()
    }
}
