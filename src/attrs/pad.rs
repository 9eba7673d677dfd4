//! Padding an image by a mode: what a zero-padded convolution cannot do (a border that
//! repeats or mirrors the image), as ONNX's Pad and PyTorch's `padding_mode` define it.

use crate::attrs::checks::{add, check_rank, product};
use crate::attrs::padding::Padding;
use crate::error::{Error, Result};

/// What the padded cells hold.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PadMode {
    /// One value (0: zero padding).
    Constant(f32),
    /// The nearest edge cell (ONNX `edge`, PyTorch `replicate`).
    Edge,
    /// The image mirrored about its edge cell, which is not repeated (ONNX and PyTorch
    /// `reflect`); past a whole period it mirrors again, so any width is defined.
    Reflect,
}

/// Checks `[N, C, H, W]` and works out the padded shape.
pub fn pad_shape(x: &[usize], padding: &Padding) -> Result<[usize; 4]> {
    const OP: &str = "pad";
    check_rank(OP, "input", x, 4)?;
    if x[2] == 0 || x[3] == 0 {
        return Err(Error::Empty { op: OP, what: "input", shape: x.into() });
    }
    let out = [
        x[0],
        x[1],
        add(OP, "padded rows", add(OP, "padded rows", x[2], padding.top)?, padding.bottom)?,
        add(OP, "padded columns", add(OP, "padded columns", x[3], padding.left)?, padding.right)?,
    ];
    product(OP, "the output's elements", &out)?;
    Ok(out)
}

/// Where padded index `i` (the image's cells at 0 .. n) reads from: a cell of the image, or
/// None for a constant.
pub fn pad_source(i: i64, n: usize, mode: PadMode) -> Option<usize> {
    let n = n as i64;
    if (0..n).contains(&i) {
        return Some(i as usize);
    }
    match mode {
        PadMode::Constant(_) => None,
        PadMode::Edge => Some(i.clamp(0, n - 1) as usize),
        PadMode::Reflect if n == 1 => Some(0),
        PadMode::Reflect => {
            let period = 2 * (n - 1);
            let m = i.rem_euclid(period);
            Some(if m >= n { period - m } else { m } as usize)
        }
    }
}
