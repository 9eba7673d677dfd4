// subsample.wgsl — the input of a 1x1 convolution of a stride above 1 (or with padding)
// taken at its stride, so that the pointwise GEMM (gemm.wgsl's B_MODE 1 and 3) runs it:
//   y[n, c, Y, X] = x[n, c, SY·Y − pad_top, SX·X − pad_left], zero in the padding
// x is read from its buffer, not from a texture copy as the other convolution kernels read
// it: at stride 2 a quarter of its words are taken, and copying all of them into a texture
// costs more than the slower loads of those taken. Each invocation stores one texel of y (a
// linear texture, [N, C, OH, OW]); its 4 words may lie in two rows or planes, found by
// division for the first and by counting for the rest.
//
// Bindings (group 0)              mirrors SUBSAMPLE in src/ops/subsample.rs
//   0 x  storage read                             [N, C, H, W]
//   1 y  texture_storage_2d<rgba32float, write>  [N, C, OH, OW] as a linear texture
//   2 p  uniform             Uniforms (ConvDims of the convolution from conv_dims.wgsl first)
// Grid: one invocation per texel of y, in workgroups of WG folded into (x, y). Overrides: WG,
// TEX_SHIFT.

struct Uniforms {
    conv: ConvDims,
    len: u32, _pad0: u32, _pad1: u32, _pad2: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var y: texture_storage_2d<rgba32float, write>;
@group(0) @binding(2) var<uniform> p: Uniforms;

override WG: u32 = 64u;
override TEX_SHIFT: u32;

// Pixel (yy, xx) of y's plane `plane` (an image's channel), zero in the padding and past y's
// end (`inside` false).
fn taken(plane: u32, yy: u32, xx: u32, inside: bool) -> f32 {
    let c = p.conv;
    let iy = i32(c.stride_y * yy) - i32(c.pad_top);
    let ix = i32(c.stride_x * xx) - i32(c.pad_left);
    let ok = inside && iy >= 0 && iy < i32(c.h) && ix >= 0 && ix < i32(c.w);
    return select(0.0, x[select(0u, (plane * c.h + u32(iy)) * c.w + u32(ix), ok)], ok);
}

@compute @workgroup_size(WG, 1, 1)
fn subsample(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lane: u32,
) {
    let i = 4u * ((wid.x + wid.y * nwg.x) * WG + lane);
    if (i >= p.len) {
        return;
    }
    let row = i / p.conv.ow;
    var plane = row / p.conv.oh;
    var yy = row % p.conv.oh;
    var xx = i % p.conv.ow;
    var v = vec4<f32>(0.0);
    for (var j = 0u; j < 4u; j++) {
        v[j] = taken(plane, yy, xx, i + j < p.len);
        xx += 1u;
        if (xx == p.conv.ow) {
            xx = 0u;
            yy += 1u;
            if (yy == p.conv.oh) {
                yy = 0u;
                plane += 1u;
            }
        }
    }
    textureStore(y, linear_at(i / 4u), v);
}
