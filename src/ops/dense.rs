//! Dense (fully connected) layers: y = x·Wᵀ + b with W [out, in], PyTorch `Linear`'s layout.
//!
//! Batch 1 is a matrix-vector product that streams W once (`gemv`); larger batches run the
//! register-blocked GEMM (`gemm`), both in `shaders/dense.wgsl`. A weight may be given as
//! slices of rows (a layer too large for one storage binding, or split across devices): each
//! slice writes its rows of y.

use bytemuck::{Pod, Zeroable};

use crate::error::{Error, Result};
use crate::gpu::{Dispatch, Gpu};
use crate::ops::{blocks, check_len, check_rank, check_same_device};
use crate::pipeline::{Access, Kernel, fold_grid};
use crate::tensor::Tensor;
use crate::texture::LinearTexture;

const BINDINGS: &[Access] = &[Access::Texture, Access::Read, Access::Read, Access::ReadWrite, Access::Uniform];

/// The register-blocked product for batches.
pub(crate) const GEMM: Kernel =
    Kernel { name: "dense", source: include_str!("../../shaders/dense.wgsl"), entry: "gemm", bindings: BINDINGS };

/// The streaming matrix-vector product for batch 1.
pub(crate) const GEMV: Kernel =
    Kernel { name: "dense", source: include_str!("../../shaders/dense.wgsl"), entry: "gemv", bindings: BINDINGS };

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

/// A checked dense layer: batch, in and out features.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DenseGeometry {
    pub batch: usize,
    pub in_features: usize,
    pub out_features: usize,
    pub relu: bool,
}

impl DenseGeometry {
    /// Checks x [N, F], W [out, F] and an optional bias length.
    pub fn new(x: &[usize], w: &[usize], bias_len: Option<usize>, relu: bool) -> Result<DenseGeometry> {
        const OP: &str = "dense";
        check_rank(OP, "input", x, 2)?;
        check_rank(OP, "weight", w, 2)?;
        if x[1] != w[1] {
            return Err(Error::Channels { op: OP, what: "features", got: x[1], expected: w[1] });
        }
        if let Some(len) = bias_len.filter(|&l| l != w[0]) {
            return Err(Error::BiasLength { op: OP, got: len, expected: w[0] });
        }
        Ok(DenseGeometry { batch: x[0], in_features: x[1], out_features: w[0], relu })
    }

    pub fn output_shape(&self) -> [usize; 2] {
        [self.batch, self.out_features]
    }
    pub fn macs(&self) -> u64 {
        (self.batch * self.in_features * self.out_features) as u64
    }
    pub fn flops(&self) -> u64 {
        2 * self.macs()
    }
}

/// y = x·Wᵀ + b, optionally followed by ReLU.
pub fn dense(x: &Tensor, w: &Tensor, b: Option<&Tensor>, relu: bool) -> Result<Tensor> {
    dense_with(x, w, b, relu, DenseKernel::Auto)
}

/// [`dense`] with an explicit choice of kernel (for benchmarks and validation).
pub fn dense_with(x: &Tensor, w: &Tensor, b: Option<&Tensor>, relu: bool, kernel: DenseKernel) -> Result<Tensor> {
    let geo = DenseGeometry::new(x.shape(), w.shape(), b.map(Tensor::len), relu)?;
    check_same_device("dense", &[("input", Some(x)), ("weight", Some(w)), ("bias", b)])?;
    let y = Tensor::zeros(x.gpu(), &geo.output_shape())?;
    let slice =
        DenseSlice { start: 0, rows: geo.out_features, weight: LinearTexture::from_tensor(w)?, bias: b.cloned() };
    let d = plan(x, geo.in_features, &slice, &y, relu, kernel)?;
    x.gpu().run("dense", &[&d])?;
    Ok(y)
}

/// Rows `start .. start + rows` of a dense weight, held in a texture, and their biases.
pub struct DenseSlice {
    pub start: usize,
    pub rows: usize,
    weight: LinearTexture,
    bias: Option<Tensor>,
}

/// A dense weight [out, in] (and bias) kept as slices of whole rows, each small enough to
/// upload through one storage buffer: fc6 of AlexNet as the notes count it is 708 MB,
/// lavapipe binds 128 MiB.
pub struct DenseWeight {
    pub in_features: usize,
    pub out_features: usize,
    pub slices: Vec<DenseSlice>,
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

    /// Bytes of weights and biases held on the device.
    pub fn bytes(&self) -> u64 {
        self.slices.iter().map(|s| 4 * (s.weight.len() + s.bias.as_ref().map_or(0, Tensor::len)) as u64).sum()
    }

    /// Records y = x·Wᵀ + b (then ReLU), one dispatch per slice.
    pub(crate) fn plan(&self, x: &Tensor, y: &Tensor, relu: bool, kernel: DenseKernel) -> Result<Vec<Dispatch>> {
        self.slices.iter().map(|s| plan(x, self.in_features, s, y, relu, kernel)).collect()
    }

    /// y = x·Wᵀ + b (then ReLU) for x [N, in].
    pub fn forward(&self, x: &Tensor, relu: bool) -> Result<Tensor> {
        self.forward_with(x, relu, DenseKernel::Auto)
    }

    /// [`DenseWeight::forward`] with an explicit choice of kernel (for benchmarks).
    pub fn forward_with(&self, x: &Tensor, relu: bool, kernel: DenseKernel) -> Result<Tensor> {
        check_rank("dense", "input", x.shape(), 2)?;
        if x.shape()[1] != self.in_features {
            return Err(Error::Channels {
                op: "dense",
                what: "features",
                got: x.shape()[1],
                expected: self.in_features,
            });
        }
        let y = Tensor::zeros(x.gpu(), &[x.shape()[0], self.out_features])?;
        let dispatches = self.plan(x, &y, relu, kernel)?;
        x.gpu().run("dense", &dispatches.iter().collect::<Vec<_>>())?;
        Ok(y)
    }
}

/// Records the rows of y [N, total_out] that `slice` holds, from x [N, in_features].
pub(crate) fn plan(
    x: &Tensor,
    in_features: usize,
    slice: &DenseSlice,
    y: &Tensor,
    relu: bool,
    kernel: DenseKernel,
) -> Result<Dispatch> {
    const OP: &str = "dense";
    let b = slice.bias.as_ref();
    check_same_device(OP, &[("input", Some(x)), ("bias", b), ("output", Some(y))])?;
    slice.weight.check_on(x.gpu(), OP, "weight")?;
    let geo = DenseGeometry::new(x.shape(), &[slice.rows, in_features], b.map(Tensor::len), relu)?;
    let total_out = y.shape()[1];
    if y.shape() != [geo.batch, total_out] || slice.start + geo.out_features > total_out {
        return Err(Error::Mismatch { op: OP, a: y.shape().into(), b: geo.output_shape()[..].into() });
    }
    let gpu = x.gpu();
    let params = DenseUniform {
        m: geo.out_features as u32,
        n: geo.batch as u32,
        k: geo.in_features as u32,
        y_stride: total_out as u32,
        y_offset: slice.start as u32,
        has_bias: b.is_some() as u32,
        relu: relu as u32,
        _pad: 0,
    };
    let bias = b.map(Tensor::buffer).unwrap_or(gpu.placeholder());
    let resources = [
        wgpu::BindingResource::TextureView(slice.weight.view()),
        x.buffer().as_entire_binding(),
        bias.as_entire_binding(),
        y.buffer().as_entire_binding(),
    ];
    let max = gpu.limits().max_compute_workgroups_per_dimension;
    match kernel {
        DenseKernel::Gemv { .. } if geo.batch != 1 => Err(Error::Attribute {
            op: OP,
            message: format!("the matrix-vector kernel takes batch 1, got {}", geo.batch),
        }),
        DenseKernel::Gemv { wg } if !wg.is_power_of_two() || wg > 256 => Err(Error::Attribute {
            op: OP,
            message: format!("the matrix-vector workgroup must be a power of two up to 256, got {wg}"),
        }),
        DenseKernel::Gemv { wg } => {
            let grid = fold_grid(blocks(geo.out_features, 8), max);
            gpu.dispatch_with(&GEMV, &[("WG", wg)], &resources, bytemuck::bytes_of(&params), grid)
        }
        DenseKernel::Auto if geo.batch == 1 => plan(x, in_features, slice, y, relu, DenseKernel::Gemv { wg: 64 }),
        // One sample per invocation: W comes from the texture cheaply, x from a buffer does not,
        // so sharing W loads across samples loses to sharing x loads across rows (measured).
        DenseKernel::Auto => plan(x, in_features, slice, y, relu, DenseKernel::Gemm { tile_n: 1 }),
        DenseKernel::Gemm { tile_n } => {
            let tile_n = tile_n.clamp(1, 4);
            // Lanes go along the outputs, so that neighbouring lanes stream neighbouring rows.
            let sample_blocks = blocks(geo.batch, tile_n as usize);
            let wg_x = sample_blocks.next_power_of_two().min(4);
            let wg_y = 64 / wg_x;
            let grid = [sample_blocks.div_ceil(wg_x), blocks(geo.out_features, 4).div_ceil(wg_y), 1];
            gpu.dispatch_with(
                &GEMM,
                &[("WG_X", wg_x), ("WG_Y", wg_y), ("TILE_N", tile_n)],
                &resources,
                bytemuck::bytes_of(&params),
                grid,
            )
        }
    }
}
