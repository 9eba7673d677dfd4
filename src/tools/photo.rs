//! Photos into a classifier's input: decode (PNG or JPEG), scale to cover the input with a
//! triangle filter on float pixels (antialiased when shrinking), centre-crop, normalise per
//! channel. What `dojang-classify` does to each image, kept here so the tests check it.

use std::path::Path;

use image::imageops::{self, FilterType};

/// Per-channel normalisation: `(pixel − mean) / std`, pixels in [0, 1].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Normalise {
    pub mean: [f32; 3],
    pub std: [f32; 3],
}

impl Normalise {
    /// ImageNet's statistics, as torchvision's classifiers were trained with.
    pub const IMAGENET: Normalise = Normalise { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
}

/// How a photo becomes an input of `[channels, height, width]`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Prepare {
    /// 3 (RGB) or 1 (luma as ITU-R 601 weighs it, normalised with the first mean and std).
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    pub normalise: Normalise,
}

/// Reads the photo at `path` and prepares it: `channels · height · width` floats, planes
/// (NCHW order for one image).
pub fn load(path: &Path, prepare: &Prepare) -> Result<Vec<f32>, String> {
    let image = image::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    prepare.apply(&image).map_err(|e| format!("{}: {e}", path.display()))
}

impl Prepare {
    /// The size a `width` x `height` photo is scaled to before the crop, `[width, height]`:
    /// just enough to cover the input (the shorter side, for a square input).
    pub fn scaled_size(&self, width: usize, height: usize) -> [usize; 2] {
        let (w, h) = (width as f64, height as f64);
        let scale = (self.height as f64 / h).max(self.width as f64 / w);
        // Rounding never leaves it a pixel short.
        [((w * scale).round() as usize).max(self.width), ((h * scale).round() as usize).max(self.height)]
    }

    /// Prepares a decoded photo (alpha dropped, grayscale photos repeated into RGB).
    pub fn apply(&self, image: &image::DynamicImage) -> Result<Vec<f32>, String> {
        let (width, height) = (image.width() as usize, image.height() as usize);
        if width == 0 || height == 0 {
            return Err("an empty image".into());
        }
        let [sw, sh] = self.scaled_size(width, height);
        let rgb = image.to_rgb32f();
        let scaled = match [sw, sh] == [width, height] {
            true => rgb,
            false => imageops::resize(&rgb, sw as u32, sh as u32, FilterType::Triangle),
        };
        let (left, top) = ((sw - self.width) / 2, (sh - self.height) / 2);
        let plane = self.height * self.width;
        let mut out = vec![0.0; self.channels * plane];
        for y in 0..self.height {
            for x in 0..self.width {
                let p = scaled.get_pixel((left + x) as u32, (top + y) as u32).0;
                let at = y * self.width + x;
                let Normalise { mean, std } = self.normalise;
                match self.channels {
                    1 => out[at] = (0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2] - mean[0]) / std[0],
                    _ => (0..3).for_each(|c| out[c * plane + at] = (p[c] - mean[c]) / std[c]),
                }
            }
        }
        Ok(out)
    }
}
