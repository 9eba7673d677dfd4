// elementwise.wgsl — y = act(a) or y = act(a + b): the activations and the residual add.
// ACT (an override, so each activation is its own pipeline and the switch folds away: a
// switch on a uniform made ReLU over 4 M elements 1.6x slower on llvmpipe): 0 none, 1 ReLU, 2 clip to [p0, p1], 3 sigmoid, 4 hard sigmoid clamp(p0·v + p1, 0, 1),
// 5 hard swish, 6 SiLU, 7 leaky ReLU (slope p0). Bounds are applied with select, never
// max/min, so NaN stays NaN (WGSL's max may drop it); exp(−v) overflowing to inf gives 0.
// RUN vec4s per invocation: tensors are padded to whole vec4s, on llvmpipe a vec4 load or
// store costs about what a scalar one does (each is a loop over the SIMD lanes), and each
// SIMD row of invocations has a cost of its own beyond its work.
//
// Bindings (group 0)              mirrors ELEMENTWISE in src/ops/elementwise.rs
//   0 a  storage read        [ceil(len / 4)] vec4s
//   1 b  storage read        [ceil(len / 4)] vec4s (unread when has_b = 0)
//   2 y  storage read_write  [ceil(len / 4)] vec4s
//   3 p  uniform             Uniforms
// Grid: 1-D over runs of RUN vec4s, folded into (x, y) when it passes the per-dimension
// limit. Overrides: WG, RUN, ACT.

struct Uniforms {
    vec4s: u32, has_b: u32, _pad0: u32, _pad: u32, p0: f32, p1: f32, _pad1: u32, _pad2: u32,
}

@group(0) @binding(0) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> y: array<vec4<f32>>;
@group(0) @binding(3) var<uniform> p: Uniforms;

override WG: u32 = 64u;
override RUN: u32 = 1u;
override ACT: u32 = 0u;

fn clamp_keep_nan(v: vec4<f32>, lo: f32, hi: f32) -> vec4<f32> {
    let low = select(v, vec4<f32>(lo), v < vec4<f32>(lo));
    return select(low, vec4<f32>(hi), low > vec4<f32>(hi));
}

fn activate(v: vec4<f32>) -> vec4<f32> {
    switch ACT {
        case 1u: { return select(v, vec4<f32>(0.0), v < vec4<f32>(0.0)); }
        case 2u: { return clamp_keep_nan(v, p.p0, p.p1); }
        case 3u: { return 1.0 / (1.0 + exp(-v)); }
        case 4u: { return clamp_keep_nan(p.p0 * v + p.p1, 0.0, 1.0); }
        case 5u: { return v * clamp_keep_nan(v / 6.0 + 0.5, 0.0, 1.0); }
        case 6u: { return v / (1.0 + exp(-v)); }
        case 7u: { return select(v, p.p0 * v, v < vec4<f32>(0.0)); }
        default: { return v; }
    }
}

@compute @workgroup_size(WG, 1, 1)
fn elementwise(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lane: u32,
) {
    let first = ((wid.x + wid.y * nwg.x) * WG + lane) * RUN;
    for (var i = first; i < min(first + RUN, p.vec4s); i++) {
        var v = a[i];
        if (p.has_b != 0u) {
            v += b[i];
        }
        y[i] = activate(v);
    }
}
