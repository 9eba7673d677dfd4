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
/// A workgroup of `size` invocations over `columns` a row: along the row, up to `size`, and the
/// rest over rows (channels), so that few columns leave no lane idle (llvmpipe runs a
/// workgroup's lanes in SIMD rows whether they have work or not, and each workgroup costs).
pub(crate) fn workgroup(columns: usize, size: u32) -> (u32, u32) {
    let x = (columns.next_power_of_two() as u32).clamp(1, size);
    (x, size / x)
}

pub(crate) fn max_groups(gpu: &Gpu) -> u32 {
    gpu.limits().max_compute_workgroups_per_dimension
}

/// A stretch of a tensor bound on its own: `len` units from unit `first`, a unit being
/// `unit` bytes (4 for an f32, 16 for a vec4).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Chunk {
    pub(crate) first: usize,
    pub(crate) len: usize,
    pub(crate) unit: usize,
}

impl Chunk {
    /// `buffer`'s bytes of this chunk, as a binding.
    pub(crate) fn window<'a>(&self, buffer: &'a wgpu::Buffer) -> wgpu::BindingResource<'a> {
        wgpu::BindingResource::Buffer(wgpu::BufferBinding {
            buffer,
            offset: (self.unit * self.first) as u64,
            size: std::num::NonZeroU64::new((self.unit * self.len) as u64),
        })
    }
}

/// Units of `unit` bytes between the offsets at which the device may start a binding.
pub(crate) fn offset_align(gpu: &Gpu, unit: usize) -> usize {
    (gpu.limits().min_storage_buffer_offset_alignment as usize / unit).max(1)
}

/// `count` units of `unit` bytes cut into chunks that each fit one storage binding and start
/// at an offset the device aligns: how an element-wise kernel runs over a tensor past a
/// binding.
pub(crate) fn chunks(gpu: &Gpu, count: usize, unit: usize) -> Vec<Chunk> {
    let align = offset_align(gpu, unit);
    let most = ((gpu.max_binding_bytes() / unit as u64) as usize / align * align).clamp(1, count.max(1));
    (0..count).step_by(most).map(|first| Chunk { first, len: most.min(count - first), unit }).collect()
}
