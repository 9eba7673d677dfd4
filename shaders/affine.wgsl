// affine.wgsl — a map per channel c of x [N, C, S] (S = H·W), then act (activation.wgsl's,
// put before this file): the affine y = x·scale[c] + shift[c] (a batch normalisation that
// cannot fold into a convolution, one after a concatenation), or with PRELU = 1 PReLU's
// y = x ≥ 0 ? x : x·slope[c] (NaN stays NaN).
// A tensor past one binding runs in chunks bound at an offset; `first` is the chunk's first
// element, so the channel of element i is (first + i) / S mod C.
//
// Bindings (group 0)              mirrors AFFINE in src/ops/affine.rs
//   0 x   storage read        [len] f32
//   1 ab  storage read        [2·C] f32: the scales, then the shifts; [C] slopes for PReLU
//   2 y   storage read_write  [len] f32
//   3 p   uniform             Uniforms
// Grid: 1-D over runs of RUN elements, folded into (x, y) when it passes the per-dimension
// limit. Overrides: WG, RUN, PRELU (0 or 1), and activation.wgsl's.

struct Uniforms {
    len: u32, first: u32, plane: u32, channels: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> ab: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<uniform> p: Uniforms;

override WG: u32 = 64u;
override RUN: u32 = 4u;
override PRELU: u32 = 0u;

@compute @workgroup_size(WG, 1, 1)
fn affine(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lane: u32,
) {
    let start = ((wid.x + wid.y * nwg.x) * WG + lane) * RUN;
    for (var i = start; i < min(start + RUN, p.len); i++) {
        let c = ((p.first + i) / p.plane) % p.channels;
        var v = x[i];
        if (PRELU != 0u) {
            v = select(v * ab[c], v, v >= 0.0);
        } else {
            v = v * ab[c] + ab[p.channels + c];
        }
        v = activate(vec4<f32>(v)).x;
        y[i] = v;
    }
}
