// softmax.wgsl — softmax over dimension 1 of [N, C, S...] (S = product of the rest, often 1):
//   y[n, c, s] = exp(x[n, c, s] − max_c x) / Σ_c exp(x[n, c, s] − max_c x)
// Subtracting the row maximum keeps exp finite for logits in the thousands.
// Each (n, s) row takes LANES lanes of a workgroup: they stride over c, 4 classes a step, and
// combine in workgroup memory (nothing to combine with one lane a row). Few steps matter:
// llvmpipe ends an invocation's loops after 65,535 iterations in all, so the three passes over
// a row take at most 3 · c / (4 · LANES) of them (the launch picks LANES for that, and refuses
// rows longer than 256 lanes allow). x is read through a texture copy: texel fetches are
// llvmpipe's fast read path, where a storage buffer costs a scalar load per lane. Where every
// row is whole texels (s = 1, c a multiple of 4: a classifier's logits), a step reads one texel
// and writes one vec4, not 4 and 4 words (64 x 1,000, runs interleaved: 0.34–0.36 →
// 0.24–0.30 ms).
//
// Bindings (group 0)              mirrors SOFTMAX in src/ops/softmax.rs
//   0 x  texture_storage_2d<rgba32float, read>   [N, C, S] as a linear texture: word i in texel
//                            (i/4 mod 2^TEX_SHIFT, i/4 >> TEX_SHIFT)
//   1 y  storage read_write  [N, C, S] as vec4s (tensors are padded to whole vec4s)
//   2 p  uniform             Uniforms
// Grid: WG / LANES rows per workgroup, folded into (x, y). Overrides: LANES (a power of two,
// 1 to 256), WG (a multiple of LANES, at least 8), TEX_SHIFT, WHOLE (1 when rows are whole
// texels).

struct Uniforms {
    rows: u32, c: u32, s: u32, _pad: u32,
}

@group(0) @binding(0) var x: texture_storage_2d<rgba32float, read>;
@group(0) @binding(1) var<storage, read_write> y: array<vec4<f32>>;
@group(0) @binding(2) var<uniform> p: Uniforms;

override LANES: u32 = 8u;
override WG: u32 = 64u;
override TEX_SHIFT: u32;
override WHOLE: u32 = 0u;
var<workgroup> scratch: array<f32, 256>;

// Texel t and word i of the linear texture laid out by src/texture.rs.
fn texel(t: u32) -> vec4<f32> {
    return textureLoad(x, linear_at(t));
}

fn x_at(i: u32) -> f32 {
    return texel(i >> 2u)[i & 3u];
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

    var m = neg_inf();
    if (live) {
        for (var c = 4u * i; c < p.c; c += 4u * LANES) {
            let v = classes(base, c);
            m = max(m, max(max(v.x, v.y), max(v.z, v.w)));
        }
    }
    m = reduce(lane, m, 0u);
    var sum = 0.0;
    if (live) {
        for (var c = 4u * i; c < p.c; c += 4u * LANES) {
            sum += dot(exp(classes(base, c) - m), vec4<f32>(1.0));
        }
    }
    sum = reduce(lane, sum, 1u);
    if (live) {
        for (var c = 4u * i; c < p.c; c += 4u * LANES) {
            let q = exp(classes(base, c) - m) / sum;
            if (WHOLE != 0u) {
                y[(base + c) >> 2u] = q;
            } else {
                put(base, c, q.x);
                put(base, c + 1u, q.y);
                put(base, c + 2u, q.z);
                put(base, c + 3u, q.w);
            }
        }
    }
}

fn neg_inf() -> f32 {
    return bitcast<f32>(0xff800000u);
}

// The logits of classes c … c + 3 of the row at `base`, −inf past the row's end (its exp is 0).
fn classes(base: u32, c: u32) -> vec4<f32> {
    if (WHOLE != 0u) {
        return texel((base + c) >> 2u);
    }
    return vec4<f32>(logit(base, c), logit(base, c + 1u), logit(base, c + 2u), logit(base, c + 3u));
}

fn logit(base: u32, j: u32) -> f32 {
    if (j >= p.c) {
        return neg_inf();
    }
    return x_at(base + j * p.s);
}

// y at class j of the row: its probability (nothing past the row's end).
fn put(base: u32, j: u32, q: f32) {
    if (j < p.c) {
        let i = base + j * p.s;
        y[i >> 2u][i & 3u] = q;
    }
}
