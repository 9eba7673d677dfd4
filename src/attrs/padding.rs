//! Zero padding on each side of an image, and "same" padding worked out from the window.

/// Zero padding on each side of the image, in pixels.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Padding {
    /// Rows above.
    pub top: usize,
    /// Columns to the left.
    pub left: usize,
    /// Rows below.
    pub bottom: usize,
    /// Columns to the right.
    pub right: usize,
}

impl Padding {
    /// Padding given as (top, left, bottom, right), the order ONNX and the golden format use.
    pub fn new(top: usize, left: usize, bottom: usize, right: usize) -> Padding {
        Padding { top, left, bottom, right }
    }

    /// `ph` rows above and below, `pw` columns left and right.
    pub fn symmetric(ph: usize, pw: usize) -> Padding {
        Padding { top: ph, left: pw, bottom: ph, right: pw }
    }

    /// "Same" padding (ONNX SAME_UPPER, TensorFlow SAME): the output is ceil(input / stride)
    /// per axis; when the total padding is odd the extra pixel goes bottom/right.
    pub fn same(input: [usize; 2], kernel: [usize; 2], stride: [usize; 2], dilation: [usize; 2]) -> Padding {
        let total = |i: usize| {
            let out = input[i].div_ceil(stride[i].max(1));
            let extent = dilation[i].saturating_mul(kernel[i].max(1) - 1).saturating_add(1);
            let needed = out.saturating_sub(1).saturating_mul(stride[i]).saturating_add(extent);
            needed.saturating_sub(input[i])
        };
        let (th, tw) = (total(0), total(1));
        Padding { top: th / 2, left: tw / 2, bottom: th - th / 2, right: tw - tw / 2 }
    }

    /// (top, left, bottom, right).
    pub fn as_array(&self) -> [usize; 4] {
        [self.top, self.left, self.bottom, self.right]
    }
}
