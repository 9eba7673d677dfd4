// winograd_input.wgsl — a convolution's input transformed for Winograd F(MxM, RxR) (F(2x2, 3x3),
// F(4x4, 3x3) or F(2x2, 5x5); tiles of A = M + R − 1 points a side, M apart), as the B operand
// of a GEMM in A·A groups, in a storage texture, 4 tiles to a texel:
//   b[g·Cin + c, n·T + t] = (Bᵀ · d · B)[g / A, g % A],   d = x[n, c, M·ty − pt + 0..A, M·tx − pl + 0..A]
// for the tiles t = ty·TW + tx of each image (TW a row; winograd_tiles.wgsl), zero outside the
// image and for dead tiles. An invocation takes a block of 4 consecutive tiles, which may
// wrap from one row into the next: each tile reads its own A words of each patch row (2 or 3
// texels, shifted). x is read through a texture copy of it (the fast read path). Bᵀ for
// A = 4: [[1, 0, −1, 0], [0, 1, 1, 0], [0, −1, 1, 0], [0, 1, 0, −1]]; for A = 6 (points 0, ±1,
// ±2 and ∞, whatever M and R: Bᵀ depends on the points alone), see bt6.
//
// Bindings (group 0)              mirrors WINOGRAD_INPUT in src/ops/winograd.rs
//   0 x  texture_storage_2d<rgba32float, read>   [N, Cin, H, W] as a linear texture
//   1 b  texture_storage_2d<rgba32float, write>  [A·A·Cin, N·T / 4 texels]
//   2 p  uniform             Uniforms (ConvDims from conv_dims.wgsl first)
// Grid: one invocation per input channel and texel column (channels slowest), in workgroups
// of WG folded into (x, y), so that no lane idles where the columns are few. Overrides: WG,
// TEX_SHIFT, M, R.

struct Uniforms {
    conv: ConvDims,
    cin: u32, row: u32, live: u32, tiles: u32,
    cols: u32, _pad0: u32, _pad1: u32, _pad2: u32,
}

@group(0) @binding(0) var x: texture_storage_2d<rgba32float, read>;
@group(0) @binding(1) var b: texture_storage_2d<rgba32float, write>;
@group(0) @binding(2) var<uniform> p: Uniforms;

override WG: u32 = 64u;
override TEX_SHIFT: u32;
override M: u32 = 2u;
override R: u32 = 3u;

// One tile's patch row: words 0 .. 3 of x from word `start` on, and for A = 6 words 4 .. 7
// (the first A of them are the row).
struct Words { lo: vec4<f32>, hi: vec4<f32> }

fn words(start: i32) -> Words {
    let q = start >> 2u; // floor(start / 4), also when start < 0
    let s = u32(start & 3);
    let t1 = texel(q + 1);
    var hi = vec4<f32>(0.0);
    if (M + R == 7u) {
        hi = funnel(t1, texel(q + 2), s);
    }
    return Words(funnel(texel(q), t1, s), hi);
}

// A = 4: 4 points of the 4 tiles (lane j: tile j).
struct Quad { a: vec4<f32>, b: vec4<f32>, c: vec4<f32>, d: vec4<f32> }

fn bt(q: Quad) -> Quad {
    return Quad(q.a - q.c, q.b + q.c, q.c - q.b, q.b - q.d);
}

// A = 6: 6 points of the 4 tiles.
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

// Where the 4 tiles' patches start (row and column, per tile), in which plane, and which
// tiles are live.
struct Patch { plane: i32, iy0: vec4<i32>, ix0: vec4<i32>, live: vec4<bool> }

// v where column `col` of each tile's row is in the image and the row is `ok`, else zero.
fn inside(v: vec4<f32>, ok: vec4<bool>, col: vec4<i32>) -> vec4<f32> {
    return select(vec4<f32>(0.0), v, ok & (col >= vec4<i32>(0)) & (col < vec4<i32>(i32(p.conv.w))));
}

// Row r of the 4 tiles' patches, point c of it in component c (A = 4: the first 4), zero
// outside the image and for dead tiles. Each tile reads its own row: a block may wrap.
fn patch_row(t: Patch, r: i32) -> Six {
    let iy = t.iy0 + vec4<i32>(r);
    let start = vec4<i32>(t.plane) + iy * i32(p.conv.w) + t.ix0;
    let w0 = words(start.x);
    let w1 = words(start.y);
    let w2 = words(start.z);
    let w3 = words(start.w);
    let ok = t.live & (iy >= vec4<i32>(0)) & (iy < vec4<i32>(i32(p.conv.h)));
    let x = t.ix0;
    return Six(inside(vec4<f32>(w0.lo.x, w1.lo.x, w2.lo.x, w3.lo.x), ok, x),
        inside(vec4<f32>(w0.lo.y, w1.lo.y, w2.lo.y, w3.lo.y), ok, x + vec4<i32>(1)),
        inside(vec4<f32>(w0.lo.z, w1.lo.z, w2.lo.z, w3.lo.z), ok, x + vec4<i32>(2)),
        inside(vec4<f32>(w0.lo.w, w1.lo.w, w2.lo.w, w3.lo.w), ok, x + vec4<i32>(3)),
        inside(vec4<f32>(w0.hi.x, w1.hi.x, w2.hi.x, w3.hi.x), ok, x + vec4<i32>(4)),
        inside(vec4<f32>(w0.hi.y, w1.hi.y, w2.hi.y, w3.hi.y), ok, x + vec4<i32>(5)));
}

fn quad_row(t: Patch, r: i32) -> Quad {
    let s = patch_row(t, r);
    return Quad(s.a, s.b, s.c, s.d);
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

@compute @workgroup_size(WG, 1, 1)
fn winograd_input(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lane: u32,
) {
    let i = (wid.x + wid.y * nwg.x) * WG + lane;
    let texels = p.cols / 4u;
    if (i >= texels * p.cin) {
        return;
    }
    let c = i / texels;
    let column = i % texels;
    let col0 = 4u * column;
    let k = p.conv;
    let n = col0 / p.tiles;
    let at = tiles_at(col0 % p.tiles, p.row, p.live);
    let t = Patch(i32((n * p.cin + c) * k.h * k.w), vec4<i32>(M * at.ty) - vec4<i32>(i32(k.pad_top)),
        vec4<i32>(M * at.tx) - vec4<i32>(i32(k.pad_left)), at.live);
    // Bᵀ · d column by column, then each row · B.
    if (M + R == 5u) {
        let d0 = quad_row(t, 0);
        let d1 = quad_row(t, 1);
        let d2 = quad_row(t, 2);
        let d3 = quad_row(t, 3);
        let c0 = bt(Quad(d0.a, d1.a, d2.a, d3.a));
        let c1 = bt(Quad(d0.b, d1.b, d2.b, d3.b));
        let c2 = bt(Quad(d0.c, d1.c, d2.c, d3.c));
        let c3 = bt(Quad(d0.d, d1.d, d2.d, d3.d));
        store4(column, c, 0u, Quad(c0.a, c1.a, c2.a, c3.a));
        store4(column, c, 1u, Quad(c0.b, c1.b, c2.b, c3.b));
        store4(column, c, 2u, Quad(c0.c, c1.c, c2.c, c3.c));
        store4(column, c, 3u, Quad(c0.d, c1.d, c2.d, c3.d));
        return;
    }
    let d0 = patch_row(t, 0);
    let d1 = patch_row(t, 1);
    let d2 = patch_row(t, 2);
    let d3 = patch_row(t, 3);
    let d4 = patch_row(t, 4);
    let d5 = patch_row(t, 5);
    let c0 = bt6(Six(d0.a, d1.a, d2.a, d3.a, d4.a, d5.a));
    let c1 = bt6(Six(d0.b, d1.b, d2.b, d3.b, d4.b, d5.b));
    let c2 = bt6(Six(d0.c, d1.c, d2.c, d3.c, d4.c, d5.c));
    let c3 = bt6(Six(d0.d, d1.d, d2.d, d3.d, d4.d, d5.d));
    let c4 = bt6(Six(d0.e, d1.e, d2.e, d3.e, d4.e, d5.e));
    let c5 = bt6(Six(d0.f, d1.f, d2.f, d3.f, d4.f, d5.f));
    store6(column, c, 0u, Six(c0.a, c1.a, c2.a, c3.a, c4.a, c5.a));
    store6(column, c, 1u, Six(c0.b, c1.b, c2.b, c3.b, c4.b, c5.b));
    store6(column, c, 2u, Six(c0.c, c1.c, c2.c, c3.c, c4.c, c5.c));
    store6(column, c, 3u, Six(c0.d, c1.d, c2.d, c3.d, c4.d, c5.d));
    store6(column, c, 4u, Six(c0.e, c1.e, c2.e, c3.e, c4.e, c5.e));
    store6(column, c, 5u, Six(c0.f, c1.f, c2.f, c3.f, c4.f, c5.f));
}
