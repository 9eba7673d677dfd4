// pool2d.wgsl — max and average pooling over a KH x KW window, NCHW, f32.
// One invocation per output position (oy, ox) of RUN consecutive planes: the window's bounds
// are worked out once for them, and llvmpipe's cost per SIMD row of invocations is shared.
// Max skips padded cells and propagates NaN. Average divides by the cells inside the input,
// or, with count_include_pad, by the window clipped to the padded input (PyTorch's rule).
// Padding may be wider than the window: a window with no input cell gives 0 for max and NaN
// for an average of its input cells (the ONNX reference implementation's results).
//
// Bindings (group 0)              mirrors POOL in src/ops/pool2d.rs
//   0 x  texture_storage_2d<rgba32float, read>   [N, C, H, W] as a linear texture (a copy the
//                            launch makes: texel reads are llvmpipe's fast path): word i in texel
//                            (i/4 mod 2^TEX_SHIFT, i/4 >> TEX_SHIFT)
//   1 y  storage read_write  [N, C, OH, OW]
//   2 p  uniform             Params (field order of Pool2dUniform in src/ops/pool2d.rs)
// Grid: x = output columns, y = output rows (8 x 8 to a workgroup), z = runs of RUN of the
// N·C planes. Overrides: TEX_SHIFT, RUN (1 for windows too large to walk RUN times within
// llvmpipe's loop budget).

struct Params {
    n: u32, c: u32, h: u32, w: u32,
    oh: u32, ow: u32, kh: u32, kw: u32,
    stride_y: u32, stride_x: u32, pad_top: u32, pad_left: u32,
    pad_bottom: u32, pad_right: u32, is_max: u32, count_include_pad: u32,
}

@group(0) @binding(0) var x: texture_storage_2d<rgba32float, read>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

override TEX_SHIFT: u32;
override RUN: u32 = 1u;

// Input word i, from the linear texture laid out by src/texture.rs.
fn x_at(i: u32) -> f32 {
    let t = i >> 2u;
    return textureLoad(x, vec2<u32>(t & ((1u << TEX_SHIFT) - 1u), t >> TEX_SHIFT))[i & 3u];
}

fn is_nan(v: f32) -> bool {
    // Bit test: compilers may fold `v != v` away under fast-math assumptions.
    return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u;
}

@compute @workgroup_size(8, 8, 1)
fn pool2d(@builtin(global_invocation_id) gid: vec3<u32>) {
    // The grid is the output's (x, y, plane): no divisions, which llvmpipe runs lane by lane.
    let ox = gid.x;
    let oy = gid.y;
    if (ox >= p.ow || oy >= p.oh) {
        return;
    }
    // Window in input coordinates, before and after clipping to the input.
    let y0 = i32(oy * p.stride_y) - i32(p.pad_top);
    let x0 = i32(ox * p.stride_x) - i32(p.pad_left);
    let y1 = min(y0 + i32(p.kh), i32(p.h + p.pad_bottom));
    let x1 = min(x0 + i32(p.kw), i32(p.w + p.pad_right));
    let padded_cells = f32((y1 - y0) * (x1 - x0));
    let ya = max(y0, 0);
    let xa = max(x0, 0);
    let yb = min(y1, i32(p.h));
    let xb = min(x1, i32(p.w));

    let empty = yb <= ya || xb <= xa;
    for (var c = gid.z * RUN; c < min(gid.z * RUN + RUN, p.n * p.c); c++) {
        let i = (c * p.oh + oy) * p.ow + ox;
        let plane = c * p.h * p.w;
        var m = bitcast<f32>(0xff800000u); // -inf
        var s = 0.0;
        for (var iy = ya; iy < yb; iy++) {
            for (var ix = xa; ix < xb; ix++) {
                let v = x_at(plane + u32(iy) * p.w + u32(ix));
                if (v > m || is_nan(v)) {
                    m = select(v, m, is_nan(m));
                }
                s += v;
            }
        }
        if (p.is_max != 0u) {
            y[i] = select(m, 0.0, empty);
        } else if (p.count_include_pad != 0u) {
            y[i] = s / padded_cells;
        } else {
            // NaN by its bits: a shader compiler may assume 0 / 0 never happens.
            y[i] = select(s / f32(max((yb - ya) * (xb - xa), 1)), bitcast<f32>(0x7fc00000u), empty);
        }
    }
}
