//! Images in and out of tensors on the CPU, from a texture's bytes: decoding each format
//! (byte order, sRGB, half floats) as [`crate::attrs::image`] defines a texel's value,
//! bilinear scaling with half-integer pixel centres, the centre crop and normalisation; and
//! a tensor's channels as a texture's bytes.

use crate::attrs::{ImageFormat, ImageGeometry, ImageInput, ValueRange};
use crate::error::{Error, Result};

/// The texels of an image of `format` stored as `bytes` (rows of texels, no padding), each
/// `[r, g, b, a]` as the image stores it: 8-bit channels / 255 (sRGB ones too), float
/// channels as they are.
pub fn decode_texels(format: ImageFormat, bytes: &[u8]) -> Vec<[f32; 4]> {
    use ImageFormat::*;
    let unorm = |b: u8| b as f32 / 255.0;
    bytes
        .chunks_exact(format.texel_bytes())
        .map(|t| match format {
            Bgra8Unorm => [unorm(t[2]), unorm(t[1]), unorm(t[0]), unorm(t[3])],
            Rgba16Float => std::array::from_fn(|c| half::f16::from_le_bytes([t[2 * c], t[2 * c + 1]]).to_f32()),
            Rgba32Float => std::array::from_fn(|c| f32::from_le_bytes(t[4 * c..4 * c + 4].try_into().unwrap())),
            Rgba8Unorm | Rgba8UnormSrgb => std::array::from_fn(|c| unorm(t[c])),
        })
        .collect()
}

/// One image `[3, H, W]` (planes R, G, B) from `texels` (`[height, width]` of them, row after
/// row) as `input` prepares it.
pub fn image_to_tensor(texels: &[[f32; 4]], size: [usize; 2], input: &ImageInput) -> Result<Vec<f32>> {
    let geo = input.geometry(size)?;
    if texels.len() != size[0] * size[1] {
        return Err(Error::DataLength {
            shape: size.as_slice().into(),
            expected: size[0] * size[1],
            got: texels.len(),
        });
    }
    let ImageGeometry { image: [ih, iw], scaled: [sh, sw], origin: [top, left], out: [oh, ow] } = geo;
    let plane = oh * ow;
    let mut out = vec![0.0; 3 * plane];
    for y in 0..oh {
        let (y0, y1, fy) = source(top + y, ih, sh);
        for x in 0..ow {
            let (x0, x1, fx) = source(left + x, iw, sw);
            let at = |yy: usize, xx: usize, c: usize| texels[yy * iw + xx][c] as f64;
            for c in 0..3 {
                let above = at(y0, x0, c) * (1.0 - fx) + at(y0, x1, c) * fx;
                let below = at(y1, x0, c) * (1.0 - fx) + at(y1, x1, c) * fx;
                let v = above * (1.0 - fy) + below * fy;
                out[c * plane + y * ow + x] = ((v - input.mean[c] as f64) / input.std[c] as f64) as f32;
            }
        }
    }
    Ok(out)
}

/// Where scaled pixel `i` of `scaled` reads in an axis of `n` pixels: the two neighbours and
/// the weight of the second (centres at half integers, clamped at the edges).
fn source(i: usize, n: usize, scaled: usize) -> (usize, usize, f64) {
    let at = ((i as f64 + 0.5) * n as f64 / scaled as f64 - 0.5).clamp(0.0, (n - 1) as f64);
    let first = at.floor() as usize;
    (first, (first + 1).min(n - 1), at - first as f64)
}

/// Image `image` of `x` (`[N, C, H, W]` flattened, `shape` its dims) as the bytes of a
/// texture of `format` and H x W texels: `channels` (one for grey, or three for R, G, B)
/// mapped by `range`, alpha 1; 8-bit channels rounded to the nearest step.
pub fn tensor_to_image(
    x: &[f32],
    shape: [usize; 4],
    image: usize,
    channels: &[usize],
    range: ValueRange,
    format: ImageFormat,
) -> Vec<u8> {
    use ImageFormat::*;
    let [_, c, h, w] = shape;
    let plane = h * w;
    let mut bytes = Vec::with_capacity(format.texel_bytes() * plane);
    for p in 0..plane {
        let value = |k: usize| range.map(x[(image * c + channels[k.min(channels.len() - 1)]) * plane + p]);
        let rgba = [value(0), value(1), value(2), 1.0];
        let byte = |v: f32| (v * 255.0).round_ties_even() as u8;
        match format {
            Bgra8Unorm => bytes.extend([rgba[2], rgba[1], rgba[0], rgba[3]].map(byte)),
            Rgba16Float => rgba.iter().for_each(|&v| bytes.extend(half::f16::from_f32(v).to_le_bytes())),
            Rgba32Float => rgba.iter().for_each(|&v| bytes.extend(v.to_le_bytes())),
            Rgba8Unorm | Rgba8UnormSrgb => bytes.extend(rgba.map(byte)),
        }
    }
    bytes
}
