//! LRN, softmax, ReLU and add against the reference and by hand.

mod common;

use common::{assert_close, gpu, random};
use dojang::error::Error;
use dojang::ops::{Lrn, Softmax, add, lrn, relu, softmax};
use dojang::tolerance::Tolerance;
use dojang::tools::cases;
use dojang::{Gpu, Tensor, reference};

#[test]
fn lrn_matches_reference() {
    for c in cases::lrn() {
        // Inputs of order 10, so that the sum of squares matters next to k.
        let x: Vec<f32> = random(c.input.iter().product(), 31).iter().map(|v| v * 10.0).collect();
        let cpu = reference::lrn(&c.attrs.geometry(&c.input).unwrap(), &x).unwrap();
        let got = lrn(&Tensor::from_slice(&gpu(), &x, &c.input).unwrap(), &c.attrs).unwrap().download().unwrap();
        assert_close(c.name, &got, &cpu, &c.input, Tolerance { atol: 1e-5, rtol: 1e-4 });
    }
}

#[test]
fn lrn_hand_computed() {
    // Channels [1, 2, 3, 4] at one pixel, size 3, alpha 3 (alpha/size = 1), beta 1, k 1:
    // c0: 1/(1+1+4) = 1/6; c1: 2/(1+1+4+9) = 2/15; c2: 3/(1+4+9+16) = 3/30; c3: 4/(1+9+16) = 4/26.
    let attrs = Lrn { size: 3, alpha: 3.0, beta: 1.0, k: 1.0, groups: 1 };
    let x = Tensor::from_slice(&gpu(), &[1.0, 2.0, 3.0, 4.0], &[1, 4, 1, 1]).unwrap();
    let got = lrn(&x, &attrs).unwrap().download().unwrap();
    assert_close("lrn", &got, &[1.0 / 6.0, 2.0 / 15.0, 0.1, 4.0 / 26.0], &[4], Tolerance { atol: 1e-6, rtol: 1e-6 });
    // Groups 2: the windows of c1 and c2 stop at the boundary between the halves.
    let got = lrn(&x, &attrs.with_groups(2)).unwrap().download().unwrap();
    assert_close(
        "lrn groups",
        &got,
        &[1.0 / 6.0, 2.0 / 6.0, 3.0 / 26.0, 4.0 / 26.0],
        &[4],
        Tolerance { atol: 1e-6, rtol: 1e-6 },
    );
    // AlexNet's beta 3/4 (its own path: inverse square roots). x = [4, 8], size 3, alpha 3, k 1:
    // both windows hold both channels, 1 + 16 + 64 = 81, and 81^(3/4) = 27: [4/27, 8/27].
    let attrs = Lrn { size: 3, alpha: 3.0, beta: 0.75, k: 1.0, groups: 1 };
    let x = Tensor::from_slice(&gpu(), &[4.0, 8.0], &[1, 2, 1, 1]).unwrap();
    let got = lrn(&x, &attrs).unwrap().download().unwrap();
    assert_close("lrn beta 3/4", &got, &[4.0 / 27.0, 8.0 / 27.0], &[2], Tolerance { atol: 1e-6, rtol: 1e-6 });
}

#[test]
fn lrn_bad_input() {
    let x = Tensor::zeros(&gpu(), &[1, 6, 2, 2]).unwrap();
    for size in [0, 4] {
        let e = lrn(&x, &Lrn { size, ..Lrn::alexnet() }).unwrap_err();
        assert!(matches!(e, Error::LrnSize { size: s } if s == size), "{e}");
        assert!(e.to_string().contains(&format!("got {size}")), "{e}");
    }
    let e = lrn(&x, &Lrn::alexnet().with_groups(4)).unwrap_err();
    assert!(matches!(e, Error::Groups { channels: 6, groups: 4, .. }), "{e}");
}

#[test]
fn softmax_matches_reference_and_survives_large_logits() {
    for c in cases::softmax() {
        let x: Vec<f32> = random(c.shape.iter().product(), 41).iter().map(|v| v * c.scale + c.offset).collect();
        let cpu = reference::softmax(&Softmax.geometry(&c.shape).unwrap(), &x).unwrap();
        let got = softmax(&Tensor::from_slice(&gpu(), &x, &c.shape).unwrap()).unwrap().download().unwrap();
        assert!(got.iter().all(|v| v.is_finite()), "{}: non-finite probabilities", c.name);
        assert_close(c.name, &got, &cpu, &c.shape, Tolerance { atol: 1e-6, rtol: 1e-4 });
        for row in got.chunks(c.shape[1]).take(if c.shape.len() == 2 { c.shape[0] } else { 0 }) {
            let sum: f32 = row.iter().sum();
            assert!((sum - 1.0).abs() < 1e-5, "{}: row sums to {sum}", c.name);
        }
    }
}

#[test]
fn softmax_hand_computed() {
    // ln 1, ln 2, ln 3, ln 4 → 1/10, 2/10, 3/10, 4/10, shifted by 1000 it is the same.
    let x: Vec<f32> = [1.0f32, 2.0, 3.0, 4.0].iter().map(|v| v.ln() + 1000.0).collect();
    let got = softmax(&Tensor::from_slice(&gpu(), &x, &[1, 4]).unwrap()).unwrap().download().unwrap();
    assert_close("softmax", &got, &[0.1, 0.2, 0.3, 0.4], &[4], Tolerance { atol: 1e-4, rtol: 1e-3 });
    // Rows of 3 classes: not whole texels, so the word-by-word path.
    let x = [1.0f32.ln(), 2.0f32.ln(), 3.0f32.ln(), 0.0, 0.0, 2.0f32.ln()];
    let got = softmax(&Tensor::from_slice(&gpu(), &x, &[2, 3]).unwrap()).unwrap().download().unwrap();
    let want = [1.0 / 6.0, 2.0 / 6.0, 3.0 / 6.0, 0.25, 0.25, 0.5];
    assert_close("softmax rows of 3", &got, &want, &[2, 3], Tolerance { atol: 1e-6, rtol: 1e-5 });
    let e = softmax(&Tensor::zeros(&gpu(), &[5]).unwrap()).unwrap_err();
    assert!(matches!(e, Error::Rank { op: "softmax", .. }), "{e}");
}

#[test]
fn relu_and_add() {
    let gpu = gpu();
    let a = Tensor::from_slice(&gpu, &[-1.0, 0.5, 2.0, -3.0], &[1, 4]).unwrap();
    let b = Tensor::from_slice(&gpu, &[0.5, -1.0, 1.0, 4.0], &[1, 4]).unwrap();
    assert_eq!(relu(&a).unwrap().download().unwrap(), vec![0.0, 0.5, 2.0, 0.0]);
    assert_eq!(add(&a, &b, false).unwrap().download().unwrap(), vec![-0.5, -0.5, 3.0, 1.0]);
    assert_eq!(add(&a, &b, true).unwrap().download().unwrap(), vec![0.0, 0.0, 3.0, 1.0]);
    // Large and odd lengths cross many workgroups.
    for c in cases::elementwise() {
        let x = random(c.shape.iter().product(), 51);
        let y = random(c.shape.iter().product(), 52);
        let (xt, yt) =
            (Tensor::from_slice(&gpu, &x, &c.shape).unwrap(), Tensor::from_slice(&gpu, &y, &c.shape).unwrap());
        if c.add {
            assert_eq!(
                add(&xt, &yt, true).unwrap().download().unwrap(),
                reference::add(&x, &y, true).unwrap(),
                "{}",
                c.name
            );
        } else {
            assert_eq!(relu(&xt).unwrap().download().unwrap(), reference::relu(&x), "{}", c.name);
        }
    }
}

#[test]
fn add_bad_input() {
    let gpu = gpu();
    let a = Tensor::zeros(&gpu, &[1, 4, 2, 2]).unwrap();
    let b = Tensor::zeros(&gpu, &[1, 4, 2, 3]).unwrap();
    let e = add(&a, &b, false).unwrap_err();
    assert!(matches!(e, Error::Mismatch { op: "add", .. }) && e.to_string().contains("[1, 4, 2, 3]"), "{e}");
    let other = Gpu::with_adapter(None).unwrap();
    let c = Tensor::zeros(&other, &[1, 4, 2, 2]).unwrap();
    assert!(matches!(add(&a, &c, false).unwrap_err(), Error::WrongDevice { op: "add", what: "b", .. }));
}
