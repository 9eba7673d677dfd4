// pool2d.wgsl — max and average pooling over a KH x KW window, NCHW, f32.
// An invocation writes an aligned vec4 of the flat output, 4 outputs wherever they fall (a
// vec4 may straddle rows and planes): on llvmpipe a vec4 store is one pass of its lane-by-lane
// store loop where 4 scalar stores are four. The 4 outputs walk their windows together, a
// cell at a time. A small window's size is an
// override constant, so its loops unroll; one store takes the three rules' results, as
// llvmpipe runs a store under a branch even where no lane takes it. pool1, medians of runs
// interleaved with the previous kernel (one output of 8 planes an invocation, a store per
// rule): 1.24 → 0.94 ms; one vec4 an invocation rather than two: 12–15% less again.
// Max skips padded cells and propagates NaN. Average divides by the cells inside the input,
// or, with count_include_pad, by the window clipped to the padded input (PyTorch's rule).
// Padding may be wider than the window: a window with no input cell gives 0 for max and NaN
// for an average of its input cells (the ONNX reference implementation's results).
//
// Bindings (group 0)              mirrors POOL in src/ops/pool2d.rs
//   0 x  texture_storage_2d<rgba32float, read>   [N, C, H, W] as a linear texture (a copy the
//                            launch makes: texel reads are llvmpipe's fast path): word i in texel
//                            (i/4 mod 2^TEX_SHIFT, i/4 >> TEX_SHIFT)
//   1 y  storage read_write  [N, C, OH, OW] as vec4s (tensors are padded to whole vec4s)
//   2 p  uniform             Uniforms (field order of Pool2dUniforms in src/ops/pool2d.rs)
// Grid: the output's vec4s, WG to a workgroup, folded into (x, y). Overrides: WG, TEX_SHIFT, KH
// and KW (a small window's size, so that its loops unroll; 0 otherwise).

struct Uniforms {
    n: u32, c: u32, h: u32, w: u32,
    oh: u32, ow: u32, kh: u32, kw: u32,
    stride_y: u32, stride_x: u32, pad_top: u32, pad_left: u32,
    pad_bottom: u32, pad_right: u32, is_max: u32, count_include_pad: u32,
}

@group(0) @binding(0) var x: texture_storage_2d<rgba32float, read>;
@group(0) @binding(1) var<storage, read_write> y: array<vec4<f32>>;
@group(0) @binding(2) var<uniform> p: Uniforms;

override WG: u32 = 64u;
override TEX_SHIFT: u32;
override KH: u32 = 0u;
override KW: u32 = 0u;

// Input word i, from the linear texture laid out by src/texture.rs.
fn x_at(i: u32) -> f32 {
    let t = i >> 2u;
    return textureLoad(x, linear_at(t))[i & 3u];
}

fn is_nan(v: vec4<f32>) -> vec4<bool> {
    // Bit test: compilers may fold `v != v` away under fast-math assumptions.
    return (bitcast<vec4<u32>>(v) & vec4<u32>(0x7fffffffu)) > vec4<u32>(0x7f800000u);
}

@compute @workgroup_size(WG, 1, 1)
fn pool2d(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lane: u32,
) {
    let v = (wid.x + wid.y * nwg.x) * WG + lane;
    let planes = p.n * p.c;
    let outputs = planes * p.oh * p.ow;
    if (4u * v >= outputs) {
        return;
    }
    // The first output's plane, row and column: two divisions (llvmpipe runs them lane by
    // lane), then steps.
    let f = 4u * v;
    var plane = f / (p.oh * p.ow);
    var oy = (f - plane * p.oh * p.ow) / p.ow;
    var ox = f - (plane * p.oh + oy) * p.ow;
    let kh = select(p.kh, KH, KH != 0u);
    let kw = select(p.kw, KW, KW != 0u);
    let h = i32(p.h);
    let w = i32(p.w);

    var c = vec4<u32>();
    var row = vec4<u32>();
    var col = vec4<u32>();
    for (var j = 0u; j < 4u; j++) {
        c[j] = plane;
        row[j] = oy;
        col[j] = ox;
        ox += 1u;
        let next_row = ox == p.ow;
        ox = select(ox, 0u, next_row);
        oy = select(oy, oy + 1u, next_row);
        let next_plane = oy == p.oh;
        oy = select(oy, 0u, next_plane);
        plane = select(plane, plane + 1u, next_plane);
    }
    // Windows in input coordinates, before and after clipping to the input. Outputs past
    // the last (a padded vec4's tail) read plane 0 and write zeros: padding stays zero, as
    // kernels that read whole vec4s (the batch-1 dense layer) take it times zero weights.
    let base = select(c, vec4<u32>(0u), c >= vec4<u32>(planes)) * p.h * p.w;
    let y0 = vec4<i32>(row * p.stride_y) - i32(p.pad_top);
    let x0 = vec4<i32>(col * p.stride_x) - i32(p.pad_left);
    let y1 = min(y0 + i32(p.kh), vec4<i32>(h + i32(p.pad_bottom)));
    let x1 = min(x0 + i32(p.kw), vec4<i32>(w + i32(p.pad_right)));
    let padded_cells = vec4<f32>((y1 - y0) * (x1 - x0));
    let ya = max(y0, vec4<i32>(0));
    let xa = max(x0, vec4<i32>(0));
    let yb = min(y1, vec4<i32>(h));
    let xb = min(x1, vec4<i32>(w));
    let empty = (yb <= ya) | (xb <= xa);

    var m = vec4<f32>(bitcast<f32>(0xff800000u)); // -inf
    var s = vec4<f32>(0.0);
    // Every cell of the windows; those outside the input are read at the nearest edge and
    // left out.
    for (var ky = 0u; ky < kh; ky++) {
        let iy = y0 + i32(ky);
        let line = base + vec4<u32>(clamp(iy, vec4<i32>(0), vec4<i32>(h - 1))) * p.w;
        for (var kx = 0u; kx < kw; kx++) {
            let ix = x0 + i32(kx);
            let i = line + vec4<u32>(clamp(ix, vec4<i32>(0), vec4<i32>(w - 1)));
            let cell = vec4<f32>(x_at(i.x), x_at(i.y), x_at(i.z), x_at(i.w));
            let inside = (iy >= ya) & (iy < yb) & (ix >= xa) & (ix < xb);
            m = select(m, select(cell, m, is_nan(m)), inside & ((cell > m) | is_nan(cell)));
            s += select(vec4<f32>(0.0), cell, inside);
        }
    }
    // NaN by its bits: a shader compiler may assume 0 / 0 never happens.
    let cells = vec4<f32>(max((yb - ya) * (xb - xa), vec4<i32>(1)));
    let average = select(s / cells, vec4<f32>(bitcast<f32>(0x7fc00000u)), empty);
    let max_or_zero = select(m, vec4<f32>(0.0), empty);
    let mean = select(average, s / padded_cells, p.count_include_pad != 0u);
    let out = select(mean, max_or_zero, p.is_max != 0u);
    y[v] = select(vec4<f32>(0.0), out, c < vec4<u32>(planes));
}
