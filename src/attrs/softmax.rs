//! Softmax over the channel dimension (dimension 1).

use crate::attrs::checks::product;
use crate::error::{Error, Result, Shape};

/// Softmax over dimension 1, max-subtracted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Softmax;

impl Softmax {
    /// Checks an input of at least two dimensions, none empty.
    pub fn geometry(&self, x: &[usize]) -> Result<SoftmaxGeometry> {
        if x.len() < 2 || x.contains(&0) {
            return Err(Error::Rank { op: "softmax", what: "input", expected: 2, got: Shape(x.to_vec()) });
        }
        product("softmax", "the input's elements", x)?;
        Ok(SoftmaxGeometry { shape: x.to_vec(), n: x[0], c: x[1], s: x[2..].iter().product() })
    }
}

/// A checked softmax: it runs over C for each of the N·S rows. Only [`Softmax::geometry`]
/// makes one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SoftmaxGeometry {
    pub(crate) shape: Vec<usize>,
    pub(crate) n: usize,
    pub(crate) c: usize,
    pub(crate) s: usize,
}

impl SoftmaxGeometry {
    /// The shape, in and out.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }
    /// (N, C, S): C classes for each of N images at S positions.
    pub fn dims(&self) -> (usize, usize, usize) {
        (self.n, self.c, self.s)
    }
}
