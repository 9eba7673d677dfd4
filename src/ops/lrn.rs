//! Local response normalisation across channels, as in AlexNet (ONNX/PyTorch semantics:
//! alpha is divided by the window size).

use bytemuck::{Pod, Zeroable};

use crate::error::{Error, Result};
use crate::gpu::Dispatch;
use crate::ops::{blocks, check_rank, check_same_device};
use crate::pipeline::{Access, Kernel, fold_grid};
use crate::tensor::Tensor;

pub(crate) const LRN: Kernel = Kernel {
    name: "lrn",
    source: include_str!("../../shaders/lrn.wgsl"),
    entry: "main",
    bindings: &[Access::Read, Access::ReadWrite, Access::Uniform],
};

/// LRN attributes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Lrn {
    /// Channels in the window; odd, so that the window centres on its channel.
    pub size: usize,
    pub alpha: f32,
    pub beta: f32,
    pub k: f32,
    /// Channel groups the window never crosses (2: AlexNet's per-GPU normalisation).
    pub groups: usize,
}

impl Lrn {
    /// AlexNet's values: size 5, alpha 1e-4, beta 0.75, k 2, one group.
    pub fn alexnet() -> Lrn {
        Lrn { size: 5, alpha: 1e-4, beta: 0.75, k: 2.0, groups: 1 }
    }
    pub fn with_groups(self, groups: usize) -> Lrn {
        Lrn { groups, ..self }
    }

    /// Checks the attributes against input [N, C, H, W].
    pub fn check(&self, x: &[usize]) -> Result<()> {
        const OP: &str = "lrn";
        check_rank(OP, "input", x, 4)?;
        if self.size == 0 || self.size % 2 == 0 {
            return Err(Error::Attribute {
                op: OP,
                message: format!("size must be odd (a window centred on each channel), got {}", self.size),
            });
        }
        if self.groups == 0 || x[1] % self.groups != 0 {
            return Err(Error::Groups { op: OP, what: "channels", channels: x[1], groups: self.groups });
        }
        Ok(())
    }
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct LrnUniform {
    n: u32,
    c: u32,
    hw: u32,
    size: u32,
    channels_per_group: u32,
    alpha: f32,
    beta: f32,
    k: f32,
}

/// Normalises `x` across channels.
pub fn lrn(x: &Tensor, attrs: &Lrn) -> Result<Tensor> {
    attrs.check(x.shape())?;
    let y = Tensor::zeros(x.gpu(), x.shape())?;
    let d = plan(x, &y, attrs)?;
    x.gpu().run("lrn", &[&d])?;
    Ok(y)
}

/// Records LRN from `x` into `y` (same shape).
pub(crate) fn plan(x: &Tensor, y: &Tensor, attrs: &Lrn) -> Result<Dispatch> {
    attrs.check(x.shape())?;
    check_same_device("lrn", &[("input", Some(x)), ("output", Some(y))])?;
    if y.shape() != x.shape() {
        return Err(Error::Mismatch { op: "lrn", a: x.shape().into(), b: y.shape().into() });
    }
    let s = x.shape();
    let params = LrnUniform {
        n: s[0] as u32,
        c: s[1] as u32,
        hw: (s[2] * s[3]) as u32,
        size: attrs.size as u32,
        channels_per_group: (s[1] / attrs.groups) as u32,
        alpha: attrs.alpha,
        beta: attrs.beta,
        k: attrs.k,
    };
    let gpu = x.gpu();
    let grid = fold_grid(blocks(x.len(), 64), gpu.limits().max_compute_workgroups_per_dimension);
    gpu.dispatch(&LRN, &[("WG", 64)], &[x.buffer(), y.buffer()], bytemuck::bytes_of(&params), grid)
}
