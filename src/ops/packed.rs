//! Weights packed once for every kernel that reads them (`pack.wgsl`): a weight `[Cout, K]`
//! (a convolution's OIHW flattened, or a dense layer's `[out, in]`) transposed per group, K
//! rows of 4 output channels to a texel — the Aᵀ operand of the GEMM, 4 channels per load
//! for the direct convolution, a streaming row per k for the batch-1 dense kernel.
//!
//! A texture holds at most `max_texture_dimension_2d` rows, so a weight with a longer
//! reduction is cut into bands of K (each its own texture, whole input channels of a
//! convolution); the GEMM and the batch-1 dense kernel run band after band, accumulating into
//! the output. Grouped weights take one band.

use crate::error::{Error, Result, Shape};
use crate::gpu::Gpu;
use crate::ops::sizes::{blocks, to_u32};
use crate::ops::wgsl::wgsl;
use crate::pipeline::{Access, Kernel, Step, UniformLayout, uniform_struct};
use crate::tensor::Tensor;
use crate::texture::{MatrixTexture, TILE_COLS};

/// Lays weights out as the Aᵀ operand.
pub(crate) const PACK: Kernel = Kernel {
    name: "pack",
    source: wgsl!("pack"),
    entry: "pack_weights",
    bindings: &[Access::Read, Access::TextureWrite, Access::Uniform],
    uniform: UniformLayout::of::<PackUniforms>(),
    overrides: &["WG"],
};

/// Rows `k0 .. k0 + k` of the packed weight (zero rows pad it to a multiple of 4).
pub(crate) struct Band {
    pub(crate) at: MatrixTexture,
    pub(crate) k0: usize,
    pub(crate) k: usize,
}

/// A weight `[Cout, K]` and bias in `groups` groups, packed once: per group, K rows of 4
/// output channels to a texel, each group's channels padded to whole 16-channel tiles.
pub(crate) struct PackedWeight {
    pub(crate) bands: Vec<Band>,
    pub(crate) bias: Option<Tensor>,
    pub(crate) cout: usize,
    pub(crate) k: usize,
    pub(crate) groups: usize,
}

uniform_struct! {
    /// Field order matches `Uniforms` in shaders/pack.wgsl.
    struct PackUniforms {
        k: u32,
        m: u32,
        m_blocks: u32,
        rows: u32,
        row_offset: u32,
        columns: u32,
        k0: u32,
        band_rows: u32,
    }
}

impl PackedWeight {
    /// An empty packed weight of `cout` x `k` in `groups` groups, to be filled by
    /// [`PackedWeight::pack_rows`]. Only ungrouped weights may take several bands, each a whole
    /// number of `unit`s of K (a convolution's KH·KW taps: whole input channels).
    pub(crate) fn zeros(
        gpu: &Gpu,
        (cout, k, groups): (usize, usize, usize),
        unit: usize,
        bias: Option<Tensor>,
    ) -> Result<PackedWeight> {
        if cout == 0 || k == 0 || groups == 0 {
            return Err(Error::Empty {
                op: "weight",
                what: "weight [outputs, inputs, groups]",
                shape: Shape(vec![cout, k, groups]),
            });
        }
        let max = gpu.limits().max_texture_dimension_2d as usize / 4 * 4 / unit * unit;
        if (groups > 1 && k > max) || max == 0 {
            return Err(Error::Limit {
                op: "weight",
                what: format!("a grouped weight of {k} values per output channel (texture rows)"),
                needed: k as u64,
                limit: max as u64,
            });
        }
        let m_blocks = (cout / groups).div_ceil(TILE_COLS) * TILE_COLS / 4;
        let bands = (0..k)
            .step_by(max)
            .map(|k0| {
                let kb = max.min(k - k0);
                let at = MatrixTexture::zeros(gpu, "weight", kb.next_multiple_of(4), groups * m_blocks * 4)?;
                Ok(Band { at, k0, k: kb })
            })
            .collect::<Result<_>>()?;
        Ok(PackedWeight { bands, bias, cout, k, groups })
    }

    /// Texel columns per group.
    pub(crate) fn m_blocks(&self) -> usize {
        (self.cout / self.groups).div_ceil(TILE_COLS) * TILE_COLS / 4
    }

    /// Packs `w`, whole rows `row_offset ..` of the weight (all of them when it has groups).
    pub(crate) fn pack_rows(&self, w: &Tensor, row_offset: usize) -> Result<()> {
        const OP: &str = "weight packing";
        let gpu = w.gpu();
        let rows = w.len() / self.k;
        let columns = if self.groups > 1 { self.groups * self.m_blocks() } else { rows.div_ceil(4) };
        let mut steps = Vec::with_capacity(self.bands.len());
        for band in &self.bands {
            band.at.check_on(gpu, OP, "weight")?;
            let uniforms = PackUniforms {
                k: to_u32(OP, "weights per output", self.k)?,
                m: to_u32(OP, "outputs per group", self.cout / self.groups)?,
                m_blocks: to_u32(OP, "outputs", self.m_blocks())?,
                rows: to_u32(OP, "outputs", rows)?,
                row_offset: to_u32(OP, "outputs", row_offset)?,
                columns: to_u32(OP, "outputs", columns)?,
                k0: to_u32(OP, "weights per output", band.k0)?,
                band_rows: to_u32(OP, "weights per output", band.k)?,
            };
            let grid = [blocks(columns, 64), uniforms.band_rows, 1];
            let resources = [w.buffer().as_entire_binding(), wgpu::BindingResource::TextureView(band.at.view())];
            let d = gpu.dispatch(&PACK, &[("WG", 64)], &resources, bytemuck::bytes_of(&uniforms), grid)?;
            steps.push(Step::Dispatch(d));
        }
        gpu.submit(OP, &steps).map(|_| ())
    }

    /// Rows of `k` values a kernel can bind at once: whole texels of output channels.
    pub(crate) fn rows_per_binding(gpu: &Gpu, k: usize) -> Result<usize> {
        let limit = gpu.max_binding_bytes().saturating_sub(16) / 4;
        match (limit / k as u64) as usize / 4 * 4 {
            0 => Err(Error::Limit {
                op: "weight packing",
                what: format!("four weight rows of {k} values"),
                needed: 16 * k as u64,
                limit: 4 * limit,
            }),
            rows => Ok(rows),
        }
    }

    /// Packs rows `first ..` of `w` (`[rows, K]`, all of it when grouped) into this weight,
    /// through copies of as many rows as a binding holds when `w` passes one.
    pub(crate) fn pack_from(&self, w: &Tensor, first: usize) -> Result<()> {
        let gpu = w.gpu();
        let rows = self.cout;
        let per = Self::rows_per_binding(gpu, self.k)?;
        if self.groups > 1 && rows > per {
            return Err(Error::Limit {
                op: "weight packing",
                what: format!("a grouped weight of {rows} x {} values in one binding", self.k),
                needed: 4 * (rows * self.k) as u64,
                limit: gpu.max_binding_bytes(),
            });
        }
        if first == 0 && w.len() == rows * self.k && rows <= per {
            return self.pack_rows(w, 0);
        }
        for r0 in (0..rows).step_by(per) {
            let n = per.min(rows - r0);
            let part = Tensor::zeros(gpu, &[n, self.k])?;
            w.copy_regions_to(&part, &[((first + r0) * self.k, 0, n * self.k)])?;
            self.pack_rows(&part, r0)?;
        }
        Ok(())
    }

    /// Bytes held on the device, padding included.
    pub(crate) fn bytes(&self) -> u64 {
        let texels: usize = self.bands.iter().map(|b| b.at.len()).sum();
        4 * (texels + self.bias.as_ref().map_or(0, Tensor::len)) as u64
    }

    /// The first band: the only one of a weight whose reduction fits a texture.
    pub(crate) fn first(&self) -> &Band {
        &self.bands[0]
    }
}
