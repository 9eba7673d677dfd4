//! `Launch`: kernel launches recorded once — pipelines, bound tensors, grids — and replayed
//! as often as needed. Each op records one (`record_conv2d`, `record_pool2d`, …); launches on
//! the same device chain into one, and [`Launch::run`] enqueues them as one command buffer
//! without waiting. Change the inputs between runs with [`Tensor::write`](crate::Tensor::write).
//!
//! ```
//! use dojang::ops::{Conv2d, ConvWeight, Pool2d, PoolKind, record_pool2d};
//! use dojang::{Gpu, Tensor};
//! let gpu = Gpu::new()?;
//! let x = Tensor::zeros(&gpu, &[1, 3, 32, 32])?;
//! let weight = ConvWeight::upload(&gpu, &vec![0.1; 8 * 3 * 3 * 3], None, [8, 3, 3, 3], 1)?;
//! let conv = Conv2d::default().with_relu(true);
//! let pool = Pool2d::new(PoolKind::Max, [2, 2], [2, 2]);
//! let (y, z) = (Tensor::zeros(&gpu, &[1, 8, 30, 30])?, Tensor::zeros(&gpu, &[1, 8, 15, 15])?);
//! let step = weight.record(&x, &y, &conv)?.then(record_pool2d(&y, &z, &pool)?)?;
//! for _ in 0..3 {
//!     x.write(&vec![1.0; 3 * 32 * 32])?;
//!     step.run()?;
//!     let out = z.download()?; // the only wait
//!     assert_eq!(out.len(), 8 * 15 * 15);
//! }
//! # Ok::<(), dojang::Error>(())
//! ```

use crate::error::{Error, Result};
use crate::gpu::Gpu;
use crate::pipeline::{Dispatch, Step};
use crate::submit::{Timing, encode};

/// Recorded kernel launches on one device, run in order.
pub struct Launch {
    gpu: Gpu,
    label: &'static str,
    kernel: String,
    steps: Vec<Step>,
}

impl Launch {
    pub(crate) fn new(gpu: &Gpu, label: &'static str, dispatches: Vec<Dispatch>) -> Launch {
        Launch::with_steps(gpu, label, dispatches.into_iter().map(Step::Dispatch).collect())
    }

    pub(crate) fn with_steps(gpu: &Gpu, label: &'static str, steps: Vec<Step>) -> Launch {
        Launch { gpu: gpu.clone(), label, kernel: label.to_string(), steps }
    }

    /// The same launch, described as running `kernel`.
    pub(crate) fn with_kernel(self, kernel: String) -> Launch {
        Launch { kernel, ..self }
    }

    /// The kernels recorded, by name (`gemm-16x16`, or `a + b` for a chain).
    pub fn kernel(&self) -> &str {
        &self.kernel
    }

    /// Enqueues the launches as one command buffer and returns without waiting.
    pub fn run(&self) -> Result<()> {
        self.gpu.submit(self.label, &self.steps).map(|_| ())
    }

    /// Records the launches into `encoder`, the app's own for this device, so that they run
    /// inside its frame, in order with what it records around them, when it submits the
    /// encoder. Nothing is submitted here; wgpu reports a mistake in the encoder (one of
    /// another device) when the app finishes it.
    pub fn encode(&self, encoder: &mut wgpu::CommandEncoder) -> Result<()> {
        self.gpu.check_alive()?;
        encode(encoder, self.label, &self.steps);
        Ok(())
    }

    /// Runs the launches, waits for them, and returns the seconds they took on the device:
    /// between GPU timestamps where the adapter has them ([`Gpu::has_timestamps`]), else the
    /// wall clock from submission to finish.
    pub fn time(&self) -> Result<f64> {
        let timing = self.gpu.submit_timed(self.label, &self.steps)?;
        self.gpu.finish_timing(self.label, timing)
    }

    /// These launches, then `next`'s: one recording, run as one command buffer.
    pub fn then(mut self, next: Launch) -> Result<Launch> {
        if next.gpu.id() != self.gpu.id() {
            return Err(Error::WrongDevice {
                op: "launch",
                what: "the next launch",
                tensor_device: next.gpu.id(),
                op_device: self.gpu.id(),
            });
        }
        self.steps.extend(next.steps);
        self.kernel = format!("{} + {}", self.kernel, next.kernel);
        Ok(self)
    }

    /// The recorded steps, in order.
    pub(crate) fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// The device the launches run on.
    pub fn gpu(&self) -> &Gpu {
        &self.gpu
    }

    /// Kernel launches recorded.
    pub fn len(&self) -> usize {
        self.steps.iter().filter(|s| matches!(s, Step::Dispatch(_))).count()
    }

    /// True when nothing is recorded (a view such as flatten records nothing).
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// Submits several recordings of one device as one command buffer, without waiting.
    pub(crate) fn submit_all<'a>(gpu: &Gpu, label: &str, launches: impl IntoIterator<Item = &'a Launch>) -> Result<()> {
        gpu.submit(label, launches.into_iter().flat_map(|l| &l.steps)).map(|_| ())
    }

    /// Like [`Launch::submit_all`], timed (see [`Launch::time`] and [`Gpu::finish_timing`]).
    pub(crate) fn submit_all_timed<'g, 'a>(
        gpu: &'g Gpu,
        label: &str,
        launches: impl IntoIterator<Item = &'a Launch>,
    ) -> Result<Timing<'g>> {
        gpu.submit_timed(label, launches.into_iter().flat_map(|l| &l.steps))
    }
}

impl std::fmt::Debug for Launch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Launch({}, {} dispatches on device #{})", self.label, self.len(), self.gpu.id())
    }
}
