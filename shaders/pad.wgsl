// pad.wgsl — y = x padded on H and W by (top, left, bottom, right), the padded cells by MODE:
// 0 the constant `value`, 1 the nearest edge cell (edge, replicate), 2 the image mirrored
// about its edge cell (reflect; periodic past a whole period), as src/attrs/pad.rs defines.
// Each invocation writes RUN consecutive output cells, reading the one input cell each maps to.
// An image past one binding is padded some planes at a time, each part bound from the aligned
// offset at or below its first plane: its planes start x_skip and y_skip floats in.
//
// Bindings (group 0)              mirrors PAD in src/ops/pad.rs
//   0 x  storage read        [N·C, H, W] (a run of planes)
//   1 y  storage read_write  [N·C, OH, OW] (the same planes)
//   2 p  uniform             Uniforms
// Grid: 1-D over runs of RUN cells, folded into (x, y) when it passes the per-dimension
// limit. Overrides: WG, RUN, MODE.

struct Uniforms {
    len: u32, h: u32, w: u32, oh: u32,
    ow: u32, top: u32, left: u32, value: f32,
    x_skip: u32, y_skip: u32, _pad0: u32, _pad1: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> p: Uniforms;

override WG: u32 = 64u;
override RUN: u32 = 4u;
override MODE: u32 = 0u;

// The input index padded index `i` reads along an axis of `n` cells, or −1 for the constant.
fn source(i: i32, n: i32) -> i32 {
    if (i >= 0 && i < n) {
        return i;
    }
    switch MODE {
        case 1u: { return clamp(i, 0, n - 1); }
        case 2u: {
            if (n == 1) {
                return 0;
            }
            let period = 2 * (n - 1);
            var m = i % period;
            if (m < 0) {
                m += period;
            }
            return select(m, period - m, m >= n);
        }
        default: { return -1; }
    }
}

@compute @workgroup_size(WG, 1, 1)
fn pad(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lane: u32,
) {
    let first = ((wid.x + wid.y * nwg.x) * WG + lane) * RUN;
    for (var i = first; i < min(first + RUN, p.len); i++) {
        let ox = i % p.ow;
        let oy = (i / p.ow) % p.oh;
        let plane = i / (p.ow * p.oh);
        let sy = source(i32(oy) - i32(p.top), i32(p.h));
        let sx = source(i32(ox) - i32(p.left), i32(p.w));
        if (sy < 0 || sx < 0) {
            y[p.y_skip + i] = p.value;
        } else {
            y[p.y_skip + i] = x[p.x_skip + (plane * p.h + u32(sy)) * p.w + u32(sx)];
        }
    }
}
