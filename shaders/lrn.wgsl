// lrn.wgsl — local response normalisation across channels (ONNX/PyTorch LRN), NCHW, f32:
//   y = x / (k + alpha / size · Σ x[c']²)^beta,  c' in [c − (size−1)/2, c + (size−1)/2]
// with the window clipped to the channel group that holds c (groups = 2 is the two-GPU
// AlexNet, which normalised each GPU's channels apart). One invocation per element.
//
// Bindings (group 0)              mirrors LRN in src/ops/lrn.rs
//   0 x  texture_storage_2d<rgba32float, read>   [N, C, H, W] as a linear texture (a copy the
//                            launch makes: texel reads are llvmpipe's fast path): word i in texel
//                            (i/4 mod 2^TEX_SHIFT, i/4 >> TEX_SHIFT)
//   1 y  storage read_write  [N, C, H, W]
//   2 p  uniform             Params (field order of LrnUniform in src/ops/lrn.rs)
// Grid: x = pixels (WG to a workgroup), y = channels per group, z = images · groups.
// Overrides: WG, TEX_SHIFT.

struct Params {
    n: u32, c: u32, hw: u32, size: u32,
    channels_per_group: u32, alpha: f32, beta: f32, k: f32,
}

@group(0) @binding(0) var x: texture_storage_2d<rgba32float, read>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

override WG: u32 = 64u;
override TEX_SHIFT: u32;

// Input word i, from the linear texture laid out by src/texture.rs.
fn x_at(i: u32) -> f32 {
    let t = i >> 2u;
    return textureLoad(x, vec2<u32>(t & ((1u << TEX_SHIFT) - 1u), t >> TEX_SHIFT))[i & 3u];
}

@compute @workgroup_size(WG, 1, 1)
fn lrn(@builtin(global_invocation_id) gid: vec3<u32>) {
    // The grid is (pixel, channel within its group, image · groups + group): no divisions,
    // which llvmpipe runs lane by lane.
    let s = gid.x;
    let local = gid.y;
    if (s >= p.hw) {
        return;
    }
    // Channel (image, group, local) is plane gid.z · channels_per_group + local of [N·C, HW].
    let first = gid.z * p.channels_per_group;
    let half = (p.size - 1u) / 2u;
    let lo = u32(max(i32(local) - i32(half), 0));
    let hi = min(local + half, p.channels_per_group - 1u);
    var sq = 0.0;
    for (var cc = lo; cc <= hi; cc++) {
        let v = x_at((first + cc) * p.hw + s);
        sq = fma(v, v, sq);
    }
    let i = (first + local) * p.hw + s;
    y[i] = x_at(i) / pow(p.k + p.alpha / f32(p.size) * sq, p.beta);
}
