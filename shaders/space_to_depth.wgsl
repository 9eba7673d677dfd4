// space_to_depth.wgsl — a convolution's input folded space-to-depth by its stride S, so that
// the convolution becomes one of stride 1 (and no padding) over S² times the channels:
//   y[n, (c·S + dy)·S + dx, Y, X] = x[n, c, S·Y + dy − pad_top, S·X + dx − pad_left]
// zero outside the image. Each invocation stores one texel of y, a linear texture as the
// Winograd transform reads it (no copy of its own): its 4 words may lie in two rows, planes or
// images, found by division for the first and by counting for the rest (a division by a
// uniform is a loop over the lanes on llvmpipe; S is an override). x is read through its
// texture copy (linear_texture.wgsl and input_texture.wgsl, put before this file).
//
// Bindings (group 0)              mirrors SPACE_TO_DEPTH in src/ops/space_to_depth.rs
//   0 x  texture_storage_2d<rgba32float, read>   [N, C, H, W] as a linear texture
//   1 y  texture_storage_2d<rgba32float, write>  [N, C·S², H2, W2] as a linear texture
//   2 p  uniform             Uniforms (ConvDims of the convolution from conv_dims.wgsl first)
// Grid: one invocation per texel of y, in workgroups of WG folded into (x, y). Overrides: WG,
// TEX_SHIFT, S.

struct Uniforms {
    conv: ConvDims,
    c: u32, h2: u32, w2: u32, c2: u32,
    len: u32, _pad0: u32, _pad1: u32, _pad2: u32,
}

@group(0) @binding(0) var x: texture_storage_2d<rgba32float, read>;
@group(0) @binding(1) var y: texture_storage_2d<rgba32float, write>;
@group(0) @binding(2) var<uniform> p: Uniforms;

override WG: u32 = 64u;
override TEX_SHIFT: u32;
override S: u32 = 2u;

// A word of y: its image's first input plane, its channel, row and column.
struct At { image: u32, ch: u32, yy: u32, xx: u32 }

// Word `at` of y, zero past its end (`inside` false).
fn folded(at: At, inside: bool) -> f32 {
    let c = p.conv;
    let iy = i32(S * at.yy + at.ch / S % S) - i32(c.pad_top);
    let ix = i32(S * at.xx + at.ch % S) - i32(c.pad_left);
    let ok = inside && iy >= 0 && iy < i32(c.h) && ix >= 0 && ix < i32(c.w);
    let source = ((at.image + at.ch / (S * S)) * c.h + u32(max(iy, 0))) * c.w + u32(max(ix, 0));
    return x_at(i32(source), ok);
}

// The word after `at`.
fn next(at: At) -> At {
    var r = at;
    r.xx += 1u;
    if (r.xx == p.w2) {
        r.xx = 0u;
        r.yy += 1u;
        if (r.yy == p.h2) {
            r.yy = 0u;
            r.ch += 1u;
            if (r.ch == p.c2) {
                r.ch = 0u;
                r.image += p.c;
            }
        }
    }
    return r;
}

@compute @workgroup_size(WG, 1, 1)
fn space_to_depth(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lane: u32,
) {
    let t = (wid.x + wid.y * nwg.x) * WG + lane;
    let i = 4u * t;
    if (i >= p.len) {
        return;
    }
    let row = i / p.w2;
    let plane = row / p.h2;
    let a0 = At(plane / p.c2 * p.c, plane % p.c2, row % p.h2, i % p.w2);
    let a1 = next(a0);
    let a2 = next(a1);
    let a3 = next(a2);
    let v = vec4<f32>(folded(a0, true), folded(a1, i + 1u < p.len), folded(a2, i + 2u < p.len), folded(a3, i + 3u < p.len));
    textureStore(y, linear_at(t), v);
}
