//! Max and average pooling: attributes and the output-size arithmetic, PyTorch's ceil_mode
//! rule included; global and adaptive average pooling as the windows they are.

use crate::attrs::checks::{add, check_nonzero, check_output, check_rank, product, window_out};
use crate::attrs::padding::Padding;
use crate::error::{Error, Result};

/// Maximum or average over the window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolKind {
    /// The largest value of the window (NaN if any is NaN).
    Max,
    /// The mean of the window.
    Avg,
}

/// Attributes of a pooling layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pool2d {
    /// Max or average.
    pub kind: PoolKind,
    /// (height, width) of the window.
    pub kernel: [usize; 2],
    /// Step per axis (rows, columns).
    pub stride: [usize; 2],
    /// Padding on each side (see `with_padding`).
    pub padding: Padding,
    /// Round the output size up; a last window that would start in the bottom/right padding
    /// is dropped (PyTorch's rule).
    pub ceil_mode: bool,
    /// Average only: padded cells count in the divisor.
    pub count_include_pad: bool,
}

impl Pool2d {
    /// A `kind` pool of a `kh` x `kw` window moving by (`sh`, `sw`), no padding.
    pub fn new(kind: PoolKind, kernel: [usize; 2], stride: [usize; 2]) -> Pool2d {
        Pool2d { kind, kernel, stride, padding: Padding::default(), ceil_mode: false, count_include_pad: false }
    }
    /// Padding on each side, of any width (as ONNX allows): a padded cell is never the
    /// maximum, and counts in an average's divisor only with `count_include_pad`. A window
    /// wholly in the padding gives what the ONNX reference implementation gives: 0 for max,
    /// NaN for an average without `count_include_pad` (0 / 0), 0 with it.
    pub fn with_padding(self, padding: Padding) -> Self {
        Pool2d { padding, ..self }
    }
    /// PyTorch's ceil_mode.
    pub fn with_ceil_mode(self, ceil_mode: bool) -> Self {
        Pool2d { ceil_mode, ..self }
    }
    /// Average only: padded cells count in the divisor.
    pub fn with_count_include_pad(self, count_include_pad: bool) -> Self {
        Pool2d { count_include_pad, ..self }
    }

    /// Global average pooling of an `[h, w]` image: one window over all of it.
    pub fn global_avg(hw: [usize; 2]) -> Pool2d {
        Pool2d::new(PoolKind::Avg, hw, [1, 1])
    }

    /// PyTorch's AdaptiveAvgPool2d from `input` `[h, w]` to `out`, for sizes that divide: a
    /// uniform pool of windows `input / out`.
    pub fn adaptive_avg(input: [usize; 2], out: [usize; 2]) -> Result<Pool2d> {
        if out.contains(&0) || !input[0].is_multiple_of(out[0]) || !input[1].is_multiple_of(out[1]) {
            return Err(Error::AdaptivePool { from: input, to: out });
        }
        let k = [input[0] / out[0], input[1] / out[1]];
        Ok(Pool2d::new(PoolKind::Avg, k, k))
    }

    /// Checks input `[N, C, H, W]` against these attributes and works out the output size.
    pub fn geometry(&self, x: &[usize]) -> Result<Pool2dGeometry> {
        const OP: &str = "pool2d";
        check_rank(OP, "input", x, 4)?;
        check_nonzero(OP, "kernel", self.kernel)?;
        check_nonzero(OP, "stride", self.stride)?;
        let p = self.padding;
        let [kh, kw] = self.kernel;
        let (h, w) = (x[2], x[3]);
        let axis = |input: usize, pad_a: usize, pad_b: usize, k: usize, s: usize| -> Result<i64> {
            let padded = add(OP, "the padded size", input, add(OP, "the padding", pad_a, pad_b)?)?;
            let floor = window_out(padded, k, s);
            if !self.ceil_mode || floor < 1 {
                return Ok(floor);
            }
            // ceil((input + pads − k) / s) + 1, less a last window starting in the padding.
            let out = ((padded - k) as u128).div_ceil(s as u128) as i64 + 1;
            let last_start = (out as u128 - 1) * s as u128;
            Ok(if last_start >= input as u128 + pad_a as u128 { out - 1 } else { out })
        };
        let oh = axis(h, p.top, p.bottom, kh, self.stride[0])?;
        let ow = axis(w, p.left, p.right, kw, self.stride[1])?;
        let (oh, ow) = check_output(OP, [oh, ow], [h, w], p, [kh, kw])?;
        // The counts the kernel and the reference derive, checked once here.
        product(OP, "the input's elements", x)?;
        product(OP, "the output's elements", &[x[0], x[1], oh, ow])?;
        product(OP, "the window's cells", &self.kernel)?;
        Ok(Pool2dGeometry { attrs: *self, n: x[0], c: x[1], h, w, oh, ow })
    }
}

/// A checked pooling: input and output sizes. Only [`Pool2d::geometry`] makes one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pool2dGeometry {
    pub(crate) attrs: Pool2d,
    pub(crate) n: usize,
    pub(crate) c: usize,
    pub(crate) h: usize,
    pub(crate) w: usize,
    pub(crate) oh: usize,
    pub(crate) ow: usize,
}

impl Pool2dGeometry {
    /// The attributes checked.
    pub fn attrs(&self) -> &Pool2d {
        &self.attrs
    }
    /// `[N, C, H, W]`.
    pub fn input_shape(&self) -> [usize; 4] {
        [self.n, self.c, self.h, self.w]
    }
    /// `[N, C, OH, OW]`.
    pub fn output_shape(&self) -> [usize; 4] {
        [self.n, self.c, self.oh, self.ow]
    }
    /// Bytes read and written by a single pass (each input element read once).
    pub fn bytes(&self) -> u64 {
        let (input, output) = (self.n * self.c * self.h * self.w, self.n * self.c * self.oh * self.ow);
        (input as u64).saturating_add(output as u64).saturating_mul(4)
    }
}
