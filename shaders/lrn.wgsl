// lrn.wgsl — local response normalisation across channels (ONNX/PyTorch LRN), NCHW, f32:
//   y = x / (k + alpha / size · Σ x[c']²)^beta,  c' in [c − (size−1)/2, c + (size−1)/2]
// with the window clipped to the channel group that holds c (groups = 2 is the two-GPU
// AlexNet, which normalised each GPU's channels apart).
//
// An invocation walks CHUNK channels of one pixel with a running sum of squares: each step
// adds the square entering the window and subtracts the one leaving it, so it loads three
// values per output (entering, leaving, centre) rather than size + 1.
//
// Bindings (group 0)              mirrors LRN in src/ops/lrn.rs
//   0 x  texture_storage_2d<rgba32float, read>   [N, C, H, W] as a linear texture (a copy the
//                            launch makes: texel reads are llvmpipe's fast path): word i in texel
//                            (i/4 mod 2^TEX_SHIFT, i/4 >> TEX_SHIFT)
//   1 y  storage read_write  [N, C, H, W]
//   2 p  uniform             Params (field order of LrnUniform in src/ops/lrn.rs)
// Grid: x = pixels (WG to a workgroup), y = chunks of CHUNK channels per group,
// z = images · groups.
// Overrides: WG, TEX_SHIFT, THREE_QUARTERS (1 when beta = 0.75). Constant: CHUNK (mirrors
// LRN_CHUNK in src/ops/lrn.rs).

struct Params {
    n: u32, c: u32, hw: u32, size: u32,
    channels_per_group: u32, alpha: f32, beta: f32, k: f32,
}

@group(0) @binding(0) var x: texture_storage_2d<rgba32float, read>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

override WG: u32 = 64u;
override TEX_SHIFT: u32;
override THREE_QUARTERS: u32 = 0u;

// Input word i, from the linear texture laid out by src/texture.rs.
fn x_at(i: u32) -> f32 {
    let t = i >> 2u;
    return textureLoad(x, vec2<u32>(t & ((1u << TEX_SHIFT) - 1u), t >> TEX_SHIFT))[i & 3u];
}

const CHUNK: u32 = 16u;

// v / b^beta. For AlexNet's beta = 3/4 as v · b^−½ · b^−¼ from one inverse square root and
// a square root: pow is exp2 and log2 in software on llvmpipe (lrn1: 1.48 → 1.35 ms, medians
// of 41 runs).
fn normalise(v: f32, b: f32) -> f32 {
    if (THREE_QUARTERS != 0u) {
        let r = inverseSqrt(b);
        return v * r * sqrt(r);
    }
    return v / pow(b, p.beta);
}

@compute @workgroup_size(WG, 1, 1)
fn lrn(@builtin(global_invocation_id) gid: vec3<u32>) {
    // The grid is (pixel, chunk of channels, image · groups + group): no divisions, which
    // llvmpipe runs lane by lane.
    let s = gid.x;
    if (s >= p.hw) {
        return;
    }
    // Local channel c of the group is plane gid.z · channels_per_group + c of [N·C, HW].
    let plane = gid.z * p.channels_per_group;
    let half = (p.size - 1u) / 2u;
    let c0 = gid.y * CHUNK;
    let c1 = min(c0 + CHUNK, p.channels_per_group);
    let scale = p.alpha / f32(p.size);

    // The window of c0, less its last channel, which the first step adds.
    var sq = 0.0;
    for (var c = u32(max(i32(c0) - i32(half), 0)); c < min(c0 + half, p.channels_per_group); c++) {
        let v = x_at((plane + c) * p.hw + s);
        sq += v * v;
    }
    for (var c = c0; c < c1; c++) {
        let enter = c + half;
        if (enter < p.channels_per_group) {
            let v = x_at((plane + enter) * p.hw + s);
            sq += v * v;
        }
        if (c > c0 && c > half) {
            let v = x_at((plane + c - half - 1u) * p.hw + s);
            sq -= v * v;
        }
        let i = (plane + c) * p.hw + s;
        // Rounding in the running sum must not take it below zero.
        y[i] = normalise(x_at(i), p.k + scale * max(sq, 0.0));
    }
}
