// elementwise.wgsl — y = a + b, y = max(a + b, 0), y = max(a, 0): the residual add and ReLU.
// One invocation per element.
//
// Bindings (group 0)              mirrors ELEMENTWISE in src/ops/elementwise.rs
//   0 a  storage read        [len]
//   1 b  storage read        [len] (unread when has_b = 0)
//   2 y  storage read_write  [len]
//   3 p  uniform             Params
// Grid: 1-D over elements, folded into (x, y) when it passes the per-dimension limit.
// Overrides: WG.

struct Params {
    len: u32, has_b: u32, relu: u32, _pad: u32,
}

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

override WG: u32 = 256u;

@compute @workgroup_size(WG, 1, 1)
fn elementwise(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lane: u32,
) {
    let i = (wid.x + wid.y * nwg.x) * WG + lane;
    if (i >= p.len) {
        return;
    }
    var v = a[i];
    if (p.has_b != 0u) {
        v += b[i];
    }
    if (p.relu != 0u) {
        v = max(v, 0.0);
    }
    y[i] = v;
}
