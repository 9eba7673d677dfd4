// elementwise.wgsl — y = act(a) or y = act(a + b): the activations and the residual add.
// The activation is activation.wgsl's, put before this file.
// RUN vec4s per invocation: tensors are padded to whole vec4s, on llvmpipe a vec4 load or
// store costs about what a scalar one does (each is a loop over the SIMD lanes), and each
// SIMD row of invocations has a cost of its own beyond its work.
//
// Bindings (group 0)              mirrors ELEMENTWISE in src/ops/elementwise.rs
//   0 a  storage read        [ceil(len / 4)] vec4s
//   1 b  storage read        [ceil(len / 4)] vec4s (unread when HAS_B = 0)
//   2 y  storage read_write  [ceil(len / 4)] vec4s
//   3 p  uniform             Uniforms
// Grid: 1-D over runs of RUN vec4s, folded into (x, y) when it passes the per-dimension
// limit. Overrides: WG, RUN, HAS_B (1: the add; an override, not a uniform: llvmpipe runs a
// storage load in a branch no lane takes, as gemm.wgsl tells), and activation.wgsl's.

struct Uniforms {
    vec4s: u32, _pad0: u32, _pad1: u32, _pad2: u32,
}

@group(0) @binding(0) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> y: array<vec4<f32>>;
@group(0) @binding(3) var<uniform> p: Uniforms;

override WG: u32 = 64u;
override RUN: u32 = 1u;
override HAS_B: u32 = 0u;

@compute @workgroup_size(WG, 1, 1)
fn elementwise(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lane: u32,
) {
    let first = ((wid.x + wid.y * nwg.x) * WG + lane) * RUN;
    for (var i = first; i < min(first + RUN, p.vec4s); i++) {
        var v = a[i];
        if (HAS_B != 0u) {
            v += b[i];
        }
        y[i] = activate(v);
    }
}
