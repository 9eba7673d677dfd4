//! The autotuner's key for a convolution: the shape class its choice of kernel is kept under.

use std::fmt;

use crate::attrs::{Conv2dGeometry, Padding};
use crate::ops::autotune_timing::class;

/// The autotuner's shape class of a convolution: the window, stride and dilation exactly,
/// whether it pads, its groups (one, depthwise, or by power of two), and the sizes by power of
/// two: channels per group in and out, output pixels in all and per row.
pub(crate) struct ConvKey {
    kernel: [usize; 2],
    stride: [usize; 2],
    dilation: [usize; 2],
    padded: bool,
    groups: Groups,
    cin_per_group: usize,
    cout_per_group: usize,
    pixels: usize,
    row: usize,
    /// Adding to what the output holds (the GEMM kernels only).
    onto: bool,
}

/// Groups as the autotuner tells them apart.
enum Groups {
    One,
    Depthwise,
    Class(usize),
}

impl ConvKey {
    pub(crate) fn of(geo: &Conv2dGeometry, onto: bool) -> ConvKey {
        let a = &geo.attrs;
        ConvKey {
            kernel: [geo.kh, geo.kw],
            stride: a.stride,
            dilation: a.dilation,
            padded: a.padding != Padding::default(),
            groups: match a.groups {
                1 => Groups::One,
                g if g == geo.cin => Groups::Depthwise,
                g => Groups::Class(class(g)),
            },
            cin_per_group: class(geo.cin / a.groups),
            cout_per_group: class(geo.cout / a.groups),
            pixels: class(geo.n * geo.oh * geo.ow),
            row: class(geo.ow),
            onto,
        }
    }
}

impl fmt::Display for ConvKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ([kh, kw], [sy, sx], [dy, dx]) = (self.kernel, self.stride, self.dilation);
        let groups = match self.groups {
            Groups::One => "1".to_string(),
            Groups::Depthwise => "depthwise".to_string(),
            Groups::Class(g) => g.to_string(),
        };
        write!(
            f,
            "conv2d k{kh}x{kw} s{sy}x{sx} d{dy}x{dx} p{} g{groups} cin{} cout{} cols{} row{}{}",
            u8::from(self.padded),
            self.cin_per_group,
            self.cout_per_group,
            self.pixels,
            self.row,
            if self.onto { " onto" } else { "" }
        )
    }
}
