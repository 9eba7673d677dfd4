//! Textures the kernels read instead of storage buffers: read-only storage textures are the
//! fast read path of llvmpipe, where a storage-buffer load becomes one scalar load per SIMD
//! lane and word and a texel fetch is vectorised (about 10x faster streaming, measured); on
//! GPUs it is the texture cache's path.
//!
//! - `LinearTexture`: an f32 array, 4 words to a texel and `TEXTURE_WIDTH` texels to a row,
//!   so texel i is at (i mod width, i / width): a tensor copied in by a recorded step, so that
//!   im2col, im2row, pointwise GEMMs, the batch-1 dense kernel, pooling, LRN and softmax read
//!   their input through it.
//! - `MatrixTexture`: a matrix with 4 columns to a texel, one matrix row per texture row: the
//!   GEMM's operands (packed weights, input windows).

use crate::error::{Error, Result, Shape};
use crate::gpu::Gpu;
use crate::pipeline::Step;
use crate::tensor::Tensor;

/// log2 of the texels per row: kernels split an index with a shift and a mask. The WGSL
/// files that read weights take it as their `TEX_SHIFT` override ([`LinearTexture::OVERRIDE`]).
pub(crate) const TEXTURE_SHIFT: u32 = 12;
/// Texels per row.
pub(crate) const TEXTURE_WIDTH: u32 = 1 << TEXTURE_SHIFT;

/// An f32 array in a linear texture (see the module's notes).
pub(crate) struct LinearTexture {
    texture: wgpu::Texture,
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
    pub(crate) fn capacity(gpu: &Gpu) -> u64 {
        4 * TEXTURE_WIDTH as u64 * gpu.limits().max_texture_dimension_2d as u64
    }

    /// A zeroed texture of `len` floats, read as a read-only storage texture.
    pub(crate) fn zeros(gpu: &Gpu, op: &'static str, len: usize) -> Result<LinearTexture> {
        let rows = len.div_ceil(4).div_ceil(TEXTURE_WIDTH as usize);
        let max_rows = gpu.limits().max_texture_dimension_2d as usize;
        if rows > max_rows || TEXTURE_WIDTH as usize > max_rows {
            return Err(Error::Limit {
                op,
                what: format!("{len} floats as a {TEXTURE_WIDTH}-texel-wide texture"),
                needed: 4 * len as u64,
                limit: 4 * Self::capacity(gpu),
            });
        }
        gpu.scoped(op, || {
            let texture = storage_texture(gpu, "linear texture", TEXTURE_WIDTH, rows.max(1) as u32);
            let view = texture.create_view(&Default::default());
            LinearTexture { texture, view, len, device: gpu.id() }
        })
    }

    /// The recorded copy of `t` (as long as the texture) into this texture.
    pub(crate) fn copy_from(&self, t: &Tensor) -> Result<Step> {
        if t.gpu().id() != self.device {
            let (tensor_device, op_device) = (t.gpu().id(), self.device);
            return Err(Error::WrongDevice { op: "copy", what: "source", tensor_device, op_device });
        }
        if t.len() != self.len {
            return Err(Error::Mismatch { op: "copy", a: Shape(vec![self.len]), b: t.shape().into() });
        }
        Ok(Step::CopyToTexture {
            buffer: t.buffer().clone(),
            texture: self.texture.clone(),
            width: TEXTURE_WIDTH,
            texels: t.len().div_ceil(4) as u32,
        })
    }

    pub(crate) fn view(&self) -> &wgpu::TextureView {
        &self.view
    }

    /// Floats the texture has room for (its whole rows).
    pub(crate) fn room(&self) -> usize {
        4 * TEXTURE_WIDTH as usize * self.texture.height() as usize
    }

    /// The same texture seen as `len` floats, at most its [`room`](Self::room) (scratch.rs).
    pub(crate) fn holding(&self, len: usize) -> LinearTexture {
        debug_assert!(len <= self.room());
        LinearTexture { texture: self.texture.clone(), view: self.view.clone(), len, device: self.device }
    }

    /// Fails unless the texture lives on `gpu`.
    pub(crate) fn check_on(&self, gpu: &Gpu, op: &'static str, what: &'static str) -> Result<()> {
        if self.device != gpu.id() {
            return Err(Error::WrongDevice { op, what, tensor_device: self.device, op_device: gpu.id() });
        }
        Ok(())
    }
}

/// Columns a texture row is padded to: the widest tile a kernel reads at once.
pub(crate) const TILE_COLS: usize = 16;

/// A matrix `[rows, cols]` in a 2-D rgba32float storage texture, 4 columns to a texel: element
/// (r, c) is component c % 4 of texel (c / 4, r). Rows are padded with zeros to whole
/// [`TILE_COLS`]-column tiles, so that a kernel reading a whole tile never passes the edge.
/// Kernels read it as `texture_storage_2d<rgba32float, read>`, llvmpipe's fastest read path.
pub(crate) struct MatrixTexture {
    texture: wgpu::Texture,
    view: wgpu::TextureView,
    rows: usize,
    cols: usize,
    device: u64,
}

impl MatrixTexture {
    /// A zeroed matrix of `rows` x `cols` on `gpu`, or the limit it passes.
    pub(crate) fn zeros(gpu: &Gpu, op: &'static str, rows: usize, cols: usize) -> Result<MatrixTexture> {
        let width = cols.div_ceil(TILE_COLS) * TILE_COLS / 4;
        let max = gpu.limits().max_texture_dimension_2d;
        for (what, n) in [("rows", rows), ("texels per row", width)] {
            if n > max as usize || n == 0 {
                return Err(Error::Limit {
                    op,
                    what: format!("a [{rows}, {cols}] matrix texture ({n} {what})"),
                    needed: n as u64,
                    limit: max as u64,
                });
            }
        }
        gpu.scoped(op, || {
            let texture = storage_texture(gpu, op, width as u32, rows as u32);
            let view = texture.create_view(&Default::default());
            MatrixTexture { texture, view, rows, cols, device: gpu.id() }
        })
    }

    pub(crate) fn view(&self) -> &wgpu::TextureView {
        &self.view
    }

    /// Texels per row.
    pub(crate) fn width(&self) -> usize {
        self.cols.div_ceil(TILE_COLS) * TILE_COLS / 4
    }

    /// Floats held, padding included.
    pub(crate) fn len(&self) -> usize {
        self.rows * self.width() * 4
    }

    /// True when the texture has room for a `[rows, cols]` matrix.
    pub(crate) fn has_room(&self, rows: usize, cols: usize) -> bool {
        let width = cols.div_ceil(TILE_COLS) * TILE_COLS / 4;
        rows <= self.texture.height() as usize && width <= self.texture.width() as usize
    }

    /// The same texture seen as a `[rows, cols]` matrix it has room for (scratch.rs).
    pub(crate) fn holding(&self, rows: usize, cols: usize) -> MatrixTexture {
        debug_assert!(self.has_room(rows, cols));
        let (texture, view) = (self.texture.clone(), self.view.clone());
        MatrixTexture { texture, view, rows, cols, device: self.device }
    }

    /// Fails unless the texture lives on `gpu`.
    pub(crate) fn check_on(&self, gpu: &Gpu, op: &'static str, what: &'static str) -> Result<()> {
        if self.device != gpu.id() {
            return Err(Error::WrongDevice { op, what, tensor_device: self.device, op_device: gpu.id() });
        }
        Ok(())
    }
}

/// An rgba32float texture of `width` x `height` texels that kernels read and write as storage
/// and copies fill.
fn storage_texture(gpu: &Gpu, label: &str, width: u32, height: u32) -> wgpu::Texture {
    gpu.device().create_texture(&wgpu::TextureDescriptor {
        label: Some(label),
        size: wgpu::Extent3d { width, height, depth_or_array_layers: 1 },
        mip_level_count: 1,
        sample_count: 1,
        dimension: wgpu::TextureDimension::D2,
        format: wgpu::TextureFormat::Rgba32Float,
        usage: wgpu::TextureUsages::STORAGE_BINDING | wgpu::TextureUsages::COPY_DST,
        view_formats: &[],
    })
}
