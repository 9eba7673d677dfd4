//! `LinearTexture`: a read-only f32 array held in a 2-D rgba32float texture, 4 words to a
//! texel and `TEXTURE_WIDTH` texels to a row, so texel i is at (i mod width, i / width).
//!
//! Kernels read weights through it because texel fetches are the fast read path of software
//! rasterisers: on llvmpipe a texture load streams about 10x faster than a storage-buffer
//! load, which it splits into one scalar load per SIMD lane. On GPUs it is the texture
//! cache's path. (Reading activations the same way, refreshed by a copy before each launch,
//! measured slower overall on AlexNet's small maps, so activations stay in buffers.)

use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// log2 of the texels per row: kernels split an index with a shift and a mask. The WGSL
/// files that read weights take it as their `TEX_SHIFT` override ([`LinearTexture::OVERRIDE`]).
pub(crate) const TEXTURE_SHIFT: u32 = 12;
/// Texels per row.
pub(crate) const TEXTURE_WIDTH: u32 = 1 << TEXTURE_SHIFT;

pub(crate) struct LinearTexture {
    view: wgpu::TextureView,
    /// Floats held.
    len: usize,
    /// The device it lives on.
    device: u64,
}

impl LinearTexture {
    /// The override that tells a kernel the row width.
    pub(crate) const OVERRIDE: (&'static str, u32) = ("TEX_SHIFT", TEXTURE_SHIFT);

    /// Floats a texture can hold on `gpu`.
    pub(crate) fn capacity(gpu: &crate::Gpu) -> u64 {
        4 * TEXTURE_WIDTH as u64 * gpu.limits().max_texture_dimension_2d as u64
    }

    /// A copy of `t`'s contents, made on the device.
    pub(crate) fn from_tensor(t: &Tensor) -> Result<LinearTexture> {
        let gpu = t.gpu();
        let texels = t.len().div_ceil(4) as u32;
        let rows = texels.div_ceil(TEXTURE_WIDTH);
        let max_rows = gpu.limits().max_texture_dimension_2d;
        if rows > max_rows || TEXTURE_WIDTH > max_rows {
            return Err(Error::Limit {
                op: "texture",
                what: format!("{} floats as a {TEXTURE_WIDTH}-texel-wide texture", t.len()),
                needed: 4 * t.len() as u64,
                limit: Self::capacity(gpu),
            });
        }
        gpu.scoped("texture upload", || {
            let texture = gpu.device().create_texture(&wgpu::TextureDescriptor {
                label: Some("linear texture"),
                size: wgpu::Extent3d { width: TEXTURE_WIDTH, height: rows, depth_or_array_layers: 1 },
                mip_level_count: 1,
                sample_count: 1,
                dimension: wgpu::TextureDimension::D2,
                format: wgpu::TextureFormat::Rgba32Float,
                usage: wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
                view_formats: &[],
            });
            let mut encoder = gpu.device().create_command_encoder(&Default::default());
            // Whole rows in one copy, then the last, partial row.
            let mut copy = |first_row: u32, width: u32, height: u32| {
                encoder.copy_buffer_to_texture(
                    wgpu::TexelCopyBufferInfo {
                        buffer: t.buffer(),
                        layout: wgpu::TexelCopyBufferLayout {
                            offset: first_row as u64 * TEXTURE_WIDTH as u64 * 16,
                            bytes_per_row: Some(TEXTURE_WIDTH * 16),
                            rows_per_image: None,
                        },
                    },
                    wgpu::TexelCopyTextureInfo {
                        texture: &texture,
                        mip_level: 0,
                        origin: wgpu::Origin3d { x: 0, y: first_row, z: 0 },
                        aspect: wgpu::TextureAspect::All,
                    },
                    wgpu::Extent3d { width, height, depth_or_array_layers: 1 },
                );
            };
            let full_rows = texels / TEXTURE_WIDTH;
            if full_rows > 0 {
                copy(0, TEXTURE_WIDTH, full_rows);
            }
            if !texels.is_multiple_of(TEXTURE_WIDTH) {
                copy(full_rows, texels % TEXTURE_WIDTH, 1);
            }
            gpu.queue().submit([encoder.finish()]);
            LinearTexture { view: texture.create_view(&Default::default()), len: t.len(), device: gpu.id() }
        })
    }

    pub(crate) fn view(&self) -> &wgpu::TextureView {
        &self.view
    }

    /// Floats held.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Fails unless the texture lives on `gpu`.
    pub(crate) fn check_on(&self, gpu: &crate::Gpu, op: &'static str, what: &'static str) -> Result<()> {
        if self.device != gpu.id() {
            return Err(Error::WrongDevice { op, what, tensor_device: self.device, op_device: gpu.id() });
        }
        Ok(())
    }
}
