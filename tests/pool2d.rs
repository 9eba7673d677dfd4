//! Pooling on the GPU against the reference, hand-computed windows, PyTorch's ceil_mode and
//! count_include_pad rules, NaN, and bad input.

mod common;

use common::{assert_close, gpu, random};
use dojang::error::Error;
use dojang::ops::{Padding, Pool2d, PoolKind, global_avg_pool, pool2d};
use dojang::tolerance::Tolerance;
use dojang::tools::cases;
use dojang::{Tensor, reference};

fn run(x: &[f32], xs: [usize; 4], attrs: &Pool2d) -> (Vec<f32>, Vec<f32>, [usize; 4]) {
    let geo = attrs.geometry(&xs).unwrap();
    let cpu = reference::pool2d(&geo, x).unwrap();
    let t = Tensor::from_slice(&gpu(), x, &xs).unwrap();
    let y = pool2d(&t, attrs).unwrap();
    assert_eq!(y.shape(), geo.output_shape());
    (cpu, y.download().unwrap(), geo.output_shape())
}

#[test]
fn matches_reference_over_the_case_table() {
    for c in cases::pool2d() {
        let x = random(c.input.iter().product(), 11);
        let (cpu, got, ys) = run(&x, c.input, &c.attrs);
        assert_close(c.name, &got, &cpu, &ys, Tolerance::default());
    }
}

#[test]
fn alexnet_pool_sizes() {
    let p = Pool2d::new(PoolKind::Max, [3, 3], [2, 2]);
    for (i, o) in [(55, 27), (27, 13), (13, 6)] {
        assert_eq!(p.geometry(&[1, 1, i, i]).unwrap().output_shape()[2], o);
    }
}

#[test]
fn hand_computed_windows() {
    // 4x4 ramp 1..16, 2x2 windows stride 2.
    let x: Vec<f32> = (1..=16).map(|v| v as f32).collect();
    let (cpu, got, _) = run(&x, [1, 1, 4, 4], &Pool2d::new(PoolKind::Max, [2, 2], [2, 2]));
    assert_eq!(cpu, vec![6.0, 8.0, 14.0, 16.0]);
    assert_eq!(got, cpu);
    let (cpu, got, _) = run(&x, [1, 1, 4, 4], &Pool2d::new(PoolKind::Avg, [2, 2], [2, 2]));
    assert_eq!(cpu, vec![3.5, 5.5, 11.5, 13.5]);
    assert_eq!(got, cpu);
    // 3x3 avg, pad 1: the corner window holds 1, 2, 5, 6 (sum 14) and 5 padded cells.
    let avg = Pool2d::new(PoolKind::Avg, [3, 3], [2, 2]).with_padding(Padding::symmetric(1, 1));
    let (_, got, _) = run(&x, [1, 1, 4, 4], &avg);
    assert_eq!(got[0], 14.0 / 4.0);
    let (_, got, _) = run(&x, [1, 1, 4, 4], &avg.with_count_include_pad(true));
    assert_eq!(got[0], 14.0 / 9.0);
}

#[test]
fn ceil_mode_follows_pytorch() {
    // 6 wide, window 3, stride 2: floor gives 2, ceil 3 (last window covers 4..6, clipped).
    let p = Pool2d::new(PoolKind::Max, [3, 3], [2, 2]);
    assert_eq!(p.geometry(&[1, 1, 6, 6]).unwrap().output_shape()[3], 2);
    assert_eq!(p.with_ceil_mode(true).geometry(&[1, 1, 6, 6]).unwrap().output_shape()[3], 3);
    // 5 wide, window 2, stride 2, pad 1: ceil((5+2−2)/2)+1 = 4, but that window would start at
    // 3·2 − 1 = 5, inside the right padding, so it is dropped: 3.
    let p = Pool2d::new(PoolKind::Max, [2, 2], [2, 2]).with_padding(Padding::symmetric(1, 1)).with_ceil_mode(true);
    assert_eq!(p.geometry(&[1, 1, 5, 5]).unwrap().output_shape()[3], 3);
    // ceil mode with count_include_pad: the clipped last window divides by its clipped size.
    let x: Vec<f32> = (0..6).map(|v| v as f32).collect();
    let p = Pool2d::new(PoolKind::Avg, [1, 4], [1, 4]).with_ceil_mode(true).with_count_include_pad(true);
    let (cpu, got, _) = run(&x, [1, 1, 1, 6], &p);
    assert_eq!(cpu, vec![1.5, 4.5]);
    assert_eq!(got, cpu);
}

#[test]
fn max_pool_propagates_nan() {
    let mut x = vec![1.0f32; 16];
    x[5] = f32::NAN;
    let (cpu, got, _) = run(&x, [1, 1, 4, 4], &Pool2d::new(PoolKind::Max, [2, 2], [2, 2]));
    assert!(cpu[0].is_nan() && got[0].is_nan(), "{got:?}");
    assert_eq!(&got[1..], &[1.0, 1.0, 1.0]);
}

/// Padding wider than the window (ONNX allows any), worked out by hand on x = 1..12 in a 3x4
/// plane with pads (top 3, left 0, bottom 2, right 3), a 2x2 window and stride 2: the output
/// is 4x3, its first and last rows and last column lie wholly in the padding.
#[test]
fn padding_wider_than_the_window() {
    let x: Vec<f32> = (1..=12).map(|v| v as f32).collect();
    let max = Pool2d::new(PoolKind::Max, [2, 2], [2, 2]).with_padding(Padding::new(3, 0, 2, 3));
    let (cpu, got, shape) = run(&x, [1, 1, 3, 4], &max);
    assert_eq!(shape, [1, 1, 4, 3]);
    let expected = [0.0, 0.0, 0.0, 2.0, 4.0, 0.0, 10.0, 12.0, 0.0, 0.0, 0.0, 0.0];
    assert_eq!(got, expected);
    assert_eq!(cpu, expected);

    // Without count_include_pad an empty window averages nothing: NaN.
    let avg = Pool2d { kind: PoolKind::Avg, ..max };
    let (cpu, got, _) = run(&x, [1, 1, 3, 4], &avg);
    let nan = f32::NAN;
    let expected = [nan, nan, nan, 1.5, 3.5, nan, 7.5, 9.5, nan, nan, nan, nan];
    assert_close("avg, padding excluded", &got, &expected, &shape, Tolerance { atol: 0.0, rtol: 0.0 });
    assert_close("avg reference", &cpu, &expected, &shape, Tolerance { atol: 0.0, rtol: 0.0 });

    // With it, the divisor is the window clipped to the padded input: 4 cells everywhere.
    let (cpu, got, _) = run(&x, [1, 1, 3, 4], &avg.with_count_include_pad(true));
    let expected = [0.0, 0.0, 0.0, 0.75, 1.75, 0.0, 7.5, 9.5, 0.0, 0.0, 0.0, 0.0];
    assert_eq!(got, expected);
    assert_eq!(cpu, expected);
}

#[test]
fn global_average_pool() {
    let x: Vec<f32> = (0..2 * 3 * 5 * 7).map(|v| v as f32).collect();
    let y = global_avg_pool(&Tensor::from_slice(&gpu(), &x, &[2, 3, 5, 7]).unwrap()).unwrap();
    assert_eq!(y.shape(), [2, 3, 1, 1]);
    // Each plane holds 35 consecutive integers: their mean is the middle one.
    let expected: Vec<f32> = (0..6).map(|p| (p * 35 + 17) as f32).collect();
    assert_eq!(y.download().unwrap(), expected);
}

/// llvmpipe ends an invocation's loops after 65,535 iterations in all: a global average over
/// a plane past that runs in two passes, and a single window past it is refused.
#[test]
fn windows_past_the_loop_budget() {
    let (h, w) = (700, 300);
    let x: Vec<f32> = (0..h * w).map(|i| ((i * 7919) % 1000) as f32 / 1000.0).collect();
    let y = global_avg_pool(&Tensor::from_slice(&gpu(), &x, &[1, 1, h, w]).unwrap()).unwrap();
    let mean = x.iter().map(|&v| v as f64).sum::<f64>() / x.len() as f64;
    let got = y.download().unwrap()[0] as f64;
    assert!((got - mean).abs() < 1e-5, "gpu {got}, exact {mean}");

    let x = Tensor::zeros(&gpu(), &[1, 1, 300, 300]).unwrap();
    let e = pool2d(&x, &Pool2d::new(PoolKind::Max, [300, 300], [1, 1])).unwrap_err();
    assert!(matches!(e, Error::Limit { needed: 90_300, limit: 65_000, .. }), "{e}");
}

#[test]
fn bad_input_is_a_typed_error() {
    let x = Tensor::zeros(&gpu(), &[1, 2, 4, 4]).unwrap();
    let e = pool2d(&x, &Pool2d::new(PoolKind::Max, [5, 5], [1, 1])).unwrap_err();
    assert!(matches!(e, Error::EmptyOutput { out_h: 0, out_w: 0, window_h: 5, .. }), "{e}");
    let e = pool2d(&x, &Pool2d::new(PoolKind::Avg, [2, 2], [0, 1])).unwrap_err();
    assert!(matches!(e, Error::Zero { what: "stride", .. }), "{e}");
    let e = pool2d(&x, &Pool2d::new(PoolKind::Avg, [0, 2], [1, 1])).unwrap_err();
    assert!(matches!(e, Error::Zero { what: "kernel", .. }), "{e}");
    let flat = Tensor::zeros(&gpu(), &[2, 8]).unwrap();
    assert!(matches!(global_avg_pool(&flat).unwrap_err(), Error::Rank { expected: 4, .. }));
}
