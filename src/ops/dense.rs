//! Dense (fully connected) layers on the GPU: y = x·Wᵀ + b with W `[out, in]`.
//!
//! The weight is packed once ([`DenseWeight`], `ops/packed.rs`): uploaded in slices of rows
//! that fit a storage binding, held in bands of input features that fit a texture. Batch 1
//! streams it once (`dense_gemv` in `shaders/dense.wgsl`); a batch runs as the 1x1
//! convolution of 1x1 images through im2col + GEMM. The kernel is autotuned among candidates.

use std::fmt;

use crate::attrs::{Activation, Dense, DenseGeometry, check_len, check_rank};
use crate::error::{Error, Result};
use crate::gpu::Gpu;
use crate::launch::Launch;
use crate::ops::autotune_timing::{choose, class};
use crate::ops::checks::{check_output, check_same_device};
use crate::ops::conv_gemm::{GemmForm, record_conv};
use crate::ops::cut::copies;
use crate::ops::gemm::Tile;
use crate::ops::packed::{Band, PackedWeight};
use crate::ops::record::{into_new, staged};
use crate::ops::sizes::{blocks, max_groups, to_u32};
use crate::ops::wgsl::wgsl;
use crate::pipeline::{Access, Dispatch, Kernel, Step, UniformLayout, fold_grid, uniform_struct};
use crate::tensor::Tensor;
use crate::texture::{LinearTexture, TILE_COLS};

/// The streaming matrix-vector product for batch 1.
pub(crate) const GEMV: Kernel = Kernel {
    name: "dense",
    source: wgsl!("activation", "linear_texture", "dense"),
    entry: "dense_gemv",
    bindings: &[Access::TextureRead, Access::TextureRead, Access::Read, Access::ReadWrite, Access::Uniform],
    uniform: UniformLayout::of::<GemvUniforms>(),
    overrides: &["TM", "WG", "TEX_SHIFT", "ACT", "ACT_P0", "ACT_P1"],
};

uniform_struct! {
    /// Field order matches `Uniforms` in shaders/dense.wgsl.
    struct GemvUniforms {
        m: u32,
        rows: u32,
        k0: u32,
        has_bias: u32,
        relu: u32,
        accumulate: u32,
        _pad: [u32; 2],
    }
}

/// Which kernel runs a dense layer; `Auto` is what [`dense`] uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DenseKernel {
    /// The autotuned choice among [`DenseKernel::candidates`].
    Auto,
    /// The matrix-vector kernel (batch 1 only): `tm` (4 or 8) outputs per invocation.
    Gemv {
        /// Outputs per invocation.
        tm: u32,
    },
    /// im2col + GEMM with a register tile of `tm` outputs x `tn` samples.
    Gemm(Tile),
}

impl DenseKernel {
    /// A short name: `gemv-4`, `gemm-16x8`.
    pub fn name(&self) -> String {
        match self {
            DenseKernel::Auto => "auto".into(),
            DenseKernel::Gemv { tm } => format!("gemv-{tm}"),
            DenseKernel::Gemm(t) => format!("gemm-{}x{}", t.tm, t.tn),
        }
    }

    /// The kernels the autotuner times for `geo`, the fixed default first.
    pub fn candidates(geo: &DenseGeometry) -> Vec<DenseKernel> {
        let gemm = |tm, tn| DenseKernel::Gemm(Tile { tm, tn });
        match geo.batch {
            1 => vec![DenseKernel::Gemv { tm: 4 }, DenseKernel::Gemv { tm: 8 }],
            2..=4 => vec![gemm(16, 4), gemm(8, 4)],
            _ => vec![gemm(16, 16), gemm(16, 8), gemm(8, 16), gemm(8, 8)],
        }
    }
}

/// y = x·Wᵀ + b (then ReLU), enqueued. The weight is packed for this call; hold a
/// [`DenseWeight`] to do that once for many.
pub fn dense(x: &Tensor, w: &Tensor, b: Option<&Tensor>, attrs: &Dense) -> Result<Tensor> {
    dense_with(x, w, b, attrs, DenseKernel::Auto)
}

/// [`dense`] with an explicit choice of kernel (for benchmarks and validation).
pub fn dense_with(x: &Tensor, w: &Tensor, b: Option<&Tensor>, attrs: &Dense, kernel: DenseKernel) -> Result<Tensor> {
    let geo = attrs.geometry(x.shape(), w.shape(), b.map(Tensor::len))?;
    check_same_device("dense", &[("input", Some(x)), ("weight", Some(w)), ("bias", b)])?;
    let weight = DenseWeight::new(w, b)?;
    into_new(x.gpu(), &geo.output_shape(), |y| weight.record_geometry(&geo, x, y, kernel))
}

/// A dense weight `[out, in]` and bias, packed once: in bands of input features as many as
/// a texture holds, uploaded in slices of rows as large as a storage binding holds (fc6 of
/// AlexNet as the notes count it is 708 MB; lavapipe binds 128 MiB), and in slices of output
/// features as many as a texture's row holds (4 to a texel), each run on its own.
pub struct DenseWeight {
    slices: Vec<PackedWeight>,
    out: usize,
    inp: usize,
}

/// Output features one packed slice holds: a texture row of 4-feature texels, whole tiles.
fn slice_outputs(gpu: &Gpu) -> usize {
    gpu.limits().max_texture_dimension_2d as usize * 4 / TILE_COLS * TILE_COLS
}

impl DenseWeight {
    /// Packs `w` `[out, in]` (and keeps `b`).
    pub fn new(w: &Tensor, b: Option<&Tensor>) -> Result<DenseWeight> {
        check_rank("dense", "weight", w.shape(), 2)?;
        check_same_device("dense", &[("weight", Some(w)), ("bias", b)])?;
        let (out, inp) = (w.shape()[0], w.shape()[1]);
        if let Some(len) = b.map(Tensor::len).filter(|&l| l != out) {
            return Err(Error::BiasLength { op: "dense", got: len, expected: out });
        }
        let gpu = w.gpu();
        let per = slice_outputs(gpu);
        let slices = (0..out)
            .step_by(per)
            .map(|o0| {
                let rows = per.min(out - o0);
                let bias = match b {
                    Some(b) if rows < out => {
                        let slice = Tensor::zeros(gpu, &[rows])?;
                        b.copy_regions_to(&slice, &[(o0, 0, rows)])?;
                        Some(slice)
                    }
                    b => b.cloned(),
                };
                let packed = PackedWeight::zeros(gpu, (rows, inp, 1), 4, bias)?;
                packed.pack_from(w, o0)?;
                Ok(packed)
            })
            .collect::<Result<_>>()?;
        Ok(DenseWeight { slices, out, inp })
    }

    /// Uploads `w` `[out, in]` and `b` `[out]`, through slices of rows that fit a binding.
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
        let rows_per_upload = PackedWeight::rows_per_binding(gpu, in_features)?;
        let per = slice_outputs(gpu);
        let slices = (0..out_features)
            .step_by(per)
            .map(|o0| {
                let rows = per.min(out_features - o0);
                let bias = b.map(|b| Tensor::from_slice(gpu, &b[o0..o0 + rows], &[rows])).transpose()?;
                let packed = PackedWeight::zeros(gpu, (rows, in_features, 1), 4, bias)?;
                for start in (0..rows).step_by(rows_per_upload) {
                    let n = rows_per_upload.min(rows - start);
                    let slice = &w[(o0 + start) * in_features..(o0 + start + n) * in_features];
                    packed.pack_rows(&Tensor::from_slice(gpu, slice, &[n, in_features])?, start)?;
                }
                Ok(packed)
            })
            .collect::<Result<_>>()?;
        Ok(DenseWeight { slices, out: out_features, inp: in_features })
    }

    /// `[out, in]`.
    pub fn shape(&self) -> [usize; 2] {
        [self.out, self.inp]
    }

    /// Bands of input features the weight is held in.
    pub fn band_count(&self) -> usize {
        self.slices[0].bands.len()
    }

    /// Slices of output features the weight is held in (each a texture row wide).
    pub fn slice_count(&self) -> usize {
        self.slices.len()
    }

    /// Bytes of weights (padding included) and biases held on the device.
    pub fn bytes(&self) -> u64 {
        self.slices.iter().map(PackedWeight::bytes).sum()
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
        into_new(x.gpu(), &geo.output_shape(), |y| self.record_geometry(&geo, x, y, kernel))
    }

    /// Records y = x·Wᵀ + b (then ReLU) with the autotuned kernel.
    pub fn record(&self, x: &Tensor, y: &Tensor, attrs: &Dense) -> Result<Launch> {
        self.record_with(x, y, attrs, DenseKernel::Auto)
    }

    /// [`DenseWeight::record`] with an explicit choice of kernel.
    pub fn record_with(&self, x: &Tensor, y: &Tensor, attrs: &Dense, kernel: DenseKernel) -> Result<Launch> {
        self.record_geometry(&self.geometry(x.shape(), attrs)?, x, y, kernel)
    }

    /// Records the dense layer `geo` (this weight's, checked) of `x` into `y`.
    fn record_geometry(&self, geo: &DenseGeometry, x: &Tensor, y: &Tensor, kernel: DenseKernel) -> Result<Launch> {
        const OP: &str = "dense";
        check_same_device(OP, &[("input", Some(x)), ("bias", self.slices[0].bias.as_ref()), ("output", Some(y))])?;
        check_output(OP, y, &geo.output_shape())?;
        if let [slice] = self.slices.as_slice() {
            return record_slice(slice, geo, x, y, kernel);
        }
        // Each slice of output features into an output of its own, then its rows into place.
        let (gpu, batch) = (x.gpu(), geo.batch);
        let mut launch: Option<Launch> = None;
        let mut o0 = 0;
        for slice in &self.slices {
            let m = slice.cout;
            let yt = Tensor::zeros(gpu, &[batch, m])?;
            let rows: Vec<_> = (0..batch).map(|n| (n * m, n * self.out + o0, m)).collect();
            let part = DenseGeometry { out_features: m, ..*geo };
            let step = record_slice(slice, &part, x, &yt, kernel)?.then(copies(&yt, y, &rows))?;
            launch = Some(match launch {
                Some(l) => l.then(step)?,
                None => step,
            });
            o0 += m;
        }
        Ok(launch.expect("a weight has at least one slice"))
    }
}

/// Records `geo` over one packed slice of a dense weight with `kernel`.
fn record_slice(
    packed: &PackedWeight,
    geo: &DenseGeometry,
    x: &Tensor,
    y: &Tensor,
    kernel: DenseKernel,
) -> Result<Launch> {
    let gpu = x.gpu();
    let steps = match kernel {
        DenseKernel::Auto => {
            let candidates: Vec<_> = DenseKernel::candidates(geo).into_iter().map(|k| (k.name(), k)).collect();
            return choose(gpu, &DenseKey::of(geo), &candidates, |k| record_slice(packed, geo, x, y, k));
        }
        DenseKernel::Gemv { tm } => gemv(packed, geo, x, y, tm)?,
        // The 1x1 convolution of the batch's 1x1 images: the same memory on both sides.
        DenseKernel::Gemm(tile) => record_conv(&geo.as_pointwise_conv(), packed, x, y, tile, GemmForm::Windows, false)?,
    };
    Ok(Launch::with_steps(gpu, "dense", steps).with_kernel(kernel.name()))
}

/// The matrix-vector kernel, band after band, over a texture copy of x.
fn gemv(packed: &PackedWeight, geo: &DenseGeometry, x: &Tensor, y: &Tensor, tm: u32) -> Result<Vec<Step>> {
    if geo.batch != 1 {
        return Err(Error::Tuning {
            op: "dense",
            knob: "batch of the gemv kernel",
            value: geo.batch as u64,
            allowed: "1",
        });
    }
    if tm != 4 && tm != 8 {
        return Err(Error::Tuning { op: "dense", knob: "gemv tm", value: tm as u64, allowed: "4 or 8" });
    }
    staged("dense", x, |texture| packed.bands.iter().map(|band| gemv_band(packed, geo, band, texture, y, tm)).collect())
}

fn gemv_band(
    packed: &PackedWeight,
    geo: &DenseGeometry,
    band: &Band,
    x: &LinearTexture,
    y: &Tensor,
    tm: u32,
) -> Result<Dispatch> {
    const OP: &str = "dense";
    let gpu = y.gpu();
    band.at.check_on(gpu, OP, "weight")?;
    let first = band.k0 == 0;
    let last = band.k0 + band.k == geo.in_features;
    let (relu, act) = Activation::relu_flag(if last { geo.attrs.activation } else { None });
    let uniforms = GemvUniforms {
        m: to_u32(OP, "output features", geo.out_features)?,
        rows: to_u32(OP, "input features", band.k.next_multiple_of(4))?,
        k0: to_u32(OP, "input features", band.k0)?,
        has_bias: (first && packed.bias.is_some()) as u32,
        relu,
        accumulate: !first as u32,
        _pad: [0; 2],
    };
    const WG: u32 = 32;
    let grid = fold_grid(blocks(geo.out_features, tm as usize).div_ceil(WG), max_groups(gpu));
    let bias = packed.bias.as_ref().map(Tensor::buffer).unwrap_or(gpu.placeholder());
    let resources = [
        wgpu::BindingResource::TextureView(band.at.view()),
        wgpu::BindingResource::TextureView(x.view()),
        bias.as_entire_binding(),
        y.buffer().as_entire_binding(),
    ];
    let overrides = [&[("TM", tm), ("WG", WG), LinearTexture::OVERRIDE][..], &act].concat();
    gpu.dispatch(&GEMV, &overrides, &resources, bytemuck::bytes_of(&uniforms), grid)
}

/// The autotuner's shape class of a dense layer: batch, input and output features by power
/// of two.
struct DenseKey {
    batch: usize,
    in_features: usize,
    out_features: usize,
}

impl DenseKey {
    fn of(geo: &DenseGeometry) -> DenseKey {
        DenseKey { batch: class(geo.batch), in_features: class(geo.in_features), out_features: class(geo.out_features) }
    }
}

impl fmt::Display for DenseKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "dense b{} in{} out{}", self.batch, self.in_features, self.out_features)
    }
}
