//! dojang-filter: stamps a filter across an image on the GPU, the first lesson of the notes.
//!
//! Reads a PNG or JPEG, runs the filter as a depthwise convolution (one kernel per colour
//! channel, groups = channels; a grayscale image stays one channel, alpha is dropped), maps
//! the response back to pixels and writes the result (PNG or JPEG by the output's extension).
//! An image past the device's limits (a 12-megapixel photo is 144 MB of floats) runs in bands
//! of rows. Exit codes: 0 done (and, with --check, equal to the CPU reference), 1 the check
//! failed, 2 usage or input error.

#[path = "../common/app.rs"]
mod app;
mod filters;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;
use dojang::ops::{Conv2d, ConvWeight, PadMode, Padding};
use dojang::tolerance::Tolerance;
use dojang::{Gpu, Tensor, reference};

#[derive(Parser)]
#[command(
    name = "dojang-filter",
    version,
    about = "Filters an image on the GPU: a depthwise convolution per colour channel"
)]
struct Cli {
    /// Image to read (PNG or JPEG).
    input: PathBuf,
    /// Image to write (PNG or JPEG, by its extension).
    output: PathBuf,
    /// identity, box-blur, gaussian-blur, sharpen, emboss, laplacian, sobel-x, sobel-y, edges.
    #[arg(long, conflicts_with = "kernel", required_unless_present = "kernel")]
    filter: Option<String>,
    /// A kernel of your own, rows separated by `;`: "0 -1 0; -1 5 -1; 0 -1 0" (clamped).
    #[arg(long, allow_hyphen_values = true)]
    kernel: Option<String>,
    /// Step of the kernel in pixels, per axis: N or ROWS,COLS.
    #[arg(long, default_value = "1")]
    stride: String,
    /// Padding: same (the output keeps the size at stride 1), valid (none), or N pixels.
    #[arg(long, default_value = "same")]
    padding: String,
    /// What the padding holds: replicate (the edge pixels repeated, so a blur keeps the
    /// border's brightness and edges draw no frame), reflect, or zeros.
    #[arg(long, default_value = "replicate")]
    padding_mode: String,
    /// Spacing of the kernel's taps, per axis: N or ROWS,COLS.
    #[arg(long, default_value = "1")]
    dilation: String,
    /// Also run the CPU reference and compare (exit 1 when they differ).
    #[arg(long)]
    check: bool,
    /// Adapter to use: an index from `dojang-validate devices` or part of its name.
    #[arg(long, env = "DOJANG_ADAPTER")]
    adapter: Option<String>,
}

fn main() -> ExitCode {
    // SAFETY: first thing in main, one thread.
    unsafe { app::main("dojang-filter", || run(&Cli::parse())) }
}

/// An image as planes of [0, 1] floats: `[channels, height, width]`.
struct Planes {
    channels: usize,
    height: usize,
    width: usize,
    values: Vec<f32>,
}

fn run(cli: &Cli) -> Result<bool, String> {
    let filter = match (&cli.filter, &cli.kernel) {
        (Some(name), _) => filters::named(name)
            .ok_or_else(|| format!("no filter `{name}`; the filters are: {}", filters::NAMES.join(", ")))?,
        (None, Some(text)) => filters::parse_kernel(text)?,
        (None, None) => return Err("give --filter NAME or --kernel \"ROWS\"".into()),
    };
    let (stride, dilation) = (pair("stride", &cli.stride)?, pair("dilation", &cli.dilation)?);
    let image = read(&cli.input)?;
    let k = &filter.kernels[0];
    let padding = match cli.padding.as_str() {
        "same" => Padding::same([image.height, image.width], [k.kh, k.kw], stride, dilation),
        "valid" => Padding::default(),
        n => n
            .parse()
            .map(|n| Padding::symmetric(n, n))
            .map_err(|_| format!("--padding takes same, valid or a number of pixels, not `{n}`"))?,
    };
    // Zeros are the convolution's own padding; the other modes pad the image first.
    let (width, height) = (image.width, image.height);
    let (image, padding) = match cli.padding_mode.as_str() {
        "zeros" => (image, padding),
        "replicate" => (padded(image, &padding, PadMode::Edge)?, Padding::default()),
        "reflect" => (padded(image, &padding, PadMode::Reflect)?, Padding::default()),
        m => return Err(format!("--padding-mode takes replicate, reflect or zeros, not `{m}`")),
    };
    let attrs = Conv2d::default()
        .with_stride(stride[0], stride[1])
        .with_dilation(dilation[0], dilation[1])
        .with_padding(padding)
        .with_groups(image.channels);

    // Every colour channel gets each of the filter's kernels: [channels · kernels, 1, kh, kw].
    let per = filter.kernels.len();
    let ws = [image.channels * per, 1, k.kh, k.kw];
    let w: Vec<f32> = (0..image.channels).flat_map(|_| filter.kernels.iter().flat_map(|k| k.taps.clone())).collect();
    let xs = [1, image.channels, image.height, image.width];
    let geo = attrs.geometry(&xs, &ws, None).map_err(|e| e.to_string())?;

    let gpu = Gpu::with_adapter(cli.adapter.as_deref()).map_err(|e| e.to_string())?;
    let fail = |e: dojang::Error| e.to_string();
    let x = Tensor::from_slice(&gpu, &image.values, &xs).map_err(fail)?;
    let weight = ConvWeight::upload(&gpu, &w, None, ws, image.channels).map_err(fail)?;
    let y = Tensor::zeros(&gpu, &geo.output_shape()).map_err(fail)?;
    let launch = weight.record(&x, &y, &attrs).map_err(fail)?;
    launch.time().map_err(fail)?; // builds and tunes the kernels
    let seconds = launch.time().map_err(fail)?;
    let response = y.download().map_err(fail)?;
    let [_, _, oh, ow] = geo.output_shape();
    println!(
        "{} → {}: {width}x{height}x{} → {ow}x{oh}, {} ({} padding) on {} in {:.2} ms of GPU time ({})",
        cli.input.display(),
        cli.output.display(),
        image.channels,
        cli.filter.as_deref().unwrap_or("custom kernel"),
        cli.padding_mode,
        gpu.info().name,
        seconds * 1e3,
        launch.kernel()
    );

    let mut passed = true;
    if cli.check {
        let expected = reference::conv2d(&geo, &image.values, &w, None).map_err(fail)?;
        let c = Tolerance::for_reduction(k.kh * k.kw).compare(&response, &expected);
        passed = c.passed();
        match passed {
            true => println!("check: equal to the CPU reference (max abs error {:.1e})", c.max_abs),
            false => println!("check: FAILED against the CPU reference: {}", c.describe(&geo.output_shape())),
        }
    }
    let pixels = filter.to_pixels(&response, image.channels, oh * ow);
    let out = Planes { channels: image.channels, height: oh, width: ow, values: pixels };
    write(&cli.output, &out)?;
    Ok(passed)
}

/// `image` padded by `padding` in `mode`, on the host as the image is prepared (a photo past
/// one storage binding is cut into bands by the convolution, not by this).
fn padded(image: Planes, padding: &Padding, mode: PadMode) -> Result<Planes, String> {
    let shape = [1, image.channels, image.height, image.width];
    let values = reference::pad(&image.values, &shape, padding, mode).map_err(|e| e.to_string())?;
    let (height, width) = (image.height + padding.top + padding.bottom, image.width + padding.left + padding.right);
    Ok(Planes { channels: image.channels, height, width, values })
}

/// `N` or `ROWS,COLS`, each at least 1.
fn pair(what: &str, text: &str) -> Result<[usize; 2], String> {
    let values: Vec<usize> = text.split(',').map(|v| v.trim().parse().unwrap_or(0)).collect();
    match values.as_slice() {
        [n] if *n > 0 => Ok([*n, *n]),
        [a, b] if *a > 0 && *b > 0 => Ok([*a, *b]),
        _ => Err(format!("--{what} takes N or ROWS,COLS of 1 or more, not `{text}`")),
    }
}

fn read(path: &Path) -> Result<Planes, String> {
    let image = image::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let (width, height) = (image.width() as usize, image.height() as usize);
    let plane = width * height;
    let (channels, interleaved) = match image.color().has_color() {
        true => (3, image.to_rgb32f().into_raw()),
        false => (1, image.to_luma32f().into_raw()),
    };
    // Interleaved pixels to planes (NCHW).
    let mut values = vec![0.0; channels * plane];
    for (i, v) in interleaved.iter().enumerate() {
        values[(i % channels) * plane + i / channels] = *v;
    }
    Ok(Planes { channels, height, width, values })
}

fn write(path: &Path, image: &Planes) -> Result<(), String> {
    let plane = image.width * image.height;
    let bytes: Vec<u8> = (0..plane * image.channels)
        .map(|i| (image.values[(i % image.channels) * plane + i / image.channels] * 255.0).round() as u8)
        .collect();
    let (w, h) = (image.width as u32, image.height as u32);
    let color = if image.channels == 3 { image::ExtendedColorType::Rgb8 } else { image::ExtendedColorType::L8 };
    image::save_buffer(path, &bytes, w, h, color).map_err(|e| format!("cannot write {}: {e}", path.display()))
}
