// matmul.wgsl — batched, strided C = act(A·B + bias) in f32, and its matrix-vector special case.
// One kernel serves dense layers (A = W [out, in], B = xᵀ) and 1x1 convolutions
// (A = W [Cout, Cin/groups], B = x [Cin, H·W] per image and group): strides say which.
//
// gemm: each invocation computes a TILE_M x TILE_N block of C, loading TILE_M values of A and
//       TILE_N of B per k step (register blocking). Grid: x = N blocks, y = M blocks,
//       z = batch · groups.
// gemv: C[m] = A[m, :]·b for one column b (batch-1 dense). Each workgroup owns ROWS rows;
//       its WG invocations stride over k so that neighbours read neighbouring words of W
//       (one streaming pass over W), then reduce in workgroup memory. Grid: x·y = M / ROWS.
//
// Bindings (group 0)              mirrors GEMM and GEMV in src/ops/matmul.rs
//   0 a     storage read        A
//   1 b     storage read        B
//   2 bias  storage read        [groups · M] (unread when has_bias = 0)
//   3 c     storage read_write  C
//   4 p     uniform             Params (field order of MatmulUniform in src/ops/matmul.rs)
// Element (i, j) of batch (bn, bg) of X lives at
//   bn·X_batch + bg·X_group + i·X_row + j·X_col (+ c_offset for C), all in f32 elements.
// Overrides: WG_X, WG_Y, TILE_M, TILE_N (≤ MAX_TILE) for gemm; WG, ROWS (≤ MAX_ROWS) for gemv.

struct Params {
    m: u32, n: u32, k: u32, groups: u32,
    a_group: u32, a_m: u32, a_k: u32, c_offset: u32,
    b_batch: u32, b_group: u32, b_k: u32, b_n: u32,
    c_batch: u32, c_group: u32, c_m: u32, c_n: u32,
    has_bias: u32, relu: u32, bias_group: u32, _pad: u32,
}

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

override WG_X: u32 = 8u;
override WG_Y: u32 = 8u;
override TILE_M: u32 = 4u;
override TILE_N: u32 = 4u;
const MAX_TILE: u32 = 8u;

// Bias (indexed by row, offset per group) and ReLU.
fn finish(bias_index: u32, v: f32) -> f32 {
    var r = v;
    if (p.has_bias != 0u) {
        r += bias[bias_index];
    }
    if (p.relu != 0u) {
        r = max(r, 0.0);
    }
    return r;
}

@compute @workgroup_size(WG_X, WG_Y, 1)
fn gemm(@builtin(global_invocation_id) gid: vec3<u32>) {
    let n0 = gid.x * TILE_N;
    let m0 = gid.y * TILE_M;
    if (n0 >= p.n || m0 >= p.m) {
        return;
    }
    let bn = gid.z / p.groups;
    let bg = gid.z % p.groups;
    let a_base = bg * p.a_group;
    let b_base = bn * p.b_batch + bg * p.b_group;

    // Rows and columns past the edge reread the last one; their results are not stored.
    var a_row: array<u32, MAX_TILE>;
    for (var i = 0u; i < TILE_M; i++) {
        a_row[i] = a_base + min(m0 + i, p.m - 1u) * p.a_m;
    }
    var b_col: array<u32, MAX_TILE>;
    for (var j = 0u; j < TILE_N; j++) {
        b_col[j] = b_base + min(n0 + j, p.n - 1u) * p.b_n;
    }

    var acc: array<f32, MAX_TILE * MAX_TILE>;
    for (var i = 0u; i < TILE_M * TILE_N; i++) {
        acc[i] = 0.0;
    }
    var av: array<f32, MAX_TILE>;
    var bv: array<f32, MAX_TILE>;
    for (var kk = 0u; kk < p.k; kk++) {
        for (var i = 0u; i < TILE_M; i++) {
            av[i] = a[a_row[i] + kk * p.a_k];
        }
        for (var j = 0u; j < TILE_N; j++) {
            bv[j] = b[b_col[j] + kk * p.b_k];
        }
        for (var i = 0u; i < TILE_M; i++) {
            for (var j = 0u; j < TILE_N; j++) {
                acc[i * TILE_N + j] = fma(av[i], bv[j], acc[i * TILE_N + j]);
            }
        }
    }

    let c_base = bn * p.c_batch + bg * p.c_group + p.c_offset;
    for (var i = 0u; i < TILE_M; i++) {
        let m = m0 + i;
        if (m >= p.m) {
            break;
        }
        for (var j = 0u; j < TILE_N; j++) {
            let nn = n0 + j;
            if (nn < p.n) {
                c[c_base + m * p.c_m + nn * p.c_n] = finish(bg * p.bias_group + m, acc[i * TILE_N + j]);
            }
        }
    }
}

override WG: u32 = 64u;
override ROWS: u32 = 4u;
const MAX_ROWS: u32 = 8u;
const MAX_WG: u32 = 256u;
var<workgroup> partial: array<f32, MAX_WG * MAX_ROWS>;

@compute @workgroup_size(WG, 1, 1)
fn gemv(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lane: u32,
) {
    let m0 = (wid.x + wid.y * nwg.x) * ROWS;
    var sums: array<f32, MAX_ROWS>;
    for (var r = 0u; r < ROWS; r++) {
        sums[r] = 0.0;
    }
    if (m0 < p.m) {
        for (var kk = lane; kk < p.k; kk += WG) {
            let xv = b[kk * p.b_k];
            for (var r = 0u; r < ROWS; r++) {
                let row = min(m0 + r, p.m - 1u);
                sums[r] = fma(a[row * p.a_m + kk * p.a_k], xv, sums[r]);
            }
        }
    }
    for (var r = 0u; r < ROWS; r++) {
        partial[r * WG + lane] = sums[r];
    }
    // Tree reduction over the WG lanes (WG is a power of two).
    for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
        workgroupBarrier();
        if (lane < stride) {
            for (var r = 0u; r < ROWS; r++) {
                partial[r * WG + lane] += partial[r * WG + lane + stride];
            }
        }
    }
    workgroupBarrier();
    if (lane < ROWS && m0 + lane < p.m) {
        let m = m0 + lane;
        c[p.c_offset + m * p.c_m] = finish(m, partial[lane * WG]);
    }
}
