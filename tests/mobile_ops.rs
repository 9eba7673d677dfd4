//! The mobile networks' element-wise layers on the GPU: the activations, the product by a
//! gate per channel (squeeze-and-excitation) and the channel shuffle, against the CPU
//! reference and values worked out by hand, NaN kept, bad arguments refused.

mod common;

use common::{assert_close, gpu, random};
use dojang::ops::Activation;
use dojang::tolerance::Tolerance;
use dojang::{Error, Tensor, ops, reference};

const ALL: [Activation; 7] = [
    Activation::Relu,
    Activation::Clip { min: 0.0, max: 6.0 },
    Activation::Sigmoid,
    Activation::HardSigmoid { alpha: 0.2, beta: 0.5 },
    Activation::HardSwish,
    Activation::Silu,
    Activation::LeakyRelu { alpha: 0.01 },
];

#[test]
fn activations_match_the_reference_and_keep_nan() {
    let gpu = gpu();
    // Values far out on both sides (exp overflows), near the bends, and odd lengths.
    for len in [1, 5, 4099] {
        let x: Vec<f32> = random(len, 7).iter().map(|v| v * 12.0).chain([-100.0, 100.0, -3.0, 3.0, 6.0]).collect();
        let t = Tensor::from_slice(&gpu, &x, &[1, x.len()]).unwrap();
        for act in ALL {
            let got = ops::activation(&t, act).unwrap().download().unwrap();
            assert_close(&format!("{act:?}"), &got, &reference::activation(&x, act), &[x.len()], Tolerance::default());
        }
    }
    let nan = Tensor::from_slice(&gpu, &[f32::NAN, 1.0], &[1, 2]).unwrap();
    for act in ALL {
        assert!(ops::activation(&nan, act).unwrap().download().unwrap()[0].is_nan(), "{act:?} keeps NaN");
    }
}

#[test]
fn activations_by_hand() {
    let gpu = gpu();
    let x = Tensor::from_slice(&gpu, &[-4.0, -1.0, 0.0, 2.0, 8.0], &[1, 5]).unwrap();
    let run = |act| ops::activation(&x, act).unwrap().download().unwrap();
    assert_eq!(run(Activation::Clip { min: 0.0, max: 6.0 }), [0.0, 0.0, 0.0, 2.0, 6.0]);
    assert_eq!(run(Activation::HardSigmoid { alpha: 0.2, beta: 0.5 }), [0.0, 0.3, 0.5, 0.9, 1.0]);
    // x · clamp(x/6 + 1/2, 0, 1): −4 → 0, −1 → −1/3, 2 → 2·5/6, 8 → 8.
    let hs = run(Activation::HardSwish);
    for (g, e) in hs.iter().zip([0.0, -1.0 / 3.0, 0.0, 5.0 / 3.0, 8.0]) {
        assert!((g - e).abs() < 1e-6, "{hs:?}");
    }
    assert_eq!(run(Activation::LeakyRelu { alpha: 0.5 }), [-2.0, -0.5, 0.0, 2.0, 8.0]);
    let s = run(Activation::Sigmoid);
    assert!((s[2] - 0.5).abs() < 1e-7 && (s[3] - 0.880_797).abs() < 1e-6, "{s:?}");
}

#[test]
fn a_gate_per_channel_and_a_product_of_equal_shapes() {
    let gpu = gpu();
    for shape in [[1, 3, 5, 7], [2, 16, 4, 4], [3, 5, 1, 1]] {
        let len: usize = shape.iter().product();
        let x = random(len, 1);
        let gate = random(shape[0] * shape[1], 2);
        let xt = Tensor::from_slice(&gpu, &x, &shape).unwrap();
        let gt = Tensor::from_slice(&gpu, &gate, &[shape[0], shape[1], 1, 1]).unwrap();
        let got = ops::mul(&xt, &gt).unwrap().download().unwrap();
        assert_close("gate", &got, &reference::mul(&x, &gate).unwrap(), &shape, Tolerance::default());
        let same = ops::mul(&xt, &xt).unwrap().download().unwrap();
        assert_close("square", &same, &reference::mul(&x, &x).unwrap(), &shape, Tolerance::default());
    }
    // Two channels of two pixels, gates 2 and −1.
    let x = Tensor::from_slice(&gpu, &[1.0, 2.0, 3.0, 4.0], &[1, 2, 1, 2]).unwrap();
    let g = Tensor::from_slice(&gpu, &[2.0, -1.0], &[1, 2, 1, 1]).unwrap();
    assert_eq!(ops::mul(&x, &g).unwrap().download().unwrap(), [2.0, 4.0, -3.0, -4.0]);
    let wrong = Tensor::from_slice(&gpu, &[1.0, 2.0, 3.0], &[1, 3, 1, 1]).unwrap();
    assert!(matches!(ops::mul(&x, &wrong).unwrap_err(), Error::Mismatch { op: "mul", .. }));
}

#[test]
fn channel_shuffle_by_hand_and_against_the_reference() {
    let gpu = gpu();
    // Six channels of one pixel in two groups: [0 1 2 | 3 4 5] → [0 3 1 4 2 5].
    let x = Tensor::from_slice(&gpu, &[0.0, 1.0, 2.0, 3.0, 4.0, 5.0], &[1, 6, 1, 1]).unwrap();
    assert_eq!(ops::channel_shuffle(&x, 2).unwrap().download().unwrap(), [0.0, 3.0, 1.0, 4.0, 2.0, 5.0]);
    let shape = [2, 12, 3, 5];
    let v = random(shape.iter().product(), 3);
    let t = Tensor::from_slice(&gpu, &v, &shape).unwrap();
    for groups in [1, 3, 4, 12] {
        let got = ops::channel_shuffle(&t, groups).unwrap().download().unwrap();
        assert_eq!(got, reference::channel_shuffle(&v, &shape, groups).unwrap(), "groups {groups}");
    }
    let e = ops::channel_shuffle(&t, 5).unwrap_err();
    assert!(e.to_string().contains("channels (12) is not divisible by groups (5)"), "{e}");
}
