// linear_texture.wgsl — reading a tensor held as a linear texture (src/texture.rs): word i
// lies in texel i/4, at (i/4 mod 2^TEX_SHIFT, i/4 >> TEX_SHIFT) of an rgba32float texture.
// Put before the kernels that read one (their `source` in src/ops/), which declare
// `override TEX_SHIFT` and bind the texture.

// Where texel t lies.
fn linear_at(t: u32) -> vec2<u32> {
    return vec2<u32>(t & ((1u << TEX_SHIFT) - 1u), t >> TEX_SHIFT);
}
