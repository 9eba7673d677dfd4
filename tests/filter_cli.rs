//! `dojang-filter` as a user runs it: small images written here, every named filter run and
//! its pixels compared with a convolution computed here; edges of a square where they must
//! be; a 12-megapixel image in one call; bad input with exit code 2.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use image::{GrayImage, ImageBuffer, Luma, Rgb, RgbImage};

fn filter(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dojang-filter")).args(args).output().expect("dojang-filter runs")
}

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("dojang-filter-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A 23x17 colour test image: a gradient per channel and a bright block.
fn test_image() -> RgbImage {
    ImageBuffer::from_fn(23, 17, |x, y| {
        let block = (6..14).contains(&x) && (5..11).contains(&y);
        let v = |a: u32, b: u32| ((a * 11 + b * 7) % 256) as u8;
        if block { Rgb([250, 240, 230]) } else { Rgb([v(x, y), v(y, 2 * x), v(x + y, 3)]) }
    })
}

/// The named filters' kernels and output maps, written out here (not taken from the tool).
fn expected_kernels(name: &str) -> (Vec<Vec<f32>>, &'static str) {
    let sobel_x = vec![-1.0, 0.0, 1.0, -2.0, 0.0, 2.0, -1.0, 0.0, 1.0];
    let sobel_y = vec![-1.0, -2.0, -1.0, 0.0, 0.0, 0.0, 1.0, 2.0, 1.0];
    let binomial = [1.0, 4.0, 6.0, 4.0, 1.0];
    match name {
        "identity" => (vec![vec![0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0]], "clamp"),
        "box-blur" => (vec![vec![1.0 / 9.0; 9]], "clamp"),
        "gaussian-blur" => (vec![binomial.iter().flat_map(|a| binomial.map(|b| a * b / 256.0)).collect()], "clamp"),
        "sharpen" => (vec![vec![0.0, -1.0, 0.0, -1.0, 5.0, -1.0, 0.0, -1.0, 0.0]], "clamp"),
        "emboss" => (vec![vec![-2.0, -1.0, 0.0, -1.0, 1.0, 1.0, 0.0, 1.0, 2.0]], "clamp"),
        "laplacian" => (vec![vec![0.0, 1.0, 0.0, 1.0, -4.0, 1.0, 0.0, 1.0, 0.0]], "signed"),
        "sobel-x" => (vec![sobel_x], "signed"),
        "sobel-y" => (vec![sobel_y], "signed"),
        "edges" => (vec![sobel_x, sobel_y], "magnitude"),
        other => panic!("no filter {other}"),
    }
}

/// The filter over channel `c` of `img` with "same" padding in `mode` (replicate, reflect or
/// zeros), in f64, as pixel values 0–255.
fn expected(img: &RgbImage, name: &str, mode: &str) -> Vec<f64> {
    let (w, h) = (img.width() as i64, img.height() as i64);
    let (kernels, map) = expected_kernels(name);
    let k = (kernels[0].len() as f64).sqrt() as i64;
    // Reflect about the edge pixel, which is not repeated: −1 → 1, n → n − 2.
    let reflect = |v: i64, n: i64| {
        if v < 0 {
            -v
        } else if v >= n {
            2 * (n - 1) - v
        } else {
            v
        }
    };
    let px = |x: i64, y: i64, c: usize| {
        let (x, y) = match mode {
            "replicate" => (x.clamp(0, w - 1), y.clamp(0, h - 1)),
            "reflect" => (reflect(x, w), reflect(y, h)),
            _ if x < 0 || y < 0 || x >= w || y >= h => return 0.0,
            _ => (x, y),
        };
        img.get_pixel(x as u32, y as u32)[c] as f64 / 255.0
    };
    let respond = |kernel: &[f32], x: i64, y: i64, c: usize| {
        let mut s = 0.0;
        for ky in 0..k {
            for kx in 0..k {
                s += kernel[(ky * k + kx) as usize] as f64 * px(x + kx - k / 2, y + ky - k / 2, c);
            }
        }
        s
    };
    let mut out = Vec::new();
    for y in 0..h {
        for x in 0..w {
            for c in 0..3 {
                let r: Vec<f64> = kernels.iter().map(|kn| respond(kn, x, y, c)).collect();
                out.push(match map {
                    "clamp" => r[0].clamp(0.0, 1.0),
                    "signed" => {
                        (0.5 + r[0] / (2.0 * kernels[0].iter().map(|t| t.abs() as f64).sum::<f64>())).clamp(0.0, 1.0)
                    }
                    _ => (r[0] * r[0] + r[1] * r[1]).sqrt(),
                });
            }
        }
    }
    if map == "magnitude" {
        let strongest = out.iter().cloned().fold(0.0, f64::max);
        out.iter_mut().for_each(|v| *v /= strongest);
    }
    out.iter().map(|v| v * 255.0).collect()
}

#[test]
fn every_named_filter_matches_a_convolution_computed_here() {
    let d = dir("named");
    let input = d.join("in.png");
    let img = test_image();
    img.save(&input).unwrap();
    let names =
        ["identity", "box-blur", "gaussian-blur", "sharpen", "emboss", "laplacian", "sobel-x", "sobel-y", "edges"];
    // Every filter at the default padding (replicate), and two with the other modes.
    let runs = names.iter().map(|n| (*n, "replicate")).chain([("gaussian-blur", "zeros"), ("sobel-x", "reflect")]);
    for (name, mode) in runs {
        let output = d.join(format!("{name}-{mode}.png"));
        let mut args = vec![path(&input), path(&output), "--filter", name, "--check"];
        if mode != "replicate" {
            args.extend(["--padding-mode", mode]);
        }
        let out = filter(&args);
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{name}: {text}{}", String::from_utf8_lossy(&out.stderr));
        assert!(text.contains("GPU time") && text.contains("equal to the CPU reference"), "{name}: {text}");
        assert!(text.contains(&format!("({mode} padding)")), "{text}");
        let got = image::open(&output).unwrap().to_rgb8();
        assert_eq!(got.dimensions(), img.dimensions(), "{name}");
        for (i, (g, e)) in got.as_raw().iter().zip(expected(&img, name, mode)).enumerate() {
            // One level of rounding apart at most.
            assert!((*g as f64 - e).abs() <= 0.51, "{name}, {mode}: byte {i} is {g}, expected {e:.2}");
        }
    }
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn edges_of_a_square_are_where_its_sides_are() {
    let d = dir("square");
    let (input, output) = (d.join("square.png"), d.join("edges.png"));
    // A white 10x10 square at (8..18, 6..16) on black, grayscale: one channel in and out.
    let img: GrayImage =
        ImageBuffer::from_fn(26, 22, |x, y| Luma([if (8..18).contains(&x) && (6..16).contains(&y) { 255 } else { 0 }]));
    img.save(&input).unwrap();
    let out = filter(&[path(&input), path(&output), "--filter", "edges"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let got = image::open(&output).unwrap();
    assert_eq!(got.color(), image::ColorType::L8, "grayscale stays one channel");
    let got = got.to_luma8();
    // A 3x3 Sobel sees a side from the pixel on either side of it: columns 7, 8, 17, 18 along
    // the vertical sides, rows 5, 6, 15, 16 along the horizontal ones. Everything two pixels
    // away from a side is flat: black.
    for (x, y, p) in got.enumerate_pixels() {
        let near = |v: u32, a: u32, b: u32| v + 1 >= a && v <= a || v + 1 >= b && v <= b;
        let on_vertical = near(x, 8, 18) && (5..=16).contains(&y);
        let on_horizontal = near(y, 6, 16) && (7..=18).contains(&x);
        if on_vertical || on_horizontal {
            assert!(p[0] >= 64, "({x}, {y}) is on the square's side: {}", p[0]);
        } else {
            assert_eq!(p[0], 0, "({x}, {y}) is away from every side");
        }
    }
    std::fs::remove_dir_all(d).unwrap();
}

/// On a flat grey image, a blur keeps the border's brightness and edges draw no frame with
/// the default padding; zero padding darkens the border and frames it.
#[test]
fn replicated_padding_leaves_no_border() {
    let d = dir("border");
    let input = d.join("grey.png");
    let grey: GrayImage = ImageBuffer::from_pixel(12, 9, Luma([200]));
    grey.save(&input).unwrap();
    let run = |name: &str, mode: &str| {
        let output = d.join(format!("{name}-{mode}.png"));
        let out = filter(&[path(&input), path(&output), "--filter", name, "--padding-mode", mode]);
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        image::open(&output).unwrap().to_luma8()
    };
    assert!(run("gaussian-blur", "replicate").pixels().all(|p| p[0] == 200), "the blur keeps the border");
    assert!(run("gaussian-blur", "zeros").get_pixel(0, 0)[0] < 200, "zeros darken the corner");
    assert!(run("edges", "replicate").pixels().all(|p| p[0] == 0), "no frame");
    assert!(run("edges", "zeros").get_pixel(0, 4)[0] > 128, "zeros frame the image");
    let out = filter(&[path(&input), path(&d.join("x.png")), "--filter", "edges", "--padding-mode", "wrap"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--padding-mode takes replicate, reflect or zeros"));
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn a_custom_kernel_stride_padding_and_dilation() {
    let d = dir("custom");
    let (input, output) = (d.join("in.png"), d.join("out.png"));
    test_image().save(&input).unwrap();
    let out = filter(&[
        path(&input),
        path(&output),
        "--kernel",
        "1 0 -1; 2, 0, -2; 1 0 -1",
        "--stride",
        "2,3",
        "--padding",
        "2",
        "--dilation",
        "2",
        "--check",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    // (17 + 4 − 5) / 2 + 1 = 9 rows, (23 + 4 − 5) / 3 + 1 = 8 columns.
    assert_eq!(image::open(&output).unwrap().to_rgb8().dimensions(), (8, 9));
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn a_12_megapixel_image_runs_in_one_call() {
    let d = dir("12mp");
    let (input, output) = (d.join("big.png"), d.join("big-blur.png"));
    let img: RgbImage =
        ImageBuffer::from_fn(4000, 3000, |x, y| Rgb([(x % 256) as u8, (y % 256) as u8, ((x ^ y) % 256) as u8]));
    img.save(&input).unwrap();
    let out = filter(&[path(&input), path(&output), "--filter", "gaussian-blur", "--check"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}{}", String::from_utf8_lossy(&out.stderr));
    // 3 x 12 M floats (144 MB) pass lavapipe's 128 MiB binding: the convolution runs in parts.
    assert!(
        text.contains("GPU time") && text.contains("parts") && text.contains("equal to the CPU reference"),
        "{text}"
    );
    assert_eq!(image::open(&output).unwrap().to_rgb8().dimensions(), (4000, 3000));
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn bad_input_exits_2_with_a_clear_message() {
    let d = dir("bad");
    let (input, output) = (d.join("in.png"), d.join("out.png"));
    test_image().save(&input).unwrap();
    std::fs::write(d.join("not-an-image.png"), b"hello").unwrap();
    // A row of 40 M pixels: one output row is 160 MB, past a binding however it is cut.
    let wide: GrayImage = ImageBuffer::new(40_000_000, 1);
    wide.save(d.join("wide.png")).unwrap();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec![path(&d.join("missing.png")).into(), path(&output).into(), "--filter".into(), "sharpen".into()],
            "cannot read",
        ),
        (
            vec![path(&d.join("not-an-image.png")).into(), path(&output).into(), "--filter".into(), "sharpen".into()],
            "cannot read",
        ),
        (
            vec![path(&input).into(), path(&output).into(), "--filter".into(), "blurry".into()],
            "no filter `blurry`; the filters are: identity",
        ),
        (
            vec![path(&input).into(), path(&output).into(), "--kernel".into(), "1 2 3; 4 5".into()],
            "kernel row 2 has 2 values, row 1 has 3",
        ),
        (
            vec![path(&input).into(), path(&output).into(), "--kernel".into(), "1 x".into()],
            "`x` in the kernel is not a number",
        ),
        (
            vec![
                path(&input).into(),
                path(&output).into(),
                "--filter".into(),
                "edges".into(),
                "--stride".into(),
                "0".into(),
            ],
            "--stride takes N or ROWS,COLS",
        ),
        (
            vec![
                path(&input).into(),
                path(&output).into(),
                "--filter".into(),
                "edges".into(),
                "--padding".into(),
                "lots".into(),
            ],
            "--padding takes same, valid",
        ),
        (
            vec![path(&d.join("wide.png")).into(), path(&output).into(), "--filter".into(), "box-blur".into()],
            "one output row",
        ),
        (
            vec![path(&input).into(), path(&d.join("out.unknown")).into(), "--filter".into(), "box-blur".into()],
            "cannot write",
        ),
    ];
    for (args, message) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = filter(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(message), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
    std::fs::remove_dir_all(d).unwrap();
}
