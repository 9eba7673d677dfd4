// conv2d.wgsl — direct 2-D convolution, NCHW input, f32.
// Each invocation computes a TILE_CO x 8 block of y[n, co, oy, ox]: TILE_CO (4 or 8) output
// channels of one group at 8 neighbouring output columns of one row, held as vec4
// accumulators (register blocking). Per tap it loads the 8 inputs and each block of 4
// weights as vec4s: llvmpipe turns every storage load into a loop over the SIMD lanes, so the
// kernel is shaped to issue as few load instructions per multiply-add as it can.
// With stride 1 the 8 inputs are 8 consecutive words: aligned vec4 loads and a shift that is
// the same for every invocation of a row (ox0 is a multiple of 8); for kernels up to 5 taps
// wide, a kernel row's inputs are loaded once (4 vec4s) and shifted for each tap.
// The activation is activation.wgsl's, the file put before this one.
//
// Bindings (group 0)              mirrors DIRECT in src/ops/direct.rs
//   0 x  texture_storage_2d<rgba32float, read>   [N, Cin, H, W] as a linear texture (a copy
//                            the launch makes): word i in texel (i/4 mod 2^TEX_SHIFT, i/4 >> TEX_SHIFT)
//   1 w  texture_storage_2d<rgba32float, read>   weights packed by pack.wgsl: texel
//                            (g · w_blocks + b, tap) holds channels 4b .. 4b + 3 of group g
//   2 b  storage read        [Cout] (unread when has_bias = 0)
//   3 y  storage read_write  [N, Cout, OH, OW]
//   4 p  uniform             Uniforms (field order of Conv2dUniforms in src/ops/direct.rs)
// Grid: x = blocks of 8 output columns, y = groups · channel blocks per group, z = N · OH.
// Overrides: WG_X, WG_Y (workgroup shape), TILE_CO (4 or 8; the branches on it fold away
// when the pipeline is built), TEX_SHIFT (the linear texture's row width), and
// activation.wgsl's.

struct Uniforms {
    conv: ConvDims, // shaders/conv_dims.wgsl, which the host puts before this file
    n: u32, cin: u32, cout: u32, groups: u32,
    cin_per_group: u32, cout_per_group: u32, has_bias: u32, relu: u32,
    w_blocks: u32, _pad0: u32, _pad1: u32, _pad2: u32,
}

@group(0) @binding(0) var x: texture_storage_2d<rgba32float, read>;
@group(0) @binding(1) var wt: texture_storage_2d<rgba32float, read>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> p: Uniforms;

// The 4 packed output channels of texel column `col` at reduction index `tap`.
fn weight(col: u32, tap: u32) -> vec4<f32> {
    return textureLoad(wt, vec2<u32>(col, tap));
}

override WG_X: u32 = 16u;
override WG_Y: u32 = 4u;
override TILE_CO: u32 = 4u;
override TEX_SHIFT: u32;

// Inputs at columns col + t·s (t = 0..7) of the row starting at word `row`, zero outside
// the row: columns 0..3 in .lo, 4..7 in .hi.
struct Columns {
    lo: vec4<f32>,
    hi: vec4<f32>,
}

fn load_columns(row: u32, col: i32, s: i32) -> Columns {
    let c_lo = vec4<i32>(col) + vec4<i32>(0, 1, 2, 3) * s;
    let c_hi = c_lo + vec4<i32>(4 * s);
    var v: Columns;
    if (s == 1) {
        let start = i32(row) + col;
        let q = start >> 2u; // floor(start / 4), also when start < 0
        let a = texel(q);
        let b = texel(q + 1);
        let c = texel(q + 2);
        let shift = u32(start & 3);
        v = Columns(funnel(a, b, shift), funnel(b, c, shift));
    } else {
        let lo = vec4<u32>(max(vec4<i32>(i32(row)) + c_lo, vec4<i32>(0)));
        let hi = vec4<u32>(max(vec4<i32>(i32(row)) + c_hi, vec4<i32>(0)));
        v = Columns(
            vec4<f32>(x_at(i32(lo.x), true), x_at(i32(lo.y), true), x_at(i32(lo.z), true), x_at(i32(lo.w), true)),
            vec4<f32>(x_at(i32(hi.x), true), x_at(i32(hi.y), true), x_at(i32(hi.z), true), x_at(i32(hi.w), true)),
        );
    }
    return inside_row(v, col, s);
}

// `v` with the columns outside the row (col + t·s < 0 or ≥ W) set to zero.
fn inside_row(v: Columns, col: i32, s: i32) -> Columns {
    let c_lo = vec4<i32>(col) + vec4<i32>(0, 1, 2, 3) * s;
    let c_hi = c_lo + vec4<i32>(4 * s);
    let w = vec4<i32>(i32(p.conv.w));
    return Columns(
        select(vec4<f32>(0.0), v.lo, c_lo >= vec4<i32>(0) & c_lo < w),
        select(vec4<f32>(0.0), v.hi, c_hi >= vec4<i32>(0) & c_hi < w),
    );
}

// Words o .. o + 7 (o < 8) of the 16 words r0..r3.
fn window(r0: vec4<f32>, r1: vec4<f32>, r2: vec4<f32>, r3: vec4<f32>, o: u32) -> Columns {
    if (o >= 4u) {
        return Columns(funnel(r1, r2, o - 4u), funnel(r2, r3, o - 4u));
    }
    return Columns(funnel(r0, r1, o), funnel(r1, r2, o));
}

@compute @workgroup_size(WG_X, WG_Y, 1)
fn conv2d_direct(@builtin(global_invocation_id) gid: vec3<u32>) {
    let tiles_per_group = (p.cout_per_group + TILE_CO - 1u) / TILE_CO;
    let g = gid.y / tiles_per_group;
    let ox0 = gid.x * 8u;
    if (g >= p.groups || ox0 >= p.conv.ow) {
        return;
    }
    let tile = gid.y % tiles_per_group;
    let co0 = g * p.cout_per_group + tile * TILE_CO;
    let co_end = (g + 1u) * p.cout_per_group;
    let n = gid.z / p.conv.oh;
    let oy = gid.z % p.conv.oh;

    // Packed weight columns of this tile's (up to two) blocks of 4 channels. A second block
    // past the group's end reads the zero padding; its results are not stored.
    let block0 = tile * TILE_CO / 4u;
    let wb0 = g * p.w_blocks + block0;
    let wb1 = wb0 + 1u;

    // acc[j] holds channel j of the tile at columns 0..3 (.lo) and 4..7 (.hi).
    var a0 = Columns(vec4<f32>(0.0), vec4<f32>(0.0));
    var a1 = a0;
    var a2 = a0;
    var a3 = a0;
    var a4 = a0;
    var a5 = a0;
    var a6 = a0;
    var a7 = a0;
    let iy0 = i32(oy * p.conv.stride_y) - i32(p.conv.pad_top);
    let ix0 = i32(ox0 * p.conv.stride_x) - i32(p.conv.pad_left);
    let sx = i32(p.conv.stride_x);
    // Dense rows (stride 1, dilation 1, up to 5 taps wide): the 8 + KW − 1 inputs that all
    // taps of a kernel row read fit in 4 aligned vec4s, loaded once per row.
    let dense_rows = p.conv.stride_x == 1u && p.conv.dil_x == 1u && p.conv.kw <= 5u;

    var tap = 0u;
    for (var ci = 0u; ci < p.cin_per_group; ci++) {
        let plane = (n * p.cin + g * p.cin_per_group + ci) * p.conv.h * p.conv.w;
        for (var ky = 0u; ky < p.conv.kh; ky++) {
            let iy = iy0 + i32(ky * p.conv.dil_y);
            if (iy < 0 || iy >= i32(p.conv.h)) {
                tap += p.conv.kw;
                continue;
            }
            let row = plane + u32(iy) * p.conv.w;
            let start = i32(row) + ix0;
            let q = start >> 2u;
            var r0 = vec4<f32>(0.0);
            var r1 = r0;
            var r2 = r0;
            var r3 = r0;
            if (dense_rows) {
                r0 = texel(q);
                r1 = texel(q + 1);
                r2 = texel(q + 2);
                r3 = texel(q + 3);
            }
            for (var kx = 0u; kx < p.conv.kw; kx++) {
                let col = ix0 + i32(kx * p.conv.dil_x);
                var xv: Columns;
                if (dense_rows) {
                    xv = inside_row(window(r0, r1, r2, r3, u32(start & 3) + kx), col, 1);
                } else {
                    xv = load_columns(row, col, sx);
                }
                let w0 = weight(wb0, tap);
                a0 = madd(a0, w0.x, xv);
                a1 = madd(a1, w0.y, xv);
                a2 = madd(a2, w0.z, xv);
                a3 = madd(a3, w0.w, xv);
                if (TILE_CO > 4u) {
                    let w1 = weight(wb1, tap);
                    a4 = madd(a4, w1.x, xv);
                    a5 = madd(a5, w1.y, xv);
                    a6 = madd(a6, w1.z, xv);
                    a7 = madd(a7, w1.w, xv);
                }
                tap++;
            }
        }
    }
    store(n, co0, co_end, oy, ox0, a0);
    store(n, co0 + 1u, co_end, oy, ox0, a1);
    store(n, co0 + 2u, co_end, oy, ox0, a2);
    store(n, co0 + 3u, co_end, oy, ox0, a3);
    if (TILE_CO > 4u) {
        store(n, co0 + 4u, co_end, oy, ox0, a4);
        store(n, co0 + 5u, co_end, oy, ox0, a5);
        store(n, co0 + 6u, co_end, oy, ox0, a6);
        store(n, co0 + 7u, co_end, oy, ox0, a7);
    }
}

// acc + w · x over the 8 columns.
fn madd(acc: Columns, w: f32, x: Columns) -> Columns {
    return Columns(fma(vec4<f32>(w), x.lo, acc.lo), fma(vec4<f32>(w), x.hi, acc.hi));
}

// Adds the bias, applies the activation, and writes the columns of `v` that exist.
fn store(n: u32, co: u32, co_end: u32, oy: u32, ox0: u32, v: Columns) {
    if (co >= co_end) {
        return;
    }
    var lo = v.lo;
    var hi = v.hi;
    if (p.has_bias != 0u) {
        lo += vec4<f32>(bias[co]);
        hi += vec4<f32>(bias[co]);
    }
    lo = activate_relu_if(lo, p.relu);
    hi = activate_relu_if(hi, p.relu);
    let y_row = ((n * p.cout + co) * p.conv.oh + oy) * p.conv.ow;
    for (var t = 0u; t < 4u; t++) {
        if (ox0 + t < p.conv.ow) {
            y[y_row + ox0 + t] = lo[t];
        }
        if (ox0 + 4u + t < p.conv.ow) {
            y[y_row + ox0 + 4u + t] = hi[t];
        }
    }
}
