//! Property tests over random conv, pool and dense attributes and shapes, valid and invalid.
//! Whether a draw is valid is worked out here from the ONNX rules, apart from the crate's own
//! checks: a valid draw must run and match the CPU reference, an invalid one must come back
//! as a typed error from the GPU op, and nothing may panic or reach a wgpu validation error.
//! 700 cases in all, from a fixed seed; then 150 draws of absurd attributes (strides, dilations
//! and paddings near 2^31, 2^32, 2^62 and usize::MAX) on small tensors.

mod common;

use common::{absurd_size, assert_close, gpu, random};
use dojang::error::Error;
use dojang::ops::{Conv2d, Dense, Padding, Pool2d, PoolKind, conv2d, dense, pool2d};
use dojang::tolerance::Tolerance;
use dojang::{Result, Tensor, reference};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};

fn config(cases: u32) -> Config {
    Config { cases, rng_seed: RngSeed::Fixed(0x5eed), failure_persistence: None, ..Config::default() }
}

/// Output size along one axis of a window `k` (dilated to `d·(k−1)+1`) moving by `s` over
/// `input` padded by `pads` cells, as ONNX defines it; below 1 when nothing fits.
fn out_size(input: usize, pads: usize, k: usize, s: usize, d: usize) -> i64 {
    let span = (d * (k - 1) + 1) as i64;
    let room = (input + pads) as i64 - span;
    if room < 0 { 0 } else { room / s as i64 + 1 }
}

/// ceil_mode: one more window where a partial one fits, unless it would start in the
/// bottom/right padding (PyTorch's and ONNX's rule).
fn out_size_ceil(input: usize, pad_a: usize, pad_b: usize, k: usize, s: usize) -> i64 {
    let room = (input + pad_a + pad_b) as i64 - k as i64;
    if room < 0 {
        return 0;
    }
    let out = (room + s as i64 - 1) / s as i64 + 1;
    if (out - 1) * s as i64 >= (input + pad_a) as i64 { out - 1 } else { out }
}

/// The op's verdict on a draw the test judges `valid`: the output on the GPU, or its error.
fn expect_verdict(valid: bool, got: Result<Vec<f32>>) -> std::result::Result<Option<Vec<f32>>, TestCaseError> {
    match (valid, got) {
        (true, Ok(y)) => Ok(Some(y)),
        (true, Err(e)) => Err(TestCaseError::fail(format!("a valid draw failed: {e}"))),
        (false, Ok(_)) => Err(TestCaseError::fail("an invalid draw ran")),
        (false, Err(Error::Wgpu { op, message })) => {
            Err(TestCaseError::fail(format!("reached wgpu validation in {op}: {message}")))
        }
        (false, Err(_)) => Ok(None),
    }
}

proptest! {
    #![proptest_config(config(300))]
    #[test]
    fn random_convolutions(
        n in 1usize..3, groups in 0usize..4, cin in 1usize..9, cout in 1usize..9, w_cin in 1usize..5,
        kh in 1usize..5, kw in 1usize..5, sh in 0usize..4, sw in 1usize..4, dh in 1usize..3, dw in 0usize..3,
        h in 1usize..12, w in 1usize..12, pad in proptest::array::uniform4(0usize..4),
        relu: bool, bias_delta in prop_oneof![4 => Just(0i64), 1 => -1i64..=1],
        fit in prop_oneof![3 => Just(true), 1 => Just(false)],
    ) {
        // Most draws are shaped to fit (channels that divide by groups, the weight's channels
        // per group); the rest keep their random mismatches.
        let (cin, cout, w_cin) = match fit && groups > 0 {
            true => (cin.div_ceil(groups) * groups, cout.div_ceil(groups) * groups, cin.div_ceil(groups)),
            false => (cin, cout, w_cin),
        };
        // A bias of length 0 is no bias (a tensor cannot be empty).
        let bias_len = (cout as i64 + bias_delta).max(0) as usize;
        let p = Padding::new(pad[0], pad[1], pad[2], pad[3]);
        let attrs = Conv2d::default().with_stride(sh, sw).with_dilation(dh, dw).with_groups(groups).with_padding(p).with_relu(relu);
        let (xs, ws) = ([n, cin, h, w], [cout, w_cin, kh, kw]);

        let valid = groups > 0 && sh > 0 && sw > 0 && dh > 0 && dw > 0
            && cin % groups == 0 && cout % groups == 0 && w_cin == cin / groups && (bias_len == cout || bias_len == 0)
            && out_size(h, pad[0] + pad[2], kh, sh.max(1), dh.max(1)) >= 1
            && out_size(w, pad[1] + pad[3], kw, sw.max(1), dw.max(1)) >= 1;
        let gpu = gpu();
        let (x, wt, b) = (random(xs.iter().product(), 1), random(ws.iter().product(), 2), random(bias_len, 3));
        let run = || -> Result<Vec<f32>> {
            let bt = Tensor::from_slice(&gpu, &b, &[bias_len]).ok();
            conv2d(&Tensor::from_slice(&gpu, &x, &xs)?, &Tensor::from_slice(&gpu, &wt, &ws)?, bt.as_ref(), &attrs)?.download()
        };
        if let Some(got) = expect_verdict(valid, run())? {
            let bias = (bias_len > 0).then_some(b.as_slice());
            let geo = attrs.geometry(&xs, &ws, bias.map(<[f32]>::len)).unwrap();
            let expected = reference::conv2d(&geo, &x, &wt, bias).unwrap();
            assert_close("conv2d", &got, &expected, &geo.output_shape(), Tolerance::for_reduction(geo.reduction_len()));
        }
    }

    #[test]
    fn random_pools(
        n in 1usize..3, c in 1usize..5, h in 1usize..11, w in 1usize..11,
        kh in 0usize..5, kw in 1usize..5, sh in 1usize..4, sw in 0usize..4,
        pad in proptest::array::uniform4(0usize..6), max: bool, ceil_mode: bool, count_include_pad: bool,
    ) {
        let kind = if max { PoolKind::Max } else { PoolKind::Avg };
        let attrs = Pool2d::new(kind, [kh, kw], [sh, sw])
            .with_padding(Padding::new(pad[0], pad[1], pad[2], pad[3]))
            .with_ceil_mode(ceil_mode)
            .with_count_include_pad(count_include_pad);
        let xs = [n, c, h, w];
        let size = |input, a, b, k, s| match ceil_mode {
            true => out_size_ceil(input, a, b, k, s),
            false => out_size(input, a + b, k, s, 1),
        };
        let valid = kh > 0 && kw > 0 && sh > 0 && sw > 0
            && size(h, pad[0], pad[2], kh, sh) >= 1 && size(w, pad[1], pad[3], kw, sw) >= 1;
        let gpu = gpu();
        let x = random(xs.iter().product(), 4);
        let run = || -> Result<Vec<f32>> { pool2d(&Tensor::from_slice(&gpu, &x, &xs)?, &attrs)?.download() };
        if let Some(got) = expect_verdict(valid, run())? {
            let geo = attrs.geometry(&xs).unwrap();
            let expected = reference::pool2d(&geo, &x).unwrap();
            assert_close("pool2d", &got, &expected, &geo.output_shape(), Tolerance::for_reduction(kh * kw));
        }
    }
}

proptest! {
    #![proptest_config(config(100))]
    #[test]
    fn random_dense_layers(
        batch in 1usize..6, inp in 1usize..70, out in 1usize..24, relu: bool,
        w_delta in prop_oneof![4 => Just(0i64), 1 => -1i64..=1],
        bias_delta in prop_oneof![4 => Just(0i64), 1 => -1i64..=1],
    ) {
        let w_in = (inp as i64 + w_delta).max(1) as usize;
        let bias_len = (out as i64 + bias_delta).max(0) as usize;
        // A bias of length 0 is no bias (a tensor cannot be empty).
        let valid = w_in == inp && (bias_len == out || bias_len == 0);
        let gpu = gpu();
        let (x, w, b) = (random(batch * inp, 5), random(out * w_in, 6), random(bias_len, 7));
        let attrs = Dense::default().with_relu(relu);
        let run = || -> Result<Vec<f32>> {
            let bt = Tensor::from_slice(&gpu, &b, &[bias_len]).ok();
            let y = dense(&Tensor::from_slice(&gpu, &x, &[batch, inp])?, &Tensor::from_slice(&gpu, &w, &[out, w_in])?, bt.as_ref(), &attrs)?;
            y.download()
        };
        if let Some(got) = expect_verdict(valid, run())? {
            let bias = (bias_len > 0).then_some(b.as_slice());
            let geo = attrs.geometry(&[batch, inp], &[out, w_in], bias.map(<[f32]>::len)).unwrap();
            let expected = reference::dense(&geo, &x, &w, bias).unwrap();
            assert_close("dense", &got, &expected, &[batch, out], Tolerance::for_reduction(inp));
        }
    }
}

proptest! {
    #![proptest_config(config(150))]
    /// Absurd attributes on real tensors: the op runs and matches the reference (a huge stride
    /// is one window), or refuses with a typed error; nothing panics, in a debug build either
    /// (CI runs this file there), and nothing reaches wgpu's validation.
    #[test]
    fn absurd_attributes_are_errors_or_right(
        stride in proptest::array::uniform2(absurd_size()), dilation in proptest::array::uniform2(absurd_size()),
        pad in proptest::array::uniform4(absurd_size()), kernel in proptest::array::uniform2(1usize..4),
    ) {
        let gpu = gpu();
        let (xs, ws) = ([1, 2, 5, 6], [3, 2, kernel[0], kernel[1]]);
        let (x, w) = (random(xs.iter().product(), 8), random(ws.iter().product(), 9));
        let p = Padding::new(pad[0], pad[1], pad[2], pad[3]);
        let conv = Conv2d::default().with_stride(stride[0], stride[1]).with_dilation(dilation[0], dilation[1]).with_padding(p);
        let run = || -> Result<Vec<f32>> {
            conv2d(&Tensor::from_slice(&gpu, &x, &xs)?, &Tensor::from_slice(&gpu, &w, &ws)?, None, &conv)?.download()
        };
        match run() {
            Ok(got) => {
                let geo = conv.geometry(&xs, &ws, None).unwrap();
                let expected = reference::conv2d(&geo, &x, &w, None).unwrap();
                assert_close("conv2d", &got, &expected, &geo.output_shape(), Tolerance::for_reduction(geo.reduction_len()));
            }
            Err(Error::Wgpu { op, message }) => prop_assert!(false, "reached wgpu validation in {op}: {message}"),
            Err(_) => {}
        }
        let pool = Pool2d::new(PoolKind::Avg, kernel, stride).with_padding(p).with_count_include_pad(true);
        let run = || -> Result<Vec<f32>> { pool2d(&Tensor::from_slice(&gpu, &x, &xs)?, &pool)?.download() };
        match run() {
            Ok(got) => {
                let geo = pool.geometry(&xs).unwrap();
                let expected = reference::pool2d(&geo, &x).unwrap();
                assert_close("pool2d", &got, &expected, &geo.output_shape(), Tolerance::for_reduction(kernel[0] * kernel[1]));
            }
            Err(Error::Wgpu { op, message }) => prop_assert!(false, "reached wgpu validation in {op}: {message}"),
            Err(_) => {}
        }
    }
}
