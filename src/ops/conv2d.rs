//! 2-D convolution on the GPU: the prepared weight, the choice of kernel among the candidates
//! (`conv_kernel.rs`), the launch.
//!
//! Weights are packed once into a texture ([`ConvWeight`]) that three algorithms read: the
//! direct kernel (`direct.rs`), which walks the input in place; im2col + GEMM (`conv_gemm.rs`),
//! which lays the input windows out as a matrix and multiplies; and the implicit GEMM, which
//! lays out only row windows (each input value once per kernel column and row phase of the
//! stride, not once per tap) and finds every tap's windows in them. A 1x1 kernel with stride 1
//! and no padding is a matrix product as it stands; the GEMM then reads the input itself, and
//! the direct kernel runs over the image flattened to one row, where its 8-channel x 8-pixel
//! register tile is a GEMM tile.

use std::sync::{Arc, Mutex};

use crate::attrs::{Conv2d, Conv2dGeometry, Padding, check_len, check_rank};
use crate::error::{Error, Result};
use crate::gpu::Gpu;
use crate::launch::Launch;
use crate::ops::autotune_timing::choose;
use crate::ops::checks::{check_output, check_same_device};
use crate::ops::conv_gemm::{GemmForm, record_conv};
use crate::ops::conv_kernel::{ConvKernel, fits, slab, split_parts};
use crate::ops::conv_key::ConvKey;
use crate::ops::cut::copy;
use crate::ops::depthwise::record_depthwise;
use crate::ops::direct::record_direct;
use crate::ops::packed::PackedWeight;
use crate::ops::record::{into_new, staged};
use crate::ops::scratch;
use crate::ops::space_to_depth::{self, record_space_to_depth};
use crate::ops::winograd::{self, record_winograd, record_winograd_over, transformed_weight};
use crate::tensor::Tensor;

/// A Winograd transform of a weight: M, and the stride the weight is folded by (1: not folded).
type WinogradKey = (usize, usize);

/// A convolution's weight `[Cout, Cin/groups, KH, KW]` and bias, packed once on the device in
/// the layout both kernels read (see `ops/packed.rs`), then shared by every call, plan and
/// batch size that uses it.
pub struct ConvWeight {
    packed: PackedWeight,
    shape: [usize; 4],
    /// The weight as given, kept for the depthwise kernel where it has one input channel per
    /// group (a few taps per output channel: the copy is small).
    raw: Option<Tensor>,
    /// The weight transformed for Winograd F(MxM, RxR), by M and the stride it is folded by
    /// (1: not folded), made when that kernel is first recorded.
    winograd: Mutex<Vec<(WinogradKey, Arc<PackedWeight>)>>,
}

impl ConvWeight {
    /// Packs `w` (and keeps `b`) for convolutions with `groups` groups.
    pub fn new(w: &Tensor, b: Option<&Tensor>, groups: usize) -> Result<ConvWeight> {
        const OP: &str = "conv2d";
        check_rank(OP, "weight", w.shape(), 4)?;
        check_same_device(OP, &[("weight", Some(w)), ("bias", b)])?;
        let shape = [w.shape()[0], w.shape()[1], w.shape()[2], w.shape()[3]];
        if groups == 0 || !shape[0].is_multiple_of(groups) {
            return Err(Error::Groups { op: OP, what: "output channels", channels: shape[0], groups });
        }
        if let Some(len) = b.map(Tensor::len).filter(|&l| l != shape[0]) {
            return Err(Error::BiasLength { op: OP, got: len, expected: shape[0] });
        }
        let taps = shape[2] * shape[3];
        let packed = PackedWeight::zeros(w.gpu(), (shape[0], shape[1] * taps, groups), taps, b.cloned())?;
        packed.pack_from(w, 0)?;
        let raw = (shape[1] == 1).then(|| w.clone());
        Ok(ConvWeight { packed, shape, raw, winograd: Mutex::default() })
    }

    /// Uploads `w` of `shape` (OIHW) and `b`, and packs them for `groups` groups.
    pub fn upload(gpu: &Gpu, w: &[f32], b: Option<&[f32]>, shape: [usize; 4], groups: usize) -> Result<ConvWeight> {
        check_len(&shape, w)?;
        let wt = Tensor::from_slice(gpu, w, &shape)?;
        let bt = b.map(|b| Tensor::from_slice(gpu, b, &[b.len()])).transpose()?;
        ConvWeight::new(&wt, bt.as_ref(), groups)
    }

    /// `[Cout, Cin/groups, KH, KW]`.
    pub fn shape(&self) -> [usize; 4] {
        self.shape
    }

    /// The groups the weight was packed for.
    pub fn groups(&self) -> usize {
        self.packed.groups
    }

    /// Bytes held on the device (packed weights, padding included, the Winograd transform of
    /// them once made, and bias).
    pub fn bytes(&self) -> u64 {
        let winograd = self.winograd.lock().unwrap_or_else(|e| e.into_inner());
        self.packed.bytes() + winograd.iter().map(|(_, u)| u.bytes()).sum::<u64>()
    }

    /// The weight transformed for Winograd F(MxM, RxR), folded space-to-depth by `block` (1:
    /// not folded), made on first use.
    fn winograd(&self, gpu: &Gpu, m: usize, block: usize) -> Result<Arc<PackedWeight>> {
        let mut held = self.winograd.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, u)) = held.iter().find(|(key, _)| *key == (m, block)) {
            return Ok(u.clone());
        }
        let u = Arc::new(transformed_weight(gpu, &self.packed, m, [self.shape[2], self.shape[3]], block)?);
        held.push(((m, block), u.clone()));
        Ok(u)
    }

    /// The checked geometry of this weight applied to `x` with `attrs`.
    pub fn geometry(&self, x: &[usize], attrs: &Conv2d) -> Result<Conv2dGeometry> {
        if attrs.groups != self.packed.groups {
            return Err(Error::WeightGroups { prepared: self.packed.groups, asked: attrs.groups });
        }
        attrs.geometry(x, &self.shape, self.packed.bias.as_ref().map(Tensor::len))
    }

    /// Convolves `x` (enqueued; the result is ready when downloaded).
    pub fn forward(&self, x: &Tensor, attrs: &Conv2d) -> Result<Tensor> {
        self.forward_with(x, attrs, ConvKernel::Auto)
    }

    /// [`ConvWeight::forward`] with an explicit choice of kernel.
    pub fn forward_with(&self, x: &Tensor, attrs: &Conv2d, kernel: ConvKernel) -> Result<Tensor> {
        let geo = self.geometry(x.shape(), attrs)?;
        into_new(x.gpu(), &geo.output_shape(), |y| self.record_geometry(&geo, x, y, kernel, false))
    }

    /// Records the convolution of `x` into `y`, to be run as often as needed, with the
    /// autotuned kernel (timed here on first use of the shape class).
    pub fn record(&self, x: &Tensor, y: &Tensor, attrs: &Conv2d) -> Result<Launch> {
        self.record_with(x, y, attrs, ConvKernel::Auto)
    }

    /// [`ConvWeight::record`] with an explicit choice of kernel.
    pub fn record_with(&self, x: &Tensor, y: &Tensor, attrs: &Conv2d, kernel: ConvKernel) -> Result<Launch> {
        self.record_geometry(&self.geometry(x.shape(), attrs)?, x, y, kernel, false)
    }

    /// Records `y = act(conv(x) + bias + residual)`: a residual block's add (a ResNet
    /// bottleneck's shortcut) in the GEMM's epilogue, with no pass of its own. The residual
    /// (of y's shape; y itself adds to what it holds) is copied into y, and the GEMM adds to
    /// it as it stores; the autotuner chooses among the GEMM kernels, which can.
    pub fn record_onto(&self, x: &Tensor, residual: &Tensor, y: &Tensor, attrs: &Conv2d) -> Result<Launch> {
        self.record_onto_with(x, residual, y, attrs, ConvKernel::Auto)
    }

    /// [`ConvWeight::record_onto`] with an explicit choice of kernel: the GEMM or the implicit
    /// GEMM (others are an [`Error::KernelShape`]).
    pub fn record_onto_with(
        &self,
        x: &Tensor,
        residual: &Tensor,
        y: &Tensor,
        attrs: &Conv2d,
        kernel: ConvKernel,
    ) -> Result<Launch> {
        const OP: &str = "conv2d onto";
        let geo = self.geometry(x.shape(), attrs)?;
        check_same_device(OP, &[("output", Some(y)), ("residual", Some(residual))])?;
        check_output(OP, residual, &geo.output_shape())?;
        let launch = self.record_geometry(&geo, x, y, kernel, true)?;
        if residual.buffer() == y.buffer() {
            return Ok(launch);
        }
        let name = launch.kernel().to_string();
        let start = Launch::with_steps(x.gpu(), OP, vec![copy(residual, 0, y, 0, y.len())]);
        Ok(start.then(launch)?.with_kernel(name))
    }

    /// Records the convolution `geo` (this weight's, checked) of `x` into `y`, adding to what
    /// y holds where `onto`.
    fn record_geometry(
        &self,
        geo: &Conv2dGeometry,
        x: &Tensor,
        y: &Tensor,
        kernel: ConvKernel,
        onto: bool,
    ) -> Result<Launch> {
        const OP: &str = "conv2d";
        check_same_device(OP, &[("input", Some(x)), ("bias", self.packed.bias.as_ref()), ("output", Some(y))])?;
        self.packed.first().at.check_on(x.gpu(), OP, "weight")?;
        check_output(OP, y, &geo.output_shape())?;
        let gpu = x.gpu();
        // Past a binding or (laying windows out) a texture's width: parts of images or rows,
        // each recorded as a convolution of its own, its padding the rows' share of the layer's.
        // Auto cuts at the bindings and chooses per part (so that tuning times parts of at most
        // a binding); a GEMM that lays windows out, and the implicit GEMM, cut further where
        // what they lay out must.
        let slab = slab(geo);
        let parts = slab.parts(OP, |images, rows| fits(gpu, geo, &slab, (images, rows), kernel))?;
        if parts.len() > 1 {
            return slab.record(OP, x, y, &parts, onto, |xt, yt, part| {
                let p = geo.attrs.padding;
                let band = geo.attrs.with_padding(Padding::new(part.pad_top, p.left, part.pad_bottom, p.right));
                self.record_geometry(&self.geometry(xt.shape(), &band)?, xt, yt, kernel, onto)
            });
        }
        if onto && kernel != ConvKernel::Auto && !kernel.adds_to_output() {
            let got = format!("asked for {} to add to its output", kernel.name());
            return Err(Error::KernelShape { kernel: "conv2d onto", runs: "the GEMM kernels", got });
        }
        let steps = match kernel {
            ConvKernel::Auto => {
                let candidates: Vec<_> = (ConvKernel::candidates(geo).into_iter())
                    .filter(|k| !onto || k.adds_to_output())
                    .map(|k| (k.name(), k))
                    .collect();
                let key = ConvKey::of(geo, onto);
                let launch = choose(gpu, &key, &candidates, |k| self.record_geometry(geo, x, y, k, onto))?;
                // A transform made for a Winograd candidate that lost is not kept (its launches
                // hold what they bind until they are dropped).
                let won = candidates.iter().find(|(name, _)| name == launch.kernel()).map(|(_, k)| *k);
                let keep = match won {
                    Some(ConvKernel::Winograd { m, .. }) => (m as usize, 1),
                    Some(ConvKernel::SpaceToDepth { m, .. }) => (m as usize, geo.attrs.stride[0]),
                    _ => (0, 0),
                };
                self.winograd.lock().unwrap_or_else(|e| e.into_inner()).retain(|(key, _)| *key == keep);
                return Ok(launch);
            }
            ConvKernel::Direct { .. } if self.packed.bands.len() > 1 => {
                // The direct kernel walks one texture; a reduction in bands is the GEMM's.
                return Err(Error::Limit {
                    op: OP,
                    what: format!("the direct kernel over {} weights per output channel", self.packed.k),
                    needed: self.packed.k as u64,
                    limit: self.packed.first().k as u64,
                });
            }
            ConvKernel::Direct { tile_co, wg_x, wg_y } => {
                staged(OP, x, |texture| Ok(vec![record_direct(geo, &self.packed, texture, y, tile_co, [wg_x, wg_y])?]))?
            }
            ConvKernel::Gemm(tile) => record_conv(geo, &self.packed, x, y, tile, GemmForm::Windows, onto)?,
            ConvKernel::SplitK(tile) => {
                let parts = split_parts(geo, tile).ok_or_else(|| Error::KernelShape {
                    kernel: "split-K GEMM",
                    runs: "convolutions of fewer GEMM tiles than it splits to (128)",
                    got: format!("{} outputs x {} pixels", geo.cout, geo.n * geo.oh * geo.ow),
                })?;
                record_conv(geo, &self.packed, x, y, tile, GemmForm::SplitK(parts), onto)?
            }
            ConvKernel::Winograd { m, tile, fused } => {
                let m = m as usize;
                winograd::check_form(geo, m, fused)?;
                let u = self.winograd(gpu, m, 1)?;
                record_winograd(geo, (m, fused), &u, self.packed.bias.as_ref(), x, y, tile)?
            }
            ConvKernel::SpaceToDepth { m, tile, fused } => {
                let m = m as usize;
                let (inner, block) = space_to_depth::check_folded(geo, m, fused)?;
                let u = self.winograd(gpu, m, block)?;
                let folded = scratch::linear(gpu, OP, inner.input_shape().iter().product())?;
                let mut steps = record_space_to_depth(geo, &inner, x, &folded)?;
                let bias = self.packed.bias.as_ref();
                steps.extend(record_winograd_over(&inner, (m, fused), &u, bias, &folded, y, tile)?);
                steps
            }
            ConvKernel::Implicit(tile) => record_conv(geo, &self.packed, x, y, tile, GemmForm::Implicit, onto)?,
            ConvKernel::Shifted(tile) => record_conv(geo, &self.packed, x, y, tile, GemmForm::Shifted, onto)?,
            ConvKernel::Depthwise => {
                let w = self.raw.as_ref().ok_or(Error::Limit {
                    op: OP,
                    what: format!("the depthwise kernel over {} input channels per group", self.shape[1]),
                    needed: self.shape[1] as u64,
                    limit: 1,
                })?;
                record_depthwise(geo, w, self.packed.bias.as_ref(), x, y)?
            }
        };
        Ok(Launch::with_steps(gpu, OP, steps).with_kernel(kernel.name()))
    }
}

/// Convolves `x` with `w` (and adds `b`) on the device `x` lives on, enqueued. The weight is
/// packed for this call; hold a [`ConvWeight`] to pack it once for many.
pub fn conv2d(x: &Tensor, w: &Tensor, b: Option<&Tensor>, attrs: &Conv2d) -> Result<Tensor> {
    conv2d_with(x, w, b, attrs, ConvKernel::Auto)
}

/// [`conv2d`] with an explicit choice of kernel (for benchmarks and validation).
pub fn conv2d_with(x: &Tensor, w: &Tensor, b: Option<&Tensor>, attrs: &Conv2d, kernel: ConvKernel) -> Result<Tensor> {
    let geo = attrs.geometry(x.shape(), w.shape(), b.map(Tensor::len))?;
    check_same_device("conv2d", &[("input", Some(x)), ("weight", Some(w)), ("bias", b)])?;
    let weight = ConvWeight::new(w, b, attrs.groups)?;
    into_new(x.gpu(), &geo.output_shape(), |y| weight.record_geometry(&geo, x, y, kernel, false))
}
