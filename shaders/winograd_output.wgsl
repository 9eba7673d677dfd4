// winograd_output.wgsl — the outputs of Winograd F(MxM, 3x3) (M = 2 or 4, A = M + 2) from the
// A·A products of a tile:
//   y[n, o, M·ty + i, M·tx + j] = act(bias[o] + (Aᵀ · m · A)[i, j]),  m[g / A, g % A] = mt[n, g·Cout + o, t]
// with mt the GEMM's output ([N, A·A·Cout, T], T = TH·TW tiles per image, t = ty·TW + tx, TW a
// multiple of 4 of which the first LW are live), outputs past the image not stored.
// Aᵀ = [[1, 1, 1, 0], [0, 1, −1, −1]] for M = 2; for M = 4 see at6. Each invocation takes 4
// consecutive tiles of one output channel (one vec4 of products per point) and ends with the
// activation (activation.wgsl, put before this file). Where output rows are whole vec4s
// (VEC = 1: OW a multiple of 4), a tile's row of outputs (M = 4), or two tiles' (M = 2), is one
// vec4 store.
//
// Bindings (group 0)              mirrors WINOGRAD_OUTPUT in src/ops/winograd.rs
//   0 mt storage read        [N, A·A·Cout, T] as vec4s
//   1 b  storage read        [Cout] (a placeholder when has_bias = 0)
//   2 y  storage read_write  [N, Cout, OH, OW] as vec4s
//   3 p  uniform             Uniforms
// Grid: x = blocks of 4 tiles, y = output channels, z = images, in workgroups of WG_X x WG_Y
// (more channels to a workgroup where the tiles are few). Overrides: WG_X, WG_Y, M, VEC, and
// activation.wgsl's.

struct Uniforms {
    cout: u32, oh: u32, ow: u32, tiles_w: u32,
    tiles: u32, live_w: u32, has_bias: u32, _pad: u32,
}

@group(0) @binding(0) var<storage, read> mt: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<vec4<f32>>;
@group(0) @binding(3) var<uniform> p: Uniforms;

override WG_X: u32 = 64u;
override WG_Y: u32 = 1u;
override M: u32 = 2u;
override VEC: u32 = 0u;

// Point g of the 4 tiles.
fn products(n: u32, o: u32, t0: u32, g: u32) -> vec4<f32> {
    return mt[(((n * (M + 2u) * (M + 2u) + g) * p.cout + o) * p.tiles + t0) / 4u];
}

// F(2x2): Aᵀ · (a, b, c, d) over the 4 tiles, two outputs.
struct Pair { a: vec4<f32>, b: vec4<f32> }

fn at(a: vec4<f32>, b: vec4<f32>, c: vec4<f32>, d: vec4<f32>) -> Pair {
    return Pair(a + b + c, b - c - d);
}

fn row2(n: u32, o: u32, t0: u32, r: u32) -> Pair {
    let g = 4u * r;
    return at(products(n, o, t0, g), products(n, o, t0, g + 1u), products(n, o, t0, g + 2u), products(n, o, t0, g + 3u));
}

// F(4x4): Aᵀ · (a .. f) over the 4 tiles, four outputs; Aᵀ = [[1, 1, 1, 1, 1, 0],
// [0, 1, −1, 2, −2, 0], [0, 1, 1, 4, 4, 0], [0, 1, −1, 8, −8, 1]].
struct Four { a: vec4<f32>, b: vec4<f32>, c: vec4<f32>, d: vec4<f32> }

fn at6(a: vec4<f32>, b: vec4<f32>, c: vec4<f32>, d: vec4<f32>, e: vec4<f32>, f: vec4<f32>) -> Four {
    let s = b + c;
    let t = b - c;
    let u = d + e;
    let v = d - e;
    return Four(a + s + u, t + 2.0 * v, s + 4.0 * u, t + 8.0 * v + f);
}

fn row4(n: u32, o: u32, t0: u32, r: u32) -> Four {
    let g = 6u * r;
    return at6(products(n, o, t0, g), products(n, o, t0, g + 1u), products(n, o, t0, g + 2u),
        products(n, o, t0, g + 3u), products(n, o, t0, g + 4u), products(n, o, t0, g + 5u));
}

fn store(i: u32, v: f32) {
    y[i / 4u][i % 4u] = v;
}

// Output (i, j) of tile tx0 + lane for lanes 0 .. 3 whose tiles are live, as far as the image goes.
fn store_tiles(plane: u32, ty: u32, tx0: u32, i: u32, j: u32, v: vec4<f32>) {
    let oy = M * ty + i;
    for (var lane = 0u; lane < 4u; lane++) {
        let ox = M * (tx0 + lane) + j;
        if (tx0 + lane < p.live_w && oy < p.oh && ox < p.ow) {
            store(plane + oy * p.ow + ox, v[lane]);
        }
    }
}

@compute @workgroup_size(WG_X, WG_Y, 1)
fn winograd_output(@builtin(global_invocation_id) gid: vec3<u32>) {
    let t0 = 4u * gid.x;
    let o = gid.y;
    let n = gid.z;
    if (t0 >= p.tiles || o >= p.cout) {
        return;
    }
    let ty = t0 / p.tiles_w;
    let tx0 = t0 % p.tiles_w;
    let bias = vec4<f32>(select(0.0, b[o], p.has_bias != 0u));
    let plane = (n * p.cout + o) * p.oh * p.ow;
    // m · A row by row, then Aᵀ over the rows.
    if (M == 2u) {
        let r0 = row2(n, o, t0, 0u);
        let r1 = row2(n, o, t0, 1u);
        let r2 = row2(n, o, t0, 2u);
        let r3 = row2(n, o, t0, 3u);
        let left = at(r0.a, r1.a, r2.a, r3.a);
        let right = at(r0.b, r1.b, r2.b, r3.b);
        let y00 = activate(bias + left.a);
        let y01 = activate(bias + right.a);
        let y10 = activate(bias + left.b);
        let y11 = activate(bias + right.b);
        if (VEC != 0u) {
            // Tiles come in live pairs (OW = 2·LW is a multiple of 4): each pair's row is a vec4.
            for (var i = 0u; i < 2u; i++) {
                let oy = 2u * ty + i;
                let first = (plane + oy * p.ow + 2u * tx0) / 4u;
                let l = select(y00, y10, i == 1u);
                let r = select(y01, y11, i == 1u);
                if (oy < p.oh && tx0 < p.live_w) {
                    y[first] = vec4<f32>(l.x, r.x, l.y, r.y);
                }
                if (oy < p.oh && tx0 + 2u < p.live_w) {
                    y[first + 1u] = vec4<f32>(l.z, r.z, l.w, r.w);
                }
            }
            return;
        }
        store_tiles(plane, ty, tx0, 0u, 0u, y00);
        store_tiles(plane, ty, tx0, 0u, 1u, y01);
        store_tiles(plane, ty, tx0, 1u, 0u, y10);
        store_tiles(plane, ty, tx0, 1u, 1u, y11);
        return;
    }
    let r0 = row4(n, o, t0, 0u);
    let r1 = row4(n, o, t0, 1u);
    let r2 = row4(n, o, t0, 2u);
    let r3 = row4(n, o, t0, 3u);
    let r4 = row4(n, o, t0, 4u);
    let r5 = row4(n, o, t0, 5u);
    // Column j of the outputs: its 4 rows.
    let c0 = at6(r0.a, r1.a, r2.a, r3.a, r4.a, r5.a);
    let c1 = at6(r0.b, r1.b, r2.b, r3.b, r4.b, r5.b);
    let c2 = at6(r0.c, r1.c, r2.c, r3.c, r4.c, r5.c);
    let c3 = at6(r0.d, r1.d, r2.d, r3.d, r4.d, r5.d);
    for (var i = 0u; i < 4u; i++) {
        let v0 = activate(bias + select(select(c0.a, c0.b, i == 1u), select(c0.c, c0.d, i == 3u), i >= 2u));
        let v1 = activate(bias + select(select(c1.a, c1.b, i == 1u), select(c1.c, c1.d, i == 3u), i >= 2u));
        let v2 = activate(bias + select(select(c2.a, c2.b, i == 1u), select(c2.c, c2.d, i == 3u), i >= 2u));
        let v3 = activate(bias + select(select(c3.a, c3.b, i == 1u), select(c3.c, c3.d, i == 3u), i >= 2u));
        let oy = 4u * ty + i;
        if (VEC != 0u) {
            // Each live tile's row of 4 outputs is a vec4 (OW is a multiple of 4).
            if (oy < p.oh) {
                let first = (plane + oy * p.ow + 4u * tx0) / 4u;
                for (var lane = 0u; lane < 4u; lane++) {
                    if (tx0 + lane < p.live_w) {
                        y[first + lane] = vec4<f32>(v0[lane], v1[lane], v2[lane], v3[lane]);
                    }
                }
            }
        } else {
            store_tiles(plane, ty, tx0, i, 0u, v0);
            store_tiles(plane, ty, tx0, i, 1u, v1);
            store_tiles(plane, ty, tx0, i, 2u, v2);
            store_tiles(plane, ty, tx0, i, 3u, v3);
        }
    }
}
