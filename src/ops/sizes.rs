//! Sizes as the kernels take them: 32-bit uniform fields and workgroup counts.

use crate::error::{Error, Result};
use crate::gpu::Gpu;

/// A size or attribute as the kernels' 32-bit uniforms hold it, or an error naming it.
pub(crate) fn to_u32(op: &'static str, what: &str, value: usize) -> Result<u32> {
    u32::try_from(value).map_err(|_| Error::Limit {
        op,
        what: format!("{what} = {value} in a 32-bit kernel parameter"),
        needed: value as u64,
        limit: u32::MAX as u64,
    })
}

/// The ragged-workgroup count for `items` spread over groups of `per_group`.
pub(crate) fn blocks(items: usize, per_group: usize) -> u32 {
    u32::try_from(items.div_ceil(per_group)).unwrap_or(u32::MAX)
}

/// The largest workgroup count per grid dimension.
pub(crate) fn max_groups(gpu: &Gpu) -> u32 {
    gpu.limits().max_compute_workgroups_per_dimension
}
