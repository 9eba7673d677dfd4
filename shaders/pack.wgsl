// pack.wgsl — repacks convolution weights from OIHW into blocks of 4 output channels, so that
// the direct kernel reads the 4 channels of a tap with one vec4 load:
//   packed[(g · blocks_per_group + b) · K + k][j] = w[g · Cout/G + 4b + j, k]   (k < K = Cin/G·KH·KW)
// and zero where 4b + j passes the group's last channel.
//
// Bindings (group 0)              mirrors PACK in src/ops/conv2d.rs
//   0 w       storage read        [Cout, K]
//   1 packed  storage read_write  [G · blocks_per_group · K, 4]
//   2 p       uniform             Params
// Grid: 1-D over packed vec4s, folded into (x, y). Overrides: WG.

struct Params {
    k: u32, cout_per_group: u32, blocks_per_group: u32, total: u32,
}

@group(0) @binding(0) var<storage, read> w: array<f32>;
@group(0) @binding(1) var<storage, read_write> packed: array<vec4<f32>>;
@group(0) @binding(2) var<uniform> p: Params;

override WG: u32 = 64u;

@compute @workgroup_size(WG, 1, 1)
fn pack_conv_weights(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lane: u32,
) {
    let i = (wid.x + wid.y * nwg.x) * WG + lane;
    if (i >= p.total) {
        return;
    }
    let k = i % p.k;
    let block = i / p.k;
    let g = block / p.blocks_per_group;
    let c0 = (block % p.blocks_per_group) * 4u;
    var v = vec4<f32>(0.0);
    for (var j = 0u; j < 4u; j++) {
        if (c0 + j < p.cout_per_group) {
            v[j] = w[(g * p.cout_per_group + c0 + j) * p.k + k];
        }
    }
    packed[i] = v;
}
