// split_sum.wgsl — the split-K GEMM's epilogue (gemm.wgsl with parts > 1):
//   y[w] = act(Σ_s parts[s][w] + bias[(w / pixels) mod channels] (+ y[w] where onto))
// over y's words as vec4s; words past the tensor's end get 0. The activation is
// activation.wgsl's, put before this file. The sums are few (a layer of few tiles), so each
// word's channel is found by division.
//
// Bindings (group 0)              mirrors SPLIT_SUM in src/ops/split_k.rs
//   0 parts  storage read        [parts, part_vecs] vec4s: each part's raw sums, NCHW
//   1 bias   storage read        [channels] (unread when HAS_BIAS = 0)
//   2 y      storage read_write  [part_vecs] vec4s
//   3 p      uniform             Uniforms
// Grid: 1-D over y's vec4s, folded into (x, y). Overrides: WG, HAS_BIAS and ONTO (0 or 1:
// overrides, not uniforms, as in gemm.wgsl: llvmpipe runs a storage load in a branch no lane
// takes), and activation.wgsl's.

struct Uniforms {
    words: u32, part_vecs: u32, parts: u32, pixels: u32,
    channels: u32, _pad0: u32, _pad1: u32, _pad2: u32,
}

@group(0) @binding(0) var<storage, read> parts: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> bias: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<vec4<f32>>;
@group(0) @binding(3) var<uniform> p: Uniforms;

override WG: u32 = 64u;
override HAS_BIAS: u32 = 0u;
override ONTO: u32 = 0u;

@compute @workgroup_size(WG, 1, 1)
fn split_sum(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lane: u32,
) {
    let i = (wid.x + wid.y * nwg.x) * WG + lane;
    if (i >= p.part_vecs) {
        return;
    }
    var v = parts[i];
    for (var s = 1u; s < p.parts; s++) {
        v += parts[s * p.part_vecs + i];
    }
    if (ONTO != 0u) {
        v += y[i];
    }
    var live = vec4<bool>(false);
    for (var t = 0u; t < 4u; t++) {
        let w = 4u * i + t;
        live[t] = w < p.words;
        if (HAS_BIAS != 0u && live[t]) {
            v[t] += bias[(w / p.pixels) % p.channels];
        }
    }
    y[i] = select(vec4<f32>(0.0), activate(v), live);
}
