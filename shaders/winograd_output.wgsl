// winograd_output.wgsl — the outputs of Winograd F(2x2, 3x3) from the 16 products of a tile:
//   y[n, o, 2·ty + i, 2·tx + j] = act(bias[o] + (Aᵀ · m · A)[i, j]),  m[g / 4, g % 4] = mt[n, g·Cout + o, t]
// with Aᵀ = [[1, 1, 1, 0], [0, 1, −1, −1]], mt the GEMM's output ([N, 16·Cout, T], T = TH·TW
// tiles of 2x2 outputs per image, t = ty·TW + tx), outputs past the image not stored. Each
// invocation takes 4 consecutive tiles of one output channel, as vec4 loads where T is a
// multiple of 4 (ALIGNED), and the activation (activation.wgsl, put before this file). Where
// the 4 tiles lie in one row of tiles and the output's rows are whole vec4s (ROW = 1: TW a
// multiple of 4, OW = 2·TW, OH even), their 2x8 outputs are 4 vec4 stores.
//
// Bindings (group 0)              mirrors WINOGRAD_OUTPUT in src/ops/winograd.rs
//   0 mt storage read        [N, 16·Cout, T] as vec4s (tensors are padded to whole vec4s)
//   1 b  storage read        [Cout] (a placeholder when has_bias = 0)
//   2 y  storage read_write  [N, Cout, OH, OW] as vec4s
//   3 p  uniform             Uniforms
// Grid: x = blocks of 4 tiles, y = output channels, z = images. Overrides: WG, ALIGNED, ROW,
// and activation.wgsl's.

struct Uniforms {
    cout: u32, oh: u32, ow: u32, tiles_w: u32,
    tiles: u32, has_bias: u32, _pad0: u32, _pad1: u32,
}

@group(0) @binding(0) var<storage, read> mt: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<vec4<f32>>;
@group(0) @binding(3) var<uniform> p: Uniforms;

override WG: u32 = 64u;
override ALIGNED: u32 = 1u;
override ROW: u32 = 0u;

fn store(i: u32, v: f32) {
    y[i / 4u][i % 4u] = v;
}

// Point g of tiles t0 .. t0 + 3 of channel o of image n (tiles past the image read as 0).
fn products(n: u32, o: u32, t0: u32, g: u32) -> vec4<f32> {
    let first = ((n * 16u + g) * p.cout + o) * p.tiles + t0;
    if (ALIGNED != 0u) {
        return mt[first / 4u];
    }
    var v = vec4<f32>(0.0);
    for (var j = 0u; j < min(4u, p.tiles - t0); j++) {
        v[j] = mt[(first + j) / 4u][(first + j) % 4u];
    }
    return v;
}

// Aᵀ · (a, b, c, d) over 4 tiles: two outputs.
struct Pair { a: vec4<f32>, b: vec4<f32> }

fn at(a: vec4<f32>, b: vec4<f32>, c: vec4<f32>, d: vec4<f32>) -> Pair {
    return Pair(a + b + c, b - c - d);
}

// Row r of m · A: the 4 points g = 4·r .. 4·r + 3 of each tile reduced to output columns 0, 1.
fn row(n: u32, o: u32, t0: u32, r: u32) -> Pair {
    let g = 4u * r;
    return at(products(n, o, t0, g), products(n, o, t0, g + 1u), products(n, o, t0, g + 2u), products(n, o, t0, g + 3u));
}

@compute @workgroup_size(WG, 1, 1)
fn winograd_output(@builtin(global_invocation_id) gid: vec3<u32>) {
    let t0 = 4u * gid.x;
    let o = gid.y;
    let n = gid.z;
    if (t0 >= p.tiles || o >= p.cout) {
        return;
    }
    // m · A row by row (each row's 4 points → 2), then Aᵀ over the rows.
    let r0 = row(n, o, t0, 0u);
    let r1 = row(n, o, t0, 1u);
    let r2 = row(n, o, t0, 2u);
    let r3 = row(n, o, t0, 3u);
    let left = at(r0.a, r1.a, r2.a, r3.a);
    let right = at(r0.b, r1.b, r2.b, r3.b);
    let bias = vec4<f32>(select(0.0, b[o], p.has_bias != 0u));
    let y00 = activate(bias + left.a);
    let y01 = activate(bias + right.a);
    let y10 = activate(bias + left.b);
    let y11 = activate(bias + right.b);
    let plane = (n * p.cout + o) * p.oh * p.ow;
    if (ROW != 0u) {
        let first = (plane + 2u * (t0 / p.tiles_w) * p.ow + 2u * (t0 % p.tiles_w)) / 4u;
        let below = first + p.ow / 4u;
        y[first] = vec4<f32>(y00.x, y01.x, y00.y, y01.y);
        y[first + 1u] = vec4<f32>(y00.z, y01.z, y00.w, y01.w);
        y[below] = vec4<f32>(y10.x, y11.x, y10.y, y11.y);
        y[below + 1u] = vec4<f32>(y10.z, y11.z, y10.w, y11.w);
        return;
    }
    for (var j = 0u; j < min(4u, p.tiles - t0); j++) {
        let t = t0 + j;
        let oy = 2u * (t / p.tiles_w);
        let ox = 2u * (t % p.tiles_w);
        let first = plane + oy * p.ow + ox;
        store(first, y00[j]);
        if (ox + 1u < p.ow) {
            store(first + 1u, y01[j]);
        }
        if (oy + 1u < p.oh) {
            store(first + p.ow, y10[j]);
            if (ox + 1u < p.ow) {
                store(first + p.ow + 1u, y11[j]);
            }
        }
    }
}
