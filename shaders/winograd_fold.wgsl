// winograd_fold.wgsl — the outputs of Winograd F(MxM, RxR) (F(2x2, 3x3), F(4x4, 3x3) or
// F(2x2, 5x5); A = M + R − 1) from the A·A products m of a block of 4 consecutive tiles of one
// output channel, each a vec4 over the 4 tiles: (Aᵀ · m · A)[i, j], and their stores into y.
// Aᵀ = [[1, 1, 1, 0], [0, 1, −1, −1]] for F(2x2, 3x3) (at4); see at6 and at62 for the others.
// The caller folds each row of m with at4, at6 or at62 and the rows with fold4, fold6 or
// fold62. Shared by winograd_output.wgsl (products from memory) and
// gemm.wgsl's WINO mode (products kept by the invocation that made them), with
// winograd_tiles.wgsl put before it; the file after this one binds `y` (array<vec4<f32>>,
// [N, Cout, OH, OW]) and defines `finish(v)`, what an output becomes before it is stored (the
// activation, or the GEMM's clamp). No arrays: llvmpipe keeps an array indexed in a loop in
// memory (a pass over one took twice as long).

// F(2x2): Aᵀ · (a, b, c, d) over the 4 tiles, two outputs.
struct Pair { a: vec4<f32>, b: vec4<f32> }

fn at4(a: vec4<f32>, b: vec4<f32>, c: vec4<f32>, d: vec4<f32>) -> Pair {
    return Pair(a + b + c, b - c - d);
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

// F(2x2, 5x5): Aᵀ · (a .. f) over the 4 tiles, two outputs; Aᵀ = [[1, 1, 1, 1, 1, 0],
// [0, 1, −1, 2, −2, 1]] (F(4x4, 3x3)'s first two rows, its ∞ column in the last).
fn at62(a: vec4<f32>, b: vec4<f32>, c: vec4<f32>, d: vec4<f32>, e: vec4<f32>, f: vec4<f32>) -> Pair {
    return Pair(a + b + c + d + e, b - c + 2.0 * (d - e) + f);
}

// The outputs of a block: column j of them is c<j>, its rows a, b, c, d (F(2x2): columns
// c0, c1, rows a, b).
struct Outs { c0: Four, c1: Four, c2: Four, c3: Four }

// F(4x4) from the rows of m · A.
fn fold6(r0: Four, r1: Four, r2: Four, r3: Four, r4: Four, r5: Four) -> Outs {
    return Outs(at6(r0.a, r1.a, r2.a, r3.a, r4.a, r5.a), at6(r0.b, r1.b, r2.b, r3.b, r4.b, r5.b),
        at6(r0.c, r1.c, r2.c, r3.c, r4.c, r5.c), at6(r0.d, r1.d, r2.d, r3.d, r4.d, r5.d));
}

// F(2x2) from the rows of m · A.
fn fold4(r0: Pair, r1: Pair, r2: Pair, r3: Pair) -> Outs {
    let left = at4(r0.a, r1.a, r2.a, r3.a);
    let right = at4(r0.b, r1.b, r2.b, r3.b);
    let z = vec4<f32>(0.0);
    return Outs(Four(left.a, left.b, z, z), Four(right.a, right.b, z, z), Four(z, z, z, z), Four(z, z, z, z));
}

// F(2x2, 5x5) from the rows of m · A.
fn fold62(r0: Pair, r1: Pair, r2: Pair, r3: Pair, r4: Pair, r5: Pair) -> Outs {
    let left = at62(r0.a, r1.a, r2.a, r3.a, r4.a, r5.a);
    let right = at62(r0.b, r1.b, r2.b, r3.b, r4.b, r5.b);
    let z = vec4<f32>(0.0);
    return Outs(Four(left.a, left.b, z, z), Four(right.a, right.b, z, z), Four(z, z, z, z), Four(z, z, z, z));
}

// Row i of a column.
fn row_of(c: Four, i: u32) -> vec4<f32> {
    return select(select(c.a, c.b, i == 1u), select(c.c, c.d, i == 3u), i >= 2u);
}

// Where a block of 4 tiles' outputs go: the first word of their output plane, the tiles
// (winograd_tiles.wgsl), the plane's size, whether output rows are whole vec4s (OW a multiple
// of 4), and the bias to add.
struct Block {
    plane: u32,
    at: Tiles,
    oh: u32,
    ow: u32,
    vec: bool,
    bias: f32,
}

fn store_word(i: u32, v: f32) {
    y[i / 4u][i % 4u] = v;
}

// Output (i, j) of each live tile of the block, as far as the plane goes.
fn store_tiles(m: u32, blk: Block, i: u32, j: u32, v: vec4<f32>) {
    for (var lane = 0u; lane < 4u; lane++) {
        let oy = m * blk.at.ty[lane] + i;
        let ox = m * blk.at.tx[lane] + j;
        if (blk.at.live[lane] && oy < blk.oh && ox < blk.ow) {
            store_word(blk.plane + oy * blk.ow + ox, v[lane]);
        }
    }
}

// Stores the block's outputs, finished, with the bias: where rows are whole vec4s, a tile's
// row of 4 outputs (M = 4), or two tiles' (M = 2), is one vec4 store.
fn store_fold(m: u32, o: Outs, blk: Block) {
    let bias = vec4<f32>(blk.bias);
    let at = blk.at;
    for (var i = 0u; i < m; i++) {
        let v0 = finish(bias + row_of(o.c0, i));
        let v1 = finish(bias + row_of(o.c1, i));
        // Each tile's first vec4 of output row i, and whether that row is in the image.
        let oy = vec4<u32>(m) * at.ty + vec4<u32>(i);
        let first = (vec4<u32>(blk.plane) + oy * vec4<u32>(blk.ow)) / vec4<u32>(4u);
        let stored = at.live & (oy < vec4<u32>(blk.oh));
        if (m == 2u) {
            if (!blk.vec) {
                store_tiles(m, blk, i, 0u, v0);
                store_tiles(m, blk, i, 1u, v1);
                continue;
            }
            // Tiles 0, 1 and tiles 2, 3 each lie side by side in one row (OW = 2·row is a
            // multiple of 4, so rows and the image's live tiles are even, as t0 is).
            if (stored.x) {
                y[first.x + at.tx.x / 2u] = vec4<f32>(v0.x, v1.x, v0.y, v1.y);
            }
            if (stored.z) {
                y[first.z + at.tx.z / 2u] = vec4<f32>(v0.z, v1.z, v0.w, v1.w);
            }
            continue;
        }
        let v2 = finish(bias + row_of(o.c2, i));
        let v3 = finish(bias + row_of(o.c3, i));
        if (!blk.vec) {
            store_tiles(m, blk, i, 0u, v0);
            store_tiles(m, blk, i, 1u, v1);
            store_tiles(m, blk, i, 2u, v2);
            store_tiles(m, blk, i, 3u, v3);
            continue;
        }
        // Each live tile's row of 4 outputs is a vec4 (OW is a multiple of 4).
        for (var lane = 0u; lane < 4u; lane++) {
            if (stored[lane]) {
                y[first[lane] + at.tx[lane]] = vec4<f32>(v0[lane], v1[lane], v2[lane], v3[lane]);
            }
        }
    }
}
