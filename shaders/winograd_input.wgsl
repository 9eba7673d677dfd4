// winograd_input.wgsl — a convolution's input transformed for Winograd F(MxM, 3x3) (M = 2 or
// 4; tiles of A = M + 2 points a side), as the B operand of a GEMM in A·A groups, in a storage
// texture, 4 tiles to a texel:
//   b[g·Cin + c, n·T + t] = (Bᵀ · d · B)[g / A, g % A],   d = x[n, c, M·ty − pt + 0..A, M·tx − pl + 0..A]
// for the tiles t = ty·TW + tx of each image, zero outside the image. A row of tiles is TW
// tiles, the live ones rounded up to a multiple of 4 (the tiles past them are never stored),
// so that an invocation's 4 tiles lie in one row: a row of their patches is 4·M + 2
// consecutive words, read as texels and shifted. x is read through a texture copy of it (the
// fast read path). Bᵀ for M = 2: [[1, 0, −1, 0], [0, 1, 1, 0], [0, −1, 1, 0], [0, 1, 0, −1]];
// for M = 4 (points 0, ±1, ±2), see bt6.
//
// Bindings (group 0)              mirrors WINOGRAD_INPUT in src/ops/winograd.rs
//   0 x  texture_storage_2d<rgba32float, read>   [N, Cin, H, W] as a linear texture
//   1 b  texture_storage_2d<rgba32float, write>  [A·A·Cin, N·T / 4 texels]
//   2 p  uniform             Uniforms (ConvDims from conv_dims.wgsl first)
// Grid: x = texel columns, y = input channels, in workgroups of WG_X x WG_Y (more channels to
// a workgroup where the columns are few). Overrides: WG_X, WG_Y, TEX_SHIFT, M.

struct Uniforms {
    conv: ConvDims,
    cin: u32, tiles_w: u32, tiles: u32, cols: u32,
}

@group(0) @binding(0) var x: texture_storage_2d<rgba32float, read>;
@group(0) @binding(1) var b: texture_storage_2d<rgba32float, write>;
@group(0) @binding(2) var<uniform> p: Uniforms;

override WG_X: u32 = 64u;
override WG_Y: u32 = 1u;
override TEX_SHIFT: u32;
override M: u32 = 2u;

// Whether columns col .. col + 3 of a row are in the image.
fn in_row(col: i32, row_ok: bool) -> vec4<bool> {
    let cols = col + vec4<i32>(0, 1, 2, 3);
    return vec4<bool>(row_ok) & (cols >= vec4<i32>(0)) & (cols < vec4<i32>(i32(p.conv.w)));
}

// Words 4k .. 4k + 3 of a patch row that starts at word `start` of x (column `col` of a row
// that is in the image or not), zero outside the image.
fn words(start: i32, col: i32, row_ok: bool, k: i32) -> vec4<f32> {
    let q = (start >> 2u) + k; // floor(start / 4), also when start < 0
    let v = funnel(texel(q), texel(q + 1), u32(start & 3));
    return select(vec4<f32>(0.0), v, in_row(col + 4 * k, row_ok));
}

// F(2x2): 4 points of the 4 tiles (lane j: tile j).
struct Quad { a: vec4<f32>, b: vec4<f32>, c: vec4<f32>, d: vec4<f32> }

fn bt(q: Quad) -> Quad {
    return Quad(q.a - q.c, q.b + q.c, q.c - q.b, q.b - q.d);
}

// Row r of the 4 tiles' patches: tile j reads words 2j .. 2j + 3.
fn row4(start: i32, col: i32, row_ok: bool) -> Quad {
    let a = words(start, col, row_ok, 0);
    let b = words(start, col, row_ok, 1);
    let c = words(start, col, row_ok, 2);
    return Quad(vec4<f32>(a.x, a.z, b.x, b.z), vec4<f32>(a.y, a.w, b.y, b.w), vec4<f32>(a.z, b.x, b.z, c.x),
        vec4<f32>(a.w, b.y, b.w, c.y));
}

// F(4x4): 6 points of the 4 tiles.
struct Six { a: vec4<f32>, b: vec4<f32>, c: vec4<f32>, d: vec4<f32>, e: vec4<f32>, f: vec4<f32> }

// Bᵀ · q: Bᵀ = [[4, 0, −5, 0, 1, 0], [0, −4, −4, 1, 1, 0], [0, 4, −4, −1, 1, 0],
//               [0, −2, −1, 2, 1, 0], [0, 2, −1, −2, 1, 0], [0, 4, 0, −5, 0, 1]].
fn bt6(q: Six) -> Six {
    let s = q.e - 4.0 * q.c;
    let t = q.d - 4.0 * q.b;
    let u = q.e - q.c;
    let v = 2.0 * (q.d - q.b);
    return Six(4.0 * q.a - 5.0 * q.c + q.e, s + t, s - t, u + v, u - v, 4.0 * q.b - 5.0 * q.d + q.f);
}

// Row r of the 4 tiles' patches: tile j reads words 4j .. 4j + 5.
fn row6(start: i32, col: i32, row_ok: bool) -> Six {
    let a = words(start, col, row_ok, 0);
    let b = words(start, col, row_ok, 1);
    let c = words(start, col, row_ok, 2);
    let d = words(start, col, row_ok, 3);
    let e = words(start, col, row_ok, 4);
    return Six(vec4<f32>(a.x, b.x, c.x, d.x), vec4<f32>(a.y, b.y, c.y, d.y), vec4<f32>(a.z, b.z, c.z, d.z),
        vec4<f32>(a.w, b.w, c.w, d.w), vec4<f32>(b.x, c.x, d.x, e.x), vec4<f32>(b.y, c.y, d.y, e.y));
}

// Where the 4 tiles' patches start: word `start` of the first row (r = 0) and its column.
struct Patch { plane: i32, iy0: i32, ix0: i32 }

fn patch_row_at(t: Patch, r: i32) -> vec2<i32> {
    return vec2<i32>(t.plane + (t.iy0 + r) * i32(p.conv.w) + t.ix0, t.iy0 + r);
}

fn row_ok(iy: i32) -> bool {
    return iy >= 0 && iy < i32(p.conv.h);
}

fn quad_row(t: Patch, r: i32) -> Quad {
    let at = patch_row_at(t, r);
    return row4(at.x, t.ix0, row_ok(at.y));
}

fn six_row(t: Patch, r: i32) -> Six {
    let at = patch_row_at(t, r);
    return row6(at.x, t.ix0, row_ok(at.y));
}

fn store(col: u32, c: u32, g: u32, v: vec4<f32>) {
    textureStore(b, vec2<u32>(col, g * p.cin + c), v);
}

fn store4(col: u32, c: u32, r: u32, q: Quad) {
    let v = bt(q);
    store(col, c, 4u * r, v.a);
    store(col, c, 4u * r + 1u, v.b);
    store(col, c, 4u * r + 2u, v.c);
    store(col, c, 4u * r + 3u, v.d);
}

fn store6(col: u32, c: u32, r: u32, q: Six) {
    let v = bt6(q);
    store(col, c, 6u * r, v.a);
    store(col, c, 6u * r + 1u, v.b);
    store(col, c, 6u * r + 2u, v.c);
    store(col, c, 6u * r + 3u, v.d);
    store(col, c, 6u * r + 4u, v.e);
    store(col, c, 6u * r + 5u, v.f);
}

@compute @workgroup_size(WG_X, WG_Y, 1)
fn winograd_input(@builtin(global_invocation_id) gid: vec3<u32>) {
    let c = gid.y;
    let col0 = 4u * gid.x;
    if (col0 >= p.cols || c >= p.cin) {
        return;
    }
    let k = p.conv;
    let n = col0 / p.tiles;
    let tile = col0 % p.tiles;
    let t = Patch(i32((n * p.cin + c) * k.h * k.w), i32(M * (tile / p.tiles_w)) - i32(k.pad_top),
        i32(M * (tile % p.tiles_w)) - i32(k.pad_left));
    // Bᵀ · d column by column, then each row · B.
    if (M == 2u) {
        let d0 = quad_row(t, 0);
        let d1 = quad_row(t, 1);
        let d2 = quad_row(t, 2);
        let d3 = quad_row(t, 3);
        let c0 = bt(Quad(d0.a, d1.a, d2.a, d3.a));
        let c1 = bt(Quad(d0.b, d1.b, d2.b, d3.b));
        let c2 = bt(Quad(d0.c, d1.c, d2.c, d3.c));
        let c3 = bt(Quad(d0.d, d1.d, d2.d, d3.d));
        store4(gid.x, c, 0u, Quad(c0.a, c1.a, c2.a, c3.a));
        store4(gid.x, c, 1u, Quad(c0.b, c1.b, c2.b, c3.b));
        store4(gid.x, c, 2u, Quad(c0.c, c1.c, c2.c, c3.c));
        store4(gid.x, c, 3u, Quad(c0.d, c1.d, c2.d, c3.d));
        return;
    }
    let d0 = six_row(t, 0);
    let d1 = six_row(t, 1);
    let d2 = six_row(t, 2);
    let d3 = six_row(t, 3);
    let d4 = six_row(t, 4);
    let d5 = six_row(t, 5);
    let c0 = bt6(Six(d0.a, d1.a, d2.a, d3.a, d4.a, d5.a));
    let c1 = bt6(Six(d0.b, d1.b, d2.b, d3.b, d4.b, d5.b));
    let c2 = bt6(Six(d0.c, d1.c, d2.c, d3.c, d4.c, d5.c));
    let c3 = bt6(Six(d0.d, d1.d, d2.d, d3.d, d4.d, d5.d));
    let c4 = bt6(Six(d0.e, d1.e, d2.e, d3.e, d4.e, d5.e));
    let c5 = bt6(Six(d0.f, d1.f, d2.f, d3.f, d4.f, d5.f));
    store6(gid.x, c, 0u, Six(c0.a, c1.a, c2.a, c3.a, c4.a, c5.a));
    store6(gid.x, c, 1u, Six(c0.b, c1.b, c2.b, c3.b, c4.b, c5.b));
    store6(gid.x, c, 2u, Six(c0.c, c1.c, c2.c, c3.c, c4.c, c5.c));
    store6(gid.x, c, 3u, Six(c0.d, c1.d, c2.d, c3.d, c4.d, c5.d));
    store6(gid.x, c, 4u, Six(c0.e, c1.e, c2.e, c3.e, c4.e, c5.e));
    store6(gid.x, c, 5u, Six(c0.f, c1.f, c2.f, c3.f, c4.f, c5.f));
}
