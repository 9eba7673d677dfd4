// funnel.wgsl — 4 consecutive words that start anywhere in a pair of vec4s: how kernels read
// a row of words from an unaligned start out of whole texels or vec4s. Put before the kernels
// that use it (their `source` in src/ops/).

// Words shift … shift + 3 of the texel pair (lo, hi), shift 0 to 3: 4 words that start
// anywhere. Selects, not a switch: llvmpipe runs every branch of a switch on every lane.
fn funnel(lo: vec4<f32>, hi: vec4<f32>, shift: u32) -> vec4<f32> {
    let low = select(lo, vec4<f32>(lo.yzw, hi.x), shift == 1u);
    let high = select(vec4<f32>(lo.zw, hi.xy), vec4<f32>(lo.w, hi.xyz), shift == 3u);
    return select(low, high, shift >= 2u);
}
