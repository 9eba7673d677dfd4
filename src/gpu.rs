//! `Gpu`: one adapter's device and queue, its limits, and the pipelines built for it; the
//! error scopes every call runs in, and the recording of kernel launches. Submitting them, and
//! reading results back, is `submit.rs`.
//!
//! Every wgpu call that can fail validation runs inside an error scope, so a mistake becomes
//! an [`Error`] rather than a panic in wgpu's default handler; device loss is recorded by a
//! callback and reported by the next call.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::Mutex;
use wgpu::util::DeviceExt;

use crate::adapter::{ADAPTER_ENV, instance, select_adapter};
use crate::autotune_cache::{Autotune, Tuner};
use crate::error::{Error, Result};
use crate::pipeline::{self, Dispatch, Kernel, Pipeline, PipelineCache};
use crate::timestamps::Timestamps;

static NEXT_ID: AtomicU64 = AtomicU64::new(0);

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
    /// Bound where a kernel's optional input (a bias) is absent, and where its optional
    /// read-write buffer is (one buffer cannot be bound both ways in one dispatch).
    placeholder: wgpu::Buffer,
    placeholder_rw: wgpu::Buffer,
    tuner: Tuner,
    /// Where the adapter has timestamp queries; locked for a timed submission's whole run.
    timestamps: Option<Mutex<Timestamps>>,
}

impl Gpu {
    /// Opens the adapter named by `DOJANG_ADAPTER`, or else the high-performance adapter.
    pub fn new() -> Result<Gpu> {
        Self::with_adapter(std::env::var(ADAPTER_ENV).ok().as_deref())
    }

    /// Opens the adapter that `selector` names (an index into
    /// [`adapters`](crate::adapter::adapters) or a case-insensitive substring of its name);
    /// `None` takes the high-performance adapter.
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
            required_limits: limits,
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
        Ok(Self::wrap(info, device, queue, lost))
    }

    /// Runs on a device the application opened: `adapter` is the one it came from, `device`
    /// and `queue` its own (clones of the handles; the app keeps them). dojang reads the
    /// device's limits and features and asks for nothing more: it uses timestamp queries
    /// where the app enabled them, and needs compute shaders and WebGPU's default compute
    /// limits ([`requirements`]), else [`Error::DeviceLacks`] names the first one missing.
    /// Work is submitted on `queue`, in order with the app's own submissions. The device's
    /// lost callback and uncaptured-error handler stay the app's: dojang sets neither (its
    /// calls still report validation errors through error scopes).
    pub fn from_wgpu(adapter: &wgpu::Adapter, device: &wgpu::Device, queue: &wgpu::Queue) -> Result<Gpu> {
        if !adapter.get_downlevel_capabilities().flags.contains(wgpu::DownlevelFlags::COMPUTE_SHADERS) {
            return Err(Error::DeviceLacks { what: "compute shaders".into(), needed: 1, has: 0 });
        }
        let limits = device.limits();
        if let Some((what, needed, has)) = requirements().into_iter().find(|(_, needed, get)| get(&limits) < *needed) {
            let has = has(&limits);
            return Err(Error::DeviceLacks { what: format!("limit {what}"), needed, has });
        }
        Ok(Self::wrap(adapter.get_info(), device.clone(), queue.clone(), Arc::new(Mutex::new(None))))
    }

    /// dojang's state around an open device; `lost` is set by the device-lost callback, where
    /// dojang owns the device.
    fn wrap(
        info: wgpu::AdapterInfo,
        device: wgpu::Device,
        queue: wgpu::Queue,
        lost: Arc<Mutex<Option<String>>>,
    ) -> Gpu {
        let limits = device.limits();
        let [placeholder, placeholder_rw] = ["placeholder", "read-write placeholder"].map(|label| {
            device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size: 16,
                usage: wgpu::BufferUsages::STORAGE,
                mapped_at_creation: false,
            })
        });
        let tuner = Tuner::new(Autotune::from_env(), Tuner::device_of(&info));
        let timestamps = (device.features().contains(wgpu::Features::TIMESTAMP_QUERY))
            .then(|| Mutex::new(Timestamps::new(&device, &queue)));
        Gpu {
            inner: Arc::new(Inner {
                id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
                info,
                device,
                queue,
                limits,
                pipelines: PipelineCache::default(),
                lost,
                placeholder,
                placeholder_rw,
                tuner,
                timestamps,
            }),
        }
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

    /// The wgpu device: the app's own where it came from [`Gpu::from_wgpu`].
    pub fn device(&self) -> &wgpu::Device {
        &self.inner.device
    }

    /// The queue dojang submits its work on.
    pub fn queue(&self) -> &wgpu::Queue {
        &self.inner.queue
    }

    pub(crate) fn placeholder(&self) -> &wgpu::Buffer {
        &self.inner.placeholder
    }

    pub(crate) fn placeholder_rw(&self) -> &wgpu::Buffer {
        &self.inner.placeholder_rw
    }

    pub(crate) fn tuner(&self) -> &Tuner {
        &self.inner.tuner
    }

    /// The device's timestamp queries, where the adapter has them.
    pub(crate) fn timestamps(&self) -> Option<&Mutex<Timestamps>> {
        self.inner.timestamps.as_ref()
    }

    /// True when the device can time its work itself (timestamp queries), so that
    /// `Launch::time` reports GPU time rather than the wall clock.
    pub fn has_timestamps(&self) -> bool {
        self.inner.timestamps.is_some()
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

    /// Fails with [`Error::ForeignResource`] where `touch`, which names an app's `what` in a
    /// call on this device (a command recorded and never submitted, a bind group), finds it
    /// made on another device. The caller checks usages first: what fails here is the device.
    pub(crate) fn check_owns(
        &self,
        op: &'static str,
        what: &'static str,
        touch: impl FnOnce(&wgpu::Device),
    ) -> Result<()> {
        match self.scoped(op, || touch(&self.inner.device)) {
            Err(Error::Wgpu { .. }) => Err(Error::ForeignResource { op, what, device: self.id() }),
            other => other,
        }
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
    /// binding order and `uniform` as its trailing uniform.
    pub(crate) fn dispatch(
        &self,
        kernel: &Kernel,
        overrides: &[(&'static str, u32)],
        resources: &[wgpu::BindingResource<'_>],
        uniform: &[u8],
        workgroups: [u32; 3],
    ) -> Result<Dispatch> {
        debug_assert_eq!(uniform.len(), kernel.uniform.size, "{}: uniform size", kernel.name);
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
                contents: uniform,
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
}

/// A limit a device must meet for dojang: its name, the least value, and how to read it.
pub type Requirement = (&'static str, u64, fn(&wgpu::Limits) -> u64);

/// What dojang's kernels need of a device's limits: WebGPU's defaults for compute (every
/// adapter that runs compute shaders has them). Above them, dojang reads what the device has
/// (its largest binding, its workgroups per dimension) and cuts its work to fit.
pub fn requirements() -> Vec<Requirement> {
    vec![
        ("max_bind_groups", 1, |l| l.max_bind_groups.into()),
        ("max_bindings_per_bind_group", 8, |l| l.max_bindings_per_bind_group.into()),
        ("max_storage_buffers_per_shader_stage", 8, |l| l.max_storage_buffers_per_shader_stage.into()),
        ("max_storage_textures_per_shader_stage", 4, |l| l.max_storage_textures_per_shader_stage.into()),
        ("max_sampled_textures_per_shader_stage", 1, |l| l.max_sampled_textures_per_shader_stage.into()),
        ("max_uniform_buffers_per_shader_stage", 1, |l| l.max_uniform_buffers_per_shader_stage.into()),
        ("max_compute_invocations_per_workgroup", 256, |l| l.max_compute_invocations_per_workgroup.into()),
        ("max_compute_workgroup_size_x", 256, |l| l.max_compute_workgroup_size_x.into()),
        ("max_compute_workgroup_size_y", 256, |l| l.max_compute_workgroup_size_y.into()),
        ("max_compute_workgroup_storage_size", 16384, |l| l.max_compute_workgroup_storage_size.into()),
        ("max_compute_workgroups_per_dimension", 65535, |l| l.max_compute_workgroups_per_dimension.into()),
        ("max_texture_dimension_2d", 8192, |l| l.max_texture_dimension_2d.into()),
        ("max_storage_buffer_binding_size", 128 << 20, |l| l.max_storage_buffer_binding_size),
    ]
}

impl std::fmt::Debug for Gpu {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Gpu(#{} {} on {:?})", self.inner.id, self.inner.info.name, self.inner.info.backend)
    }
}
