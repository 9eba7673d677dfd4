// im2col.wgsl — the input windows of a convolution as the B operand of a GEMM, in a storage
// texture, 4 output pixels to a texel:
//   b[row g·K + (ci·KH + ky)·KW + kx, col n·P + oy·OW + ox] = x[n, g·Cin/G + ci, iy, ix]
// with iy = oy·sh − pt + ky·dh, ix = ox·sw − pl + kx·dw, and zero outside the image or past
// the last column. A band of the weight's rows (a dense layer's features too many for one
// texture) takes channels c0 .. c0 + channels; there is one group then.
// Each invocation takes one input channel and 4 columns and writes all
// KH·KW rows of that channel: the column arithmetic (divisions, which llvmpipe does lane by
// lane) is done once per invocation, and x is read through a texture copy of it, the fast
// read path, where a storage buffer would cost a scalar load per lane and word.
//
// Bindings (group 0)              mirrors IM2COL in src/ops/im2col.rs
//   0 x  texture_storage_2d<rgba32float, read>   [N, Cin, H, W] as a linear texture: word i
//                                  in texel (i/4 mod 2^TEX_SHIFT, i/4 >> TEX_SHIFT)
//   1 b  texture_storage_2d<rgba32float, write>  [G·K, ceil(N·P / 4) texels (padded)], or
//                                  im2row's planes as a linear texture
//   2 p  uniform                Uniforms (field order of Im2colUniforms in src/ops/im2col.rs)
// Grid: x = texel columns, y = input channels, in workgroups of WG_X x WG_Y (im2col; shaped to
// the columns) or WG (im2col_dense, im2row). Overrides: those, TEX_SHIFT, RUN and FLAT (im2row).
// im2row lays out less (below): each input value once per kernel column and row phase, not
// once per tap.

struct Uniforms {
    conv: ConvDims, // shaders/conv_dims.wgsl, which the host puts before this file
    cin: u32, cin_per_group: u32, k: u32, cols: u32,
    c0: u32, channels: u32,
    // im2row: rows and words of a plane (a multiple of 4), and planes.
    rows: u32, plane: u32, planes: u32, _pad0: u32, _pad1: u32, _pad2: u32,
}

@group(0) @binding(0) var x: texture_storage_2d<rgba32float, read>;
@group(0) @binding(1) var b: texture_storage_2d<rgba32float, write>;
@group(0) @binding(2) var<uniform> p: Uniforms;

override WG: u32 = 64u;
override WG_X: u32 = 64u;
override WG_Y: u32 = 1u;
override TEX_SHIFT: u32;
override RUN: u32 = 1u;
// im2row: 1 when the words of a plane are consecutive input words (stride 1 and OW = W).
override FLAT: u32 = 0u;

@compute @workgroup_size(WG_X, WG_Y, 1)
fn im2col(@builtin(global_invocation_id) gid: vec3<u32>) {
    let c = p.c0 + gid.y;
    if (4u * gid.x >= p.cols || gid.y >= p.channels) {
        return;
    }
    // The 4 columns' images and output pixels: divide once, then step.
    let col0 = 4u * gid.x;
    let pixels = p.conv.oh * p.conv.ow;
    var n = col0 / pixels;
    var oy = (col0 % pixels) / p.conv.ow;
    var ox = col0 % p.conv.ow;
    var plane = vec4<i32>(0);
    var iy0 = vec4<i32>(0);
    var ix0 = vec4<i32>(0);
    var live = vec4<bool>(false);
    for (var t = 0u; t < 4u; t++) {
        plane[t] = i32((n * p.cin + c) * p.conv.h * p.conv.w);
        iy0[t] = i32(oy * p.conv.stride_y) - i32(p.conv.pad_top);
        ix0[t] = i32(ox * p.conv.stride_x) - i32(p.conv.pad_left);
        live[t] = col0 + t < p.cols;
        ox += 1u;
        if (ox == p.conv.ow) {
            ox = 0u;
            oy += 1u;
            if (oy == p.conv.oh) {
                oy = 0u;
                n += 1u;
            }
        }
    }
    let g = c / p.cin_per_group;
    let row0 = g * p.k + (c % p.cin_per_group - p.c0) * p.conv.kh * p.conv.kw;
    let h = vec4<i32>(i32(p.conv.h));
    let w = vec4<i32>(i32(p.conv.w));
    // Dense rows: stride 1, no dilation, up to 5 taps, the 4 columns in one output row. The
    // 3 + KW words that all taps of a kernel row read lie in 3 texels, loaded once.
    let dense = p.conv.stride_x == 1u && p.conv.dil_x == 1u && p.conv.kw <= 5u && ix0.w == ix0.x + 3
        && all(live);
    for (var ky = 0u; ky < p.conv.kh; ky++) {
        let iy = iy0 + vec4<i32>(i32(ky * p.conv.dil_y));
        let rows_in = live & iy >= vec4<i32>(0) & iy < h;
        let base = plane + iy * w;
        let start = base.x + ix0.x;
        let q = start >> 2u; // floor(start / 4), also when start < 0
        var r0 = vec4<f32>(0.0);
        var r1 = r0;
        var r2 = r0;
        if (dense && rows_in.x) {
            r0 = texel(q);
            r1 = texel(q + 1);
            r2 = texel(q + 2);
        }
        for (var kx = 0u; kx < p.conv.kw; kx++) {
            let ix = ix0 + vec4<i32>(i32(kx * p.conv.dil_x));
            let inside = rows_in & ix >= vec4<i32>(0) & ix < w;
            var v: vec4<f32>;
            if (dense) {
                let o = u32(start & 3) + kx;
                let near = select(funnel(r0, r1, o), funnel(r1, r2, o - 4u), o >= 4u);
                v = select(vec4<f32>(0.0), near, inside);
            } else {
                let i = base + ix;
                v = vec4<f32>(x_at(i.x, inside.x), x_at(i.y, inside.y), x_at(i.z, inside.z), x_at(i.w, inside.w));
            }
            textureStore(b, vec2<u32>(gid.x, row0 + ky * p.conv.kw + kx), v);
        }
    }
}

// The input of a dense layer (the 1x1 convolution of 1x1 images, x [N, F]) as the B operand:
// b[f − c0, n] = x[n, f], a 4 x 4 block per invocation — 4 texel loads, a transpose in
// registers, 4 texel stores — where the general entry would load each value alone. F is a
// multiple of 4 (a sample's 4 features are one texel). Grid: x = blocks of 4 samples, y =
// blocks of 4 rows of the band.
@compute @workgroup_size(WG, 1, 1)
fn im2col_dense(@builtin(global_invocation_id) gid: vec3<u32>) {
    let n0 = 4u * gid.x;
    let f0 = 4u * gid.y;
    if (n0 >= p.cols || f0 >= p.channels) {
        return;
    }
    let first = i32((n0 * p.cin + p.c0 + f0) / 4u);
    let step = i32(p.cin / 4u);
    let zero = vec4<f32>(0.0);
    let r0 = texel(first);
    let r1 = select(zero, texel(first + step), n0 + 1u < p.cols);
    let r2 = select(zero, texel(first + 2 * step), n0 + 2u < p.cols);
    let r3 = select(zero, texel(first + 3 * step), n0 + 3u < p.cols);
    textureStore(b, vec2<u32>(gid.x, f0), vec4<f32>(r0.x, r1.x, r2.x, r3.x));
    textureStore(b, vec2<u32>(gid.x, f0 + 1u), vec4<f32>(r0.y, r1.y, r2.y, r3.y));
    textureStore(b, vec2<u32>(gid.x, f0 + 2u), vec4<f32>(r0.z, r1.z, r2.z, r3.z));
    textureStore(b, vec2<u32>(gid.x, f0 + 3u), vec4<f32>(r0.w, r1.w, r2.w, r3.w));
}

// The row windows of the implicit GEMM (gemm.wgsl, B_MODE 2): per image n, input channel c,
// kernel column kx and row phase ry < SY, a plane of `rows` x OW words
//   r[((n·Cin + c)·KW + kx)·SY + ry][i·OW + ox] = x[n, c, i·SY + ry − pt, ox·SX + kx·DX − pl]
// (zero outside the image), planes `plane` words apart. Tap (ky, kx) of output row oy is then
// row oy + qy of plane (c, kx, ry), where ky·DY = qy·SY + ry: the window values of consecutive
// output pixels are consecutive words, for every tap. KW·SY planes of about OH + KH·DY/SY rows
// hold what im2col writes as KH·KW rows of OH·OW: 2.5–4x fewer stores for AlexNet's convs.
// With stride 1 and OW = W (conv2–5), a plane is the input read flat from a fixed offset, zero
// in the padding: a texel takes a funnel shift of two, not four texel reads (AlexNet's row
// windows, runs interleaved: 10–20% less time).
// Grid: x = runs of RUN texels of a plane, (y, z) = planes. An invocation writes a run.
@compute @workgroup_size(WG, 1, 1)
fn im2row(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lane: u32,
) {
    let t0 = (wid.x * WG + lane) * RUN;
    let plane = wid.y + wid.z * nwg.y;
    let words = p.rows * p.conv.ow;
    if (4u * t0 >= words || plane >= p.planes) {
        return;
    }
    let ry = plane % p.conv.stride_y;
    let kx = (plane / p.conv.stride_y) % p.conv.kw;
    let source = i32(plane / (p.conv.stride_y * p.conv.kw) * p.conv.h * p.conv.w);
    // The words' plane rows and columns: divide once, then step.
    var i = 4u * t0;
    var row = i / p.conv.ow;
    var ox = i % p.conv.ow;
    // FLAT: word i of the plane is input word first + i (zero where it falls in the padding),
    // so a run reads RUN + 1 texels and funnel-shifts them, by the same shift for every lane.
    let first = source + i32(kx * p.conv.dil_x) - i32(p.conv.pad_left)
        - i32(p.conv.pad_top * p.conv.w);
    let shift = u32(first) & 3u;
    var lo = vec4<f32>(0.0);
    if (FLAT != 0u) {
        lo = texel((first + i32(i)) >> 2u);
    }
    // A fixed count, which llvmpipe unrolls; texels past the plane's end are not stored.
    for (var r = 0u; r < RUN; r++) {
        let t = t0 + r;
        var v = vec4<f32>(0.0);
        var near = vec4<f32>(0.0);
        if (FLAT != 0u) {
            let hi = texel(((first + i32(i)) >> 2u) + 1);
            near = funnel(lo, hi, shift);
            lo = hi;
        }
        for (var j = 0u; j < 4u; j++) {
            let iy = i32(row * p.conv.stride_y + ry) - i32(p.conv.pad_top);
            let ix = i32(ox * p.conv.stride_x + kx * p.conv.dil_x) - i32(p.conv.pad_left);
            let inside = i < words && iy >= 0 && iy < i32(p.conv.h) && ix >= 0
                && ix < i32(p.conv.w);
            if (FLAT != 0u) {
                v[j] = select(0.0, near[j], inside);
            } else {
                v[j] = x_at(source + iy * i32(p.conv.w) + ix, inside);
            }
            i += 1u;
            ox += 1u;
            let wrap = ox == p.conv.ow;
            ox = select(ox, 0u, wrap);
            row = select(row, row + 1u, wrap);
        }
        if (4u * t < words) {
            textureStore(b, linear_at(plane * (p.plane / 4u) + t), v);
        }
    }
}
