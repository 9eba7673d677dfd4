//! What a kernel declares to the host — its WGSL source, entry point, bindings, uniform layout
//! and override names — and what is built from it: the bind group layout and compute
//! pipeline (cached per device and override values), and recorded launches.
//!
//! This module knows wgpu and nothing of the ops: the ops declare their kernels with it, and
//! their uniform structs with [`uniform_struct!`], which records each field's name, type and
//! offset for the test that checks them against the WGSL (through naga, no GPU needed).

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;

/// How a kernel accesses one binding; the uniform always comes last.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Access {
    /// `var<storage, read>`.
    Read,
    /// `var<storage, read_write>`.
    ReadWrite,
    /// `var<uniform>`.
    Uniform,
    /// A `texture_storage_2d<rgba32float, read>`: llvmpipe's fastest read path.
    TextureRead,
    /// A `texture_storage_2d<rgba32float, write>`.
    TextureWrite,
    /// A `texture_2d<f32>` read by `textureLoad` (no sampler): an app's image of any float or
    /// normalised format.
    Sampled,
}

/// A compute entry point in one of the files under `shaders/`, as the host sees it. Its
/// fields mirror the WGSL file's header; a test checks them against the WGSL through naga.
#[derive(Debug)]
pub(crate) struct Kernel {
    /// Label for pipelines and errors: the shader's file stem.
    pub(crate) name: &'static str,
    /// The WGSL text.
    pub(crate) source: &'static str,
    /// The entry point.
    pub(crate) entry: &'static str,
    /// Binding `i` of group 0 is `bindings[i]`.
    pub(crate) bindings: &'static [Access],
    /// The trailing uniform's layout (the Rust struct's).
    pub(crate) uniform: UniformLayout,
    /// The override constants the host sets (the names; values come with each dispatch).
    #[cfg_attr(not(test), allow(dead_code, reason = "read by the naga test, ops/kernels.rs"))]
    pub(crate) overrides: &'static [&'static str],
}

/// One field of a uniform struct as the host lays it out.
#[derive(Debug)]
#[cfg_attr(not(test), allow(dead_code, reason = "read by the naga test, ops/kernels.rs"))]
pub(crate) struct Field {
    pub(crate) name: &'static str,
    /// The Rust type as written (`u32`, `f32`, `ConvDims`, `[u32; 3]`).
    pub(crate) ty: &'static str,
    /// Bytes from the struct's start.
    pub(crate) offset: usize,
    /// A nested struct's own fields (none for a scalar or an array).
    pub(crate) fields: &'static [Field],
}

/// A uniform struct's size and fields, in order.
#[derive(Debug)]
pub(crate) struct UniformLayout {
    pub(crate) size: usize,
    #[cfg_attr(not(test), allow(dead_code, reason = "read by the naga test, ops/kernels.rs"))]
    pub(crate) fields: &'static [Field],
}

impl UniformLayout {
    /// The layout of `T`.
    pub(crate) const fn of<T: Uniform>() -> UniformLayout {
        UniformLayout { size: size_of::<T>(), fields: T::FIELDS }
    }
}

/// What a kernel's uniform struct is made of: plain words, arrays of them (padding) and
/// structs declared with [`uniform_struct!`].
pub(crate) trait Uniform: bytemuck::Pod {
    /// The fields, in order (none for a word or an array).
    const FIELDS: &'static [Field];
}

impl Uniform for u32 {
    const FIELDS: &'static [Field] = &[];
}

impl Uniform for f32 {
    const FIELDS: &'static [Field] = &[];
}

impl<const N: usize> Uniform for [u32; N] {
    const FIELDS: &'static [Field] = &[];
}

/// Declares a kernel's uniform struct: `#[repr(C)]`, `Pod`, and its [`Uniform`] field list,
/// so that the naga test can check field order and offsets against the WGSL struct.
macro_rules! uniform_struct {
    ($(#[$meta:meta])* $vis:vis struct $name:ident { $($field:ident: $ty:ty),* $(,)? }) => {
        $(#[$meta])*
        #[repr(C)]
        #[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
        $vis struct $name {
            $($field: $ty),*
        }

        impl $crate::pipeline::Uniform for $name {
            const FIELDS: &'static [$crate::pipeline::Field] = &[$($crate::pipeline::Field {
                name: stringify!($field),
                ty: stringify!($ty),
                offset: ::core::mem::offset_of!($name, $field),
                fields: <$ty as $crate::pipeline::Uniform>::FIELDS,
            }),*];
        }
    };
}
pub(crate) use uniform_struct;

/// Workgroup grid for `count` workgroups of a 1-D kernel: folded into (x, y) so that no
/// dimension passes `max_per_dim`; kernels rebuild the linear index as `x + y * num_x`.
pub(crate) fn fold_grid(count: u32, max_per_dim: u32) -> [u32; 3] {
    if count <= max_per_dim {
        [count.max(1), 1, 1]
    } else {
        let y = count.div_ceil(max_per_dim);
        [count.div_ceil(y), y, 1]
    }
}

/// A kernel's layout and pipeline on one device.
pub(crate) struct Pipeline {
    pub(crate) layout: wgpu::BindGroupLayout,
    pipeline: wgpu::ComputePipeline,
}

#[derive(Clone, PartialEq, Eq, Hash)]
struct PipelineKey {
    kernel: &'static str,
    entry: &'static str,
    overrides: Vec<(&'static str, u32)>,
}

/// The pipelines built on one device, by kernel and override values.
#[derive(Default)]
pub(crate) struct PipelineCache {
    pipelines: Mutex<HashMap<PipelineKey, Arc<Pipeline>>>,
}

impl PipelineCache {
    /// The cached pipeline, or the one `build` makes (and the cache then keeps).
    pub(crate) fn get_or_build<E>(
        &self,
        kernel: &Kernel,
        overrides: &[(&'static str, u32)],
        build: impl FnOnce() -> Result<Pipeline, E>,
    ) -> Result<Arc<Pipeline>, E> {
        let key = PipelineKey { kernel: kernel.name, entry: kernel.entry, overrides: overrides.to_vec() };
        if let Some(p) = self.pipelines.lock().get(&key) {
            return Ok(p.clone());
        }
        let pipeline = Arc::new(build()?);
        self.pipelines.lock().insert(key, pipeline.clone());
        Ok(pipeline)
    }
}

/// Builds `kernel`'s bind group layout (from its binding table) and compute pipeline.
/// Errors surface through the device's error scopes, which the caller holds.
pub(crate) fn build(device: &wgpu::Device, kernel: &Kernel, overrides: &[(&'static str, u32)]) -> Pipeline {
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some(kernel.name),
        source: wgpu::ShaderSource::Wgsl(kernel.source.into()),
    });
    let entries: Vec<_> = kernel
        .bindings
        .iter()
        .enumerate()
        .map(|(i, access)| wgpu::BindGroupLayoutEntry {
            binding: i as u32,
            visibility: wgpu::ShaderStages::COMPUTE,
            ty: binding_type(*access),
            count: None,
        })
        .collect();
    let layout = device
        .create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor { label: Some(kernel.name), entries: &entries });
    let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
        label: Some(kernel.name),
        bind_group_layouts: &[Some(&layout)],
        immediate_size: 0,
    });
    let constants: Vec<(&str, f64)> = overrides.iter().map(|&(k, v)| (k, v as f64)).collect();
    let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: Some(kernel.name),
        layout: Some(&pipeline_layout),
        module: &module,
        entry_point: Some(kernel.entry),
        compilation_options: wgpu::PipelineCompilationOptions {
            constants: &constants,
            zero_initialize_workgroup_memory: false,
        },
        cache: None,
    });
    Pipeline { layout, pipeline }
}

fn binding_type(access: Access) -> wgpu::BindingType {
    let buffer = |ty| wgpu::BindingType::Buffer { ty, has_dynamic_offset: false, min_binding_size: None };
    match access {
        Access::Read => buffer(wgpu::BufferBindingType::Storage { read_only: true }),
        Access::ReadWrite => buffer(wgpu::BufferBindingType::Storage { read_only: false }),
        Access::Uniform => buffer(wgpu::BufferBindingType::Uniform),
        Access::TextureRead => storage_texture(wgpu::StorageTextureAccess::ReadOnly),
        Access::TextureWrite => storage_texture(wgpu::StorageTextureAccess::WriteOnly),
        Access::Sampled => wgpu::BindingType::Texture {
            sample_type: wgpu::TextureSampleType::Float { filterable: false },
            view_dimension: wgpu::TextureViewDimension::D2,
            multisampled: false,
        },
    }
}

fn storage_texture(access: wgpu::StorageTextureAccess) -> wgpu::BindingType {
    wgpu::BindingType::StorageTexture {
        access,
        format: wgpu::TextureFormat::Rgba32Float,
        view_dimension: wgpu::TextureViewDimension::D2,
    }
}

/// One recorded command: a kernel launch, or a copy that feeds one.
#[derive(Clone)]
pub(crate) enum Step {
    Dispatch(Dispatch),
    /// `bytes` of one buffer into another.
    CopyBuffer {
        src: wgpu::Buffer,
        src_offset: u64,
        dst: wgpu::Buffer,
        dst_offset: u64,
        bytes: u64,
    },
    /// A buffer's first `texels` texels into a texture `width` texels wide, row after row.
    CopyToTexture {
        buffer: wgpu::Buffer,
        texture: wgpu::Texture,
        width: u32,
        texels: u32,
    },
    /// A buffer of rows `bytes_per_row` apart into the whole of a 2-D texture (an app's image).
    CopyToImage {
        buffer: wgpu::Buffer,
        texture: wgpu::Texture,
        bytes_per_row: u32,
    },
}

impl Step {
    /// Records a copy into `encoder` (dispatches are recorded into a compute pass instead).
    pub(crate) fn encode_copy(&self, encoder: &mut wgpu::CommandEncoder) {
        match self {
            Step::Dispatch(_) => {}
            Step::CopyBuffer { src, src_offset, dst, dst_offset, bytes } => {
                encoder.copy_buffer_to_buffer(src, *src_offset, dst, *dst_offset, *bytes);
            }
            Step::CopyToImage { buffer, texture, bytes_per_row } => {
                let size = texture.size();
                copy_rows(encoder, buffer, *bytes_per_row, texture, 0, [size.width, size.height]);
            }
            Step::CopyToTexture { buffer, texture, width, texels } => {
                // Whole rows in one copy, then the last, partial row.
                let full_rows = texels / width;
                if full_rows > 0 {
                    copy_rows(encoder, buffer, width * 16, texture, 0, [*width, full_rows]);
                }
                if texels % width > 0 {
                    copy_rows(encoder, buffer, width * 16, texture, full_rows, [texels % width, 1]);
                }
            }
        }
    }
}

/// Copies `columns` x `rows` texels into `texture` from row `first_row` on, out of `buffer`
/// whose rows lie `bytes_per_row` apart (the buffer's row `first_row` first).
fn copy_rows(
    encoder: &mut wgpu::CommandEncoder,
    buffer: &wgpu::Buffer,
    bytes_per_row: u32,
    texture: &wgpu::Texture,
    first_row: u32,
    [columns, rows]: [u32; 2],
) {
    encoder.copy_buffer_to_texture(
        wgpu::TexelCopyBufferInfo {
            buffer,
            layout: wgpu::TexelCopyBufferLayout {
                offset: first_row as u64 * bytes_per_row as u64,
                bytes_per_row: Some(bytes_per_row),
                rows_per_image: None,
            },
        },
        wgpu::TexelCopyTextureInfo {
            texture,
            mip_level: 0,
            origin: wgpu::Origin3d { x: 0, y: first_row, z: 0 },
            aspect: wgpu::TextureAspect::All,
        },
        wgpu::Extent3d { width: columns, height: rows, depth_or_array_layers: 1 },
    );
}

/// One recorded kernel launch: pipeline, bound resources and grid. Built once, run many times.
#[derive(Clone)]
pub(crate) struct Dispatch {
    pub(crate) pipeline: Arc<Pipeline>,
    pub(crate) bind_group: wgpu::BindGroup,
    pub(crate) workgroups: [u32; 3],
}

impl Dispatch {
    /// Adds the launch to a compute pass.
    pub(crate) fn record(&self, pass: &mut wgpu::ComputePass<'_>) {
        pass.set_pipeline(&self.pipeline.pipeline);
        pass.set_bind_group(0, &self.bind_group, &[]);
        let [x, y, z] = self.workgroups;
        pass.dispatch_workgroups(x, y, z);
    }
}
