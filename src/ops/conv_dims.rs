//! A convolution's sizes as its kernels read them: the first field of the direct kernel's and
//! im2col's uniforms, the Rust twin of `shaders/conv_dims.wgsl` (the WGSL file put before
//! `conv2d.wgsl` and `im2col.wgsl`).

use crate::attrs::Conv2dGeometry;
use crate::error::Result;
use crate::ops::sizes::to_u32;
use crate::pipeline::uniform_struct;

uniform_struct! {
    /// Field order matches `ConvDims` in shaders/conv_dims.wgsl.
    pub(crate) struct ConvDims {
        h: u32,
        w: u32,
        kh: u32,
        kw: u32,
        oh: u32,
        ow: u32,
        stride_y: u32,
        stride_x: u32,
        pad_top: u32,
        pad_left: u32,
        dil_y: u32,
        dil_x: u32,
    }
}

impl ConvDims {
    /// The sizes of `geo`, or the one that does not fit a 32-bit field.
    pub(crate) fn new(geo: &Conv2dGeometry) -> Result<ConvDims> {
        let u = |what, v| to_u32("conv2d", what, v);
        let a = &geo.attrs;
        Ok(ConvDims {
            h: u("height", geo.h)?,
            w: u("width", geo.w)?,
            kh: u("kernel height", geo.kh)?,
            kw: u("kernel width", geo.kw)?,
            oh: u("output height", geo.oh)?,
            ow: u("output width", geo.ow)?,
            stride_y: u("stride", a.stride[0])?,
            stride_x: u("stride", a.stride[1])?,
            pad_top: u("padding", a.padding.top)?,
            pad_left: u("padding", a.padding.left)?,
            dil_y: u("dilation", a.dilation[0])?,
            dil_x: u("dilation", a.dilation[1])?,
        })
    }
}
