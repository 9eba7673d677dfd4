//! Softmax over the channel dimension (dimension 1) on the GPU, numerically stable.

use crate::attrs::{Softmax, SoftmaxGeometry};
use crate::error::{Error, Result};
use crate::launch::Launch;
use crate::ops::checks::{check_output, check_same_device};
use crate::ops::cut::Slab;
use crate::ops::record::{into_new, staged_launch};
use crate::ops::sizes::{max_groups, to_u32};
use crate::ops::wgsl::wgsl;
use crate::pipeline::{Access, Kernel, UniformLayout, fold_grid, uniform_struct};
use crate::tensor::Tensor;
use crate::texture::LinearTexture;

pub(crate) const SOFTMAX: Kernel = Kernel {
    name: "softmax",
    source: wgsl!("linear_texture", "softmax"),
    entry: "softmax",
    bindings: &[Access::TextureRead, Access::ReadWrite, Access::Uniform],
    uniform: UniformLayout::of::<SoftmaxUniforms>(),
    overrides: &["LANES", "WG", "TEX_SHIFT", "WHOLE"],
};

/// The most lanes a row takes.
const MAX_LANES: u32 = 256;

/// Steps of 4 classes a lane may take per pass: three passes within llvmpipe's 65,535 loop
/// iterations per invocation, with room for the reductions.
const STEPS: usize = 21_000;

uniform_struct! {
    /// Field order matches `Uniforms` in shaders/softmax.wgsl.
    struct SoftmaxUniforms {
        rows: u32,
        c: u32,
        s: u32,
        _pad: u32,
    }
}

/// Softmax of `x` over dimension 1, enqueued.
pub fn softmax(x: &Tensor) -> Result<Tensor> {
    let geo = Softmax.geometry(x.shape())?;
    into_new(x.gpu(), geo.shape(), |y| record(&geo, x, y))
}

/// Records softmax from `x` into `y` (same shape).
pub fn record_softmax(x: &Tensor, y: &Tensor) -> Result<Launch> {
    record(&Softmax.geometry(x.shape())?, x, y)
}

/// Records the softmax `geo` (checked) of `x` into `y`.
fn record(geo: &SoftmaxGeometry, x: &Tensor, y: &Tensor) -> Result<Launch> {
    const OP: &str = "softmax";
    check_same_device(OP, &[("input", Some(x)), ("output", Some(y))])?;
    check_output(OP, y, geo.shape())?;
    let (n, c, s) = geo.dims();
    let gpu = x.gpu();
    let max_classes = STEPS * 4 * MAX_LANES as usize;
    if c > max_classes {
        return Err(Error::Limit {
            op: OP,
            what: format!("a softmax over {c} classes"),
            needed: c as u64,
            limit: max_classes as u64,
        });
    }
    // Past a binding: parts of images or positions, each a softmax of its own.
    let slab = Slab::rowwise(n, c, s, 1);
    let parts = slab.parts(OP, |images, rows| slab.fits_device(gpu, images, rows))?;
    if parts.len() > 1 {
        return slab.record(OP, x, y, &parts, false, |xt, yt, _| record_softmax(xt, yt));
    }
    let rows = to_u32(OP, "rows", n * s)?;
    let uniforms = SoftmaxUniforms { rows, c: to_u32(OP, "classes", c)?, s: to_u32(OP, "positions", s)?, _pad: 0 };
    // The fewest lanes a row that keep to the loop budget: one, when there are rows enough to
    // fill a SIMD row of 8, else 8. Lanes that share a row combine their values through
    // workgroup memory and barriers, which cost more than the rows' work at 1,000 classes
    // (64 rows: 0.63 ms with 8 lanes a row, 0.32–0.42 with 1).
    let budget = c.div_ceil(4 * STEPS).next_power_of_two() as u32;
    let lanes = budget.max(if rows >= 8 { 1 } else { 8 }).min(MAX_LANES);
    let wg = lanes.max(8);
    let grid = fold_grid(rows.div_ceil(wg / lanes), max_groups(gpu));
    let whole = s == 1 && c.is_multiple_of(4);
    let overrides = [("LANES", lanes), ("WG", wg), LinearTexture::OVERRIDE, ("WHOLE", whole as u32)];
    staged_launch(&SOFTMAX, &overrides, x, y, bytemuck::bytes_of(&uniforms), grid)
}
