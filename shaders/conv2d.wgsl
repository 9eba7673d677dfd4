// conv2d.wgsl — direct 2-D convolution, NCHW input, OIHW weights, f32.
// Each invocation computes a TILE_CO x TILE_X block of y[n, co, oy, ox]: TILE_CO output
// channels of one group at TILE_X neighbouring output columns of one row. Per tap it loads
// TILE_X inputs and TILE_CO weights for TILE_CO·TILE_X fused multiply-adds (register blocking).
//
// Bindings (group 0)              mirrors DIRECT in src/ops/conv2d.rs
//   0 x  storage read        [N, Cin, H, W]
//   1 w  storage read        [Cout, Cin/groups, KH, KW]
//   2 b  storage read        [Cout] (unread when has_bias = 0)
//   3 y  storage read_write  [N, Cout, OH, OW]
//   4 p  uniform             Params (field order of Conv2dUniform in src/ops/conv2d.rs)
// Grid: x = output-column blocks, y = groups · channel blocks per group, z = N · OH.
// Overrides: WG_X, WG_Y (workgroup shape), TILE_CO, TILE_X (≤ MAX_TILE each).

struct Params {
    n: u32, cin: u32, h: u32, w: u32,
    cout: u32, kh: u32, kw: u32, groups: u32,
    oh: u32, ow: u32, stride_y: u32, stride_x: u32,
    pad_top: u32, pad_left: u32, dil_y: u32, dil_x: u32,
    cin_per_group: u32, cout_per_group: u32, has_bias: u32, relu: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> wt: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

override WG_X: u32 = 16u;
override WG_Y: u32 = 4u;
override TILE_CO: u32 = 4u;
override TILE_X: u32 = 4u;
const MAX_TILE: u32 = 8u;

@compute @workgroup_size(WG_X, WG_Y, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let blocks_per_group = (p.cout_per_group + TILE_CO - 1u) / TILE_CO;
    let g = gid.y / blocks_per_group;
    let ox0 = gid.x * TILE_X;
    if (g >= p.groups || ox0 >= p.ow) {
        return;
    }
    let co0 = g * p.cout_per_group + (gid.y % blocks_per_group) * TILE_CO;
    let co_end = min(co0 + TILE_CO, (g + 1u) * p.cout_per_group);
    let n = gid.z / p.oh;
    let oy = gid.z % p.oh;

    var acc: array<f32, MAX_TILE * MAX_TILE>;
    for (var i = 0u; i < TILE_CO * TILE_X; i++) {
        acc[i] = 0.0;
    }
    var xv: array<f32, MAX_TILE>;
    let taps = p.kh * p.kw;
    let w_co_stride = p.cin_per_group * taps;
    let iy0 = i32(oy * p.stride_y) - i32(p.pad_top);
    let ix0 = i32(ox0 * p.stride_x) - i32(p.pad_left);

    for (var ci = 0u; ci < p.cin_per_group; ci++) {
        let x_plane = (n * p.cin + g * p.cin_per_group + ci) * p.h * p.w;
        for (var ky = 0u; ky < p.kh; ky++) {
            let iy = iy0 + i32(ky * p.dil_y);
            if (iy < 0 || iy >= i32(p.h)) {
                continue;
            }
            let x_row = x_plane + u32(iy) * p.w;
            for (var kx = 0u; kx < p.kw; kx++) {
                let ix = ix0 + i32(kx * p.dil_x);
                for (var t = 0u; t < TILE_X; t++) {
                    let xi = ix + i32(t * p.stride_x);
                    var v = 0.0;
                    if (xi >= 0 && xi < i32(p.w)) {
                        v = x[x_row + u32(xi)];
                    }
                    xv[t] = v;
                }
                let w_tap = ci * taps + ky * p.kw + kx;
                for (var c = 0u; c < TILE_CO; c++) {
                    // Lanes past the group's last channel reread it; their results are not stored.
                    let wv = wt[min(co0 + c, co_end - 1u) * w_co_stride + w_tap];
                    for (var t = 0u; t < TILE_X; t++) {
                        acc[c * TILE_X + t] = fma(wv, xv[t], acc[c * TILE_X + t]);
                    }
                }
            }
        }
    }

    for (var c = 0u; c < TILE_CO; c++) {
        let co = co0 + c;
        if (co >= co_end) {
            break;
        }
        var b = 0.0;
        if (p.has_bias != 0u) {
            b = bias[co];
        }
        let y_row = ((n * p.cout + co) * p.oh + oy) * p.ow;
        for (var t = 0u; t < TILE_X; t++) {
            let ox = ox0 + t;
            if (ox < p.ow) {
                var v = acc[c * TILE_X + t] + b;
                if (p.relu != 0u) {
                    v = max(v, 0.0);
                }
                y[y_row + ox] = v;
            }
        }
    }
}
