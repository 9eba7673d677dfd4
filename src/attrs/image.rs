//! Images in and out of tensors: how a texture becomes one image of a network's input
//! (scaled, centre-cropped, normalised per channel) and how a tensor's channels become
//! pixels again, with the checked sizes both the GPU ops and the CPU reference take.
//!
//! A texel's value is what the image stores, as a photo's file holds it: an 8-bit channel
//! is its byte / 255 in every 8-bit format, sRGB ones included (networks are trained on the
//! encoded values; the GPU decodes an sRGB texture to linear light when it loads it, and the
//! kernel encodes it again), a float channel is its value. Writing is the same rule backwards.

use crate::error::{Error, Result};

/// The texture formats the image ops take (wgpu's of the same names).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageFormat {
    /// 8 bits per channel, R, G, B, A.
    Rgba8Unorm,
    /// The same bytes, sRGB-encoded (the GPU decodes them when a shader loads them).
    Rgba8UnormSrgb,
    /// 8 bits per channel stored B, G, R, A (a swapchain's usual order).
    Bgra8Unorm,
    /// Half floats, R, G, B, A.
    Rgba16Float,
    /// Floats, R, G, B, A.
    Rgba32Float,
}

impl ImageFormat {
    /// Every format, in the order above.
    pub const ALL: [ImageFormat; 5] = [
        ImageFormat::Rgba8Unorm,
        ImageFormat::Rgba8UnormSrgb,
        ImageFormat::Bgra8Unorm,
        ImageFormat::Rgba16Float,
        ImageFormat::Rgba32Float,
    ];

    /// Bytes of one texel.
    pub fn texel_bytes(self) -> usize {
        match self {
            ImageFormat::Rgba16Float => 8,
            ImageFormat::Rgba32Float => 16,
            _ => 4,
        }
    }
}

/// How an image becomes a network's input: scaled (bilinear, pixel centres at half
/// integers, as PyTorch's `interpolate(align_corners=False)` without antialiasing), then
/// centre-cropped, then `(value − mean) / std` per channel; alpha is dropped.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ImageInput {
    /// The size the image is scaled to, `[height, width]`; None keeps its own.
    pub resize: Option<[usize; 2]>,
    /// The centre crop taken after scaling, `[height, width]`: the tensor's H and W. None
    /// takes the whole scaled image.
    pub crop: Option<[usize; 2]>,
    /// Per channel (R, G, B) mean, subtracted first.
    pub mean: [f32; 3],
    /// Per channel standard deviation, divided by.
    pub std: [f32; 3],
}

impl Default for ImageInput {
    /// The image as it is: no scaling, no crop, values in [0, 1].
    fn default() -> ImageInput {
        ImageInput { resize: None, crop: None, mean: [0.0; 3], std: [1.0; 3] }
    }
}

impl ImageInput {
    /// ImageNet's preprocessing for a `size` x `size` input, as torchvision's classifiers were
    /// trained with: scaled to `size · 8 / 7` (256 for 224) square, centre-cropped, normalised
    /// by ImageNet's statistics.
    pub fn imagenet(size: usize) -> ImageInput {
        let scaled = size * 8 / 7;
        ImageInput {
            resize: Some([scaled, scaled]),
            crop: Some([size, size]),
            mean: [0.485, 0.456, 0.406],
            std: [0.229, 0.224, 0.225],
        }
    }

    /// Scaled to `[height, width]` first.
    pub fn with_resize(self, size: [usize; 2]) -> ImageInput {
        ImageInput { resize: Some(size), ..self }
    }

    /// The centre `[height, width]` after scaling.
    pub fn with_crop(self, size: [usize; 2]) -> ImageInput {
        ImageInput { crop: Some(size), ..self }
    }

    /// Normalised per channel by `mean` and `std`.
    pub fn with_normalise(self, mean: [f32; 3], std: [f32; 3]) -> ImageInput {
        ImageInput { mean, std, ..self }
    }

    /// Checks the preprocessing of an image of `[height, width]` and works out its sizes.
    pub fn geometry(&self, image: [usize; 2]) -> Result<ImageGeometry> {
        const OP: &str = "image_to_tensor";
        if image.contains(&0) {
            return Err(Error::Zero { op: OP, what: "image size", value: image });
        }
        let scaled = self.resize.unwrap_or(image);
        if scaled.contains(&0) {
            return Err(Error::Zero { op: OP, what: "resize", value: scaled });
        }
        let out = self.crop.unwrap_or(scaled);
        if out.contains(&0) || out[0] > scaled[0] || out[1] > scaled[1] {
            return Err(Error::Crop { op: OP, crop: out, image: scaled });
        }
        if let Some(c) = self.std.iter().position(|&s| s == 0.0 || !s.is_finite()) {
            return Err(Error::Normalise { op: OP, channel: c, std: self.std[c] });
        }
        let origin = [(scaled[0] - out[0]) / 2, (scaled[1] - out[1]) / 2];
        Ok(ImageGeometry { image, scaled, origin, out })
    }
}

/// The checked sizes of [`ImageInput`] on one image, `[height, width]` each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImageGeometry {
    /// The image as given.
    pub image: [usize; 2],
    /// After scaling.
    pub scaled: [usize; 2],
    /// The crop's top-left corner in the scaled image.
    pub origin: [usize; 2],
    /// The tensor's H and W.
    pub out: [usize; 2],
}

/// How a tensor's values become pixel values in [0, 1]: `(v − low) / (high − low)`, clamped.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ValueRange {
    /// The value that becomes black.
    pub low: f32,
    /// The value that becomes white.
    pub high: f32,
}

impl ValueRange {
    /// Values as pixels, clamped to [0, 1] (the filter tool's blurs and sharpening).
    pub const UNIT: ValueRange = ValueRange { low: 0.0, high: 1.0 };

    /// Signed responses around mid-grey, `0.5 + v / (2 · half)`: the filter tool's edge
    /// filters with `half` the sum of their taps' magnitudes, so an image in [0, 1] stays in.
    pub fn signed(half: f32) -> ValueRange {
        ValueRange { low: -half, high: half }
    }

    /// Checks that the range is a finite interval.
    pub(crate) fn check(&self, op: &'static str) -> Result<()> {
        match self.low.is_finite() && self.high.is_finite() && self.low < self.high {
            true => Ok(()),
            false => Err(Error::ValueRange { op, low: self.low, high: self.high }),
        }
    }

    /// A value as a pixel value in [0, 1].
    pub fn map(&self, v: f32) -> f32 {
        ((v - self.low) / (self.high - self.low)).clamp(0.0, 1.0)
    }
}
