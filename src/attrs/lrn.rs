//! Local response normalisation across channels, as in AlexNet (ONNX/PyTorch semantics:
//! alpha is divided by the window size).

use crate::attrs::checks::{check_rank, product};
use crate::error::{Error, Result};

/// LRN attributes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Lrn {
    /// Channels in the window; odd, so that the window centres on its channel.
    pub size: usize,
    /// Scale of the sum of squares (divided by `size`, as ONNX and PyTorch do).
    pub alpha: f32,
    /// Exponent of the denominator.
    pub beta: f32,
    /// Bias added to the scaled sum.
    pub k: f32,
    /// Channel groups the window never crosses (2: AlexNet's per-GPU normalisation).
    pub groups: usize,
}

impl Lrn {
    /// AlexNet's values: size 5, alpha 1e-4, beta 0.75, k 2, one group.
    pub fn alexnet() -> Lrn {
        Lrn { size: 5, alpha: 1e-4, beta: 0.75, k: 2.0, groups: 1 }
    }

    /// The same normalisation with windows kept inside `groups` channel groups.
    pub fn with_groups(self, groups: usize) -> Lrn {
        Lrn { groups, ..self }
    }

    /// Checks the attributes against input `[N, C, H, W]`.
    pub fn geometry(&self, x: &[usize]) -> Result<LrnGeometry> {
        const OP: &str = "lrn";
        check_rank(OP, "input", x, 4)?;
        if self.size.is_multiple_of(2) {
            return Err(Error::LrnSize { size: self.size });
        }
        if self.groups == 0 || !x[1].is_multiple_of(self.groups) {
            return Err(Error::Groups { op: OP, what: "channels", channels: x[1], groups: self.groups });
        }
        product(OP, "the input's elements", x)?;
        Ok(LrnGeometry { attrs: *self, shape: [x[0], x[1], x[2], x[3]] })
    }
}

/// A checked LRN. Only [`Lrn::geometry`] makes one.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LrnGeometry {
    pub(crate) attrs: Lrn,
    pub(crate) shape: [usize; 4],
}

impl LrnGeometry {
    /// The attributes checked.
    pub fn attrs(&self) -> &Lrn {
        &self.attrs
    }
    /// `[N, C, H, W]`, in and out.
    pub fn shape(&self) -> [usize; 4] {
        self.shape
    }
    /// Channels per group.
    pub fn channels_per_group(&self) -> usize {
        self.shape[1] / self.attrs.groups
    }
}
