//! Tensors past the device's limits (lavapipe: a 128 MiB storage binding, 65,535 workgroups
//! per grid dimension, a 16,384-texel texture row): the ops cut them into parts that fit and
//! give what the reference gives. The inputs are large, so the reference is computed here, on
//! sampled outputs, by plain loops: every output row (a cut runs along rows or images) at the
//! first, a middle and the last columns, and every image of a batch run at a few positions.
//! What cannot be cut is a typed error naming the numbers, and the next call works.

mod common;

use common::random;
use dojang::error::Error;
use dojang::ops::{
    Conv2d, ConvKernel, Dense, DenseWeight, Lrn, PadMode, Padding, Pool2d, PoolKind, Tile, conv2d, conv2d_with, dense,
    lrn, pad, pool2d, relu, softmax,
};
use dojang::tolerance::Tolerance;
use dojang::{Tensor, reference};

/// The test device with autotuning off: these tests are about cutting, and tuning over
/// tensors this large would time every candidate on them.
fn gpu() -> dojang::Gpu {
    let gpu = common::gpu();
    gpu.set_autotune(dojang::Autotune::Off);
    gpu
}

/// NCHW index.
fn at(shape: [usize; 4], n: usize, c: usize, y: usize, x: usize) -> usize {
    ((n * shape[1] + c) * shape[2] + y) * shape[3] + x
}

/// One output of a convolution (stride 1, symmetric padding `pad`, no groups), in f64.
fn conv_at(
    x: &[f32],
    xs: [usize; 4],
    w: &[f32],
    ws: [usize; 4],
    pad: usize,
    (n, co, oy, ox): (usize, usize, usize, usize),
) -> f32 {
    let mut sum = 0f64;
    for ci in 0..ws[1] {
        for ky in 0..ws[2] {
            for kx in 0..ws[3] {
                let (iy, ix) = ((oy + ky) as i64 - pad as i64, (ox + kx) as i64 - pad as i64);
                if iy < 0 || ix < 0 || iy >= xs[2] as i64 || ix >= xs[3] as i64 {
                    continue;
                }
                let v = x[at(xs, n, ci, iy as usize, ix as usize)] as f64;
                sum += v * w[at(ws, co, ci, ky, kx)] as f64;
            }
        }
    }
    sum as f32
}

/// Output positions (n, c, y, x) to check in `[N, C, H, W]`: every row of every image at the
/// first, middle and last columns, the channel moving with the row.
fn samples(shape: [usize; 4]) -> Vec<(usize, usize, usize, usize)> {
    let [n, c, h, w] = shape;
    (0..n).flat_map(|i| (0..h).flat_map(move |y| [0, w / 2, w - 1].map(|x| (i, (y + x + i) % c, y, x)))).collect()
}

fn assert_samples(
    what: &str,
    got: &[f32],
    shape: [usize; 4],
    expected: impl Fn((usize, usize, usize, usize)) -> f32,
    tol: f32,
) {
    let mut checked = 0;
    for s in samples(shape) {
        let (g, e) = (got[at(shape, s.0, s.1, s.2, s.3)], expected(s));
        assert!((g - e).abs() <= tol * (1.0 + e.abs()), "{what} at {s:?}: got {g}, expected {e}");
        checked += 1;
    }
    assert!(checked >= shape[0] * shape[2] * 3, "{what}: {checked} samples");
}

#[test]
fn a_conv_and_a_pool_over_an_input_larger_than_a_binding() {
    let gpu = gpu();
    // 1x16x2048x2048 floats: 256 MiB, twice lavapipe's binding.
    let xs = [1, 16, 2048, 2048];
    let x = random(xs.iter().product(), 11);
    assert!(4 * x.len() as u64 > gpu.max_binding_bytes());
    let xt = Tensor::from_slice(&gpu, &x, &xs).unwrap();

    let ws = [16, 16, 3, 3];
    let w = random(ws.iter().product(), 12);
    let attrs = Conv2d::default().with_padding(Padding::symmetric(1, 1));
    let y = conv2d(&xt, &Tensor::from_slice(&gpu, &w, &ws).unwrap(), None, &attrs).unwrap();
    assert_eq!(y.shape(), xs);
    let got = y.download().unwrap();
    assert_samples("conv2d", &got, xs, |s| conv_at(&x, xs, &w, ws, 1, s), 1e-4);

    let pool = Pool2d::new(PoolKind::Max, [3, 3], [2, 2]).with_padding(Padding::symmetric(1, 1));
    let y = pool2d(&xt, &pool).unwrap();
    let ys = [1, 16, 1024, 1024];
    assert_eq!(y.shape(), ys);
    let got = y.download().unwrap();
    let max_at = |(n, c, oy, ox): (usize, usize, usize, usize)| {
        let mut m = f32::NEG_INFINITY;
        for iy in (2 * oy).saturating_sub(1)..(2 * oy + 2).min(xs[2]) {
            for ix in (2 * ox).saturating_sub(1)..(2 * ox + 2).min(xs[3]) {
                m = m.max(x[at(xs, n, c, iy, ix)]);
            }
        }
        m
    };
    assert_samples("max pool", &got, ys, max_at, 0.0);

    let attrs = Lrn { size: 5, alpha: 0.5, beta: 0.75, k: 2.0, groups: 1 };
    let got = lrn(&xt, &attrs).unwrap().download().unwrap();
    let lrn_at = |(n, c, y, x_): (usize, usize, usize, usize)| {
        let sq: f64 = (c.saturating_sub(2)..(c + 3).min(16)).map(|cc| (x[at(xs, n, cc, y, x_)] as f64).powi(2)).sum();
        (x[at(xs, n, c, y, x_)] as f64 / (2.0 + 0.5 / 5.0 * sq).powf(0.75)) as f32
    };
    assert_samples("lrn", &got, xs, lrn_at, 1e-5);

    // Reflect padding (ONNX's Pad): 2052x2050 output planes, run some planes at a time.
    let padding = Padding::new(3, 1, 1, 1);
    let got = pad(&xt, &padding, PadMode::Reflect).unwrap().download().unwrap();
    let ys = [1, 16, 2052, 2050];
    // The mirror of padded index `i` along an axis of `n` cells, `before` of them added.
    let mirror = |i: usize, before: usize, n: usize| {
        let s = i as i64 - before as i64;
        (if s < 0 {
            -s
        } else if s >= n as i64 {
            2 * (n as i64 - 1) - s
        } else {
            s
        }) as usize
    };
    let pad_at = |(n, c, y, x_): (usize, usize, usize, usize)| x[at(xs, n, c, mirror(y, 3, 2048), mirror(x_, 1, 2048))];
    assert_samples("reflect pad", &got, ys, pad_at, 0.0);
}

#[test]
fn a_softmax_larger_than_a_binding() {
    let gpu = gpu();
    let (n, c) = (5, 8_000_000);
    let x = random(n * c, 21);
    let got = softmax(&Tensor::from_slice(&gpu, &x, &[n, c]).unwrap()).unwrap().download().unwrap();
    let geo = dojang::ops::Softmax.geometry(&[1, c]).unwrap();
    for i in 0..n {
        let expected = reference::softmax(&geo, &x[i * c..(i + 1) * c]).unwrap();
        let cmp = Tolerance { atol: 1e-9, rtol: 1e-4 }.compare(&got[i * c..(i + 1) * c], &expected);
        assert!(cmp.passed(), "image {i}: {}", cmp.describe(&[c]));
    }
    // Rows past what the kernel's loops may walk on llvmpipe are refused, not truncated.
    let long = Tensor::zeros(&gpu, &[1, 25_000_000]).unwrap();
    assert!(matches!(softmax(&long).unwrap_err(), Error::Limit { needed: 25_000_000, .. }));
}

#[test]
fn a_relu_over_300_mb() {
    let gpu = gpu();
    let x = random(75_000_001, 13);
    let y = relu(&Tensor::from_slice(&gpu, &x, &[x.len()]).unwrap()).unwrap().download().unwrap();
    assert!(y.iter().zip(&x).all(|(g, v)| *g == v.max(0.0)), "relu differs");
}

#[test]
fn a_pointwise_conv_over_a_gigabyte() {
    let gpu = gpu();
    // 1x16x4096x4096: 1 GiB of input, 16.7 M pixels (a texture row holds 65,536 columns).
    let xs = [1, 16, 4096, 4096];
    let x = random(xs.iter().product(), 14);
    let ws = [4, 16, 1, 1];
    let w = random(64, 15);
    let y = conv2d(
        &Tensor::from_slice(&gpu, &x, &xs).unwrap(),
        &Tensor::from_slice(&gpu, &w, &ws).unwrap(),
        None,
        &Conv2d::default(),
    )
    .unwrap();
    let ys = [1, 4, 4096, 4096];
    assert_eq!(y.shape(), ys);
    assert_samples("1x1 conv", &y.download().unwrap(), ys, |s| conv_at(&x, xs, &w, ws, 0, s), 1e-4);
}

/// Checks `got` `[4096, …]` image by image against `reference` for images that a cut could
/// separate (every 31st, and the last).
fn assert_images(what: &str, got: &[f32], per_image: usize, expected: impl Fn(usize) -> Vec<f32>) {
    let images = got.len() / per_image;
    for i in (0..images).step_by(31).chain([images - 1]) {
        let e = expected(i);
        let c = Tolerance::for_reduction(27).compare(&got[i * per_image..(i + 1) * per_image], &e);
        assert!(c.passed(), "{what}, image {i}: {}", c.describe(&[per_image]));
    }
}

#[test]
fn a_batch_of_4096_images_through_conv_pool_lrn_and_softmax() {
    let gpu = gpu();
    let xs = [4096, 3, 32, 32];
    let per = 3 * 32 * 32;
    let x = random(xs.iter().product(), 16);
    let xt = Tensor::from_slice(&gpu, &x, &xs).unwrap();
    let image = |i: usize| &x[i * per..(i + 1) * per];

    let (ws, w) = ([8, 3, 3, 3], random(8 * 27, 17));
    let conv = Conv2d::default().with_relu(true);
    let wt = Tensor::from_slice(&gpu, &w, &ws).unwrap();
    let geo = conv.geometry(&[1, 3, 32, 32], &ws, None).unwrap();
    // The implicit GEMM runs a slice of its grid per image: 4,096 of them.
    for kernel in [ConvKernel::Auto, ConvKernel::Implicit(Tile { tm: 8, tn: 16 })] {
        let got = conv2d_with(&xt, &wt, None, &conv, kernel).unwrap().download().unwrap();
        let what = format!("conv2d {}", kernel.name());
        assert_images(&what, &got, 8 * 30 * 30, |i| reference::conv2d(&geo, image(i), &w, None).unwrap());
    }

    let pool = Pool2d::new(PoolKind::Avg, [2, 2], [2, 2]);
    let got = pool2d(&xt, &pool).unwrap().download().unwrap();
    let geo = pool.geometry(&[1, 3, 32, 32]).unwrap();
    assert_images("avg pool", &got, 3 * 16 * 16, |i| reference::pool2d(&geo, image(i)).unwrap());

    let attrs = Lrn { size: 3, alpha: 0.5, beta: 0.75, k: 1.0, groups: 1 };
    let got = lrn(&xt, &attrs).unwrap().download().unwrap();
    let geo = attrs.geometry(&[1, 3, 32, 32]).unwrap();
    assert_images("lrn", &got, per, |i| reference::lrn(&geo, image(i)).unwrap());

    let flat = Tensor::from_slice(&gpu, &x, &[4096, per]).unwrap();
    let got = softmax(&flat).unwrap().download().unwrap();
    let geo = dojang::ops::Softmax.geometry(&[1, per]).unwrap();
    assert_images("softmax", &got, per, |i| reference::softmax(&geo, image(i)).unwrap());
}

#[test]
fn a_dense_layer_of_70000_outputs() {
    let gpu = gpu();
    let (batch, inp, out) = (2, 64, 70_000);
    let (x, w, b) = (random(batch * inp, 18), random(out * inp, 19), random(out, 20));
    let attrs = Dense::default().with_relu(true);
    let y = dense(
        &Tensor::from_slice(&gpu, &x, &[batch, inp]).unwrap(),
        &Tensor::from_slice(&gpu, &w, &[out, inp]).unwrap(),
        Some(&Tensor::from_slice(&gpu, &b, &[out]).unwrap()),
        &attrs,
    )
    .unwrap();
    let geo = attrs.geometry(&[batch, inp], &[out, inp], Some(out)).unwrap();
    let expected = reference::dense(&geo, &x, &w, Some(&b)).unwrap();
    let c = Tolerance::for_reduction(inp).compare(&y.download().unwrap(), &expected);
    assert!(c.passed(), "{}", c.describe(&[batch, out]));
    // Past a texture row of 4-output texels (65,536 outputs on lavapipe): two slices, and the
    // same through a prepared weight.
    let weight = DenseWeight::upload(&gpu, &w, Some(&b), out, inp).unwrap();
    assert_eq!(weight.slice_count(), out.div_ceil(4 * gpu.limits().max_texture_dimension_2d as usize));
    let xt = Tensor::from_slice(&gpu, &x, &[batch, inp]).unwrap();
    let c = Tolerance::for_reduction(inp).compare(&weight.forward(&xt, &attrs).unwrap().download().unwrap(), &expected);
    assert!(c.passed(), "prepared: {}", c.describe(&[batch, out]));
}

#[test]
fn what_the_device_cannot_hold_is_an_error_and_the_next_call_works() {
    let gpu = gpu();
    let limit = gpu.limits().max_buffer_size;
    let floats = (limit / 4 + 1) as usize;
    let e = Tensor::zeros(&gpu, &[floats]).unwrap_err();
    match &e {
        Error::Limit { needed, limit: l, .. } => assert!(*needed > limit && *l == limit, "{e}"),
        other => panic!("expected a limit error, got {other:?}"),
    }
    assert!(e.to_string().contains(&limit.to_string()), "{e}");
    // One padded plane past a binding (6000x6000 floats, 144 MB) cannot be cut into planes.
    let x = Tensor::zeros(&gpu, &[1, 1, 6000, 5999]).unwrap();
    let e = pad(&x, &Padding::new(0, 0, 0, 1), PadMode::Edge).unwrap_err();
    assert!(matches!(e, Error::Limit { op: "pad", needed: 144_000_000, .. }), "{e}");
    assert!(e.to_string().contains("a plane of 144000000 bytes"), "{e}");
    let y = relu(&Tensor::from_slice(&gpu, &[-1.0, 2.0], &[2]).unwrap()).unwrap();
    assert_eq!(y.download().unwrap(), [0.0, 2.0]);
}

#[test]
fn a_reshape_whose_product_overflows_is_an_error() {
    let t = Tensor::from_slice(&gpu(), &[1.0; 8], &[2, 4]).unwrap();
    let e = t.reshape(&[1 << 40, 1 << 40]).unwrap_err();
    assert!(matches!(e, Error::Overflow { op: "reshape", .. }), "{e}");
    assert!(e.to_string().contains("1099511627776 x 1099511627776"), "{e}");
    assert_eq!(t.reshape(&[8]).unwrap().shape(), [8]);
}

#[test]
fn empty_yardsticks_are_errors_not_panics() {
    let gpu = gpu();
    for (out, inp) in [(4096, 0), (0, 4096), (0, 0)] {
        let e = dojang::tools::roofline_gemv(&gpu, out, inp).unwrap_err();
        assert!(matches!(e, Error::Empty { .. }), "{e}");
        assert!(e.to_string().contains(&format!("[{out}, {inp}, 1]")), "{e}");
    }
    assert!(matches!(dojang::tools::roofline_gemm(&gpu, 0), Err(Error::Empty { .. })));
    assert!(dojang::tools::roofline_gemv(&gpu, 64, 64).unwrap().time().unwrap() >= 0.0);
}
