// mul.wgsl — y = act(x · g[(first + i) / plane]), or with ADD = 1 act(x + g[…]): a product
// (or sum) of equal shapes (plane = 1) or by a value per channel (x [N, C, H, W], g
// [N, C, 1, 1], plane = H·W: the squeeze-and-excitation gate, a per-image channel shift). The
// activation is activation.wgsl's, put before this file.
// A tensor past one binding runs in chunks bound at an offset; `first` is the chunk's first
// element; g is bound whole.
//
// Bindings (group 0)              mirrors MUL in src/ops/mul.rs
//   0 x  storage read        [len] f32
//   1 g  storage read        [len / plane] f32 (all of it)
//   2 y  storage read_write  [len] f32
//   3 p  uniform             Uniforms
// Grid: 1-D over runs of RUN elements, folded into (x, y) when it passes the per-dimension
// limit. Overrides: WG, RUN, ADD, and activation.wgsl's.

struct Uniforms {
    len: u32, first: u32, plane: u32, _pad: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<uniform> p: Uniforms;

override WG: u32 = 64u;
override RUN: u32 = 4u;
override ADD: u32 = 0u;

@compute @workgroup_size(WG, 1, 1)
fn mul(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lane: u32,
) {
    let start = ((wid.x + wid.y * nwg.x) * WG + lane) * RUN;
    for (var i = start; i < min(start + RUN, p.len); i++) {
        let v = g[(p.first + i) / p.plane];
        y[i] = activate(vec4<f32>(select(x[i] * v, x[i] + v, ADD == 1u))).x;
    }
}
