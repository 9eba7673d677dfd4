//! Dense (fully connected) layers on the GPU: y = x·Wᵀ + b with W `[out, in]`.
//!
//! Batch 1 is a matrix-vector product that streams W once (`dense_gemv`); larger batches run
//! the register-blocked GEMM (`dense_gemm`), both in `shaders/dense.wgsl`. A weight is held as
//! slices of rows in textures ([`DenseWeight`]): a layer too large for one storage binding is
//! cut, and each slice writes its rows of y.

use bytemuck::{Pod, Zeroable};

use crate::error::{Error, Result};
use crate::gpu::Gpu;
use crate::launch::Launch;
use crate::ops::{blocks, check_output, check_same_device, max_groups, to_u32};
use crate::params::{Dense, DenseGeometry, check_len, check_rank};
use crate::pipeline::{Access, Dispatch, Kernel, fold_grid};
use crate::tensor::Tensor;
use crate::texture::LinearTexture;

const BINDINGS: &[Access] = &[Access::Texture, Access::Read, Access::Read, Access::ReadWrite, Access::Uniform];

/// The register-blocked product for batches.
pub(crate) const GEMM: Kernel = Kernel {
    name: "dense",
    source: include_str!("../../shaders/dense.wgsl"),
    entry: "dense_gemm",
    bindings: BINDINGS,
    uniform_size: size_of::<DenseUniform>(),
    overrides: &["WG_X", "WG_Y", "TILE_N", "TEX_SHIFT"],
};

/// The streaming matrix-vector product for batch 1.
pub(crate) const GEMV: Kernel = Kernel {
    name: "dense",
    source: include_str!("../../shaders/dense.wgsl"),
    entry: "dense_gemv",
    bindings: BINDINGS,
    uniform_size: size_of::<DenseUniform>(),
    overrides: &["WG", "TEX_SHIFT"],
};

/// Field order matches `Params` in shaders/dense.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct DenseUniform {
    m: u32,
    n: u32,
    k: u32,
    y_stride: u32,
    y_offset: u32,
    has_bias: u32,
    relu: u32,
    _pad: u32,
}

/// Which kernel runs a dense layer; `Auto` is what [`dense`] uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DenseKernel {
    /// `Gemv` for batch 1, `Gemm` with one sample per invocation otherwise.
    Auto,
    /// The GEMM with a block of 4 outputs x `tile_n` (1..=4) samples per invocation.
    Gemm { tile_n: u32 },
    /// The matrix-vector kernel (batch 1 only): 8 outputs per workgroup of `wg` lanes (a
    /// power of two, at most 256).
    Gemv { wg: u32 },
}

/// y = x·Wᵀ + b (then ReLU), enqueued. The weight is copied into a texture for this call;
/// hold a [`DenseWeight`] to do that once for many.
pub fn dense(x: &Tensor, w: &Tensor, b: Option<&Tensor>, attrs: &Dense) -> Result<Tensor> {
    dense_with(x, w, b, attrs, DenseKernel::Auto)
}

/// [`dense`] with an explicit choice of kernel (for benchmarks and validation).
pub fn dense_with(x: &Tensor, w: &Tensor, b: Option<&Tensor>, attrs: &Dense, kernel: DenseKernel) -> Result<Tensor> {
    let geo = attrs.geometry(x.shape(), w.shape(), b.map(Tensor::len))?;
    check_same_device("dense", &[("input", Some(x)), ("weight", Some(w)), ("bias", b)])?;
    let slice =
        DenseSlice { start: 0, rows: geo.out_features, weight: LinearTexture::from_tensor(w)?, bias: b.cloned() };
    let weight = DenseWeight { in_features: geo.in_features, out_features: geo.out_features, slices: vec![slice] };
    weight.forward_with(x, attrs, kernel)
}

/// Rows `start .. start + rows` of a dense weight, held in a texture, and their biases.
struct DenseSlice {
    start: usize,
    rows: usize,
    weight: LinearTexture,
    bias: Option<Tensor>,
}

/// A dense weight `[out, in]` (and bias) kept as slices of whole rows in textures, each
/// small enough to upload through one storage buffer: fc6 of AlexNet as the notes count it
/// is 708 MB, lavapipe binds 128 MiB.
pub struct DenseWeight {
    in_features: usize,
    out_features: usize,
    slices: Vec<DenseSlice>,
}

impl DenseWeight {
    /// Uploads `w` `[out, in]` and `b` `[out]`, cut into as few row slices as the limits allow.
    pub fn upload(
        gpu: &Gpu,
        w: &[f32],
        b: Option<&[f32]>,
        out_features: usize,
        in_features: usize,
    ) -> Result<DenseWeight> {
        check_rank("dense", "weight", &[out_features, in_features], 2)?;
        check_len(&[out_features, in_features], w)?;
        if let Some(b) = b.filter(|b| b.len() != out_features) {
            return Err(Error::BiasLength { op: "dense", got: b.len(), expected: out_features });
        }
        // Rows go up through a storage buffer (whole vec4s: leave 16 bytes) into a texture.
        let limit = (gpu.max_binding_bytes().saturating_sub(16) / 4).min(LinearTexture::capacity(gpu));
        let rows_per_slice = (limit / in_features as u64) as usize;
        if rows_per_slice == 0 {
            return Err(Error::Limit {
                op: "dense",
                what: format!("one weight row of {in_features} features"),
                needed: 4 * in_features as u64,
                limit: 4 * limit,
            });
        }
        let mut slices = Vec::new();
        for start in (0..out_features).step_by(rows_per_slice) {
            let rows = rows_per_slice.min(out_features - start);
            let staging =
                Tensor::from_slice(gpu, &w[start * in_features..(start + rows) * in_features], &[rows, in_features])?;
            let bias = b.map(|b| Tensor::from_slice(gpu, &b[start..start + rows], &[rows])).transpose()?;
            slices.push(DenseSlice { start, rows, weight: LinearTexture::from_tensor(&staging)?, bias });
        }
        Ok(DenseWeight { in_features, out_features, slices })
    }

    /// `[out, in]`.
    pub fn shape(&self) -> [usize; 2] {
        [self.out_features, self.in_features]
    }

    /// Row slices the weight is held in.
    pub fn slice_count(&self) -> usize {
        self.slices.len()
    }

    /// Bytes of weights and biases held on the device.
    pub fn bytes(&self) -> u64 {
        self.slices.iter().map(|s| 4 * (s.weight.len() + s.bias.as_ref().map_or(0, Tensor::len)) as u64).sum()
    }

    /// The checked geometry of this weight applied to `x`.
    pub fn geometry(&self, x: &[usize], attrs: &Dense) -> Result<DenseGeometry> {
        attrs.geometry(x, &self.shape(), None)
    }

    /// y = x·Wᵀ + b (then ReLU) for x `[N, in]`, enqueued.
    pub fn forward(&self, x: &Tensor, attrs: &Dense) -> Result<Tensor> {
        self.forward_with(x, attrs, DenseKernel::Auto)
    }

    /// [`DenseWeight::forward`] with an explicit choice of kernel.
    pub fn forward_with(&self, x: &Tensor, attrs: &Dense, kernel: DenseKernel) -> Result<Tensor> {
        let geo = self.geometry(x.shape(), attrs)?;
        let y = Tensor::zeros(x.gpu(), &geo.output_shape())?;
        self.record_with(x, &y, attrs, kernel)?.run()?;
        Ok(y)
    }

    /// Records y = x·Wᵀ + b (then ReLU), one launch per slice.
    pub fn record(&self, x: &Tensor, y: &Tensor, attrs: &Dense) -> Result<Launch> {
        self.record_with(x, y, attrs, DenseKernel::Auto)
    }

    /// [`DenseWeight::record`] with an explicit choice of kernel.
    pub fn record_with(&self, x: &Tensor, y: &Tensor, attrs: &Dense, kernel: DenseKernel) -> Result<Launch> {
        let geo = self.geometry(x.shape(), attrs)?;
        check_same_device("dense", &[("input", Some(x)), ("output", Some(y))])?;
        check_output("dense", y, &geo.output_shape())?;
        let dispatches = self.slices.iter().map(|s| record_slice(&geo, x, s, y, kernel)).collect::<Result<_>>()?;
        Ok(Launch::new(x.gpu(), "dense", dispatches))
    }
}

/// Records the rows of y `[N, out]` that `slice` holds, from x `[N, in]`.
fn record_slice(
    geo: &DenseGeometry,
    x: &Tensor,
    slice: &DenseSlice,
    y: &Tensor,
    kernel: DenseKernel,
) -> Result<Dispatch> {
    const OP: &str = "dense";
    let b = slice.bias.as_ref();
    check_same_device(OP, &[("input", Some(x)), ("bias", b)])?;
    slice.weight.check_on(x.gpu(), OP, "weight")?;
    let gpu = x.gpu();
    let params = DenseUniform {
        m: to_u32(OP, "output features", slice.rows)?,
        n: to_u32(OP, "batch", geo.batch)?,
        k: to_u32(OP, "input features", geo.in_features)?,
        y_stride: to_u32(OP, "output features", geo.out_features)?,
        y_offset: to_u32(OP, "output features", slice.start)?,
        has_bias: b.is_some() as u32,
        relu: geo.attrs.relu as u32,
        _pad: 0,
    };
    let bias = b.map(Tensor::buffer).unwrap_or(gpu.placeholder());
    let resources = [
        wgpu::BindingResource::TextureView(slice.weight.view()),
        x.buffer().as_entire_binding(),
        bias.as_entire_binding(),
        y.buffer().as_entire_binding(),
    ];
    let uniform = bytemuck::bytes_of(&params);
    match kernel {
        DenseKernel::Auto if geo.batch == 1 => record_slice(geo, x, slice, y, DenseKernel::Gemv { wg: 64 }),
        // One sample per invocation: W comes from the texture cheaply, x from a buffer does not,
        // so sharing W loads across samples loses to sharing x loads across rows (measured).
        DenseKernel::Auto => record_slice(geo, x, slice, y, DenseKernel::Gemm { tile_n: 1 }),
        DenseKernel::Gemv { .. } if geo.batch != 1 => {
            Err(Error::Tuning { op: OP, knob: "batch of the gemv kernel", value: geo.batch as u64, allowed: "1" })
        }
        DenseKernel::Gemv { wg } if !wg.is_power_of_two() || wg > 256 => {
            Err(Error::Tuning { op: OP, knob: "gemv workgroup", value: wg as u64, allowed: "a power of two up to 256" })
        }
        DenseKernel::Gemv { wg } => {
            let grid = fold_grid(blocks(slice.rows, 8), max_groups(gpu));
            gpu.dispatch(&GEMV, &[("WG", wg), LinearTexture::OVERRIDE], &resources, uniform, grid)
        }
        DenseKernel::Gemm { tile_n } if !(1..=4).contains(&tile_n) => {
            Err(Error::Tuning { op: OP, knob: "tile_n", value: tile_n as u64, allowed: "1, 2, 3 or 4" })
        }
        DenseKernel::Gemm { tile_n } => {
            // Lanes go along the outputs, so that neighbouring lanes stream neighbouring rows.
            let sample_blocks = blocks(geo.batch, tile_n as usize);
            let wg_x = sample_blocks.next_power_of_two().min(4);
            let wg_y = 64 / wg_x;
            let grid = [sample_blocks.div_ceil(wg_x), blocks(slice.rows, 4).div_ceil(wg_y), 1];
            let overrides = [("WG_X", wg_x), ("WG_Y", wg_y), ("TILE_N", tile_n), LinearTexture::OVERRIDE];
            gpu.dispatch(&GEMM, &overrides, &resources, uniform, grid)
        }
    }
}
