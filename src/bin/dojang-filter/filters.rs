//! The named filters: a kernel stamped over each colour channel (a depthwise convolution),
//! and how its response becomes a pixel again.

/// How a filter's response maps back to the image range [0, 1].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Output {
    /// Clamped to [0, 1]: filters that keep the image's range (blurs, sharpen, emboss).
    Clamp,
    /// Signed responses around mid-grey: 0.5 + v / (2·Σ|k|), exactly [0, 1] for inputs in it
    /// (laplacian, sobel-x, sobel-y: a flat region is grey, edges light or dark).
    Signed,
    /// The gradient magnitude √(gx² + gy²) of the two Sobel passes, scaled so that the
    /// strongest edge of the image is white (`edges`).
    Magnitude,
}

/// A filter: square kernels (one per output of a channel: two for `edges`) and its output map.
#[derive(Clone, Debug, PartialEq)]
pub struct Filter {
    pub kernels: Vec<Kernel>,
    pub output: Output,
}

/// A kh x kw kernel, row after row.
#[derive(Clone, Debug, PartialEq)]
pub struct Kernel {
    pub kh: usize,
    pub kw: usize,
    pub taps: Vec<f32>,
}

impl Kernel {
    fn square(k: usize, taps: &[f32]) -> Kernel {
        Kernel { kh: k, kw: k, taps: taps.to_vec() }
    }

    /// Σ|k|: the largest response on inputs in [0, 1] around zero.
    pub fn abs_sum(&self) -> f32 {
        self.taps.iter().map(|t| t.abs()).sum()
    }
}

/// The filter names, as `--filter` takes them.
pub const NAMES: &[&str] =
    &["identity", "box-blur", "gaussian-blur", "sharpen", "emboss", "laplacian", "sobel-x", "sobel-y", "edges"];

const SOBEL_X: [f32; 9] = [-1.0, 0.0, 1.0, -2.0, 0.0, 2.0, -1.0, 0.0, 1.0];
const SOBEL_Y: [f32; 9] = [-1.0, -2.0, -1.0, 0.0, 0.0, 0.0, 1.0, 2.0, 1.0];

/// The filter called `name`, or None.
pub fn named(name: &str) -> Option<Filter> {
    let one = |k: Kernel, output| Some(Filter { kernels: vec![k], output });
    match name {
        "identity" => one(Kernel::square(3, &[0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0]), Output::Clamp),
        "box-blur" => one(Kernel::square(3, &[1.0 / 9.0; 9]), Output::Clamp),
        "gaussian-blur" => {
            // The binomial 5x5: [1 4 6 4 1]ᵀ[1 4 6 4 1] / 256.
            let row = [1.0, 4.0, 6.0, 4.0, 1.0];
            let taps: Vec<f32> = row.iter().flat_map(|a| row.iter().map(move |b| a * b / 256.0)).collect();
            one(Kernel::square(5, &taps), Output::Clamp)
        }
        "sharpen" => one(Kernel::square(3, &[0.0, -1.0, 0.0, -1.0, 5.0, -1.0, 0.0, -1.0, 0.0]), Output::Clamp),
        "emboss" => one(Kernel::square(3, &[-2.0, -1.0, 0.0, -1.0, 1.0, 1.0, 0.0, 1.0, 2.0]), Output::Clamp),
        "laplacian" => one(Kernel::square(3, &[0.0, 1.0, 0.0, 1.0, -4.0, 1.0, 0.0, 1.0, 0.0]), Output::Signed),
        "sobel-x" => one(Kernel::square(3, &SOBEL_X), Output::Signed),
        "sobel-y" => one(Kernel::square(3, &SOBEL_Y), Output::Signed),
        "edges" => Some(Filter {
            kernels: vec![Kernel::square(3, &SOBEL_X), Kernel::square(3, &SOBEL_Y)],
            output: Output::Magnitude,
        }),
        _ => None,
    }
}

/// A kernel written as rows separated by `;`, values by spaces or commas:
/// `"0 -1 0; -1 5 -1; 0 -1 0"`. Its response is clamped.
pub fn parse_kernel(text: &str) -> Result<Filter, String> {
    let rows: Vec<Vec<f32>> = text
        .split(';')
        .map(|row| {
            row.split(|c: char| c.is_whitespace() || c == ',')
                .filter(|v| !v.is_empty())
                .map(|v| v.parse::<f32>().map_err(|_| format!("`{v}` in the kernel is not a number")))
                .collect()
        })
        .collect::<Result<_, _>>()?;
    let kw = rows.first().map_or(0, Vec::len);
    if kw == 0 {
        return Err("the kernel is empty (write rows like \"0 -1 0; -1 5 -1; 0 -1 0\")".into());
    }
    if let Some((i, row)) = rows.iter().enumerate().find(|(_, r)| r.len() != kw) {
        return Err(format!("kernel row {} has {} values, row 1 has {kw}", i + 1, row.len()));
    }
    if let Some(v) = rows.iter().flatten().find(|v| !v.is_finite()) {
        return Err(format!("kernel value {v} is not finite"));
    }
    let kernel = Kernel { kh: rows.len(), kw, taps: rows.concat() };
    Ok(Filter { kernels: vec![kernel], output: Output::Clamp })
}

impl Filter {
    /// Pixels (each of `outputs` per channel, channel-major as the convolution gives them) to
    /// image values in [0, 1], `plane` values per output.
    pub fn to_pixels(&self, y: &[f32], channels: usize, plane: usize) -> Vec<f32> {
        match self.output {
            Output::Clamp => y.iter().map(|v| v.clamp(0.0, 1.0)).collect(),
            Output::Signed => {
                let scale = 2.0 * self.kernels[0].abs_sum();
                y.iter().map(|v| (0.5 + v / scale).clamp(0.0, 1.0)).collect()
            }
            Output::Magnitude => {
                // Output channel 2c is gx of colour channel c, 2c + 1 its gy.
                let magnitude: Vec<f32> = (0..channels)
                    .flat_map(|c| {
                        let (gx, gy) = (&y[2 * c * plane..][..plane], &y[(2 * c + 1) * plane..][..plane]);
                        gx.iter().zip(gy).map(|(a, b)| (a * a + b * b).sqrt())
                    })
                    .collect();
                let strongest = magnitude.iter().cloned().fold(0.0f32, f32::max);
                // Under half a grey level's step is rounding, not an edge: a flat image stays
                // black rather than its rounding noise being stretched to white.
                let scale = if strongest > 0.5 / 255.0 { 1.0 / strongest } else { 0.0 };
                magnitude.iter().map(|m| (m * scale).clamp(0.0, 1.0)).collect()
            }
        }
    }
}
