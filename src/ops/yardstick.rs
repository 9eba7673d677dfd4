//! The adapter's yardsticks, timed beside the layers by `dojang-validate bench` and `cargo
//! bench`: a plain GEMM over operands already in textures (what a convolution's or a batched
//! dense layer's share of the roofline is measured against), and a weight texture streamed
//! once as the batch-1 dense kernel streams it, nothing multiplied. Not part of the engine's
//! API: the tools reach them through `dojang::tools`.

use crate::error::Result;
use crate::gpu::Gpu;
use crate::launch::Launch;
use crate::ops::gemm::{BOperand, Epilogue, Tile, record_gemm};
use crate::ops::packed::PackedWeight;
use crate::ops::sizes::{blocks, max_groups, to_u32};
use crate::ops::wgsl::wgsl;
use crate::pipeline::{Access, Kernel, UniformLayout, fold_grid, uniform_struct};
use crate::tensor::Tensor;
use crate::texture::MatrixTexture;

/// The adapter's yardstick: a plain `n`³ GEMM with the 16x16 tile over operands already laid
/// out in textures (zeros), recorded into a fresh output. Benchmarks time it beside the layers.
pub fn roofline_gemm(gpu: &Gpu, n: usize) -> Result<Launch> {
    let weight = PackedWeight::zeros(gpu, (n, n, 1), 4, None)?;
    let b = MatrixTexture::zeros(gpu, "gemm", n, n)?;
    let y = Tensor::zeros(gpu, &[1, n, n])?;
    let band = weight.first();
    let d =
        record_gemm(&weight, band, BOperand::Windows(&b), &y, (n, n), Epilogue::default(), Tile { tm: 16, tn: 16 })?;
    Ok(Launch::new(gpu, "gemm", vec![d]))
}

/// Reads a weight texture once, as the batch-1 kernel does: the streaming yardstick.
pub(crate) const STREAM: Kernel = Kernel {
    name: "stream",
    source: wgsl!("stream"),
    entry: "stream",
    bindings: &[Access::TextureRead, Access::ReadWrite, Access::Uniform],
    uniform: UniformLayout::of::<StreamUniforms>(),
    overrides: &["WG"],
};

uniform_struct! {
    /// Field order matches `Uniforms` in shaders/stream.wgsl.
    struct StreamUniforms {
        rows: u32,
        columns: u32,
        _pad: [u32; 2],
    }
}

/// The adapter's streaming yardstick for batch-1 dense layers: a weight of `out` x `inp`
/// (zeros), packed as `DenseWeight` packs it, read once as the batch-1 kernel reads it, with
/// nothing multiplied. Benchmarks time it beside the dense layers: the GB/s they can reach.
pub fn roofline_gemv(gpu: &Gpu, out: usize, inp: usize) -> Result<Launch> {
    const OP: &str = "stream";
    let weight = PackedWeight::zeros(gpu, (out, inp, 1), 4, None)?;
    let band = weight.first();
    let columns = weight.m_blocks();
    let sum = Tensor::zeros(gpu, &[4 * columns])?;
    let uniforms = StreamUniforms {
        rows: to_u32(OP, "input features", band.k)?,
        columns: to_u32(OP, "output texels", columns)?,
        _pad: [0; 2],
    };
    const WG: u32 = 32;
    let grid = fold_grid(blocks(columns, WG as usize), max_groups(gpu));
    let resources = [wgpu::BindingResource::TextureView(band.at.view()), sum.buffer().as_entire_binding()];
    let d = gpu.dispatch(&STREAM, &[("WG", WG)], &resources, bytemuck::bytes_of(&uniforms), grid)?;
    Ok(Launch::new(gpu, OP, vec![d]).with_kernel("texel-stream".into()))
}
