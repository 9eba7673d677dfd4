// depthwise.wgsl — a convolution with one input channel per group (depthwise, any channel
// multiplier): output channel o reads input channel o / mult. Each invocation computes 4·CV
// consecutive output columns (CV = 1 or 2) of RB consecutive output rows of one output
// channel, walking down the rows. Kernel row ky of output row oy reads input row
// oy·SY + ky·DY; each is held as a Row (16 values, whole vec4s from a column that is a
// multiple of 4 where W is) and, where the kernel's rows step evenly with the stride, passed on
// to the next output row instead of loaded again: a 3x3 at stride 1 loads one new row per
// output row.
// On llvmpipe a storage load of a lane's own address is a loop over the SIMD lanes, vec4 or
// scalar alike (so the input is read from its texture copy, input_texture.wgsl, put before
// this file), and a private array lives in memory: so rows, taps and sums are named values
// (at most 5 kernel rows of 5 taps), every index into them is an override or a constant, and
// the branches on them fold away when the pipeline is built. Bias and the activation
// (activation.wgsl, put before this file) are fused.
// Rows of OW % 4 = 2 outputs (14x14 maps) are not whole vec4s, but two of them are: with PAIRS
// a block is whole rows (CV = ⌈OW / 4⌉), an even number of them from an even row, and each
// row is held until the next is done, then both are stored as OW / 2 vec4s (a word stored on
// its own is a loop over the SIMD lanes).
//
// Bindings (group 0)              mirrors DEPTHWISE in src/ops/depthwise.rs
//   0 x  texture_storage_2d<rgba32float, read>  [N, Cin, H, W] as a linear texture
//   1 wt storage read        [Cout, KH·KW]
//   2 b  storage read        [Cout] (a placeholder when has_bias = 0)
//   3 y  storage read_write  [N, Cout, OH, OW] as vec4s
//   4 p  uniform             Uniforms (ConvDims from conv_dims.wgsl first)
// Grid: 1-D over blocks (column blocks fastest, then row blocks, then the N·Cout output
// planes), folded into (x, y) past the per-dimension limit. Overrides: WG; KH, KW (≤ 5), SY,
// SX, DY, DX (the kernel, stride and dilation); CV, RB (the block); SHIFT (where a row's first
// value lies in its vec4: pad_left's offset when W is a multiple of 4, else 0); ALIGNED_IN
// (W % 4 = 0), ALIGNED_OUT (OW % 4 = 0); TEX_SHIFT (linear_texture.wgsl); and activation.wgsl's.

struct Uniforms {
    conv: ConvDims,
    n: u32, cin: u32, cout: u32, mult: u32,
    has_bias: u32, col_blocks: u32, row_blocks: u32, blocks: u32,
}

@group(0) @binding(0) var x: texture_storage_2d<rgba32float, read>;
@group(0) @binding(1) var<storage, read> wt: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<vec4<f32>>;
@group(0) @binding(4) var<uniform> p: Uniforms;

override WG: u32 = 64u;
override TEX_SHIFT: u32 = 12u;
override KH: u32 = 3u;
override KW: u32 = 3u;
override SY: u32 = 1u;
override SX: u32 = 1u;
override DY: u32 = 1u;
override DX: u32 = 1u;
override CV: u32 = 1u;
override RB: u32 = 8u;
override SHIFT: u32 = 0u;
override ALIGNED_IN: u32 = 1u;
override ALIGNED_OUT: u32 = 1u;
override PAIRS: u32 = 0u;

// 16 consecutive values of a row: the input columns col0 .. col0 + 15, or a block's outputs.
struct Row { a: vec4<f32>, b: vec4<f32>, c: vec4<f32>, d: vec4<f32> }

// A kernel row's taps, KW ≤ 5 of them.
struct Taps { a: vec4<f32>, e: f32 }

// Where the block's input columns start; the image and its plane.
struct Block { col0: i32, input: u32 }

// The vec4 i of a row (the last for i past it).
fn quad(r: Row, i: u32) -> vec4<f32> {
    return select(select(r.a, r.b, i >= 1u), select(r.c, r.d, i >= 3u), i >= 2u);
}

fn value(r: Row, i: u32) -> f32 {
    return quad(r, i / 4u)[i % 4u];
}

fn with_quad(r: Row, i: u32, v: vec4<f32>) -> Row {
    return Row(select(r.a, v, i == 0u), select(r.b, v, i == 1u), select(r.c, v, i == 2u), select(r.d, v, i == 3u));
}

fn tap(t: Taps, i: u32) -> f32 {
    return select(t.a[i % 4u], t.e, i >= 4u);
}

// The vec4 of input row iy from column col on, zero outside the image.
fn load4(blk: Block, iy: i32, col: i32) -> vec4<f32> {
    let c = p.conv;
    let cols = col + vec4<i32>(0, 1, 2, 3);
    let ok = (cols >= vec4<i32>(0)) & (cols < vec4<i32>(i32(c.w))) & vec4<bool>(iy >= 0 && iy < i32(c.h));
    let row = i32(blk.input) + clamp(iy, 0, i32(c.h) - 1) * i32(c.w);
    var v: vec4<f32>;
    if (ALIGNED_IN != 0u) {
        v = texel((row + col) >> 2u);
    } else {
        // Two texel loads and a funnel shift, not four; the words it takes from past the
        // row's ends are masked below.
        let e = row + col;
        let q = e >> 2u;
        v = funnel(texel(q), texel(q + 1), u32(e & 3));
    }
    return select(vec4<f32>(0.0), v, ok);
}

// The vec4s of input row iy that the block reads (those past its reach stay zero).
fn load_row(blk: Block, iy: i32) -> Row {
    let reach = SHIFT + (4u * CV - 1u) * SX + (KW - 1u) * DX + 1u;
    var r = Row(load4(blk, iy, blk.col0), vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0));
    if (reach > 4u) {
        r.b = load4(blk, iy, blk.col0 + 4);
    }
    if (reach > 8u) {
        r.c = load4(blk, iy, blk.col0 + 8);
    }
    if (reach > 12u) {
        r.d = load4(blk, iy, blk.col0 + 12);
    }
    return r;
}

fn load_taps(o: u32, ky: u32) -> Taps {
    var t = Taps(vec4<f32>(0.0), 0.0);
    if (ky < KH) {
        let first = (o * KH + ky) * KW;
        for (var i = 0u; i < min(KW, 4u); i++) {
            t.a[i] = wt[first + i];
        }
        if (KW > 4u) {
            t.e = wt[first + 4u];
        }
    }
    return t;
}

// Kernel row t over row r for output columns 4·cv .. 4·cv + 3 of the block.
fn kernel_row(r: Row, t: Taps, cv: u32) -> vec4<f32> {
    var s = vec4<f32>(0.0);
    for (var kx = 0u; kx < KW; kx++) {
        let e = SHIFT + 4u * cv * SX + kx * DX;
        s += tap(t, kx) * vec4<f32>(value(r, e), value(r, e + SX), value(r, e + 2u * SX), value(r, e + 3u * SX));
    }
    return s;
}

fn store(at: u32, cols: u32, v: vec4<f32>) {
    if (ALIGNED_OUT != 0u) {
        y[at / 4u] = v;
    } else {
        for (var j = 0u; j < min(cols, 4u); j++) {
            y[(at + j) / 4u][(at + j) % 4u] = v[j];
        }
    }
}

// Two whole output rows a and b from word `at` (a multiple of 4) on: a's CV - 1 whole vec4s,
// then its last two words with b's first two, then b shifted by two words.
fn store_pair(at: u32, a: Row, b: Row) {
    let q = at / 4u;
    let n = CV - 1u;
    for (var j = 0u; j < n; j++) {
        y[q + j] = quad(a, j);
    }
    y[q + n] = vec4<f32>(quad(a, n).xy, b.a.xy);
    for (var j = 0u; j < n; j++) {
        y[q + n + 1u + j] = vec4<f32>(quad(b, j).zw, quad(b, j + 1u).xy);
    }
}

// Output rows step by SY input rows and kernel rows by DY: where DY divides SY, kernel row
// ky + STEP (STEP = SY / DY) of one output row is kernel row ky of the next.
const STEP_NONE: u32 = 8u;
fn step() -> u32 {
    return select(STEP_NONE, SY / DY, SY % DY == 0u);
}

// Of the rows ky + 1 .. ky + 4 of the previous output row, the one at ky + STEP.
fn carried(a: Row, b: Row, c: Row, d: Row) -> Row {
    switch step() {
        case 1u: { return a; }
        case 2u: { return b; }
        case 3u: { return c; }
        default: { return d; }
    }
}

// Kernel row ky of output row oy: loaded for the block's first row (`carried` is then
// unused), else `carried` where it carries over.
fn next_row(blk: Block, oy: u32, ky: u32, first: bool, carried: Row) -> Row {
    if (ky >= KH || (!first && ky + step() < KH)) {
        return carried;
    }
    return load_row(blk, i32(oy * SY + ky * DY) - i32(p.conv.pad_top));
}

@compute @workgroup_size(WG, 1, 1)
fn depthwise(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lane: u32,
) {
    let c = p.conv;
    let at = (wid.x + wid.y * nwg.x) * WG + lane;
    if (at >= p.blocks) {
        return;
    }
    let ox0 = (at % p.col_blocks) * 4u * CV;
    let oy0 = (at / p.col_blocks % p.row_blocks) * RB;
    let plane = at / (p.col_blocks * p.row_blocks);
    let o = plane % p.cout;
    let blk = Block(i32(ox0 * SX) - i32(c.pad_left) - i32(SHIFT), (plane / p.cout * p.cin + o / p.mult) * c.h * c.w);
    let t0 = load_taps(o, 0u);
    let t1 = load_taps(o, 1u);
    let t2 = load_taps(o, 2u);
    let t3 = load_taps(o, 3u);
    let t4 = load_taps(o, 4u);
    let bias = vec4<f32>(select(0.0, b[o], p.has_bias != 0u));

    var r0 = next_row(blk, oy0, 0u, true, Row());
    var r1 = next_row(blk, oy0, 1u, true, Row());
    var r2 = next_row(blk, oy0, 2u, true, Row());
    var r3 = next_row(blk, oy0, 3u, true, Row());
    var r4 = next_row(blk, oy0, 4u, true, Row());
    let rows = min(RB, c.oh - oy0);
    var held = Row();
    for (var i = 0u; i < rows; i++) {
        let first = (plane * c.oh + oy0 + i) * c.ow + ox0;
        var out = Row();
        for (var cv = 0u; cv < CV; cv++) {
            var s = bias + kernel_row(r0, t0, cv);
            if (KH > 1u) {
                s += kernel_row(r1, t1, cv);
            }
            if (KH > 2u) {
                s += kernel_row(r2, t2, cv);
            }
            if (KH > 3u) {
                s += kernel_row(r3, t3, cv);
            }
            if (KH > 4u) {
                s += kernel_row(r4, t4, cv);
            }
            let ox = ox0 + 4u * cv;
            if (PAIRS != 0u) {
                out = with_quad(out, cv, activate(s));
            } else if (ox < c.ow) {
                store(first + 4u * cv, c.ow - ox, activate(s));
            }
        }
        if (PAIRS != 0u && i % 2u == 1u) {
            store_pair(first - c.ow, held, out);
        }
        held = out;
        if (i + 1u == rows) {
            break;
        }
        // Kernel row ky + STEP of one output row is kernel row ky of the next.
        r0 = next_row(blk, oy0 + i + 1u, 0u, false, carried(r1, r2, r3, r4));
        r1 = next_row(blk, oy0 + i + 1u, 1u, false, carried(r2, r3, r4, r4));
        r2 = next_row(blk, oy0 + i + 1u, 2u, false, carried(r3, r4, r4, r4));
        r3 = next_row(blk, oy0 + i + 1u, 3u, false, carried(r4, r4, r4, r4));
        r4 = next_row(blk, oy0 + i + 1u, 4u, false, r4);
    }
}
