//! The two layers the importer added: the per-channel affine map (a BatchNormalization that
//! cannot fold) and the concatenation along channels, on the GPU against the CPU reference
//! over awkward shapes, against hand-computed values, and refusing bad arguments.

mod common;

use common::{assert_close, gpu, random};
use dojang::attrs::Activation;
use dojang::tolerance::Tolerance;
use dojang::{Error, Gpu, Tensor, ops, reference};

#[test]
fn affine_matches_the_reference_over_awkward_shapes() {
    let gpu = gpu();
    // Odd channels, batch > 1, non-square, a plane of 1, and planes that straddle vec4s.
    for shape in [[1, 1, 1, 1], [2, 3, 5, 7], [3, 5, 1, 1], [1, 7, 3, 2], [2, 64, 13, 9]] {
        let len: usize = shape.iter().product();
        let x = random(len, 1);
        let c = shape[1];
        let (s, t) = (random(c, 2), random(c, 3));
        for act in [None, Some(Activation::Relu), Some(Activation::HardSwish)] {
            let expected = reference::affine(&x, &shape, &s, &t, act).unwrap();
            let params = Tensor::from_slice(&gpu, &[s.clone(), t.clone()].concat(), &[2, c]).unwrap();
            let xt = Tensor::from_slice(&gpu, &x, &shape).unwrap();
            let got = ops::affine(&xt, &params, act).unwrap().download().unwrap();
            assert_close(&format!("affine {shape:?} {act:?}"), &got, &expected, &shape, Tolerance::default());
        }
    }
}

#[test]
fn affine_by_hand() {
    let gpu = gpu();
    // Two channels of 2 values: y = 2x + 1 on channel 0, −x + 0 on channel 1, then ReLU.
    let x = Tensor::from_slice(&gpu, &[1.0, -2.0, 3.0, -4.0], &[1, 2, 1, 2]).unwrap();
    let p = Tensor::from_slice(&gpu, &[2.0, -1.0, 1.0, 0.0], &[2, 2]).unwrap();
    assert_eq!(ops::affine(&x, &p, None).unwrap().download().unwrap(), [3.0, -3.0, -3.0, 4.0]);
    assert_eq!(ops::affine(&x, &p, Some(Activation::Relu)).unwrap().download().unwrap(), [3.0, 0.0, 0.0, 4.0]);
    let nan = Tensor::from_slice(&gpu, &[f32::NAN, 1.0], &[1, 1, 1, 2]).unwrap();
    let one = Tensor::from_slice(&gpu, &[1.0, 0.0], &[2, 1]).unwrap();
    assert!(ops::affine(&nan, &one, Some(Activation::Relu)).unwrap().download().unwrap()[0].is_nan(), "ReLU keeps NaN");
}

#[test]
fn concat_matches_the_reference_and_by_hand() {
    let gpu = gpu();
    for (batch, channels, hw) in [(1, vec![1, 2], [1, 1]), (3, vec![3, 1, 5], [2, 3]), (2, vec![16, 7], [5, 5])] {
        let parts: Vec<Vec<f32>> =
            channels.iter().enumerate().map(|(k, &c)| random(batch * c * hw[0] * hw[1], k as u64)).collect();
        let tensors: Vec<Tensor> = (parts.iter().zip(&channels))
            .map(|(p, &c)| Tensor::from_slice(&gpu, p, &[batch, c, hw[0], hw[1]]).unwrap())
            .collect();
        let refs: Vec<&Tensor> = tensors.iter().collect();
        let got = ops::concat(&refs).unwrap();
        let slices: Vec<&[f32]> = parts.iter().map(Vec::as_slice).collect();
        assert_eq!(got.shape(), [batch, channels.iter().sum(), hw[0], hw[1]]);
        assert_eq!(got.download().unwrap(), reference::concat(&slices, batch), "{batch} x {channels:?}");
    }
    // Two images of [1 channel] and [2 channels], one pixel each.
    let a = Tensor::from_slice(&gpu, &[1.0, 2.0], &[2, 1, 1, 1]).unwrap();
    let b = Tensor::from_slice(&gpu, &[3.0, 4.0, 5.0, 6.0], &[2, 2, 1, 1]).unwrap();
    assert_eq!(ops::concat(&[&a, &b]).unwrap().download().unwrap(), [1.0, 3.0, 4.0, 2.0, 5.0, 6.0]);
}

#[test]
fn bad_arguments_are_typed_errors() {
    let gpu = gpu();
    let x = Tensor::zeros(&gpu, &[1, 3, 2, 2]).unwrap();
    let wrong = Tensor::zeros(&gpu, &[2, 4]).unwrap();
    let e = ops::affine(&x, &wrong, None).unwrap_err();
    assert!(matches!(e, Error::Mismatch { op: "affine", .. }), "{e}");
    assert!(e.to_string().contains("[2, 3] and [2, 4]"), "{e}");
    let other = Tensor::zeros(&gpu, &[1, 3, 3, 2]).unwrap();
    let e = ops::concat(&[&x, &other]).unwrap_err();
    assert!(e.to_string().contains("concat: shapes [1, 3, 2, 2] and [1, 3, 3, 2] do not match"), "{e}");
    assert!(matches!(ops::concat(&[]).unwrap_err(), Error::Empty { op: "concat", .. }));
    let far = Gpu::open_group(2, Some(&gpu.info().name)).unwrap();
    let elsewhere = Tensor::zeros(&far[1], &[1, 3, 2, 2]).unwrap();
    assert!(matches!(ops::concat(&[&x, &elsewhere]).unwrap_err(), Error::WrongDevice { .. }));
    // The device is still usable.
    assert_eq!(ops::concat(&[&x, &x]).unwrap().shape(), [1, 6, 2, 2]);
}
