// dense.wgsl — dense layers, y[n, m] = act(Σ_k w[m, k] · x[n, k] + b[m]), f32.
// W is [M, K] (PyTorch Linear), read from a texture; x is [N, K] in a buffer; both are read
// as vec4s along k. When K is not a multiple of 4 the rows do not start on a vec4, and words
// are read one at a time.
// y rows are `y_stride` wide and this dispatch writes columns y_offset .. y_offset + M: the
// rows of a weight cut into slices (too large for one binding, or split across devices).
//
// dense_gemm: each invocation computes 4 outputs (m) x TILE_N samples (n), a vec4 accumulator per
//       sample (register blocking). Grid: x = sample blocks, y = output blocks.
// dense_gemv: batch 1, streaming W once. A workgroup of WG lanes owns 8 rows; neighbouring lanes
//       read neighbouring vec4s of each row (each x vec4 serves 8 rows), then the lanes'
//       partial sums are reduced in workgroup memory. Grid: one workgroup per 8 rows, folded
//       into (x, y).
//
// Bindings (group 0)              mirrors GEMM and GEMV in src/ops/dense.rs
//   0 w     texture_2d<f32>     [M, K] as vec4 texels, texel i at (i mod 2^TEX_SHIFT, i >> TEX_SHIFT)
//                               (src/texture.rs): texture loads are llvmpipe's fast read path
//   1 x     storage read        [N, K] as vec4s
//   2 bias  storage read        [M] (unread when has_bias = 0)
//   3 y     storage read_write  [N, y_stride]
//   4 p     uniform             Params (field order of DenseUniform in src/ops/dense.rs)
// Overrides: WG_X, WG_Y, TILE_N (1..4) for gemm; WG (a power of two ≤ 256) for gemv;
// TEX_SHIFT (log2 of the weight texture's row width, set by src/texture.rs) for both.

struct Params {
    m: u32, n: u32, k: u32, y_stride: u32,
    y_offset: u32, has_bias: u32, relu: u32, _pad: u32,
}

@group(0) @binding(0) var w: texture_2d<f32>;
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

override TEX_SHIFT: u32;

// Weight vec4 number i.
fn w4(i: u32) -> vec4<f32> {
    return textureLoad(w, vec2<u32>(i & ((1u << TEX_SHIFT) - 1u), i >> TEX_SHIFT), 0);
}

override WG_X: u32 = 4u;
override WG_Y: u32 = 16u;
override TILE_N: u32 = 4u;
override WG: u32 = 64u;

// Words 4·k4 .. 4·k4 + 3 of row `row` of a [rows, K] matrix held as vec4s, zero past K.
// When K is not a multiple of 4, rows start mid-vec4 and the words are gathered one by one.
fn w_row(row: u32, k4: u32) -> vec4<f32> {
    if (p.k % 4u == 0u) {
        return w4(row * (p.k / 4u) + k4);
    }
    var v = vec4<f32>(0.0);
    for (var j = 0u; j < 4u; j++) {
        let k = 4u * k4 + j;
        if (k < p.k) {
            let i = row * p.k + k;
            v[j] = w4(i / 4u)[i % 4u];
        }
    }
    return v;
}

fn x_row(row: u32, k4: u32) -> vec4<f32> {
    if (p.k % 4u == 0u) {
        return x[row * (p.k / 4u) + k4];
    }
    var v = vec4<f32>(0.0);
    for (var j = 0u; j < 4u; j++) {
        let k = 4u * k4 + j;
        if (k < p.k) {
            let i = row * p.k + k;
            v[j] = x[i / 4u][i % 4u];
        }
    }
    return v;
}

// Writes outputs m0 .. m0 + 3 of sample n that exist, with bias and ReLU.
fn store(n: u32, m0: u32, v: vec4<f32>) {
    for (var r = 0u; r < 4u; r++) {
        let m = m0 + r;
        if (m < p.m) {
            var o = v[r];
            if (p.has_bias != 0u) {
                o += bias[m];
            }
            if (p.relu != 0u) {
                o = max(o, 0.0);
            }
            y[n * p.y_stride + p.y_offset + m] = o;
        }
    }
}

@compute @workgroup_size(WG_X, WG_Y, 1)
fn dense_gemm(@builtin(global_invocation_id) gid: vec3<u32>) {
    let n0 = gid.x * TILE_N;
    let m0 = gid.y * 4u;
    if (n0 >= p.n || m0 >= p.m) {
        return;
    }
    // Rows and samples past the edge reread the last one; their results are not stored.
    let r = min(vec4<u32>(m0) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(p.m - 1u));
    let s = min(vec4<u32>(n0) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(p.n - 1u));
    // acc_j[i]: output m0 + i of sample n0 + j.
    var acc0 = vec4<f32>(0.0);
    var acc1 = vec4<f32>(0.0);
    var acc2 = vec4<f32>(0.0);
    var acc3 = vec4<f32>(0.0);
    for (var k4 = 0u; k4 < (p.k + 3u) / 4u; k4++) {
        let w0 = w_row(r.x, k4);
        let w1 = w_row(r.y, k4);
        let w2 = w_row(r.z, k4);
        let w3 = w_row(r.w, k4);
        let x0 = x_row(s.x, k4);
        acc0 += vec4<f32>(dot(w0, x0), dot(w1, x0), dot(w2, x0), dot(w3, x0));
        if (TILE_N > 1u) {
            let x1 = x_row(s.y, k4);
            acc1 += vec4<f32>(dot(w0, x1), dot(w1, x1), dot(w2, x1), dot(w3, x1));
        }
        if (TILE_N > 2u) {
            let x2 = x_row(s.z, k4);
            acc2 += vec4<f32>(dot(w0, x2), dot(w1, x2), dot(w2, x2), dot(w3, x2));
        }
        if (TILE_N > 3u) {
            let x3 = x_row(s.w, k4);
            acc3 += vec4<f32>(dot(w0, x3), dot(w1, x3), dot(w2, x3), dot(w3, x3));
        }
    }
    store(n0, m0, acc0);
    if (TILE_N > 1u && n0 + 1u < p.n) {
        store(n0 + 1u, m0, acc1);
    }
    if (TILE_N > 2u && n0 + 2u < p.n) {
        store(n0 + 2u, m0, acc2);
    }
    if (TILE_N > 3u && n0 + 3u < p.n) {
        store(n0 + 3u, m0, acc3);
    }
}

// Two vec4s of partial sums per lane: rows 0..3 and 4..7 of the workgroup.
var<workgroup> partial: array<vec4<f32>, 512>;

@compute @workgroup_size(WG, 1, 1)
fn dense_gemv(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lane: u32,
) {
    let m0 = (wid.x + wid.y * nwg.x) * 8u;
    var lo = vec4<f32>(0.0);
    var hi = vec4<f32>(0.0);
    if (m0 < p.m) {
        // Rows past the end reread the last one; their results are not stored.
        let r = min(vec4<u32>(m0) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(p.m - 1u));
        let s = min(r + vec4<u32>(4u), vec4<u32>(p.m - 1u));
        for (var k4 = lane; k4 < (p.k + 3u) / 4u; k4 += WG) {
            let xv = x_row(0u, k4);
            lo += vec4<f32>(dot(w_row(r.x, k4), xv), dot(w_row(r.y, k4), xv), dot(w_row(r.z, k4), xv), dot(w_row(r.w, k4), xv));
            hi += vec4<f32>(dot(w_row(s.x, k4), xv), dot(w_row(s.y, k4), xv), dot(w_row(s.z, k4), xv), dot(w_row(s.w, k4), xv));
        }
    }
    partial[lane] = lo;
    partial[WG + lane] = hi;
    // Tree reduction over the WG lanes.
    for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
        workgroupBarrier();
        if (lane < stride) {
            partial[lane] += partial[lane + stride];
            partial[WG + lane] += partial[WG + lane + stride];
        }
    }
    workgroupBarrier();
    if (lane == 0u && m0 < p.m) {
        store(0u, m0, partial[0]);
        store(0u, m0 + 4u, partial[WG]);
    }
}
