// conv_dims.wgsl — a convolution's sizes as its kernels read them: the first field of the
// Uniforms of conv2d.wgsl and im2col.wgsl, which are compiled with this file put before them
// (the kernels' `source` in src/ops/direct.rs and src/ops/gemm.rs). Mirrors ConvDims in
// src/ops/conv_dims.rs.

struct ConvDims {
    h: u32, w: u32, kh: u32, kw: u32,
    oh: u32, ow: u32, stride_y: u32, stride_x: u32,
    pad_top: u32, pad_left: u32, dil_y: u32, dil_x: u32,
}

