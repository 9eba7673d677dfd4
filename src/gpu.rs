//! `Gpu`: one adapter's device and queue, its limits, and the pipelines built for it.
//!
//! Every wgpu call that can fail validation runs inside an error scope, so a mistake becomes
//! an [`Error`] rather than a panic in wgpu's default handler; device loss is recorded by a
//! callback and reported by the next call.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::Mutex;
use wgpu::util::DeviceExt;

use crate::error::{Error, Result};
use crate::pipeline::{self, Dispatch, Kernel, Pipeline, PipelineCache, Step};
use crate::timestamps::Timestamps;
use crate::tune::{Autotune, Tuner};

static NEXT_ID: AtomicU64 = AtomicU64::new(0);

/// Environment variable that picks the adapter: an index into [`adapters`] or a name substring.
pub const ADAPTER_ENV: &str = "DOJANG_ADAPTER";

/// What dojang reports about an adapter (the `devices` subcommand prints it).
#[derive(Clone, Debug)]
pub struct AdapterSummary {
    /// Position in the enumeration (what `DOJANG_ADAPTER=INDEX` takes).
    pub index: usize,
    /// Name, backend, type and driver.
    pub info: wgpu::AdapterInfo,
    /// The adapter's own limits.
    pub limits: wgpu::Limits,
    /// Optional features it has.
    pub features: wgpu::Features,
}

fn instance() -> wgpu::Instance {
    wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env())
}

/// Every adapter wgpu sees, in enumeration order (the order `DOJANG_ADAPTER=INDEX` uses).
pub fn adapters() -> Vec<AdapterSummary> {
    pollster::block_on(instance().enumerate_adapters(wgpu::Backends::all()))
        .into_iter()
        .enumerate()
        .map(|(index, a)| AdapterSummary { index, info: a.get_info(), limits: a.limits(), features: a.features() })
        .collect()
}

/// What a device holds now, from wgpu's own counters (a backend that keeps none reports 0s):
/// compare two readings to see that repeated work leaves nothing behind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MemoryCounters {
    /// Live buffers, dojang's and wgpu's own (uniforms, staging).
    pub buffers: isize,
    /// Live textures.
    pub textures: isize,
    /// Bytes of device memory held by buffers and textures.
    pub bytes: isize,
}

/// A GPU device and queue with dojang's pipeline cache. Cheap to clone; clones share the device.
#[derive(Clone)]
pub struct Gpu {
    inner: Arc<Inner>,
}

struct Inner {
    id: u64,
    info: wgpu::AdapterInfo,
    device: wgpu::Device,
    queue: wgpu::Queue,
    limits: wgpu::Limits,
    pipelines: PipelineCache,
    lost: Arc<Mutex<Option<String>>>,
    /// Bound where a kernel's optional input (a bias) is absent.
    placeholder: wgpu::Buffer,
    tuner: Tuner,
    /// Where the adapter has timestamp queries; locked for a timed submission's whole run.
    timestamps: Option<Mutex<Timestamps>>,
}

impl Gpu {
    /// Opens the adapter named by `DOJANG_ADAPTER`, or else the high-performance adapter.
    pub fn new() -> Result<Gpu> {
        Self::with_adapter(std::env::var(ADAPTER_ENV).ok().as_deref())
    }

    /// Opens the adapter that `selector` names (an index into [`adapters`] or a
    /// case-insensitive substring of its name); `None` takes the high-performance adapter.
    pub fn with_adapter(selector: Option<&str>) -> Result<Gpu> {
        let adapter = select_adapter(&instance(), selector)?;
        Self::open(&adapter)
    }

    /// Opens `n` devices: one per adapter when the machine has `n` adapters like the selected
    /// one (same name and backend), else `n` logical devices on that adapter, each with its
    /// own queue.
    pub fn open_group(n: usize, selector: Option<&str>) -> Result<Vec<Gpu>> {
        let instance = instance();
        let first = select_adapter(&instance, selector)?;
        let info = first.get_info();
        // One physical GPU can show once per backend: count only the selected backend's.
        let all = pollster::block_on(instance.enumerate_adapters(info.backend.into()));
        let same: Vec<_> = all.into_iter().filter(|a| a.get_info().name == info.name).collect();
        if same.len() >= n {
            return same.iter().take(n).map(Self::open).collect();
        }
        (0..n).map(|_| Self::open(&first)).collect()
    }

    fn open(adapter: &wgpu::Adapter) -> Result<Gpu> {
        let info = adapter.get_info();
        // The adapter's own limits: lavapipe's 128 MiB bindings, not wgpu's defaults.
        let limits = adapter.limits();
        let features = adapter.features() & wgpu::Features::TIMESTAMP_QUERY;
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("dojang"),
            required_features: features,
            required_limits: limits.clone(),
            experimental_features: wgpu::ExperimentalFeatures::disabled(),
            memory_hints: wgpu::MemoryHints::Performance,
            trace: wgpu::Trace::Off,
        }))
        .map_err(|e| Error::RequestDevice { adapter: info.name.clone(), reason: e.to_string() })?;

        let lost = Arc::new(Mutex::new(None));
        let lost_cb = lost.clone();
        device.set_device_lost_callback(move |reason, message| {
            *lost_cb.lock() = Some(format!("{reason:?}: {message}"));
        });
        // Errors outside a scope are logged, never a panic inside wgpu's callback.
        device.on_uncaptured_error(Arc::new(|e| log::error!("uncaptured wgpu error: {e}")));
        let placeholder = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("placeholder"),
            size: 16,
            usage: wgpu::BufferUsages::STORAGE,
            mapped_at_creation: false,
        });
        let tuner = Tuner::new(Autotune::from_env(), &info);
        let timestamps =
            features.contains(wgpu::Features::TIMESTAMP_QUERY).then(|| Mutex::new(Timestamps::new(&device, &queue)));
        Ok(Gpu {
            inner: Arc::new(Inner {
                id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
                info,
                device,
                queue,
                limits,
                pipelines: PipelineCache::default(),
                lost,
                placeholder,
                tuner,
                timestamps,
            }),
        })
    }

    /// A number that identifies this device in messages (`device #1`).
    pub fn id(&self) -> u64 {
        self.inner.id
    }

    /// The adapter behind this device.
    pub fn info(&self) -> &wgpu::AdapterInfo {
        &self.inner.info
    }

    /// The limits the device was opened with (the adapter's own).
    pub fn limits(&self) -> &wgpu::Limits {
        &self.inner.limits
    }

    pub(crate) fn device(&self) -> &wgpu::Device {
        &self.inner.device
    }

    pub(crate) fn queue(&self) -> &wgpu::Queue {
        &self.inner.queue
    }

    pub(crate) fn placeholder(&self) -> &wgpu::Buffer {
        &self.inner.placeholder
    }

    pub(crate) fn tuner(&self) -> &Tuner {
        &self.inner.tuner
    }

    /// How this device picks among candidate kernels (from `DOJANG_AUTOTUNE` and
    /// `DOJANG_AUTOTUNE_CACHE` when it opens).
    pub fn set_autotune(&self, mode: Autotune) {
        self.inner.tuner.set_mode(mode);
    }

    /// Candidate kernels this device has timed while autotuning.
    pub fn autotune_trials(&self) -> u64 {
        self.inner.tuner.trials()
    }

    /// Live buffers, textures and the bytes they hold on this device. Finished work's
    /// temporaries are counted until the device reclaims them: call [`Gpu::wait_idle`] first.
    pub fn memory(&self) -> MemoryCounters {
        let hal = self.inner.device.get_internal_counters().hal;
        MemoryCounters {
            buffers: hal.buffers.read(),
            textures: hal.textures.read(),
            bytes: hal.buffer_memory.read() + hal.texture_memory.read(),
        }
    }

    /// The largest buffer a kernel can bind, in bytes.
    pub fn max_binding_bytes(&self) -> u64 {
        self.inner.limits.max_storage_buffer_binding_size.min(self.inner.limits.max_buffer_size)
    }

    /// Gives the device up now, as a driver reset would take it: every later call on this
    /// `Gpu`, its clones and its tensors fails fast with [`Error::DeviceLost`].
    pub fn destroy(&self) {
        self.inner.device.destroy();
    }

    /// Fails with [`Error::DeviceLost`] once the device is gone.
    pub(crate) fn check_alive(&self) -> Result<()> {
        match self.inner.lost.lock().as_ref() {
            Some(reason) => Err(Error::DeviceLost(reason.clone())),
            None => Ok(()),
        }
    }

    /// Runs `f` inside validation and out-of-memory error scopes; their errors become `Err`.
    pub(crate) fn scoped<T>(&self, op: &str, f: impl FnOnce() -> T) -> Result<T> {
        self.check_alive()?;
        let oom = self.inner.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let validation = self.inner.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let value = f();
        let errors = [pollster::block_on(validation.pop()), pollster::block_on(oom.pop())];
        if let Some(e) = errors.into_iter().flatten().next() {
            return Err(Error::Wgpu { op: op.to_string(), message: e.to_string() });
        }
        self.check_alive()?;
        Ok(value)
    }

    /// A storage buffer holding `data`.
    pub(crate) fn storage_buffer(&self, op: &str, data: &[u8]) -> Result<wgpu::Buffer> {
        self.scoped(op, || {
            self.inner.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(op),
                contents: data,
                usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST,
            })
        })
    }

    /// The pipeline for `kernel` with these override values, built on first use.
    pub(crate) fn pipeline(&self, kernel: &Kernel, overrides: &[(&'static str, u32)]) -> Result<Arc<Pipeline>> {
        let device = &self.inner.device;
        self.inner
            .pipelines
            .get_or_build(kernel, overrides, || self.scoped(kernel.name, || pipeline::build(device, kernel, overrides)))
    }

    /// Records a launch of `kernel` over `workgroups` with `resources` bound in the kernel's
    /// binding order and `params` as its trailing uniform.
    pub(crate) fn dispatch(
        &self,
        kernel: &Kernel,
        overrides: &[(&'static str, u32)],
        resources: &[wgpu::BindingResource<'_>],
        params: &[u8],
        workgroups: [u32; 3],
    ) -> Result<Dispatch> {
        debug_assert_eq!(params.len(), kernel.uniform_size, "{}: uniform size", kernel.name);
        debug_assert_eq!(resources.len() + 1, kernel.bindings.len(), "{}: bindings", kernel.name);
        let limit = self.inner.limits.max_compute_workgroups_per_dimension;
        if let Some(&n) = workgroups.iter().find(|&&n| n > limit) {
            return Err(Error::Limit {
                op: kernel.name,
                what: format!("a grid of {workgroups:?} workgroups ({n} in one dimension)"),
                needed: n as u64,
                limit: limit as u64,
            });
        }
        let pipeline = self.pipeline(kernel, overrides)?;
        let device = &self.inner.device;
        let bind_group = self.scoped(kernel.name, || {
            let uniform = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(kernel.name),
                contents: params,
                usage: wgpu::BufferUsages::UNIFORM,
            });
            let mut entries: Vec<_> = resources
                .iter()
                .enumerate()
                .map(|(i, r)| wgpu::BindGroupEntry { binding: i as u32, resource: r.clone() })
                .collect();
            entries
                .push(wgpu::BindGroupEntry { binding: resources.len() as u32, resource: uniform.as_entire_binding() });
            device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some(kernel.name),
                layout: &pipeline.layout,
                entries: &entries,
            })
        })?;
        Ok(Dispatch { pipeline, bind_group, workgroups })
    }

    /// Submits `steps` in order as one command buffer, without waiting.
    pub(crate) fn submit<'a>(
        &self,
        label: &str,
        steps: impl IntoIterator<Item = &'a Step>,
    ) -> Result<wgpu::SubmissionIndex> {
        self.scoped(label, || {
            let mut encoder =
                self.inner.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some(label) });
            encode(&mut encoder, label, steps);
            self.inner.queue.submit([encoder.finish()])
        })
    }

    /// True when the device can time its work itself (timestamp queries), so that
    /// `Launch::time` reports GPU time rather than the wall clock.
    pub fn has_timestamps(&self) -> bool {
        self.inner.timestamps.is_some()
    }

    /// Submits `steps` as [`Gpu::submit`] does, timed: [`Gpu::finish_timing`] waits for them
    /// and returns the seconds they took on the device, between timestamps written before and
    /// after them, or where the adapter has none, the wall clock from submission to finish.
    pub(crate) fn submit_timed<'a>(
        &self,
        label: &str,
        steps: impl IntoIterator<Item = &'a Step>,
    ) -> Result<Timing<'_>> {
        let Some(timestamps) = &self.inner.timestamps else {
            let start = std::time::Instant::now();
            return Ok(Timing::Wall(start, self.submit(label, steps)?));
        };
        let timestamps = timestamps.lock();
        self.scoped(label, || {
            let mut encoder =
                self.inner.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some(label) });
            timestamps.mark(&mut encoder, 0);
            encode(&mut encoder, label, steps);
            timestamps.mark(&mut encoder, 1);
            timestamps.resolve(&mut encoder);
            self.inner.queue.submit([encoder.finish()]);
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
        self.inner.device.poll(poll).map_err(|e| Error::Wgpu { op: label.to_string(), message: e.to_string() })?;
        self.check_alive()
    }

    /// Blocks until every op enqueued on this device has finished. Ops do not wait (only
    /// downloads do); call this to time them or to bound the work in flight.
    pub fn wait_idle(&self) -> Result<()> {
        self.wait("wait_idle", None)
    }
}

/// A submission being timed (see [`Gpu::submit_timed`]).
pub(crate) enum Timing<'a> {
    Wall(std::time::Instant, wgpu::SubmissionIndex),
    /// The device's timestamps, held until they are read back.
    Timestamps(parking_lot::MutexGuard<'a, Timestamps>),
}

/// Records `steps` in order: runs of launches in compute passes, copies between them.
fn encode<'a>(encoder: &mut wgpu::CommandEncoder, label: &str, steps: impl IntoIterator<Item = &'a Step>) {
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

impl std::fmt::Debug for Gpu {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Gpu(#{} {} on {:?})", self.inner.id, self.inner.info.name, self.inner.info.backend)
    }
}

fn select_adapter(instance: &wgpu::Instance, selector: Option<&str>) -> Result<wgpu::Adapter> {
    let all = pollster::block_on(instance.enumerate_adapters(wgpu::Backends::all()));
    if all.is_empty() {
        return Err(Error::NoAdapter);
    }
    let Some(wanted) = selector.map(str::trim).filter(|s| !s.is_empty()) else {
        return pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions {
            power_preference: wgpu::PowerPreference::HighPerformance,
            force_fallback_adapter: false,
            compatible_surface: None,
            apply_limit_buckets: false,
        }))
        .map_err(|_| Error::NoAdapter);
    };
    let infos: Vec<_> = all.iter().map(wgpu::Adapter::get_info).collect();
    Ok(all[pick(&infos, wanted)?].clone())
}

/// The index among [`adapters`] that `selector` names (as [`Gpu::with_adapter`] reads it),
/// without opening a device: [`Error::AdapterNotFound`] lists those there are.
pub fn find_adapter(selector: &str) -> Result<usize> {
    let infos: Vec<_> = adapters().into_iter().map(|a| a.info).collect();
    if infos.is_empty() {
        return Err(Error::NoAdapter);
    }
    pick(&infos, selector.trim())
}

/// An index, or a case-insensitive substring of an adapter's name.
fn pick(infos: &[wgpu::AdapterInfo], wanted: &str) -> Result<usize> {
    let found = match wanted.parse::<usize>() {
        Ok(i) => (i < infos.len()).then_some(i),
        Err(_) => {
            let needle = wanted.to_lowercase();
            infos.iter().position(|a| a.name.to_lowercase().contains(&needle))
        }
    };
    found.ok_or_else(|| Error::AdapterNotFound {
        wanted: wanted.to_string(),
        available: infos
            .iter()
            .enumerate()
            .map(|(i, a)| format!("{i}: {} ({:?})", a.name, a.backend))
            .collect::<Vec<_>>()
            .join(", "),
    })
}
