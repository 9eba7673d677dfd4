//! What a kernel declares to the host: its WGSL source, entry point and bindings.

/// How a kernel accesses one binding; the uniform of parameters always comes last.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Access {
    Read,
    ReadWrite,
    Uniform,
    /// A `texture_2d<f32>` of rgba32float texels, read with textureLoad.
    Texture,
}

/// A compute entry point in one of the files under `shaders/`.
pub(crate) struct Kernel {
    /// Shader file stem and entry, for labels and the pipeline cache.
    pub name: &'static str,
    pub source: &'static str,
    pub entry: &'static str,
    /// Binding `i` of group 0 is `bindings[i]`; mirrors the WGSL file's header.
    pub bindings: &'static [Access],
}

/// Every kernel, for tests that validate all WGSL without a GPU.
pub(crate) const ALL: &[&Kernel] = &[
    &crate::ops::conv2d::DIRECT,
    &crate::ops::conv2d::PACK,
    &crate::ops::dense::GEMM,
    &crate::ops::dense::GEMV,
    &crate::ops::pool2d::POOL,
    &crate::ops::elementwise::ELEMENTWISE,
    &crate::ops::lrn::LRN,
    &crate::ops::softmax::SOFTMAX,
];

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

/// The source of every kernel as wgpu sees it: the shader file's text.
pub fn kernel_sources() -> Vec<(&'static str, &'static str, &'static str)> {
    ALL.iter().map(|k| (k.name, k.entry, k.source)).collect()
}
