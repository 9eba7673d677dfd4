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

const BINDINGS: &[Access] = &[Access::Read, Access::Read, Access::Read, Access::ReadWrite, Access::Uniform];

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
    /// `Gemv` for batch 1, `Gemm` otherwise.
    Auto,
    /// The GEMM with a block of 4 outputs x `tile_n` (1..=4) samples per invocation.
    Gemm { tile_n: u32 },
    /// The matrix-vector kernel (batch 1 only): 4 outputs per workgroup of `wg` lanes (a
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
    let y = Tensor::zeros(x.gpu(), &geo.output_shape())?;
    let d = plan(x, w, b, &y, 0, relu, kernel)?;
    x.gpu().run("dense", &[&d])?;
    Ok(y)
}

/// A dense weight [out, in] (and bias) kept as slices of whole rows, each small enough for
/// one storage binding: fc6 of AlexNet as the notes count it is 708 MB, lavapipe binds 128 MiB.
pub struct DenseWeight {
    pub in_features: usize,
    pub out_features: usize,
    /// (first row, weight rows [rows, in], bias [rows]).
    pub slices: Vec<(usize, Tensor, Option<Tensor>)>,
}

impl DenseWeight {
    /// Uploads `w` [out, in] and `b` [out], cut into as few row slices as the binding limit allows.
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
        // Tensors round up to whole vec4s (16 bytes): leave room for that.
        let rows_per_slice = (gpu.max_binding_bytes().saturating_sub(16) / (4 * in_features as u64)) as usize;
        if rows_per_slice == 0 {
            return Err(Error::Limit {
                op: "dense",
                what: format!("one weight row of {in_features} features"),
                needed: 4 * in_features as u64,
                limit: gpu.max_binding_bytes(),
            });
        }
        let mut slices = Vec::new();
        for start in (0..out_features).step_by(rows_per_slice) {
            let rows = rows_per_slice.min(out_features - start);
            let wt =
                Tensor::from_slice(gpu, &w[start * in_features..(start + rows) * in_features], &[rows, in_features])?;
            let bt = b.map(|b| Tensor::from_slice(gpu, &b[start..start + rows], &[rows])).transpose()?;
            slices.push((start, wt, bt));
        }
        Ok(DenseWeight { in_features, out_features, slices })
    }

    /// Records y = x·Wᵀ + b (then ReLU), one dispatch per slice.
    pub(crate) fn plan(&self, x: &Tensor, y: &Tensor, relu: bool, kernel: DenseKernel) -> Result<Vec<Dispatch>> {
        self.slices.iter().map(|(start, w, b)| plan(x, w, b.as_ref(), y, *start, relu, kernel)).collect()
    }

    /// y = x·Wᵀ + b (then ReLU) for x [N, in].
    pub fn forward(&self, x: &Tensor, relu: bool) -> Result<Tensor> {
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
        let dispatches = self.plan(x, &y, relu, DenseKernel::Auto)?;
        x.gpu().run("dense", &dispatches.iter().collect::<Vec<_>>())?;
        Ok(y)
    }
}

/// Records rows `row_offset ..` of y [N, total_out] from the weight slice `w` [rows, F] and
/// its bias slice `b` [rows].
pub(crate) fn plan(
    x: &Tensor,
    w: &Tensor,
    b: Option<&Tensor>,
    y: &Tensor,
    row_offset: usize,
    relu: bool,
    kernel: DenseKernel,
) -> Result<Dispatch> {
    const OP: &str = "dense";
    check_same_device(OP, &[("input", Some(x)), ("weight", Some(w)), ("bias", b), ("output", Some(y))])?;
    let geo = DenseGeometry::new(x.shape(), w.shape(), b.map(Tensor::len), relu)?;
    let total_out = y.shape()[1];
    if y.shape() != [geo.batch, total_out] || row_offset + geo.out_features > total_out {
        return Err(Error::Mismatch { op: OP, a: y.shape().into(), b: geo.output_shape()[..].into() });
    }
    let gpu = x.gpu();
    let params = DenseUniform {
        m: geo.out_features as u32,
        n: geo.batch as u32,
        k: geo.in_features as u32,
        y_stride: total_out as u32,
        y_offset: row_offset as u32,
        has_bias: b.is_some() as u32,
        relu: relu as u32,
        _pad: 0,
    };
    let buffers = [w.buffer(), x.buffer(), b.map(Tensor::buffer).unwrap_or(gpu.placeholder()), y.buffer()];
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
            let grid = fold_grid(blocks(geo.out_features, 4), max);
            gpu.dispatch(&GEMV, &[("WG", wg)], &buffers, bytemuck::bytes_of(&params), grid)
        }
        DenseKernel::Auto if geo.batch == 1 => plan(x, w, b, y, row_offset, relu, DenseKernel::Gemv { wg: 64 }),
        DenseKernel::Auto => plan(x, w, b, y, row_offset, relu, DenseKernel::Gemm { tile_n: geo.batch.min(4) as u32 }),
        DenseKernel::Gemm { tile_n } => {
            let tile_n = tile_n.clamp(1, 4);
            // Lanes go along the outputs, so that neighbouring lanes stream neighbouring rows.
            let sample_blocks = blocks(geo.batch, tile_n as usize);
            let wg_x = sample_blocks.next_power_of_two().min(4);
            let wg_y = 64 / wg_x;
            let grid = [sample_blocks.div_ceil(wg_x), blocks(geo.out_features, 4).div_ceil(wg_y), 1];
            gpu.dispatch(
                &GEMM,
                &[("WG_X", wg_x), ("WG_Y", wg_y), ("TILE_N", tile_n)],
                &buffers,
                bytemuck::bytes_of(&params),
                grid,
            )
        }
    }
}
