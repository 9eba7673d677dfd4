// winograd_input.wgsl — a convolution's input transformed for Winograd F(2x2, 3x3), as the B
// operand of a GEMM in 16 groups, in a storage texture, 4 tiles to a texel:
//   b[g·Cin + c, n·T + t] = (Bᵀ · d · B)[g / 4, g % 4],   d = x[n, c, 2·ty − pt + 0..4, 2·tx − pl + 0..4]
// for the T = TH·TW tiles of 2x2 outputs of each image (t = ty·TW + tx), zero outside the
// image, Bᵀ = [[1, 0, −1, 0], [0, 1, 1, 0], [0, −1, 1, 0], [0, 1, 0, −1]]. Each invocation takes
// one input channel and 4 columns and writes their 16 rows; x is read through a texture copy
// of it (the fast read path), as im2col.wgsl reads it. Where an invocation's 4 tiles lie in
// one row of tiles (ROW = 1: TW and T multiples of 4), a row of their patches is 10
// consecutive words, read as 4 texels and shifted; else each point is read on its own.
//
// Bindings (group 0)              mirrors WINOGRAD_INPUT in src/ops/winograd.rs
//   0 x  texture_storage_2d<rgba32float, read>   [N, Cin, H, W] as a linear texture
//   1 b  texture_storage_2d<rgba32float, write>  [16·Cin, ceil(N·T / 4) texels (padded)]
//   2 p  uniform             Uniforms (ConvDims from conv_dims.wgsl first)
// Grid: x = texel columns, y = input channels. Overrides: WG, TEX_SHIFT, ROW.

struct Uniforms {
    conv: ConvDims,
    cin: u32, tiles_w: u32, tiles: u32, cols: u32,
}

@group(0) @binding(0) var x: texture_storage_2d<rgba32float, read>;
@group(0) @binding(1) var b: texture_storage_2d<rgba32float, write>;
@group(0) @binding(2) var<uniform> p: Uniforms;

override WG: u32 = 64u;
override TEX_SHIFT: u32;
override ROW: u32 = 0u;

// An invocation's 4 tiles: where each tile's patch starts (its image plane, row and column)
// and whether the column is one.
struct Tiles { plane: vec4<i32>, iy0: vec4<i32>, ix0: vec4<i32>, live: vec4<bool> }

// Point (r, s) of the 4 tiles' input patches.
fn point(t: Tiles, r: i32, s: i32) -> vec4<f32> {
    let k = p.conv;
    let iy = t.iy0 + r;
    let ix = t.ix0 + s;
    let inside = t.live & (iy >= vec4<i32>(0)) & (iy < vec4<i32>(i32(k.h))) & (ix >= vec4<i32>(0)) & (ix < vec4<i32>(i32(k.w)));
    let at = t.plane + iy * i32(k.w) + ix;
    return vec4<f32>(x_at(at.x, inside.x), x_at(at.y, inside.y), x_at(at.z, inside.z), x_at(at.w, inside.w));
}

// 4 points of a row or column of the 4 tiles.
struct Quad { a: vec4<f32>, b: vec4<f32>, c: vec4<f32>, d: vec4<f32> }

// Bᵀ · q.
fn bt(q: Quad) -> Quad {
    return Quad(q.a - q.c, q.b + q.c, q.c - q.b, q.b - q.d);
}

// Whether columns col .. col + 3 of a row are in the image.
fn in_row(col: i32, row_ok: bool) -> vec4<bool> {
    let cols = col + vec4<i32>(0, 1, 2, 3);
    return vec4<bool>(row_ok) & (cols >= vec4<i32>(0)) & (cols < vec4<i32>(i32(p.conv.w)));
}

// Row r of the 4 tiles' patches: points (r, 0) .. (r, 3).
fn patch_row(t: Tiles, r: i32) -> Quad {
    if (ROW == 0u) {
        return Quad(point(t, r, 0), point(t, r, 1), point(t, r, 2), point(t, r, 3));
    }
    // Words 0 .. 11 of the row from the first tile's column on: tile j reads words 2j .. 2j + 3.
    let k = p.conv;
    let iy = t.iy0.x + r;
    let start = t.plane.x + iy * i32(k.w) + t.ix0.x;
    let q = start >> 2u; // floor(start / 4), also when start < 0
    let shift = u32(start & 3);
    let t0 = texel(q);
    let t1 = texel(q + 1);
    let t2 = texel(q + 2);
    let t3 = texel(q + 3);
    let row_ok = iy >= 0 && iy < i32(k.h);
    let a = select(vec4<f32>(0.0), funnel(t0, t1, shift), in_row(t.ix0.x, row_ok));
    let b = select(vec4<f32>(0.0), funnel(t1, t2, shift), in_row(t.ix0.x + 4, row_ok));
    let c = select(vec4<f32>(0.0), funnel(t2, t3, shift), in_row(t.ix0.x + 8, row_ok));
    return Quad(vec4<f32>(a.x, a.z, b.x, b.z), vec4<f32>(a.y, a.w, b.y, b.w), vec4<f32>(a.z, b.x, b.z, c.x),
        vec4<f32>(a.w, b.y, b.w, c.y));
}

// Row r of the transformed tiles (Bᵀ · d · B): points g = 4·r .. 4·r + 3.
fn store_row(col: u32, c: u32, r: u32, q: Quad) {
    let v = bt(q);
    textureStore(b, vec2<u32>(col, (4u * r) * p.cin + c), v.a);
    textureStore(b, vec2<u32>(col, (4u * r + 1u) * p.cin + c), v.b);
    textureStore(b, vec2<u32>(col, (4u * r + 2u) * p.cin + c), v.c);
    textureStore(b, vec2<u32>(col, (4u * r + 3u) * p.cin + c), v.d);
}

@compute @workgroup_size(WG, 1, 1)
fn winograd_input(@builtin(global_invocation_id) gid: vec3<u32>) {
    let c = gid.y;
    let col0 = 4u * gid.x;
    if (col0 >= p.cols || c >= p.cin) {
        return;
    }
    let k = p.conv;
    var t: Tiles;
    for (var j = 0u; j < 4u; j++) {
        let col = col0 + j;
        let n = col / p.tiles;
        let tile = col % p.tiles;
        t.plane[j] = i32((n * p.cin + c) * k.h * k.w);
        t.iy0[j] = 2 * i32(tile / p.tiles_w) - i32(k.pad_top);
        t.ix0[j] = 2 * i32(tile % p.tiles_w) - i32(k.pad_left);
        t.live[j] = col < p.cols;
    }
    // Bᵀ · d column by column, then each row · B.
    let d0 = patch_row(t, 0);
    let d1 = patch_row(t, 1);
    let d2 = patch_row(t, 2);
    let d3 = patch_row(t, 3);
    let c0 = bt(Quad(d0.a, d1.a, d2.a, d3.a));
    let c1 = bt(Quad(d0.b, d1.b, d2.b, d3.b));
    let c2 = bt(Quad(d0.c, d1.c, d2.c, d3.c));
    let c3 = bt(Quad(d0.d, d1.d, d2.d, d3.d));
    store_row(gid.x, c, 0u, Quad(c0.a, c1.a, c2.a, c3.a));
    store_row(gid.x, c, 1u, Quad(c0.b, c1.b, c2.b, c3.b));
    store_row(gid.x, c, 2u, Quad(c0.c, c1.c, c2.c, c3.c));
    store_row(gid.x, c, 3u, Quad(c0.d, c1.d, c2.d, c3.d));
}
