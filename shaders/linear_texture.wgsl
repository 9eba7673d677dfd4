// linear_texture.wgsl — reading a tensor held as a linear texture (src/texture.rs): word i
// lies in texel i/4, at (i/4 mod 2^TEX_SHIFT, i/4 >> TEX_SHIFT) of an rgba32float texture.
// Put before the kernels that read one (their `source` in src/ops/), which declare
// `override TEX_SHIFT` and bind the texture.

// Where texel t lies.
fn linear_at(t: u32) -> vec2<u32> {
    return vec2<u32>(t & ((1u << TEX_SHIFT) - 1u), t >> TEX_SHIFT);
}

// Words shift … shift + 3 of the texel pair (lo, hi), shift 0 to 3: 4 words that start
// anywhere. Selects, not a switch: llvmpipe runs every branch of a switch on every lane.
fn funnel(lo: vec4<f32>, hi: vec4<f32>, shift: u32) -> vec4<f32> {
    let low = select(lo, vec4<f32>(lo.yzw, hi.x), shift == 1u);
    let high = select(vec4<f32>(lo.zw, hi.xy), vec4<f32>(lo.w, hi.xyz), shift == 3u);
    return select(low, high, shift >= 2u);
}
