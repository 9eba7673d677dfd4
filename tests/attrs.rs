//! The op attributes and their checked geometry, without a GPU: absurd numbers (a dilation of
//! 2^62, paddings that sum past usize::MAX, shapes whose products overflow) come back as
//! typed errors naming them, never as an overflow panic. CI also runs this file in a debug
//! build, where an unchecked overflow would panic.

mod common;

use common::absurd_size;
use dojang::attrs::{Conv2d, Dense, Lrn, Padding, Pool2d, PoolKind, Softmax};
use dojang::error::Error;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};

const HUGE: usize = usize::MAX;

#[test]
fn a_dilated_extent_past_usize_is_an_overflow_error() {
    let conv = Conv2d::default().with_dilation(1 << 62, 1);
    let e = conv.geometry(&[1, 1, 8, 8], &[1, 1, 9, 1], None).unwrap_err();
    assert!(matches!(e, Error::Overflow { op: "conv2d", .. }), "{e}");
    assert!(e.to_string().contains("dilated kernel height (4611686018427387904 x (9 - 1) + 1)"), "{e}");
}

#[test]
fn paddings_that_sum_past_usize_are_an_overflow_error() {
    let conv = Conv2d::default().with_padding(Padding::new(HUGE, 0, 1, 0));
    let e = conv.geometry(&[1, 1, 8, 8], &[1, 1, 3, 3], None).unwrap_err();
    assert!(matches!(e, Error::Overflow { op: "conv2d", .. }), "{e}");
    let pool = Pool2d::new(PoolKind::Max, [2, 2], [1, 1]).with_padding(Padding::new(0, HUGE - 3, 0, 4));
    let e = pool.geometry(&[1, 1, 8, 8]).unwrap_err();
    assert!(matches!(e, Error::Overflow { op: "pool2d", .. }), "{e}");
    assert!(e.to_string().contains("the padding"), "{e}");
}

#[test]
fn a_padded_image_past_usize_is_an_overflow_error() {
    let conv = Conv2d::default().with_padding(Padding::new(HUGE - 4, 0, 0, 0));
    let e = conv.geometry(&[1, 1, 8, 8], &[1, 1, 3, 3], None).unwrap_err();
    assert!(matches!(e, Error::Overflow { .. }), "{e}");
    assert!(e.to_string().contains("padded height"), "{e}");
}

#[test]
fn counts_past_usize_are_overflow_errors() {
    let conv = Conv2d::default();
    let e = conv.geometry(&[1 << 40, 1 << 20, 1 << 4, 1], &[1, 1 << 20, 1, 1], None).unwrap_err();
    assert!(matches!(e, Error::Overflow { .. }), "{e}");
    let e = Dense::default().geometry(&[1 << 33, 1 << 31], &[1, 1 << 31], None).unwrap_err();
    assert!(matches!(e, Error::Overflow { op: "dense", .. }), "{e}");
    let e = Softmax.geometry(&[1 << 40, 1 << 30]).unwrap_err();
    assert!(matches!(e, Error::Overflow { op: "softmax", .. }), "{e}");
    let e = Lrn::alexnet().geometry(&[1 << 40, 1 << 30, 1, 1]).unwrap_err();
    assert!(matches!(e, Error::Overflow { op: "lrn", .. }), "{e}");
}

#[test]
fn a_huge_stride_is_a_one_window_output() {
    let conv = Conv2d::default().with_stride(HUGE, HUGE);
    let geo = conv.geometry(&[2, 3, 5, 5], &[4, 3, 3, 3], Some(4)).unwrap();
    assert_eq!(geo.output_shape(), [2, 4, 1, 1]);
    assert_eq!(geo.macs(), 2 * 4 * 27);
    let pool = Pool2d::new(PoolKind::Avg, [2, 2], [HUGE, HUGE]).with_ceil_mode(true);
    assert_eq!(pool.geometry(&[1, 1, 5, 5]).unwrap().output_shape(), [1, 1, 1, 1]);
}

#[test]
fn a_window_past_the_image_names_the_numbers() {
    let e = Conv2d::default().geometry(&[1, 1, 4, 4], &[1, 1, 5, 5], None).unwrap_err();
    assert!(e.to_string().contains("output would be 0x0 for input 4x4"), "{e}");
}

fn config(cases: u32) -> Config {
    Config { cases, rng_seed: RngSeed::Fixed(0xa77), failure_persistence: None, ..Config::default() }
}

proptest! {
    #![proptest_config(config(2000))]
    #[test]
    fn convolution_geometry_never_panics(
        x in proptest::array::uniform4(absurd_size()), w in proptest::array::uniform4(absurd_size()),
        stride in proptest::array::uniform2(absurd_size()), dilation in proptest::array::uniform2(absurd_size()),
        pad in proptest::array::uniform4(absurd_size()), groups in absurd_size(),
    ) {
        let attrs = Conv2d::default()
            .with_stride(stride[0], stride[1])
            .with_dilation(dilation[0], dilation[1])
            .with_padding(Padding::new(pad[0], pad[1], pad[2], pad[3]))
            .with_groups(groups);
        if let Ok(geo) = attrs.geometry(&x, &w, None) {
            // Every count a checked geometry hands out is within reach.
            let _ = (geo.output_shape(), geo.weight_shape(), geo.reduction_len(), geo.flops(), geo.extent());
        }
    }

    #[test]
    fn pooling_geometry_never_panics(
        x in proptest::array::uniform4(absurd_size()), kernel in proptest::array::uniform2(absurd_size()),
        stride in proptest::array::uniform2(absurd_size()), pad in proptest::array::uniform4(absurd_size()),
        ceil_mode: bool,
    ) {
        let attrs = Pool2d::new(PoolKind::Max, kernel, stride)
            .with_padding(Padding::new(pad[0], pad[1], pad[2], pad[3]))
            .with_ceil_mode(ceil_mode);
        if let Ok(geo) = attrs.geometry(&x) {
            let _ = (geo.output_shape(), geo.bytes());
        }
    }

    #[test]
    fn dense_geometry_never_panics(x in proptest::array::uniform2(absurd_size()), w in proptest::array::uniform2(absurd_size())) {
        if let Ok(geo) = Dense::default().geometry(&x, &w, None) {
            let _ = (geo.output_shape(), geo.flops());
        }
    }
}
