// winograd_output.wgsl — the outputs of Winograd F(MxM, 3x3) (M = 2 or 4, A = M + 2) from the
// A·A products of a tile, as the GEMM stored them:
//   y[n, o, M·ty + i, M·tx + j] = act(bias[o] + (Aᵀ · m · A)[i, j]),  m[g / A, g % A] = mt[n, g·Cout + o, t]
// with mt the GEMM's output ([N, A·A·Cout, T], T = TH·TW tiles per image, t = ty·TW + tx, TW a
// multiple of 4 of which the first LW are live), outputs past the image not stored. Each
// invocation takes 4 consecutive tiles of one output channel (one vec4 of products per point),
// folds them (winograd_fold.wgsl) and ends with the activation (activation.wgsl); both files
// are put before this one.
//
// Bindings (group 0)              mirrors WINOGRAD_OUTPUT in src/ops/winograd.rs
//   0 mt storage read        [N, A·A·Cout, T] as vec4s
//   1 b  storage read        [Cout] (a placeholder when has_bias = 0)
//   2 y  storage read_write  [N, Cout, OH, OW] as vec4s
//   3 p  uniform             Uniforms
// Grid: x = blocks of 4 tiles, y = output channels, z = images, in workgroups of WG_X x WG_Y
// (more channels to a workgroup where the tiles are few). Overrides: WG_X, WG_Y, M, VEC (1:
// OW a multiple of 4), and activation.wgsl's.

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

// Row r of m · A: F(2x2)'s two columns, F(4x4)'s four.
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

// What an output becomes before it is stored (winograd_fold.wgsl).
fn finish(v: vec4<f32>) -> vec4<f32> {
    return activate(v);
}

@compute @workgroup_size(WG_X, WG_Y, 1)
fn winograd_output(@builtin(global_invocation_id) gid: vec3<u32>) {
    let t0 = 4u * gid.x;
    let o = gid.y;
    let n = gid.z;
    if (t0 >= p.tiles || o >= p.cout) {
        return;
    }
    var outs: Outs;
    if (M == 2u) {
        outs = fold4(row2(n, o, t0, 0u), row2(n, o, t0, 1u), row2(n, o, t0, 2u), row2(n, o, t0, 3u));
    } else {
        outs = fold6(row4(n, o, t0, 0u), row4(n, o, t0, 1u), row4(n, o, t0, 2u), row4(n, o, t0, 3u),
            row4(n, o, t0, 4u), row4(n, o, t0, 5u));
    }
    let bias = select(0.0, b[o], p.has_bias != 0u);
    let plane = (n * p.cout + o) * p.oh * p.ow;
    store_fold(M, outs, Block(plane, t0 / p.tiles_w, t0 % p.tiles_w, p.oh, p.ow, p.live_w, VEC != 0u, bias));
}
