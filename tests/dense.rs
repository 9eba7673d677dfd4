//! Dense layers (GEMM and the batch-1 matrix-vector kernel) against the reference and by hand.

mod common;

use common::{assert_close, gpu, random};
use dojang::error::Error;
use dojang::ops::{Dense, DenseKernel, DenseWeight, Tile, dense, dense_with};
use dojang::tolerance::Tolerance;
use dojang::tools::cases;
use dojang::{Tensor, reference};

/// The layer through a prepared weight (cut into row slices where it passes a binding) and,
/// where it fits one tensor, through the one-call op; both against the reference.
fn check(name: &str, n: usize, f: usize, o: usize, bias: bool, relu: bool, kernel: DenseKernel) {
    let gpu = gpu();
    let (x, w, b) = (random(n * f, 21), random(o * f, 22), random(o, 23));
    let b = bias.then_some(b.as_slice());
    let attrs = Dense::default().with_relu(relu);
    let geo = attrs.geometry(&[n, f], &[o, f], b.map(<[f32]>::len)).unwrap();
    let cpu = reference::dense(&geo, &x, &w, b).unwrap();
    let xt = Tensor::from_slice(&gpu, &x, &[n, f]).unwrap();
    let weight = DenseWeight::upload(&gpu, &w, b, o, f).unwrap();
    let got = weight.forward_with(&xt, &attrs, kernel).unwrap().download().unwrap();
    let what = format!("{name}, {}, {} band(s)", kernel.name(), weight.band_count());
    assert_close(&what, &got, &cpu, &[n, o], Tolerance::for_reduction(f));
    if let Ok(wt) = Tensor::from_slice(&gpu, &w, &[o, f]) {
        let bt = b.map(|b| Tensor::from_slice(&gpu, b, &[o]).unwrap());
        let got = dense_with(&xt, &wt, bt.as_ref(), &attrs, kernel).unwrap().download().unwrap();
        assert_close(name, &got, &cpu, &[n, o], Tolerance::for_reduction(f));
    }
}

#[test]
fn matches_reference_over_the_case_table() {
    for c in cases::dense() {
        check(c.name, c.batch, c.in_features, c.out_features, c.bias, c.relu, DenseKernel::Auto);
    }
}

#[test]
fn every_kernel_configuration_matches_reference() {
    // In-features that are and are not a multiple of 4; outputs not a multiple of any tile.
    for f in [64, 65] {
        for tm in [4, 8, 16] {
            for tn in [4, 8, 16] {
                let kernel = DenseKernel::Gemm(Tile { tm, tn });
                check("gemm", 5, f, 19, true, true, kernel);
                check("gemm batch 1", 1, f, 19, true, false, kernel);
                check("gemm batch 37", 37, f, 6, false, false, kernel);
            }
        }
        for tm in [4, 8] {
            check("gemv", 1, f * 16 + 1, 37, true, true, DenseKernel::Gemv { tm });
            check("gemv", 1, f, 6, false, false, DenseKernel::Gemv { tm });
        }
    }
}

#[test]
fn features_past_a_texture_run_in_bands() {
    // More input features than a texture has rows: the weight is held in bands of K, and both
    // kernels add band after band (bias with the first, ReLU with the last).
    let rows = gpu().limits().max_texture_dimension_2d as usize;
    // Features a multiple of 4 take the 4 x 4 transposing im2col, the others the general one.
    for (n, kernel) in [(1, DenseKernel::Gemv { tm: 4 }), (3, DenseKernel::Gemm(Tile { tm: 8, tn: 4 }))] {
        check("banded", n, rows + 6, 9, true, true, kernel);
        check("banded, features a multiple of 4", n, rows + 8, 9, true, true, kernel);
    }
}

#[test]
fn hand_computed() {
    // y = x·Wᵀ + b with x = [1, 2, 3], W = [[1, 0, -1], [2, 2, 2]], b = [0.5, -20]:
    // [1 − 3 + 0.5, 2 + 4 + 6 − 20] = [-1.5, -8]; ReLU gives [0, 0].
    let gpu = gpu();
    let x = Tensor::from_slice(&gpu, &[1.0, 2.0, 3.0], &[1, 3]).unwrap();
    let w = Tensor::from_slice(&gpu, &[1.0, 0.0, -1.0, 2.0, 2.0, 2.0], &[2, 3]).unwrap();
    let b = Tensor::from_slice(&gpu, &[0.5, -20.0], &[2]).unwrap();
    assert_eq!(dense(&x, &w, Some(&b), &Dense::default()).unwrap().download().unwrap(), vec![-1.5, -8.0]);
    assert_eq!(dense(&x, &w, Some(&b), &Dense::default().with_relu(true)).unwrap().download().unwrap(), vec![0.0, 0.0]);
    let x2 = Tensor::from_slice(&gpu, &[1.0, 2.0, 3.0, 0.0, 0.0, 1.0], &[2, 3]).unwrap();
    assert_eq!(dense(&x2, &w, None, &Dense::default()).unwrap().download().unwrap(), vec![-2.0, 12.0, -1.0, 2.0]);
}

#[test]
fn bad_input_is_a_typed_error() {
    let gpu = gpu();
    let x = Tensor::zeros(&gpu, &[2, 10]).unwrap();
    let w = Tensor::zeros(&gpu, &[4, 9]).unwrap();
    let e = dense(&x, &w, None, &Dense::default()).unwrap_err();
    assert!(matches!(e, Error::Channels { got: 10, expected: 9, .. }), "{e}");
    assert_eq!(e.to_string(), "dense: input has 10 features, weight expects 9");
    let w = Tensor::zeros(&gpu, &[4, 10]).unwrap();
    let b = Tensor::zeros(&gpu, &[3]).unwrap();
    let e = dense(&x, &w, Some(&b), &Dense::default()).unwrap_err();
    assert!(matches!(e, Error::BiasLength { got: 3, expected: 4, .. }), "{e}");
    let e = dense_with(&x, &w, None, &Dense::default(), DenseKernel::Gemv { tm: 4 }).unwrap_err();
    assert!(matches!(e, Error::Tuning { value: 2, .. }), "{e}");
    let x1 = Tensor::zeros(&gpu, &[1, 10]).unwrap();
    let e = dense_with(&x1, &w, None, &Dense::default(), DenseKernel::Gemv { tm: 6 }).unwrap_err();
    assert_eq!(e.to_string(), "dense: gemv tm = 6 is not supported; it must be 4 or 8");
    let e = dense_with(&x1, &w, None, &Dense::default(), DenseKernel::Gemm(Tile { tm: 8, tn: 5 })).unwrap_err();
    assert!(matches!(e, Error::Tuning { knob: "tn", value: 5, .. }), "{e}");
    let x4 = Tensor::zeros(&gpu, &[2, 10, 1, 1]).unwrap();
    assert!(matches!(dense(&x4, &w, None, &Dense::default()).unwrap_err(), Error::Rank { expected: 2, .. }));
}
