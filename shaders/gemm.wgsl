// gemm.wgsl — the matrix product of a convolution or dense layer, per channel group g:
//   y[n, g·M + m, pix] = act(bias[g·M + m] + Σ_k at[k, g·M + m] · b[g·K + k, n·P + pix])
// over one band k0 .. k0 + K of the reduction: a band after the first adds to y (accumulate),
// the first adds the bias, the last clamps to [lo, hi] where `clamp` is 1 (ReLU: [0, ∞],
// ReLU6: [0, 6]) with selects, which keep NaN. Other activations run after it
// (elementwise.wgsl): inlined at each of a tile's stores, activation.wgsl's switch made
// compiling this kernel 3-4x slower, and tuning compiles many.
// at is the packed weight (pack.wgsl: K rows, 4 output channels to a texel), b the input
// windows (im2col.wgsl: 4 columns to a texel); columns run over images and their P output
// pixels, so the store is NCHW directly. Each invocation computes a TM x TN register tile
// (rows m0.., columns n0..) from TM/4 + TN/4 texel loads per k: read-only storage textures
// are llvmpipe's fast read path, and lanes run along the columns (workgroup x), where
// neighbouring lanes read neighbouring texels.
// B_MODE says where B comes from:
//   0  input windows laid out by im2col (a matrix texture, 4 columns to a texel);
//   1  a pointwise convolution's input itself, copied into a linear texture ([N, Cin, P] row
//      after row, word i in texel (i/4 mod 2^TEX_SHIFT, i/4 >> TEX_SHIFT)); a tile's columns
//      lie in one image (P % TN = 0, or the grid's z runs over images: z_cols = P);
//   2  the implicit GEMM: row windows (im2col.wgsl, im2row) in a linear texture, where the
//      windows of consecutive output pixels are consecutive words for every tap. Row k's TN
//      words start at a word offset that need not be a multiple of 4: TN/4 + 1 texels are
//      loaded and shifted. The grid's z runs over images too, so that a tile stays in one;
//   3  mode 1 with planes that are not whole texels (7x7): row k's TN words start anywhere
//      and are read as in mode 2;
//   4  a convolution of stride 1 or 2 across (SX; any stride down, any dilation) over its
//      input as it stands, shifted per tap: a tile is TN outputs of one output row (rows of
//      row_cols columns, the last tile's columns past OW not stored), and tap (ci, ky, kx) of
//      them is TN consecutive words of an input row (every other of 2·TN at stride 2), read as
//      in mode 2 and zeroed where they fall in the padding. Nothing is laid out but the
//      texture copy; the grid's z runs over images.
// Split-K (SPLIT = 1; modes 0, 1 and 3): the grid's z also runs over `parts` of the
// reduction, k_part rows each; part s stores its raw sums (no bias, no clamp) into its own
// slab of y, part_vecs vec4s from the last, and split_sum.wgsl adds them: a layer of few
// tiles (7x7 maps) then fills more than a few workgroups.
// Modes 1 to 4 spare im2col's stores (a texel per 4 output pixels and tap: half of conv1's
// time); row windows hold each input value once per kernel column and row phase instead.
// The tile lives in named registers, not an array: llvmpipe keeps an array indexed in a loop
// in memory (measured 3x slower on AlexNet's conv3), and the branches on TM and TN fold away
// when the pipeline is built, leaving straight-line code for the chosen tile.
//
// Bindings (group 0)              mirrors GEMM in src/ops/gemm.rs
//   0 at    texture_storage_2d<rgba32float, read>   [K, G · m_blocks texels]
//   1 b     texture_storage_2d<rgba32float, read>   [G · K, ≥ ceil(cols / 16) · 4 texels], or
//                                                    a linear texture (B_MODE 1 to 4)
//   2 bias  storage read        [G · M] (unread when HAS_BIAS = 0)
//   3 y     storage read_write  [N, G · M, P] as vec4s (tensors are padded to whole vec4s)
//   4 kept  storage read_write  WINO: each invocation's products (a placeholder otherwise)
//   5 p     uniform             Uniforms (field order of GemmUniforms in src/ops/gemm.rs)
// Grid: the tiles of a slice of z_cols columns (all of them; an image in B_MODE 2 and 4, and
// in 1 and 3 where images do not hold whole tiles) of every group, columns fastest, then
// rows, then groups, folded into (x, y); z = parts x slices (zs: slices). Lanes thus wrap
// from one row of tiles into the next, and from one group into the next, and none idles when
// the columns are few (13x13 images, Winograd's points).
// Overrides: TM, TN (4, 8 or 16: the tile), WG_X, WG_Y (the workgroup), B_MODE (0 to 4),
// ALIGNED (0, 1 or 2), TEX_SHIFT (the linear texture's row width), SX (mode 4's stride
// across), SPLIT (0 or 1: split-K), WINO (0, 2 or 4: Winograd's products folded into outputs)
// and WINO_R (3 or 5: its kernel), HAS_BIAS and ACCUMULATE (0 or 1).

struct Uniforms {
    m: u32, k: u32, cols: u32, pixels: u32,
    m_blocks: u32, m_total: u32, groups: u32, k_total: u32,
    k0: u32, z_cols: u32, clamp: u32, lo: f32,
    hi: f32, k_part: u32, zs: u32, part_vecs: u32,
    // B_MODE 2: the kernel's rows and columns, the stride and the dilation's steps in planes
    // (DY / SY, DY mod SY), and the row windows' strides in words: a plane row (OW), a plane,
    // an input channel (KW · SY planes), an image, a group's channels, and the band's first
    // channel.
    kh: u32, kw: u32, stride_y: u32, dy_div: u32, dy_mod: u32,
    row: u32, plane: u32, channel: u32, image: u32, group: u32, c0: u32,
    // B_MODE 4 (with kh, kw, stride_y, c0, and row, channel, image, group: an input row, an
    // input channel, an image and a group's channels, in words): the input's height, the
    // padding above and left, the dilation, the output width and its row of tiles' columns.
    h: u32, pad_top: u32, pad_left: u32, dil_y: u32, dil_x: u32, ow: u32, row_cols: u32,
    // WINO (with ow): the output's height, and Winograd's tiles per row, live per image and per
    // image's columns (winograd_tiles.wgsl).
    oh: u32, row_tiles: u32, live: u32, tiles: u32, _pad2: u32, _pad3: u32,
}

@group(0) @binding(0) var at: texture_storage_2d<rgba32float, read>;
@group(0) @binding(1) var b: texture_storage_2d<rgba32float, read>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> kept: array<vec4<f32>>;
@group(0) @binding(5) var<uniform> p: Uniforms;

override TM: u32 = 8u;
override TN: u32 = 8u;
override WG_X: u32 = 8u;
override WG_Y: u32 = 1u;
override B_MODE: u32 = 0u;
// 1 when every image holds whole column tiles (P a multiple of TN): a tile's columns are then
// consecutive words of y, and the per-column store path compiles away (an override, not a
// uniform: the smaller code measured 30% faster on the 64→256 1x1). 2 when images hold whole
// vec4s (P a multiple of 4: 14x14 maps): each vec4 of a tile lies in one image, found once,
// and is stored whole or not at all. In B_MODE 4 the same of output rows (OW) for images.
override ALIGNED: u32 = 0u;
override TEX_SHIFT: u32 = 12u;
// B_MODE 4: the stride across (1 or 2).
override SX: u32 = 1u;
// 1 for split-K (its parts and slabs; an override, so that the GEMMs without compile as before).
override SPLIT: u32 = 0u;
// M of Winograd F(MxM, 3x3) (2 or 4; 0: a plain GEMM): each invocation multiplies the (M + 2)²
// points of its tile in turn (group point·G + g of the weight and of B, B_MODE 0), keeps
// their products in its own share of `kept` and folds them into the convolution's outputs
// (winograd_fold.wgsl, put before this file) with bias and clamp. Its products are written
// and read back by the same invocation, on one core: a pass of its own would read them on
// another (what one step writes and the next reads costs the most on llvmpipe). A private
// array would not do: llvmpipe's compiler takes minutes over one that large.
override WINO: u32 = 0u;
override WINO_R: u32 = 3u;
// 1 where the bias is added (the first band), and where y's own values are added to (bands
// after the first, a sum onto the output). Overrides, not uniforms: llvmpipe runs a storage
// load under a branch that no lane takes, a uniform's included, as if all took it, a loop
// over the lanes each time (compiled away, the 16→96 1x1 over 112x112 took 13% less time).
override HAS_BIAS: u32 = 0u;
override ACCUMULATE: u32 = 0u;

// The first word of this invocation's slab of y (split-K; 0 otherwise).
var<private> y_first: u32;

// Where a tile's B texels are: column and row of texel (j, k) in the matrix layout, or, with
// B_MODE 1, linear texel base + k · stride + j.
struct BOrigin {
    col: u32,
    row: u32,
    base: u32,
    stride: u32,
}

// Texel t of a linear B.
fn linear(t: u32) -> vec4<f32> {
    return textureLoad(b, linear_at(t));
}

// Texels j of row k of the tile's B columns (B_MODE 0 and 1).
fn load_b(o: BOrigin, k: u32, j: u32) -> vec4<f32> {
    if (B_MODE == 1u) {
        return linear(o.base + k * o.stride + j);
    }
    return textureLoad(b, vec2<u32>(o.col + j, o.row + k));
}

// The TN words of a linear B from word w on (B_MODE 2 to 4; in mode 4 w may be before the
// first word, in the padding, and the texels before it are never used).
fn load_words(w: i32) -> Cols {
    let q = u32(w >> 2u);
    let s = u32(w & 3);
    let t0 = linear(q);
    let t1 = linear(q + 1u);
    var r = Cols(funnel(t0, t1, s), vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0));
    if (TN > 4u) {
        let t2 = linear(q + 2u);
        r.c1 = funnel(t1, t2, s);
        if (TN > 8u) {
            let t3 = linear(q + 3u);
            let t4 = linear(q + 4u);
            r.c2 = funnel(t2, t3, s);
            r.c3 = funnel(t3, t4, s);
        }
    }
    return r;
}

// B_MODE 4: the TN words of input row iy from column ix on (word w), SX apart (stride SX
// across), zero in the padding. SX = 2 loads 2·TN words and keeps every other.
fn shifted(w: i32, iy: i32, ix: i32) -> Cols {
    var r = load_words(w);
    if (SX == 2u) {
        let hi = load_words(w + i32(TN));
        if (TN == 4u) {
            r.c0 = vec4<f32>(r.c0.xz, hi.c0.xz);
        } else if (TN == 8u) {
            r = Cols(vec4<f32>(r.c0.xz, r.c1.xz), vec4<f32>(hi.c0.xz, hi.c1.xz), r.c2, r.c3);
        } else {
            r = Cols(vec4<f32>(r.c0.xz, r.c1.xz), vec4<f32>(r.c2.xz, r.c3.xz), vec4<f32>(hi.c0.xz, hi.c1.xz),
                vec4<f32>(hi.c2.xz, hi.c3.xz));
        }
    }
    let row_ok = vec4<bool>(iy >= 0 && iy < i32(p.h));
    // Input column of each output column, and the step from one vec4 of them to the next.
    let j = vec4<i32>(0, 1, 2, 3) * i32(SX) + ix;
    let step = vec4<i32>(4 * i32(SX));
    let width = vec4<i32>(i32(p.row));
    let zero = vec4<f32>(0.0);
    r.c0 = select(zero, r.c0, row_ok & (j >= vec4<i32>(0)) & (j < width));
    if (TN > 4u) {
        r.c1 = select(zero, r.c1, row_ok & (j + step >= vec4<i32>(0)) & (j + step < width));
    }
    if (TN > 8u) {
        r.c2 = select(zero, r.c2, row_ok & (j + 2 * step >= vec4<i32>(0)) & (j + 2 * step < width));
        r.c3 = select(zero, r.c3, row_ok & (j + 3 * step >= vec4<i32>(0)) & (j + 3 * step < width));
    }
    return r;
}

// Up to 16 columns of one row of the tile, 4 to a vec4.
struct Cols {
    c0: vec4<f32>,
    c1: vec4<f32>,
    c2: vec4<f32>,
    c3: vec4<f32>,
}

// acc + a · bv over the tile's TN columns.
fn madd(acc: Cols, a: f32, bv: Cols) -> Cols {
    var r = acc;
    r.c0 += a * bv.c0;
    if (TN > 4u) {
        r.c1 += a * bv.c1;
    }
    if (TN > 8u) {
        r.c2 += a * bv.c2;
        r.c3 += a * bv.c3;
    }
    return r;
}

@compute @workgroup_size(WG_X, WG_Y, 1)
fn gemm(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lane: u32,
) {
    let all = (wid.x + wid.y * nwg.x) * WG_X * WG_Y + lane;
    let col_tiles = (p.z_cols + TN - 1u) / TN;
    let group_tiles = col_tiles * ((p.m + TM - 1u) / TM);
    // Divisions are lane-by-lane loops on llvmpipe: none where there is one group.
    var g = 0u;
    var tile = all;
    if (p.groups > 1u) {
        g = all / group_tiles;
        tile = all % group_tiles;
    }
    if (g >= p.groups || tile >= group_tiles) {
        return;
    }
    var part = 0u;
    if (SPLIT != 0u) {
        part = wid.z / p.zs;
        y_first = part * p.part_vecs * 4u;
    }
    let slice = wid.z % p.zs;
    let local = (tile % col_tiles) * TN;
    let n0 = slice * p.z_cols + local;
    let end = n0 - local + p.z_cols;
    let m0 = (tile / col_tiles) * TM;
    // Linear: image n0 / P, channel g·K + k0 + k, pixel n0 % P of [N, G·K, P]. B_MODE 4: the
    // tile's output row and first column in image `slice`, and its taps' origin.
    var image = n0 / p.pixels;
    var oy = 0u;
    var ox0 = 0u;
    if (B_MODE == 4u) {
        image = slice;
        oy = local / p.row_cols;
        ox0 = local % p.row_cols;
    }
    let taps = i32(slice * p.image + g * p.group + p.c0 * p.channel);
    let row0 = i32(oy * p.stride_y) - i32(p.pad_top);
    let col0 = i32(ox0 * SX) - i32(p.pad_left);
    let b_word = ((image * p.groups + g) * p.k_total + p.k0) * p.pixels + n0 % p.pixels;
    var bo = BOrigin(n0 / 4u, g * p.k, b_word / 4u, p.pixels / 4u);
    let zero = Cols(vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0));
    var a1 = vec4<f32>(0.0);
    var a2 = a1;
    var a3 = a1;
    var bv = zero;
    // B_MODE 2: tap (ky, kx) of channel ci reads plane (ci, kx, ry) from row qy on, where
    // ky · DY = qy · SY + ry; counters, not divisions (lane-by-lane loops on llvmpipe).
    let rows_base = slice * p.image + g * p.group + p.c0 * p.channel + local;
    var ci = 0u;
    var ky = 0u;
    var kx = 0u;
    var ry = 0u;
    var qy = 0u;
    var k_first = 0u;
    var k_end = p.k;
    if (SPLIT != 0u) {
        k_first = part * p.k_part;
        k_end = min(p.k, k_first + p.k_part);
    }
    // WINO: this invocation's share of `kept`, its products of every point: a workgroup's
    // lanes keep theirs side by side (element e of lane l at e · WG + l from the workgroup's
    // block on), so that a store or load of all lanes touches a few cache lines.
    let points = select(1u, (WINO + WINO_R - 1u) * (WINO + WINO_R - 1u), WINO != 0u);
    let kept_at = (all - lane) * points * TM * (TN / 4u) + lane;
    // One pass without WINO: a loop that always breaks compiles away, where a `for` of one
    // trip cost plain GEMMs 5-10%.
    var point = 0u;
    loop {
        let gp = point * p.groups + g;
        let a_col = gp * p.m_blocks + m0 / 4u;
        bo.row = gp * p.k;
        var r0 = zero;
        var r1 = zero;
        var r2 = zero;
        var r3 = zero;
        var r4 = zero;
        var r5 = zero;
        var r6 = zero;
        var r7 = zero;
        var r8 = zero;
        var r9 = zero;
        var r10 = zero;
        var r11 = zero;
        var r12 = zero;
        var r13 = zero;
        var r14 = zero;
        var r15 = zero;
        for (var k = k_first; k < k_end; k++) {
            let a0 = textureLoad(at, vec2<u32>(a_col, k));
            if (TM > 4u) {
                a1 = textureLoad(at, vec2<u32>(a_col + 1u, k));
            }
            if (TM > 8u) {
                a2 = textureLoad(at, vec2<u32>(a_col + 2u, k));
                a3 = textureLoad(at, vec2<u32>(a_col + 3u, k));
            }
            if (B_MODE == 4u) {
                let iy = row0 + i32(ky * p.dil_y);
                let ix = col0 + i32(kx * p.dil_x);
                bv = shifted(taps + i32(ci * p.channel) + iy * i32(p.row) + ix, iy, ix);
                kx += 1u;
                if (kx == p.kw) {
                    kx = 0u;
                    ky += 1u;
                    if (ky == p.kh) {
                        ky = 0u;
                        ci += 1u;
                    }
                }
            } else if (B_MODE == 3u) {
                bv = load_words(i32(b_word + k * p.pixels));
            } else if (B_MODE == 2u) {
                bv = load_words(i32(rows_base + ci * p.channel + (kx * p.stride_y + ry) * p.plane + qy * p.row));
                kx += 1u;
                if (kx == p.kw) {
                    kx = 0u;
                    ky += 1u;
                    ry += p.dy_mod;
                    qy += p.dy_div;
                    if (ry >= p.stride_y) {
                        ry -= p.stride_y;
                        qy += 1u;
                    }
                    if (ky == p.kh) {
                        ky = 0u;
                        ry = 0u;
                        qy = 0u;
                        ci += 1u;
                    }
                }
            } else {
                bv.c0 = load_b(bo, k, 0u);
                if (TN > 4u) {
                    bv.c1 = load_b(bo, k, 1u);
                }
                if (TN > 8u) {
                    bv.c2 = load_b(bo, k, 2u);
                    bv.c3 = load_b(bo, k, 3u);
                }
            }
            r0 = madd(r0, a0.x, bv);
            r1 = madd(r1, a0.y, bv);
            r2 = madd(r2, a0.z, bv);
            r3 = madd(r3, a0.w, bv);
            if (TM > 4u) {
                r4 = madd(r4, a1.x, bv);
                r5 = madd(r5, a1.y, bv);
                r6 = madd(r6, a1.z, bv);
                r7 = madd(r7, a1.w, bv);
            }
            if (TM > 8u) {
                r8 = madd(r8, a2.x, bv);
                r9 = madd(r9, a2.y, bv);
                r10 = madd(r10, a2.z, bv);
                r11 = madd(r11, a2.w, bv);
                r12 = madd(r12, a3.x, bv);
                r13 = madd(r13, a3.y, bv);
                r14 = madd(r14, a3.z, bv);
                r15 = madd(r15, a3.w, bv);
            }
        }
        if (WINO != 0u) {
            keep(kept_at, point, 0u, r0);
            keep(kept_at, point, 1u, r1);
            keep(kept_at, point, 2u, r2);
            keep(kept_at, point, 3u, r3);
            if (TM > 4u) {
                keep(kept_at, point, 4u, r4);
                keep(kept_at, point, 5u, r5);
                keep(kept_at, point, 6u, r6);
                keep(kept_at, point, 7u, r7);
            }
            if (TM > 8u) {
                keep(kept_at, point, 8u, r8);
                keep(kept_at, point, 9u, r9);
                keep(kept_at, point, 10u, r10);
                keep(kept_at, point, 11u, r11);
                keep(kept_at, point, 12u, r12);
                keep(kept_at, point, 13u, r13);
                keep(kept_at, point, 14u, r14);
                keep(kept_at, point, 15u, r15);
            }
            point += 1u;
            if (point == points) {
                break;
            }
            continue;
        }
        // Where the tile's columns go: one offset when they are consecutive words (worked out
        // once: divisions are lane-by-lane loops on llvmpipe), else one per column.
        var cols = Offsets(vec4<u32>(0u), vec4<u32>(0u), vec4<u32>(0u), vec4<u32>(0u));
        var first = 0u;
        if (B_MODE == 4u) {
            // Output pixel (oy, ox0 + j), for the columns before the row's end.
            first = image * p.m_total * p.pixels + oy * p.ow + ox0;
            let valid = vec4<u32>(p.ow - ox0);
            let j = vec4<u32>(0u, 1u, 2u, 3u);
            let none = vec4<u32>(0xffffffffu);
            if (ALIGNED == 2u) {
                cols.o0 = select(none, first + 4u * j, 4u * j < valid);
            } else if (ALIGNED == 0u) {
                cols = Offsets(select(none, first + j, j < valid), select(none, first + 4u + j, j + 4u < valid),
                    select(none, first + 8u + j, j + 8u < valid), select(none, first + 12u + j, j + 12u < valid));
            }
        } else if (ALIGNED == 1u) {
            first = image * p.m_total * p.pixels + n0 % p.pixels;
        } else if (ALIGNED == 2u) {
            cols.o0 = vec4_offsets(n0, end);
        } else {
            cols = column_offsets(n0, end);
        }
        store_row(g, m0 + 0u, first, cols, r0);
        store_row(g, m0 + 1u, first, cols, r1);
        store_row(g, m0 + 2u, first, cols, r2);
        store_row(g, m0 + 3u, first, cols, r3);
        if (TM > 4u) {
            store_row(g, m0 + 4u, first, cols, r4);
            store_row(g, m0 + 5u, first, cols, r5);
            store_row(g, m0 + 6u, first, cols, r6);
            store_row(g, m0 + 7u, first, cols, r7);
        }
        if (TM > 8u) {
            store_row(g, m0 + 8u, first, cols, r8);
            store_row(g, m0 + 9u, first, cols, r9);
            store_row(g, m0 + 10u, first, cols, r10);
            store_row(g, m0 + 11u, first, cols, r11);
            store_row(g, m0 + 12u, first, cols, r12);
            store_row(g, m0 + 13u, first, cols, r13);
            store_row(g, m0 + 14u, first, cols, r14);
            store_row(g, m0 + 15u, first, cols, r15);
        }
        break;
    }
    if (WINO != 0u) {
        fold_tile(kept_at, g, m0, n0);
    }
}

// Where the tile's columns go in y: the offset of column n0 + j of channel 0, or an
// offset past y's end (never stored) for columns past the slice's last.
struct Offsets {
    o0: vec4<u32>,
    o1: vec4<u32>,
    o2: vec4<u32>,
    o3: vec4<u32>,
}

// Offsets of the tile's columns, 4 at a time: one division for the tile, then steps (a
// division is a lane-by-lane loop on llvmpipe, and the epilogue matters where K is short).
struct Walk {
    image: u32,
    pixel: u32,
    col: u32,
    end: u32,
}

fn offsets4(w: ptr<function, Walk>) -> vec4<u32> {
    var o = vec4<u32>(0xffffffffu);
    for (var t = 0u; t < 4u; t++) {
        if ((*w).col < (*w).end) {
            o[t] = (*w).image * p.m_total * p.pixels + (*w).pixel;
        }
        (*w).col += 1u;
        (*w).pixel += 1u;
        if ((*w).pixel == p.pixels) {
            (*w).pixel = 0u;
            (*w).image += 1u;
        }
    }
    return o;
}

// ALIGNED 2: the offsets of the tile's TN / 4 vec4s (4 columns each) in o0.
fn vec4_offsets(n0: u32, end: u32) -> vec4<u32> {
    var o = vec4<u32>(0xffffffffu);
    var image = n0 / p.pixels;
    var pixel = n0 % p.pixels;
    for (var t = 0u; t < TN / 4u; t++) {
        if (n0 + 4u * t < end) {
            o[t] = image * p.m_total * p.pixels + pixel;
        }
        pixel += 4u;
        if (pixel == p.pixels) {
            pixel = 0u;
            image += 1u;
        }
    }
    return o;
}

fn column_offsets(n0: u32, end: u32) -> Offsets {
    var w = Walk(n0 / p.pixels, n0 % p.pixels, n0, end);
    var o = Offsets(offsets4(&w), vec4<u32>(0u), vec4<u32>(0u), vec4<u32>(0u));
    if (TN > 4u) {
        o.o1 = offsets4(&w);
    }
    if (TN > 8u) {
        o.o2 = offsets4(&w);
        o.o3 = offsets4(&w);
    }
    return o;
}

// Adds the bias, clamps and writes the columns of row m of the tile that exist. When
// the images hold whole tiles (P a multiple of TN) the tile's columns are TN consecutive,
// aligned words of y from `first` on, written as vec4s; else each column has its offset.
fn store_row(g: u32, m: u32, first: u32, cols: Offsets, r: Cols) {
    if (m >= p.m) {
        return;
    }
    let channel = g * p.m + m;
    var add = 0.0;
    if (HAS_BIAS != 0u) {
        add = bias[channel];
    }
    if (ALIGNED == 2u) {
        let base = channel * p.pixels;
        store_vec_at(base, cols.o0[0], r.c0 + add);
        if (TN > 4u) {
            store_vec_at(base, cols.o0[1], r.c1 + add);
        }
        if (TN > 8u) {
            store_vec_at(base, cols.o0[2], r.c2 + add);
            store_vec_at(base, cols.o0[3], r.c3 + add);
        }
        return;
    }
    if (ALIGNED == 1u) {
        let i = (first + channel * p.pixels) / 4u;
        store_vec(i, r.c0 + add);
        if (TN > 4u) {
            store_vec(i + 1u, r.c1 + add);
        }
        if (TN > 8u) {
            store_vec(i + 2u, r.c2 + add);
            store_vec(i + 3u, r.c3 + add);
        }
        return;
    }
    let base = channel * p.pixels;
    store4(base, cols.o0, r.c0 + add);
    if (TN > 4u) {
        store4(base, cols.o1, r.c1 + add);
    }
    if (TN > 8u) {
        store4(base, cols.o2, r.c2 + add);
        store4(base, cols.o3, r.c3 + add);
    }
}

// v clamped to [lo, hi] where the clamp is on (selects, which keep NaN).
fn clamped(v: vec4<f32>) -> vec4<f32> {
    if (p.clamp == 0u) {
        return v;
    }
    let low = select(v, vec4<f32>(p.lo), v < vec4<f32>(p.lo));
    return select(low, vec4<f32>(p.hi), low > vec4<f32>(p.hi));
}

// y as vec4 i, after adding what is there (bands after the first) and the clamp.
fn store_vec(i: u32, v: vec4<f32>) {
    var at = i;
    if (SPLIT != 0u) {
        at += y_first / 4u;
    }
    var o = v;
    if (ACCUMULATE != 0u) {
        o += y[at];
    }
    y[at] = clamped(o);
}

// WINO: where vec4 c of row `row` of the tile's products at point `point` is kept, for the
// lane whose share starts at `at`.
fn kept_index(at: u32, point: u32, row: u32, c: u32) -> u32 {
    return at + ((point * TM + row) * (TN / 4u) + c) * WG_X * WG_Y;
}

// WINO: keeps the products of row `row` of the tile at point `point`.
fn keep(at: u32, point: u32, row: u32, r: Cols) {
    kept[kept_index(at, point, row, 0u)] = r.c0;
    if (TN > 4u) {
        kept[kept_index(at, point, row, 1u)] = r.c1;
    }
    if (TN > 8u) {
        kept[kept_index(at, point, row, 2u)] = r.c2;
        kept[kept_index(at, point, row, 3u)] = r.c3;
    }
}

// WINO: row r of m · A for vec4 c of row `row` of the tile (its kept products): F(2x2, 3x3)'s
// two columns, F(4x4, 3x3)'s four, F(2x2, 5x5)'s two.
fn kept_row2(at: u32, row: u32, c: u32, r: u32) -> Pair {
    let g = 4u * r;
    return at4(kept[kept_index(at, g, row, c)], kept[kept_index(at, g + 1u, row, c)],
        kept[kept_index(at, g + 2u, row, c)], kept[kept_index(at, g + 3u, row, c)]);
}

fn kept_row4(at: u32, row: u32, c: u32, r: u32) -> Four {
    let g = 6u * r;
    return at6(kept[kept_index(at, g, row, c)], kept[kept_index(at, g + 1u, row, c)],
        kept[kept_index(at, g + 2u, row, c)], kept[kept_index(at, g + 3u, row, c)],
        kept[kept_index(at, g + 4u, row, c)], kept[kept_index(at, g + 5u, row, c)]);
}

fn kept_row62(at: u32, row: u32, c: u32, r: u32) -> Pair {
    let g = 6u * r;
    return at62(kept[kept_index(at, g, row, c)], kept[kept_index(at, g + 1u, row, c)],
        kept[kept_index(at, g + 2u, row, c)], kept[kept_index(at, g + 3u, row, c)],
        kept[kept_index(at, g + 4u, row, c)], kept[kept_index(at, g + 5u, row, c)]);
}

// What a folded output becomes before it is stored (winograd_fold.wgsl): the clamp.
fn finish(v: vec4<f32>) -> vec4<f32> {
    return clamped(v);
}

// WINO: the outputs of the tile's rows (output channels) and blocks of 4 columns (tiles) from
// their kept products, with bias and clamp. The tiles of a block share an image and a row.
fn fold_tile(at: u32, g: u32, m0: u32, n0: u32) {
    for (var row = 0u; row < TM && m0 + row < p.m; row++) {
        let o = g * p.m + m0 + row;
        var add = 0.0;
        if (HAS_BIAS != 0u) {
            add = bias[o];
        }
        for (var c = 0u; c < TN / 4u && n0 + 4u * c < p.cols; c++) {
            var outs: Outs;
            if (WINO_R == 5u) {
                outs = fold62(kept_row62(at, row, c, 0u), kept_row62(at, row, c, 1u), kept_row62(at, row, c, 2u),
                    kept_row62(at, row, c, 3u), kept_row62(at, row, c, 4u), kept_row62(at, row, c, 5u));
            } else if (WINO == 2u) {
                outs = fold4(kept_row2(at, row, c, 0u), kept_row2(at, row, c, 1u), kept_row2(at, row, c, 2u),
                    kept_row2(at, row, c, 3u));
            } else {
                outs = fold6(kept_row4(at, row, c, 0u), kept_row4(at, row, c, 1u), kept_row4(at, row, c, 2u),
                    kept_row4(at, row, c, 3u), kept_row4(at, row, c, 4u), kept_row4(at, row, c, 5u));
            }
            let image = (n0 + 4u * c) / p.tiles;
            let t0 = (n0 + 4u * c) % p.tiles;
            let plane = (image * p.m_total + o) * p.pixels;
            let blk = Block(plane, tiles_at(t0, p.row_tiles, p.live), p.oh, p.ow, p.ow % 4u == 0u, add);
            store_fold(WINO, outs, blk);
        }
    }
}

// A vec4 at word base + offset, where it has an offset (ALIGNED 2).
fn store_vec_at(base: u32, offset: u32, v: vec4<f32>) {
    if (offset != 0xffffffffu) {
        store_vec((base + offset) / 4u, v);
    }
}

// Writes 4 columns of one output channel (those with an offset) word by word.
fn store4(base: u32, offsets: vec4<u32>, v: vec4<f32>) {
    for (var t = 0u; t < 4u; t++) {
        if (offsets[t] != 0xffffffffu) {
            var i = base + offsets[t];
            if (SPLIT != 0u) {
                i += y_first;
            }
            var o = v[t];
            if (ACCUMULATE != 0u) {
                o += y[i / 4u][i % 4u];
            }
            y[i / 4u][i % 4u] = clamped(vec4<f32>(o)).x;
        }
    }
}
