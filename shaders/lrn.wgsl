// lrn.wgsl — local response normalisation across channels (ONNX/PyTorch LRN), NCHW, f32:
//   y = x / (k + alpha / size · Σ x[c']²)^beta,  c' in [c − (size−1)/2, c + (size−1)/2]
// with the window clipped to the channel group that holds c (groups = 2 is the two-GPU
// AlexNet, which normalised each GPU's channels apart).
//
// An invocation writes RUN aligned vec4s of the flat output: a vec4 store is 4 words for one
// pass of llvmpipe's lane-by-lane store loop, and scalar stores took about half of lrn1's
// time. A vec4 may straddle channels, groups and images, so each word carries its own channel
// within its group. The words at channel offset k·HW from a vec4 lie at the same offset within
// a texel for every lane, so RUN + 1 texels and a funnel shift read them for each k; the
// centre is k = 0. Every loop has a fixed count where it can (RUN, the window's size as an
// override, the carries' steps), so llvmpipe unrolls it: its loop bookkeeping cost more than
// the loops' work. lrn1, medians of runs interleaved with the kernel before each step: one
// word an invocation with a running sum over 16 channels and scalar stores, 1.45–1.56 ms;
// vec4s, 1.22–1.28; carries unrolled, 1.03–1.22; the window unrolled, 0.98–1.01; RUN 2
// rather than 4, 0.84–0.87 (RUN 1: 1.00–1.02; 8: 1.15–1.22).
//
// Bindings (group 0)              mirrors LRN in src/ops/lrn.rs
//   0 x  texture_storage_2d<rgba32float, read>   [N, C, H, W] as a linear texture (a copy the
//                            launch makes: texel reads are llvmpipe's fast path): word i in texel
//                            (i/4 mod 2^TEX_SHIFT, i/4 >> TEX_SHIFT)
//   1 y  storage read_write  [N, C, H, W] as vec4s (tensors are padded to whole vec4s)
//   2 p  uniform             Uniforms (field order of LrnUniforms in src/ops/lrn.rs)
// Grid: x = runs of RUN vec4s of a group's channels (WG to a workgroup), z = images · groups.
// A group writes the vec4s whose first word is one of its own.
// Overrides: WG, TEX_SHIFT, THREE_QUARTERS (1 when beta = 0.75), SIZE (the window's size when
// small, else 0). Constant: RUN (a constant, not an override: it sizes function-scope arrays;
// src/ops/lrn.rs reads it from this file).

struct Uniforms {
    n: u32, c: u32, hw: u32, size: u32,
    channels_per_group: u32, alpha: f32, beta: f32, k: f32,
}

@group(0) @binding(0) var x: texture_storage_2d<rgba32float, read>;
@group(0) @binding(1) var<storage, read_write> y: array<vec4<f32>>;
@group(0) @binding(2) var<uniform> p: Uniforms;

override WG: u32 = 64u;
override TEX_SHIFT: u32;
override THREE_QUARTERS: u32 = 0u;
override SIZE: u32 = 0u;

const RUN: u32 = 2u;

// Texel t of the linear texture laid out by src/texture.rs (before its start: zeros).
fn texel(t: i32) -> vec4<f32> {
    let u = u32(max(t, 0));
    let v = textureLoad(x, linear_at(u));
    return select(vec4<f32>(0.0), v, t >= 0);
}

// Moves words whose pixel r passed the plane's end on to the next channel c, and from a
// group's last channel to the next group's first (a vec4 may reach into the next group).
// r < HW + 4 on entry, so four steps always do; a fixed count unrolls, where a loop that ends
// when no word moves costs llvmpipe a loop's bookkeeping per vec4.
fn carry(c: ptr<function, vec4<u32>>, r: ptr<function, vec4<u32>>) {
    for (var step = 0u; step < 4u; step++) {
        let over = *r >= vec4<u32>(p.hw);
        let next = *c + vec4<u32>(1u);
        *c = select(*c, select(next, vec4<u32>(0u), next == vec4<u32>(p.channels_per_group)), over);
        *r -= select(vec4<u32>(0u), vec4<u32>(p.hw), over);
    }
}

// v / b^beta. For AlexNet's beta = 3/4 as v · b^−½ · b^−¼ from one inverse square root and
// a square root: pow is exp2 and log2 in software on llvmpipe (lrn1: 1.48 → 1.35 ms, medians
// of 41 runs).
fn normalise(v: vec4<f32>, b: vec4<f32>) -> vec4<f32> {
    if (THREE_QUARTERS != 0u) {
        let r = inverseSqrt(b);
        return v * r * sqrt(r);
    }
    return v / pow(b, vec4<f32>(p.beta));
}

@compute @workgroup_size(WG, 1, 1)
fn lrn(@builtin(global_invocation_id) gid: vec3<u32>) {
    let cpg = p.channels_per_group;
    let span = cpg * p.hw;
    let start = gid.z * span;
    // The group's vec4s: those whose first word is one of its own.
    let first = (start + 3u) / 4u;
    let run = gid.x * RUN;
    if (run >= (start + span + 3u) / 4u - first) {
        return;
    }
    let v0 = first + run;
    // Each word's channel c within its group and pixel r: one division per invocation, then
    // steps of 4.
    let o = 4u * v0 - start;
    var c = vec4<u32>(o / p.hw);
    var r = vec4<u32>(o - c.x * p.hw) + vec4<u32>(0u, 1u, 2u, 3u);
    var local: array<vec4<i32>, RUN>;
    for (var i = 0u; i < RUN; i++) {
        carry(&c, &r);
        local[i] = vec4<i32>(c);
        r += vec4<u32>(4u);
    }

    // A small window's size is an override constant, so the loop over it unrolls.
    let half = i32(select(p.size, SIZE, SIZE != 0u) - 1u) / 2;
    var sq: array<vec4<f32>, RUN>;
    var centre: array<vec4<f32>, RUN>;
    for (var k = -half; k <= half; k++) {
        let word = 4 * i32(v0) + k * i32(p.hw);
        let t = word >> 2u;
        let shift = u32(word) & 3u;
        var lo = texel(t);
        for (var i = 0u; i < RUN; i++) {
            let hi = texel(t + i32(i) + 1);
            let v = funnel(lo, hi, shift);
            lo = hi;
            let ck = local[i] + vec4<i32>(k);
            sq[i] += select(vec4<f32>(0.0), v * v, ck >= vec4<i32>(0) & ck < vec4<i32>(i32(cpg)));
            centre[i] = select(centre[i], v, k == 0);
        }
    }
    let scale = p.alpha / f32(p.size);
    // Words past the tensor's end (a padded vec4's tail) are written as zeros: padding stays
    // zero, as kernels that read whole vec4s (the batch-1 dense layer) take it times zero
    // weights.
    let len = p.n * p.c * p.hw;
    for (var i = 0u; i < RUN; i++) {
        let inside = vec4<u32>(4u * (v0 + i)) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(len);
        y[v0 + i] = select(vec4<f32>(0.0), normalise(centre[i], p.k + scale * sq[i]), inside);
    }
}
