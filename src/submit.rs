//! Submitting recorded work to a [`Gpu`]: steps encoded into one command buffer (launches in
//! compute passes, copies between them), timed between GPU timestamps or by the wall clock,
//! waited for, and buffers read back.

use crate::error::{Error, Result};
use crate::gpu::Gpu;
use crate::pipeline::Step;
use crate::timestamps::Timestamps;

/// A submission being timed (see [`Gpu::submit_timed`]).
pub(crate) enum Timing<'a> {
    Wall(std::time::Instant, wgpu::SubmissionIndex),
    /// The device's timestamps, held until they are read back.
    Timestamps(parking_lot::MutexGuard<'a, Timestamps>),
}

impl Gpu {
    /// Submits `steps` in order as one command buffer, without waiting.
    pub(crate) fn submit<'a>(
        &self,
        label: &str,
        steps: impl IntoIterator<Item = &'a Step>,
    ) -> Result<wgpu::SubmissionIndex> {
        self.scoped(label, || {
            let mut encoder =
                self.device().create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some(label) });
            encode(&mut encoder, label, steps);
            self.queue().submit([encoder.finish()])
        })
    }

    /// Submits `steps` as [`Gpu::submit`] does, timed: [`Gpu::finish_timing`] waits for them
    /// and returns the seconds they took on the device, between timestamps written before and
    /// after them, or where the adapter has none, the wall clock from submission to finish.
    pub(crate) fn submit_timed<'a>(
        &self,
        label: &str,
        steps: impl IntoIterator<Item = &'a Step>,
    ) -> Result<Timing<'_>> {
        let Some(timestamps) = self.timestamps() else {
            let start = std::time::Instant::now();
            return Ok(Timing::Wall(start, self.submit(label, steps)?));
        };
        let timestamps = timestamps.lock();
        self.scoped(label, || {
            let mut encoder =
                self.device().create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some(label) });
            timestamps.mark(&mut encoder, 0);
            encode(&mut encoder, label, steps);
            timestamps.mark(&mut encoder, 1);
            timestamps.resolve(&mut encoder);
            self.queue().submit([encoder.finish()]);
        })?;
        Ok(Timing::Timestamps(timestamps))
    }

    /// Waits for a timed submission: its seconds on the device.
    pub(crate) fn finish_timing(&self, label: &str, timing: Timing<'_>) -> Result<f64> {
        match timing {
            Timing::Wall(start, index) => {
                self.wait(label, Some(index))?;
                Ok(start.elapsed().as_secs_f64())
            }
            Timing::Timestamps(t) => {
                let bytes = pollster::block_on(self.read_mapped(label, &t.readback, Timestamps::BYTES))?;
                Ok(t.seconds(&bytes))
            }
        }
    }

    /// Maps `buffer` (host-readable, its copies already submitted), waits until it is mapped,
    /// and copies its first `bytes` out.
    pub(crate) async fn read_mapped(&self, label: &str, buffer: &wgpu::Buffer, bytes: u64) -> Result<Vec<u8>> {
        let (sender, receiver) = futures_intrusive::channel::shared::oneshot_channel();
        buffer.slice(..bytes).map_async(wgpu::MapMode::Read, move |r| {
            let _ = sender.send(r);
        });
        self.wait(label, None)?;
        match receiver.receive().await {
            Some(Ok(())) => {}
            Some(Err(e)) => return Err(Error::Map(e.to_string())),
            None => return Err(Error::Map("the map callback never ran".into())),
        }
        let data = buffer.slice(..bytes).get_mapped_range().map_err(|e| Error::Map(e.to_string()))?.to_vec();
        buffer.unmap();
        Ok(data)
    }

    /// Blocks until the submission (or all work, with `None`) has finished.
    pub(crate) fn wait(&self, label: &str, index: Option<wgpu::SubmissionIndex>) -> Result<()> {
        let poll = match index {
            Some(i) => wgpu::PollType::Wait { submission_index: Some(i), timeout: None },
            None => wgpu::PollType::wait_indefinitely(),
        };
        self.device().poll(poll).map_err(|e| Error::Wgpu { op: label.to_string(), message: e.to_string() })?;
        self.check_alive()
    }

    /// Blocks until every op enqueued on this device has finished. Ops do not wait (only
    /// downloads do); call this to time them or to bound the work in flight.
    pub fn wait_idle(&self) -> Result<()> {
        self.wait("wait_idle", None)
    }
}

/// Records `steps` in order: runs of launches in compute passes, copies between them.
pub(crate) fn encode<'a>(encoder: &mut wgpu::CommandEncoder, label: &str, steps: impl IntoIterator<Item = &'a Step>) {
    let mut steps = steps.into_iter().peekable();
    while steps.peek().is_some() {
        let mut pass = encoder
            .begin_compute_pass(&wgpu::ComputePassDescriptor { label: Some(label), timestamp_writes: None })
            .forget_lifetime();
        while let Some(Step::Dispatch(d)) = steps.next_if(|s| matches!(s, Step::Dispatch(_))) {
            d.record(&mut pass);
        }
        drop(pass);
        while let Some(copy) = steps.next_if(|s| !matches!(s, Step::Dispatch(_))) {
            copy.encode_copy(encoder);
        }
    }
}
