// image_to_tensor.wgsl — one image of a network's input from a texture, on the GPU:
//   y[n, c, oy, ox] = (bilinear(img, origin + (oy, ox))[c] − mean[c]) / std[c]   for c = R, G, B
// where bilinear samples the image scaled to SH x SW with pixel centres at half integers
// (clamped at the edges) and origin is the centre crop's corner. A texel's value is what the
// image stores: an sRGB texture, which textureLoad decodes to linear light, is encoded again
// and rounded to its byte's step (SRGB = 1). Alpha is dropped. Each invocation writes one pixel's three channels.
//
// Bindings (group 0)              mirrors IMAGE_TO_TENSOR in src/ops/image.rs
//   0 img texture_2d<f32>          any of the image formats, read by textureLoad
//   1 y   storage read_write       [N, 3, OH, OW] (image n written)
//   2 p   uniform                  Uniforms
// Grid: x = blocks of WG output columns, y = output rows. Overrides: WG, SRGB.

struct Uniforms {
    ih: u32, iw: u32, sh: u32, sw: u32,
    top: u32, left: u32, oh: u32, ow: u32,
    image: u32, mean_r: f32, mean_g: f32, mean_b: f32,
    inv_std_r: f32, inv_std_g: f32, inv_std_b: f32, _pad: u32,
}

@group(0) @binding(0) var img: texture_2d<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> p: Uniforms;

override WG: u32 = 64u;
override SRGB: u32 = 0u;

// The stored value of a texel: sRGB's encoding undone by the load, applied again.
fn texel(yy: u32, xx: u32) -> vec3<f32> {
    let v = textureLoad(img, vec2<u32>(xx, yy), 0).rgb;
    if (SRGB == 0u) {
        return v;
    }
    let c = clamp(v, vec3<f32>(0.0), vec3<f32>(1.0));
    let encoded = select(1.055 * pow(c, vec3<f32>(1.0 / 2.4)) - 0.055, 12.92 * c, c <= vec3<f32>(0.0031308));
    // The stored value is a byte: the nearest step undoes the decoder's approximation.
    return round(encoded * 255.0) / 255.0;
}

// Where scaled pixel i of an axis scaled from n to s pixels reads: its two neighbours and
// the weight of the second.
struct Source { first: u32, second: u32, weight: f32 }

fn source(i: u32, n: u32, s: u32) -> Source {
    let at = clamp((f32(i) + 0.5) * f32(n) / f32(s) - 0.5, 0.0, f32(n - 1u));
    let first = u32(floor(at));
    return Source(first, min(first + 1u, n - 1u), at - f32(first));
}

@compute @workgroup_size(WG, 1, 1)
fn image_to_tensor(@builtin(global_invocation_id) gid: vec3<u32>) {
    let ox = gid.x;
    let oy = gid.y;
    if (ox >= p.ow || oy >= p.oh) {
        return;
    }
    let sy = source(p.top + oy, p.ih, p.sh);
    let sx = source(p.left + ox, p.iw, p.sw);
    let above = mix(texel(sy.first, sx.first), texel(sy.first, sx.second), sx.weight);
    let below = mix(texel(sy.second, sx.first), texel(sy.second, sx.second), sx.weight);
    let mean = vec3<f32>(p.mean_r, p.mean_g, p.mean_b);
    let v = (mix(above, below, sy.weight) - mean) * vec3<f32>(p.inv_std_r, p.inv_std_g, p.inv_std_b);
    let plane = p.oh * p.ow;
    let at = 3u * p.image * plane + oy * p.ow + ox;
    y[at] = v.x;
    y[at + plane] = v.y;
    y[at + 2u * plane] = v.z;
}
