// tensor_to_image.wgsl — channels of one image of a tensor as a texture's texels, written
// into a buffer that a copy then moves into the texture (any image format, as its bytes):
//   pixel = clamp((x[n, ch[k], oy, ox] − low) / (high − low), 0, 1)   for k = R, G, B; alpha 1
// packed per FORMAT: 0 rgba8 (sRGB textures take the same bytes), 1 bgra8, 2 rgba16float,
// 3 rgba32float, into `words` u32s per texel, rows `pitch` words apart (a copy's rows are
// 256-byte aligned). Each invocation packs one texel.
//
// Bindings (group 0)              mirrors TENSOR_TO_IMAGE in src/ops/image.rs
//   0 x   storage read             [N, C, H, W]
//   1 out storage read_write       H rows of `pitch` u32 words
//   2 p   uniform                  Uniforms
// Grid: x = blocks of WG columns, y = rows. Overrides: WG, FORMAT.

struct Uniforms {
    c: u32, h: u32, w: u32, image: u32,
    ch_r: u32, ch_g: u32, ch_b: u32, pitch: u32,
    low: f32, scale: f32, _pad0: u32, _pad1: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;
@group(0) @binding(2) var<uniform> p: Uniforms;

override WG: u32 = 64u;
override FORMAT: u32 = 0u;

// The half float nearest a value in [0, 1] (ties to even), as bits: by hand, since
// pack2x16float needs a shader capability not every adapter has.
fn half_bits(v: f32) -> u32 {
    let bits = bitcast<u32>(v);
    let e = i32(bits >> 23u) - 127;
    if (e < -14) {
        // Subnormal: a multiple of 2^-24 (the largest rounds up to the smallest normal).
        return u32(round(v * 16777216.0));
    }
    let h = (u32(e + 15) << 10u) | ((bits & 0x7fffffu) >> 13u);
    let rest = bits & 0x1fffu;
    return h + u32(rest > 0x1000u || (rest == 0x1000u && (h & 1u) == 1u));
}

fn pack_halves(a: f32, b: f32) -> u32 {
    return half_bits(a) | (half_bits(b) << 16u);
}

@compute @workgroup_size(WG, 1, 1)
fn tensor_to_image(@builtin(global_invocation_id) gid: vec3<u32>) {
    let ox = gid.x;
    let oy = gid.y;
    if (ox >= p.w || oy >= p.h) {
        return;
    }
    let plane = p.h * p.w;
    let first = p.image * p.c * plane + oy * p.w + ox;
    let raw = vec3<f32>(x[first + p.ch_r * plane], x[first + p.ch_g * plane], x[first + p.ch_b * plane]);
    let v = vec4<f32>(clamp((raw - p.low) / p.scale, vec3<f32>(0.0), vec3<f32>(1.0)), 1.0);
    let row = oy * p.pitch;
    switch (FORMAT) {
        case 1u: {
            out[row + ox] = pack4x8unorm(v.bgra);
        }
        case 2u: {
            out[row + 2u * ox] = pack_halves(v.r, v.g);
            out[row + 2u * ox + 1u] = pack_halves(v.b, v.a);
        }
        case 3u: {
            let bits = bitcast<vec4<u32>>(v);
            out[row + 4u * ox] = bits.x;
            out[row + 4u * ox + 1u] = bits.y;
            out[row + 4u * ox + 2u] = bits.z;
            out[row + 4u * ox + 3u] = bits.w;
        }
        default: {
            out[row + ox] = pack4x8unorm(v);
        }
    }
}
