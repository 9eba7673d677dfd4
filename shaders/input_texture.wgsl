// input_texture.wgsl — a convolution's input read from its texture copy (a linear texture,
// linear_texture.wgsl, put before this file): texels and words of `x`, which the kernels that
// include this file (conv2d.wgsl, im2col.wgsl, winograd_input.wgsl, depthwise.wgsl,
// space_to_depth.wgsl) bind as texture_storage_2d<rgba32float, read>.

// Texel q of x (clamped to the first).
fn texel(q: i32) -> vec4<f32> {
    return textureLoad(x, linear_at(u32(max(q, 0))));
}

// Word i of x, or zero where `inside` is false.
fn x_at(i: i32, inside: bool) -> f32 {
    return select(0.0, texel(i >> 2u)[u32(max(i, 0)) & 3u], inside);
}
