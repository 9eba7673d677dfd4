//! GPU time of one submission, from timestamp queries: one written as the command buffer
//! starts, one as it ends, resolved into a buffer and read back. Made once per device, on
//! adapters that have `TIMESTAMP_QUERY`; without it, timings fall back to the wall clock.

/// A query set of two timestamps and the buffers they come back through.
pub(crate) struct Timestamps {
    set: wgpu::QuerySet,
    resolved: wgpu::Buffer,
    pub(crate) readback: wgpu::Buffer,
    /// Nanoseconds per timestamp tick.
    period_ns: f64,
}

const BYTES: u64 = 2 * size_of::<u64>() as u64;

impl Timestamps {
    pub(crate) fn new(device: &wgpu::Device, queue: &wgpu::Queue) -> Timestamps {
        let buffer = |label, usage| {
            device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size: BYTES,
                usage,
                mapped_at_creation: false,
            })
        };
        use wgpu::BufferUsages as U;
        Timestamps {
            set: device.create_query_set(&wgpu::QuerySetDescriptor {
                label: Some("timestamps"),
                ty: wgpu::QueryType::Timestamp,
                count: 2,
            }),
            resolved: buffer("timestamps", U::QUERY_RESOLVE | U::COPY_SRC),
            readback: buffer("timestamps readback", U::MAP_READ | U::COPY_DST),
            period_ns: queue.get_timestamp_period() as f64,
        }
    }

    /// An empty compute pass that writes timestamp `index` (0: start, 1: end) as it begins.
    pub(crate) fn mark(&self, encoder: &mut wgpu::CommandEncoder, index: u32) {
        let writes = wgpu::ComputePassTimestampWrites {
            query_set: &self.set,
            beginning_of_pass_write_index: Some(index),
            end_of_pass_write_index: None,
        };
        encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
            label: Some("timestamp"),
            timestamp_writes: Some(writes),
        });
    }

    /// Resolves both timestamps into the readback buffer (after the end mark).
    pub(crate) fn resolve(&self, encoder: &mut wgpu::CommandEncoder) {
        encoder.resolve_query_set(&self.set, 0..2, &self.resolved, 0);
        encoder.copy_buffer_to_buffer(&self.resolved, 0, &self.readback, 0, BYTES);
    }

    /// Seconds between the two marks, from the readback buffer's bytes.
    pub(crate) fn seconds(&self, bytes: &[u8]) -> f64 {
        let ticks: &[u64] = bytemuck::cast_slice(bytes);
        ticks[1].saturating_sub(ticks[0]) as f64 * self.period_ns * 1e-9
    }

    pub(crate) const BYTES: u64 = BYTES;
}
