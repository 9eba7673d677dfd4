// winograd_output.wgsl — the outputs of Winograd F(MxM, RxR) (F(2x2, 3x3), F(4x4, 3x3) or
// F(2x2, 5x5); A = M + R − 1) from the A·A products of a tile, as the GEMM stored them:
//   y[n, o, M·ty + i, M·tx + j] = act(bias[o] + (Aᵀ · m · A)[i, j]),  m[g / A, g % A] = mt[n, g·Cout + o, t]
// with mt the GEMM's output ([N, A·A·Cout, T], T an image's tiles, t = ty·TW + tx as
// winograd_tiles.wgsl places them), neither dead tiles nor outputs past the image stored. Each
// invocation takes 4 consecutive tiles of one output channel (one vec4 of products per point),
// folds them (winograd_fold.wgsl) and ends with the activation (activation.wgsl); those files
// are put before this one.
//
// Bindings (group 0)              mirrors WINOGRAD_OUTPUT in src/ops/winograd.rs
//   0 mt storage read        [N, A·A·Cout, T] as vec4s
//   1 b  storage read        [Cout] (a placeholder when has_bias = 0)
//   2 y  storage read_write  [N, Cout, OH, OW] as vec4s
//   3 p  uniform             Uniforms
// Grid: one invocation per image, output channel and block of 4 tiles (blocks fastest), in
// workgroups of WG folded into (x, y), so that no lane idles where the tiles are few.
// Overrides: WG, M, R, VEC (1: OW a multiple of 4), and activation.wgsl's.

struct Uniforms {
    cout: u32, oh: u32, ow: u32, row: u32,
    live: u32, tiles: u32, has_bias: u32, images: u32,
}

@group(0) @binding(0) var<storage, read> mt: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<vec4<f32>>;
@group(0) @binding(3) var<uniform> p: Uniforms;

override WG: u32 = 64u;
override M: u32 = 2u;
override R: u32 = 3u;
override VEC: u32 = 0u;

// Point g of the 4 tiles.
fn products(n: u32, o: u32, t0: u32, g: u32) -> vec4<f32> {
    return mt[(((n * (M + R - 1u) * (M + R - 1u) + g) * p.cout + o) * p.tiles + t0) / 4u];
}

// Row r of m · A: F(2x2, 3x3)'s two columns, F(4x4, 3x3)'s four, F(2x2, 5x5)'s two.
fn row2(n: u32, o: u32, t0: u32, r: u32) -> Pair {
    let g = 4u * r;
    return at4(products(n, o, t0, g), products(n, o, t0, g + 1u), products(n, o, t0, g + 2u),
        products(n, o, t0, g + 3u));
}

fn row4(n: u32, o: u32, t0: u32, r: u32) -> Four {
    let g = 6u * r;
    return at6(products(n, o, t0, g), products(n, o, t0, g + 1u), products(n, o, t0, g + 2u),
        products(n, o, t0, g + 3u), products(n, o, t0, g + 4u), products(n, o, t0, g + 5u));
}

fn row62(n: u32, o: u32, t0: u32, r: u32) -> Pair {
    let g = 6u * r;
    return at62(products(n, o, t0, g), products(n, o, t0, g + 1u), products(n, o, t0, g + 2u),
        products(n, o, t0, g + 3u), products(n, o, t0, g + 4u), products(n, o, t0, g + 5u));
}

// What an output becomes before it is stored (winograd_fold.wgsl).
fn finish(v: vec4<f32>) -> vec4<f32> {
    return activate(v);
}

@compute @workgroup_size(WG, 1, 1)
fn winograd_output(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lane: u32,
) {
    let i = (wid.x + wid.y * nwg.x) * WG + lane;
    let blocks = p.tiles / 4u;
    if (i >= blocks * p.cout * p.images) {
        return;
    }
    let n = i / (blocks * p.cout);
    let o = i / blocks % p.cout;
    let t0 = 4u * (i % blocks);
    var outs: Outs;
    if (R == 5u) {
        outs = fold62(row62(n, o, t0, 0u), row62(n, o, t0, 1u), row62(n, o, t0, 2u), row62(n, o, t0, 3u),
            row62(n, o, t0, 4u), row62(n, o, t0, 5u));
    } else if (M == 2u) {
        outs = fold4(row2(n, o, t0, 0u), row2(n, o, t0, 1u), row2(n, o, t0, 2u), row2(n, o, t0, 3u));
    } else {
        outs = fold6(row4(n, o, t0, 0u), row4(n, o, t0, 1u), row4(n, o, t0, 2u), row4(n, o, t0, 3u),
            row4(n, o, t0, 4u), row4(n, o, t0, 5u));
    }
    let bias = select(0.0, b[o], p.has_bias != 0u);
    let plane = (n * p.cout + o) * p.oh * p.ow;
    store_fold(M, outs, Block(plane, tiles_at(t0, p.row, p.live), p.oh, p.ow, VEC != 0u, bias));
}
