//! IEEE and ONNX on non-finite values: NaN in gives NaN out through conv, dense, max pool and
//! ReLU (fused or not) on every kernel, softmax of finite logits is finite, and an Inf does not
//! leak into the padding past a pooled tensor's end.

mod common;

use common::{gpu, random};
use dojang::Tensor;
use dojang::ops::{
    Conv2d, ConvKernel, Dense, DenseKernel, DenseWeight, Pool2d, PoolKind, conv2d_with, dense_with, pool2d, softmax,
};

#[test]
fn a_nan_reaches_the_outputs_that_read_it() {
    let gpu = gpu();
    // One NaN in the middle of the image: a 3x3 window sees it from the 3x3 outputs around it
    // (valid padding: outputs (1..4, 1..4) of 5x5).
    let xs = [1, 2, 7, 7];
    let mut x = random(2 * 49, 1);
    x[24] = f32::NAN; // channel 0, (3, 3)
    let xt = Tensor::from_slice(&gpu, &x, &xs).unwrap();
    let w = Tensor::from_slice(&gpu, &random(4 * 2 * 9, 2), &[4, 2, 3, 3]).unwrap();
    for relu in [false, true] {
        let attrs = Conv2d::default().with_relu(relu);
        let geo = attrs.geometry(&xs, &[4, 2, 3, 3], None).unwrap();
        let mut kernels = ConvKernel::candidates(&geo);
        kernels.push(ConvKernel::Auto);
        for k in kernels {
            let y = conv2d_with(&xt, &w, None, &attrs, k).unwrap().download().unwrap();
            for (i, v) in y.iter().enumerate() {
                let (oy, ox) = ((i % 25) / 5, i % 5);
                let reads = (1..4).contains(&oy) && (1..4).contains(&ox);
                assert_eq!(v.is_nan(), reads, "{} relu {relu}: output {i} = {v}", k.name());
            }
        }
    }
    for (batch, relu) in [(1, false), (1, true), (5, false), (5, true)] {
        let mut x = random(batch * 20, 3);
        x[7] = f32::NAN; // image 0
        let xt = Tensor::from_slice(&gpu, &x, &[batch, 20]).unwrap();
        let weight = DenseWeight::upload(&gpu, &random(6 * 20, 4), None, 6, 20).unwrap();
        let geo = weight.geometry(&[batch, 20], &Dense::default().with_relu(relu)).unwrap();
        for k in DenseKernel::candidates(&geo) {
            let y = weight.forward_with(&xt, &Dense::default().with_relu(relu), k).unwrap().download().unwrap();
            for (i, v) in y.iter().enumerate() {
                assert_eq!(v.is_nan(), i < 6, "{} batch {batch} relu {relu}: output {i} = {v}", k.name());
            }
        }
        let wt = Tensor::from_slice(&gpu, &random(6 * 20, 4), &[6, 20]).unwrap();
        let y = dense_with(&xt, &wt, None, &Dense::default().with_relu(relu), DenseKernel::Auto)
            .unwrap()
            .download()
            .unwrap();
        assert!(y[..6].iter().all(|v| v.is_nan()) && y[6..].iter().all(|v| v.is_finite()));
    }
}

#[test]
fn softmax_of_finite_logits_is_finite() {
    let gpu = gpu();
    // Logits far apart: exp of the small ones underflows to 0, the largest gives 1.
    let x = [1e30f32, -1e30, 0.0, 3.4e38, -3.4e38, 88.0, -88.0, 1e-30];
    let y = softmax(&Tensor::from_slice(&gpu, &x, &[1, 8]).unwrap()).unwrap().download().unwrap();
    assert!(y.iter().all(|v| v.is_finite()), "{y:?}");
    assert_eq!(y[3], 1.0);
}

#[test]
fn vec4_tails_past_a_pooled_tensor_stay_zero() {
    // Pooling writes whole vec4s; the words of the last one past the tensor's end must stay
    // zero, as the batch-1 dense kernel reads them times its zero-padded weight rows (an Inf
    // there would make every output NaN). A 2x3 image has 6 outputs: 2 words of tail, which
    // would otherwise take the first window's maximum, here Inf. (LRN keeps the same rule;
    // an Inf input gives NaN there anyway.)
    let gpu = gpu();
    let x = [f32::INFINITY, 1.0, 2.0, 3.0, 4.0, 5.0];
    let xt = Tensor::from_slice(&gpu, &x, &[1, 1, 2, 3]).unwrap();
    let pooled = pool2d(&xt, &Pool2d::new(PoolKind::Max, [1, 1], [1, 1])).unwrap().reshape(&[1, 6]).unwrap();
    let weight = DenseWeight::upload(&gpu, &[1.0; 6], None, 1, 6).unwrap();
    for k in [DenseKernel::Gemv { tm: 4 }, DenseKernel::Gemv { tm: 8 }] {
        let out = weight.forward_with(&pooled, &Dense::default(), k).unwrap().download().unwrap();
        assert_eq!(out, [f32::INFINITY], "pool2d then {}", k.name());
    }
}
