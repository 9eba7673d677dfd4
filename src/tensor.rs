//! `Tensor`: an f32 array in NCHW order held in one device's storage buffer.

use std::sync::Arc;

use crate::attrs::{check_len, product};
use crate::error::{Error, Result, Shape};
use crate::gpu::Gpu;

/// An f32 tensor on one device. Dimensions are NCHW for images, [N, F] for features.
#[derive(Clone)]
pub struct Tensor {
    gpu: Gpu,
    buffer: Arc<wgpu::Buffer>,
    shape: Vec<usize>,
}

impl Tensor {
    /// Uploads `data` as a tensor of `shape`.
    pub fn from_slice(gpu: &Gpu, data: &[f32], shape: &[usize]) -> Result<Tensor> {
        check_len(shape, data)?;
        check_size(gpu, "tensor", shape)?;
        let buffer = if data.len().is_multiple_of(4) {
            gpu.storage_buffer("tensor upload", bytemuck::cast_slice(data))?
        } else {
            let mut padded = data.to_vec();
            padded.resize(data.len().next_multiple_of(4), 0.0);
            gpu.storage_buffer("tensor upload", bytemuck::cast_slice(&padded))?
        };
        Ok(Tensor { gpu: gpu.clone(), buffer: Arc::new(buffer), shape: shape.to_vec() })
    }

    /// A tensor of zeros.
    pub fn zeros(gpu: &Gpu, shape: &[usize]) -> Result<Tensor> {
        let bytes = check_size(gpu, "tensor", shape)?;
        let buffer = gpu.scoped("tensor alloc", || {
            gpu.device().create_buffer(&wgpu::BufferDescriptor {
                label: Some("tensor"),
                size: bytes,
                usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            })
        })?;
        Ok(Tensor { gpu: gpu.clone(), buffer: Arc::new(buffer), shape: shape.to_vec() })
    }

    /// The dimensions.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// Always false: dojang tensors have no empty dimension.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The device the tensor lives on.
    pub fn gpu(&self) -> &Gpu {
        &self.gpu
    }

    /// The buffer the tensor lives in: `4 · len` bytes of f32 in NCHW order from offset 0,
    /// rounded up to whole 16-byte vec4s, with usages STORAGE, COPY_SRC and COPY_DST. An app
    /// binds it in its own passes to read a result in place.
    pub fn buffer(&self) -> &wgpu::Buffer {
        &self.buffer
    }

    /// A tensor of `shape` in `buffer`, a buffer of the app's on `gpu`'s device, without a
    /// copy: dojang reads and writes the buffer itself (the app keeps its handle). The
    /// buffer needs usages STORAGE, COPY_SRC and COPY_DST and at least `4 · len` bytes
    /// rounded up to whole 16-byte vec4s (kernels read tensors as vec4s).
    pub fn from_buffer(gpu: &Gpu, buffer: &wgpu::Buffer, shape: &[usize]) -> Result<Tensor> {
        const OP: &str = "Tensor::from_buffer";
        let bytes = check_size(gpu, OP, shape)?;
        if buffer.size() < bytes {
            return Err(Error::BufferTooSmall {
                op: OP,
                shape: Shape(shape.to_vec()),
                needed: bytes,
                got: buffer.size(),
            });
        }
        let needed = wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST;
        if !buffer.usage().contains(needed) {
            return Err(Error::Usage {
                op: OP,
                what: "buffer",
                needed: format!("{needed:?}"),
                got: format!("{:?}", buffer.usage()),
            });
        }
        gpu.check_owns(OP, "buffer", |device| {
            let mut encoder = device.create_command_encoder(&Default::default());
            encoder.clear_buffer(buffer, 0, Some(16));
            encoder.finish();
        })?;
        Ok(Tensor { gpu: gpu.clone(), buffer: Arc::new(buffer.clone()), shape: shape.to_vec() })
    }

    /// The same buffer seen as a tensor of `shape`, which it has room for (scratch.rs).
    pub(crate) fn holding(&self, shape: &[usize]) -> Tensor {
        debug_assert!(4 * shape.iter().product::<usize>() as u64 <= self.buffer.size());
        Tensor { gpu: self.gpu.clone(), buffer: self.buffer.clone(), shape: shape.to_vec() }
    }

    /// The same data seen with another shape of as many elements (flatten, say); no copy.
    pub fn reshape(&self, shape: &[usize]) -> Result<Tensor> {
        if product("reshape", "the new shape's elements", shape)? != self.len() {
            return Err(Error::Mismatch { op: "reshape", a: self.shape.as_slice().into(), b: shape.into() });
        }
        Ok(self.holding(shape))
    }

    /// Overwrites the contents with `data` (same length).
    pub fn write(&self, data: &[f32]) -> Result<()> {
        if data.len() != self.len() {
            return Err(Error::DataLength {
                shape: self.shape.as_slice().into(),
                expected: self.len(),
                got: data.len(),
            });
        }
        self.gpu.scoped("tensor write", || self.gpu.queue().write_buffer(&self.buffer, 0, bytemuck::cast_slice(data)))
    }

    /// Writes `data` at element `offset` (the rest stays as it is).
    pub fn write_at(&self, offset: usize, data: &[f32]) -> Result<()> {
        if offset.checked_add(data.len()).is_none_or(|end| end > self.len()) {
            return Err(Error::OutOfRange { op: "write", offset, len: data.len(), size: self.len() });
        }
        self.gpu.scoped("tensor write", || {
            self.gpu.queue().write_buffer(&self.buffer, 4 * offset as u64, bytemuck::cast_slice(data))
        })
    }

    /// Copies element ranges (source offset, destination offset, length) from `self` into
    /// `dst` on the device, without a host round trip. Both must live on the same device.
    pub fn copy_regions_to(&self, dst: &Tensor, regions: &[(usize, usize, usize)]) -> Result<()> {
        dst.check_on(&self.gpu, "copy", "destination")?;
        for &(s, d, l) in regions {
            for (offset, size) in [(s, self.len()), (d, dst.len())] {
                if offset.checked_add(l).is_none_or(|end| end > size) {
                    return Err(Error::OutOfRange { op: "copy", offset, len: l, size });
                }
            }
        }
        self.gpu.scoped("copy", || {
            let mut encoder = self.gpu.device().create_command_encoder(&Default::default());
            for &(s, d, l) in regions {
                encoder.copy_buffer_to_buffer(&self.buffer, 4 * s as u64, &dst.buffer, 4 * d as u64, 4 * l as u64);
            }
            self.gpu.queue().submit([encoder.finish()]);
        })
    }

    /// Copies the tensor back to the host, blocking until it is there.
    pub fn download(&self) -> Result<Vec<f32>> {
        pollster::block_on(self.download_async())
    }

    /// Copies the tensor back to the host.
    pub async fn download_async(&self) -> Result<Vec<f32>> {
        let staging = self.staging_buffer()?;
        self.download_via(&staging).await
    }

    /// A host-readable buffer the size of this tensor, for [`Tensor::download_via`].
    pub(crate) fn staging_buffer(&self) -> Result<wgpu::Buffer> {
        let gpu = &self.gpu;
        gpu.scoped("download", || {
            gpu.device().create_buffer(&wgpu::BufferDescriptor {
                label: Some("download"),
                size: 4 * self.len() as u64,
                usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            })
        })
    }

    /// Copies the tensor back to the host through `staging` (from [`Tensor::staging_buffer`]),
    /// so that repeated downloads allocate nothing.
    pub(crate) async fn download_via(&self, staging: &wgpu::Buffer) -> Result<Vec<f32>> {
        let gpu = &self.gpu;
        let bytes = 4 * self.len() as u64;
        gpu.scoped("download", || {
            let mut encoder = gpu.device().create_command_encoder(&Default::default());
            encoder.copy_buffer_to_buffer(&self.buffer, 0, staging, 0, bytes);
            gpu.queue().submit([encoder.finish()]);
        })?;
        let bytes = gpu.read_mapped("download", staging, bytes).await?;
        Ok(bytemuck::pod_collect_to_vec(&bytes))
    }

    /// Fails unless the tensor lives on `gpu`.
    pub(crate) fn check_on(&self, gpu: &Gpu, op: &'static str, what: &'static str) -> Result<()> {
        if self.gpu.id() != gpu.id() {
            return Err(Error::WrongDevice { op, what, tensor_device: self.gpu.id(), op_device: gpu.id() });
        }
        Ok(())
    }
}

impl std::fmt::Debug for Tensor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tensor({:?} on device #{})", self.shape, self.gpu.id())
    }
}

/// Buffer bytes for `shape`: whole vec4s, so that kernels may read any tensor as vec4s; None
/// when the count overflows.
fn padded_bytes(shape: &[usize]) -> Option<u64> {
    let elements = shape.iter().try_fold(1u64, |a, &d| a.checked_mul(d as u64))?;
    elements.div_ceil(4).checked_mul(16)
}

/// A shape must have no empty dimension and fit one buffer of the device.
fn check_size(gpu: &Gpu, op: &'static str, shape: &[usize]) -> Result<u64> {
    if shape.is_empty() || shape.contains(&0) {
        return Err(Error::Empty { op, what: "shape", shape: Shape(shape.to_vec()) });
    }
    let limit = gpu.limits().max_buffer_size;
    match padded_bytes(shape) {
        Some(bytes) if bytes <= limit => Ok(bytes),
        bytes => Err(Error::Limit {
            op,
            what: format!("a tensor of shape {shape:?} ({} bytes)", bytes.map_or("too many".into(), |b| b.to_string())),
            needed: bytes.unwrap_or(u64::MAX),
            limit,
        }),
    }
}
