// softmax.wgsl — softmax over dimension 1 of [N, C, S...] (S = product of the rest, often 1):
//   y[n, c, s] = exp(x[n, c, s] − max_c x) / Σ_c exp(x[n, c, s] − max_c x)
// Subtracting the row maximum keeps exp finite for logits in the thousands.
// Each (n, s) row takes LANES lanes of a workgroup: they stride over c, 4 classes a step, and
// combine in workgroup memory (nothing to combine with one lane a row). Few steps matter:
// llvmpipe ends an invocation's loops after 65,535 iterations in all, so the three passes over
// a row take at most 3 · c / (4 · LANES) of them (the launch picks LANES for that, and refuses
// rows longer than 256 lanes allow). x is read through a texture copy: texel fetches are
// llvmpipe's fast read path, where a storage buffer costs a scalar load per lane.
//
// Bindings (group 0)              mirrors SOFTMAX in src/ops/softmax.rs
//   0 x  texture_storage_2d<rgba32float, read>   [N, C, S] as a linear texture: word i in texel
//                            (i/4 mod 2^TEX_SHIFT, i/4 >> TEX_SHIFT)
//   1 y  storage read_write  [N, C, S]
//   2 p  uniform             Params
// Grid: WG / LANES rows per workgroup, folded into (x, y). Overrides: LANES (a power of two,
// 1 to 256), WG (a multiple of LANES, at least 8), TEX_SHIFT.

struct Params {
    rows: u32, c: u32, s: u32, _pad: u32,
}

@group(0) @binding(0) var x: texture_storage_2d<rgba32float, read>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

override LANES: u32 = 8u;
override WG: u32 = 64u;
override TEX_SHIFT: u32;
var<workgroup> scratch: array<f32, 256>;

// Input word i, from the linear texture laid out by src/texture.rs.
fn x_at(i: u32) -> f32 {
    let t = i >> 2u;
    return textureLoad(x, vec2<u32>(t & ((1u << TEX_SHIFT) - 1u), t >> TEX_SHIFT))[i & 3u];
}

// Combines the values of a row's LANES lanes with `op` (0: max, 1: sum); each of them gets
// the result. One lane a row has nothing to combine.
fn reduce(lane: u32, value: f32, op: u32) -> f32 {
    if (LANES == 1u) {
        return value;
    }
    let i = lane % LANES;
    workgroupBarrier();
    scratch[lane] = value;
    for (var stride = LANES / 2u; stride > 0u; stride /= 2u) {
        workgroupBarrier();
        if (i < stride) {
            let other = scratch[lane + stride];
            scratch[lane] = select(scratch[lane] + other, max(scratch[lane], other), op == 0u);
        }
    }
    workgroupBarrier();
    return scratch[lane - i];
}

@compute @workgroup_size(WG, 1, 1)
fn softmax(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lane: u32,
) {
    let row = (wid.x + wid.y * nwg.x) * (WG / LANES) + lane / LANES;
    let i = lane % LANES;
    // Rows past the end still take part in the barriers, reading nothing.
    let live = row < p.rows;
    let base = (row / p.s) * p.c * p.s + row % p.s;

    var m = bitcast<f32>(0xff800000u); // -inf
    if (live) {
        for (var c = 4u * i; c < p.c; c += 4u * LANES) {
            m = max(max(m, logit(base, c, m)), max(logit(base, c + 1u, m), logit(base, c + 2u, m)));
            m = max(m, logit(base, c + 3u, m));
        }
    }
    m = reduce(lane, m, 0u);
    var sum = 0.0;
    if (live) {
        for (var c = 4u * i; c < p.c; c += 4u * LANES) {
            sum += term(base, c, m) + term(base, c + 1u, m) + term(base, c + 2u, m) + term(base, c + 3u, m);
        }
    }
    sum = reduce(lane, sum, 1u);
    if (live) {
        for (var c = 4u * i; c < p.c; c += 4u * LANES) {
            put(base, c, m, sum);
            put(base, c + 1u, m, sum);
            put(base, c + 2u, m, sum);
            put(base, c + 3u, m, sum);
        }
    }
}

// Logit j of the row at `base`, or `other` past the row's end (steps are 4 classes wide).
fn logit(base: u32, j: u32, other: f32) -> f32 {
    if (j >= p.c) {
        return other;
    }
    return x_at(base + j * p.s);
}

// exp(logit j − m), or 0 past the row's end.
fn term(base: u32, j: u32, m: f32) -> f32 {
    if (j >= p.c) {
        return 0.0;
    }
    return exp(x_at(base + j * p.s) - m);
}

// y at class j of the row: its probability (nothing past the row's end).
fn put(base: u32, j: u32, m: f32, sum: f32) {
    if (j < p.c) {
        y[base + j * p.s] = term(base, j, m) / sum;
    }
}
