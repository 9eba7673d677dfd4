// conv2d.wgsl — direct 2-D convolution, NCHW input, OIHW weights, f32.
// Each invocation computes a TILE_CO x 4 block of y[n, co, oy, ox]: TILE_CO (1..4) output
// channels of one group at 4 neighbouring output columns of one row. Per tap it loads 4 inputs
// (one vec4) and TILE_CO weights for 4·TILE_CO fused multiply-adds (register blocking).
//
// Bindings (group 0)              mirrors DIRECT in src/ops/conv2d.rs
//   0 x  storage read        [N, Cin, H, W]
//   1 w  storage read        [Cout, Cin/groups, KH, KW]
//   2 b  storage read        [Cout] (unread when has_bias = 0)
//   3 y  storage read_write  [N, Cout, OH, OW]
//   4 p  uniform             Params (field order of Conv2dUniform in src/ops/conv2d.rs)
// Grid: x = output-column blocks, y = groups · channel blocks per group, z = N · OH.
// Overrides: WG_X, WG_Y (workgroup shape), TILE_CO (channels per invocation, 1..4; the
// branches on it fold away when the pipeline is built). TILE_X is the vec4 width.

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
const TILE_X: u32 = 4u;

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

    // Four accumulators of four columns each: named vectors, not an indexed array, so that
    // every compiler keeps them in registers (llvmpipe scalarises dynamically indexed arrays).
    var acc0 = vec4<f32>(0.0);
    var acc1 = vec4<f32>(0.0);
    var acc2 = vec4<f32>(0.0);
    var acc3 = vec4<f32>(0.0);
    let taps = p.kh * p.kw;
    let w_co_stride = p.cin_per_group * taps;
    let iy0 = i32(oy * p.stride_y) - i32(p.pad_top);
    let ix0 = i32(ox0 * p.stride_x) - i32(p.pad_left);
    let sx = i32(p.stride_x);
    // Channels past the group's end reread its last channel; their results are not stored.
    let w0 = min(co0, co_end - 1u) * w_co_stride;
    let w1 = min(co0 + 1u, co_end - 1u) * w_co_stride;
    let w2 = min(co0 + 2u, co_end - 1u) * w_co_stride;
    let w3 = min(co0 + 3u, co_end - 1u) * w_co_stride;

    for (var ci = 0u; ci < p.cin_per_group; ci++) {
        let x_plane = (n * p.cin + g * p.cin_per_group + ci) * p.h * p.w;
        for (var ky = 0u; ky < p.kh; ky++) {
            let iy = iy0 + i32(ky * p.dil_y);
            if (iy < 0 || iy >= i32(p.h)) {
                continue;
            }
            let x_row = x_plane + u32(iy) * p.w;
            let w_row = ci * taps + ky * p.kw;
            for (var kx = 0u; kx < p.kw; kx++) {
                let ix = ix0 + i32(kx * p.dil_x);
                let xv = vec4<f32>(load_x(x_row, ix), load_x(x_row, ix + sx), load_x(x_row, ix + 2 * sx), load_x(x_row, ix + 3 * sx));
                let t = w_row + kx;
                acc0 = fma(vec4<f32>(wt[w0 + t]), xv, acc0);
                if (TILE_CO > 1u) {
                    acc1 = fma(vec4<f32>(wt[w1 + t]), xv, acc1);
                }
                if (TILE_CO > 2u) {
                    acc2 = fma(vec4<f32>(wt[w2 + t]), xv, acc2);
                }
                if (TILE_CO > 3u) {
                    acc3 = fma(vec4<f32>(wt[w3 + t]), xv, acc3);
                }
            }
        }
    }
    store(n, co0, co_end, oy, ox0, acc0);
    store(n, co0 + 1u, co_end, oy, ox0, acc1);
    store(n, co0 + 2u, co_end, oy, ox0, acc2);
    store(n, co0 + 3u, co_end, oy, ox0, acc3);
}

// x[row + col], zero outside the image row.
fn load_x(row: u32, col: i32) -> f32 {
    if (col < 0 || col >= i32(p.w)) {
        return 0.0;
    }
    return x[row + u32(col)];
}

// Adds the bias, applies ReLU, and writes the columns of `v` that exist.
fn store(n: u32, co: u32, co_end: u32, oy: u32, ox0: u32, v: vec4<f32>) {
    if (co >= co_end) {
        return;
    }
    var r = v;
    if (p.has_bias != 0u) {
        r += vec4<f32>(bias[co]);
    }
    if (p.relu != 0u) {
        r = max(r, vec4<f32>(0.0));
    }
    let y_row = ((n * p.cout + co) * p.oh + oy) * p.ow;
    for (var t = 0u; t < 4u; t++) {
        if (ox0 + t < p.ow) {
            y[y_row + ox0 + t] = r[t];
        }
    }
}
