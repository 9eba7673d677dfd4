// winograd_weight.wgsl — a 3x3 convolution's weight transformed for Winograd F(2x2, 3x3):
//   u[g·Cout + o, c] = (G · w[o, c] · Gᵀ)[g / 4, g % 4]   for g = 0 .. 15,
// G = [[1, 0, 0], [½, ½, ½], [½, −½, ½], [0, 0, 1]]: the weight of a GEMM in 16 groups (one
// per point of the 4x4 transformed tile), packed as any grouped weight is (pack.wgsl). w is
// read from the convolution's own packed weight (one group: tap (c·3 + ky)·3 + kx of channel
// o in texel (o / 4, tap)), so no copy of it is kept. Runs once per weight, when the Winograd
// kernel is first recorded.
//
// Bindings (group 0)              mirrors WINOGRAD_WEIGHT in src/ops/winograd.rs
//   0 w  texture_storage_2d<rgba32float, read>   the packed [Cout, Cin·9] weight
//   1 u  storage read_write  [16·Cout, Cin]
//   2 p  uniform             Uniforms
// Grid: 1-D over (o, c), c fastest, folded into (x, y). Overrides: WG.

struct Uniforms {
    cout: u32, cin: u32, _pad0: u32, _pad1: u32,
}

@group(0) @binding(0) var w: texture_storage_2d<rgba32float, read>;
@group(0) @binding(1) var<storage, read_write> u: array<f32>;
@group(0) @binding(2) var<uniform> p: Uniforms;

override WG: u32 = 64u;

// Tap `tap` of channel c of output o.
fn tap_of(o: u32, c: u32, tap: u32) -> f32 {
    return textureLoad(w, vec2<u32>(o / 4u, 9u * c + tap))[o % 4u];
}

// G · (a, b, c): a kernel row or column of 3 taps as 4 points.
fn g3(a: f32, b: f32, c: f32) -> vec4<f32> {
    return vec4<f32>(a, 0.5 * (a + b + c), 0.5 * (a - b + c), c);
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
    // G · w: each column of 3 taps becomes 4 rows.
    let c0 = g3(tap_of(o, c, 0u), tap_of(o, c, 3u), tap_of(o, c, 6u));
    let c1 = g3(tap_of(o, c, 1u), tap_of(o, c, 4u), tap_of(o, c, 7u));
    let c2 = g3(tap_of(o, c, 2u), tap_of(o, c, 5u), tap_of(o, c, 8u));
    // (G · w) · Gᵀ: each of those 4 rows of 3 becomes 4 points.
    for (var r = 0u; r < 4u; r++) {
        let row = g3(c0[r], c1[r], c2[r]);
        for (var s = 0u; s < 4u; s++) {
            u[((4u * r + s) * p.cout + o) * p.cin + c] = row[s];
        }
    }
}
