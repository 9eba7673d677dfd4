// lrn.wgsl — local response normalisation across channels (ONNX/PyTorch LRN), NCHW, f32:
//   y = x / (k + alpha / size · Σ x[c']²)^beta,  c' in [c − (size−1)/2, c + (size−1)/2]
// with the window clipped to the channel group that holds c (groups = 2 is the two-GPU
// AlexNet, which normalised each GPU's channels apart). One invocation per element.
//
// Bindings (group 0)              mirrors LRN in src/ops/lrn.rs
//   0 x  storage read        [N, C, H, W]
//   1 y  storage read_write  [N, C, H, W]
//   2 p  uniform             Params (field order of LrnUniform in src/ops/lrn.rs)
// Grid: 1-D over elements, folded into (x, y). Overrides: WG.

struct Params {
    n: u32, c: u32, hw: u32, size: u32,
    channels_per_group: u32, alpha: f32, beta: f32, k: f32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

override WG: u32 = 64u;

@compute @workgroup_size(WG, 1, 1)
fn lrn(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lane: u32,
) {
    let i = (wid.x + wid.y * nwg.x) * WG + lane;
    if (i >= p.n * p.c * p.hw) {
        return;
    }
    let s = i % p.hw;
    let c = (i / p.hw) % p.c;
    let n = i / (p.hw * p.c);
    let g0 = (c / p.channels_per_group) * p.channels_per_group;
    let half = (p.size - 1u) / 2u;
    let lo = max(i32(c) - i32(half), i32(g0));
    let hi = min(c + half, g0 + p.channels_per_group - 1u);
    var sq = 0.0;
    for (var cc = u32(lo); cc <= hi; cc++) {
        let v = x[(n * p.c + cc) * p.hw + s];
        sq = fma(v, v, sq);
    }
    y[i] = x[i] / pow(p.k + p.alpha / f32(p.size) * sq, p.beta);
}
