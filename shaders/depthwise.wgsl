// depthwise.wgsl — a convolution with one input channel per group (depthwise, any channel
// multiplier): output channel o reads input channel o / mult. Each invocation computes 4
// consecutive output pixels of one row of one output channel, reading the input and the
// weight [Cout, 1, KH, KW] from storage as they stand: no staging copy, no packing, so a
// layer whose arithmetic is small costs about its bytes. Bias and the activation
// (activation.wgsl, put before this file) are fused.
//
// Bindings (group 0)              mirrors DEPTHWISE in src/ops/depthwise.rs
//   0 x  storage read        [N, Cin, H, W]
//   1 wt storage read        [Cout, KH·KW]
//   2 b  storage read        [Cout] (a placeholder when has_bias = 0)
//   3 y  storage read_write  [N, Cout, OH, OW]
//   4 p  uniform             Uniforms (ConvDims from conv_dims.wgsl first)
// Grid: x over workgroups of WG invocations spanning (output row, block of 4 columns), z
// over N·Cout images' channels. Overrides: WG, and activation.wgsl's.

struct Uniforms {
    conv: ConvDims,
    n: u32, cin: u32, cout: u32, mult: u32,
    has_bias: u32, col_blocks: u32, _pad0: u32, _pad1: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> wt: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> p: Uniforms;

override WG: u32 = 64u;

@compute @workgroup_size(WG, 1, 1)
fn depthwise(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
    let c = p.conv;
    let at = wid.x * WG + lane;
    let oy = at / p.col_blocks;
    if (oy >= c.oh) {
        return;
    }
    let ox0 = (at % p.col_blocks) * 4u;
    let n = wid.z / p.cout;
    let o = wid.z % p.cout;
    let plane = (n * p.cin + o / p.mult) * c.h * c.w;
    var acc = vec4<f32>(select(0.0, b[o], p.has_bias != 0u));
    let taps = o * c.kh * c.kw;
    for (var ky = 0u; ky < c.kh; ky++) {
        let iy = i32(oy * c.stride_y + ky * c.dil_y) - i32(c.pad_top);
        if (iy < 0 || iy >= i32(c.h)) {
            continue;
        }
        let row = plane + u32(iy) * c.w;
        let last = i32(c.w) - 1;
        let step = vec4<i32>(0, 1, 2, 3) * i32(c.stride_x);
        for (var kx = 0u; kx < c.kw; kx++) {
            let wv = wt[taps + ky * c.kw + kx];
            // The 4 columns' inputs, loaded unconditionally from clamped places and zeroed
            // where they fall in the padding: no branch per load.
            let ix = vec4<i32>(i32(ox0 * c.stride_x + kx * c.dil_x) - i32(c.pad_left)) + step;
            let at = vec4<u32>(clamp(ix, vec4<i32>(0), vec4<i32>(last)));
            let v = vec4<f32>(x[row + at.x], x[row + at.y], x[row + at.z], x[row + at.w]);
            acc += wv * select(vec4<f32>(0.0), v, (ix >= vec4<i32>(0)) & (ix <= vec4<i32>(last)));
        }
    }
    acc = activate(acc);
    let out = ((n * p.cout + o) * c.oh + oy) * c.ow + ox0;
    for (var j = 0u; j < min(4u, c.ow - ox0); j++) {
        y[out + j] = acc[j];
    }
}
