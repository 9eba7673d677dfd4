// winograd_weight.wgsl — a 3x3 or 5x5 convolution's weight transformed for Winograd
// F(MxM, RxR) (F(2x2, 3x3), F(4x4, 3x3) or F(2x2, 5x5); A = M + R − 1 points a side):
//   u[g·Cout + o, c] = (G · w[o, c] · Gᵀ)[g / A, g % A]   for g = 0 .. A·A − 1,
// G = [[1, 0, 0], [½, ½, ½], [½, −½, ½], [0, 0, 1]] for F(2x2, 3x3); for A = 6 (points 0, ±1,
// ±2 and ∞) row i is (1, p, p², …) / Π_{j≠i}(p − p_j) for point p, and (0, …, 0, 1) for ∞:
// F(4x4, 3x3) [[¼, 0, 0], [−⅙, −⅙, −⅙], [−⅙, ⅙, −⅙], [1/24, 1/12, ⅙], [1/24, −1/12, ⅙],
// [0, 0, 1]], F(2x2, 5x5) the same with five columns. The weight of a GEMM in A·A groups (one
// per point of the transformed tile), packed as any grouped weight is (pack.wgsl); with G
// groups the GEMM has A²·G, point-major, and c runs over a group's Cin / G channels. w is
// read from the convolution's own packed weight (tap (c·KH + ky)·KW + kx of channel
// o = g·M + m in texel (g·m_blocks + m / 4, tap)), so no copy of it is kept. A weight folded
// space-to-depth by a stride S (space_to_depth.wgsl; S = 1: as it stands) is read folded:
// channel c is phase (dy, dx) = (c / S mod S, c mod S) of channel c / S² of w, and its tap
// (ky, kx) is w's (S·ky + dy, S·kx + dx), zero past w's KH x KW. Runs once per weight, when
// the Winograd kernel is first recorded.
//
// Bindings (group 0)              mirrors WINOGRAD_WEIGHT in src/ops/winograd.rs
//   0 w  texture_storage_2d<rgba32float, read>   the packed [Cout, Cin·KH·KW] weight
//   1 u  storage read_write  [A·A·Cout, Cin / G]
//   2 p  uniform             Uniforms
// Grid: 1-D over (o, c), c fastest, folded into (x, y). Overrides: WG, M, R.

struct Uniforms {
    cout: u32, cin: u32, m: u32, m_blocks: u32,
    kh: u32, kw: u32, block: u32, _pad: u32,
}

@group(0) @binding(0) var w: texture_storage_2d<rgba32float, read>;
@group(0) @binding(1) var<storage, read_write> u: array<f32>;
@group(0) @binding(2) var<uniform> p: Uniforms;

override WG: u32 = 64u;
override M: u32 = 2u;
override R: u32 = 3u;

// Tap `tap` (ky·R + kx) of channel c of output o (channel m of group o / M), folded.
fn tap_of(o: u32, c: u32, tap: u32) -> f32 {
    let s = p.block;
    let ky = s * (tap / R) + c / s % s;
    let kx = s * (tap % R) + c % s;
    let m = o % p.m;
    let row = (c / (s * s) * p.kh + ky) * p.kw + kx;
    let v = textureLoad(w, vec2<u32>((o / p.m) * p.m_blocks + m / 4u, row))[m % 4u];
    return select(0.0, v, ky < p.kh && kx < p.kw);
}

// Row i of G · (a, b, c) for F(MxM, 3x3): a kernel row or column of 3 taps as point i.
fn g(i: u32, a: f32, b: f32, c: f32) -> f32 {
    if (M == 2u) {
        switch (i) {
            case 0u: { return a; }
            case 1u: { return 0.5 * (a + b + c); }
            case 2u: { return 0.5 * (a - b + c); }
            default: { return c; }
        }
    }
    switch (i) {
        case 0u: { return 0.25 * a; }
        case 1u: { return -(a + b + c) / 6.0; }
        case 2u: { return -(a - b + c) / 6.0; }
        case 3u: { return a / 24.0 + b / 12.0 + c / 6.0; }
        case 4u: { return a / 24.0 - b / 12.0 + c / 6.0; }
        default: { return c; }
    }
}

// Row i of G · (a, b, c, d, e) for F(2x2, 5x5): a kernel row or column of 5 taps as point i.
fn g5(i: u32, a: f32, b: f32, c: f32, d: f32, e: f32) -> f32 {
    switch (i) {
        case 0u: { return 0.25 * a; }
        case 1u: { return -(a + b + c + d + e) / 6.0; }
        case 2u: { return -(a - b + c - d + e) / 6.0; }
        case 3u: { return (a + 2.0 * b + 4.0 * c + 8.0 * d + 16.0 * e) / 24.0; }
        case 4u: { return (a - 2.0 * b + 4.0 * c - 8.0 * d + 16.0 * e) / 24.0; }
        default: { return e; }
    }
}

// Kernel column kx of a 5x5 weight as point r (row r of G · w, one value).
fn column5(o: u32, c: u32, r: u32, kx: u32) -> f32 {
    return g5(r, tap_of(o, c, kx), tap_of(o, c, 5u + kx), tap_of(o, c, 10u + kx), tap_of(o, c, 15u + kx),
        tap_of(o, c, 20u + kx));
}

@compute @workgroup_size(WG, 1, 1)
fn winograd_weight(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                   @builtin(local_invocation_index) lane: u32) {
    let i = (wid.x + wid.y * nwg.x) * WG + lane;
    if (i >= p.cout * p.cin) {
        return;
    }
    let o = i / p.cin;
    let c = i % p.cin;
    let a = M + R - 1u;
    for (var r = 0u; r < a; r++) {
        if (R == 5u) {
            let c0 = column5(o, c, r, 0u);
            let c1 = column5(o, c, r, 1u);
            let c2 = column5(o, c, r, 2u);
            let c3 = column5(o, c, r, 3u);
            let c4 = column5(o, c, r, 4u);
            for (var s = 0u; s < a; s++) {
                u[((a * r + s) * p.cout + o) * p.cin + c] = g5(s, c0, c1, c2, c3, c4);
            }
            continue;
        }
        // Row r of G · w (3 values, one per kernel column), then that row · Gᵀ.
        let row = vec3<f32>(g(r, tap_of(o, c, 0u), tap_of(o, c, 3u), tap_of(o, c, 6u)),
            g(r, tap_of(o, c, 1u), tap_of(o, c, 4u), tap_of(o, c, 7u)),
            g(r, tap_of(o, c, 2u), tap_of(o, c, 5u), tap_of(o, c, 8u)));
        for (var s = 0u; s < a; s++) {
            u[((a * r + s) * p.cout + o) * p.cin + c] = g(s, row.x, row.y, row.z);
        }
    }
}
