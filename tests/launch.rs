//! Recorded launches: ops recorded into given tensors once, replayed with new inputs; chains
//! of enqueued ops that only the download waits for.

mod common;

use common::{assert_close, gpu, random};
use dojang::error::Error;
use dojang::ops::{Conv2d, ConvWeight, Padding, Pool2d, PoolKind, conv2d, pool2d, record_pool2d, record_relu, relu};
use dojang::tolerance::Tolerance;
use dojang::{Gpu, Tensor, reference};

const XS: [usize; 4] = [2, 3, 12, 10];
const WS: [usize; 4] = [8, 3, 3, 3];

fn attrs() -> (Conv2d, Pool2d) {
    (Conv2d::default().with_padding(Padding::symmetric(1, 1)), Pool2d::new(PoolKind::Max, [2, 2], [2, 2]))
}

/// conv → ReLU → max pool on the CPU reference.
fn expected(x: &[f32], w: &[f32], b: &[f32]) -> Vec<f32> {
    let (conv, pool) = attrs();
    let geo = conv.geometry(&XS, &WS, Some(8)).unwrap();
    let y = reference::relu(&reference::conv2d(&geo, x, w, Some(b)).unwrap());
    reference::pool2d(&pool.geometry(&geo.output_shape()).unwrap(), &y).unwrap()
}

#[test]
fn a_recorded_chain_replays_with_new_inputs() {
    let gpu = gpu();
    let (conv, pool) = attrs();
    let (w, b) = (random(WS.iter().product(), 1), random(8, 2));
    let weight = ConvWeight::upload(&gpu, &w, Some(&b), WS, 1).unwrap();
    let x = Tensor::zeros(&gpu, &XS).unwrap();
    let (y, r) = (Tensor::zeros(&gpu, &[2, 8, 12, 10]).unwrap(), Tensor::zeros(&gpu, &[2, 8, 12, 10]).unwrap());
    let z = Tensor::zeros(&gpu, &[2, 8, 6, 5]).unwrap();
    let chain = weight
        .record(&x, &y, &conv)
        .unwrap()
        .then(record_relu(&y, &r).unwrap())
        .unwrap()
        .then(record_pool2d(&r, &z, &pool).unwrap())
        .unwrap();
    // Three ops, however many launches each takes (im2col + GEMM for the convolution, say).
    assert_eq!(chain.kernel().split(" + ").count(), 3, "{}", chain.kernel());
    assert!(chain.len() >= 3);
    for seed in [3, 4, 5] {
        let input = random(XS.iter().product(), seed);
        x.write(&input).unwrap();
        chain.run().unwrap();
        let got = z.download().unwrap();
        assert_close("replayed chain", &got, &expected(&input, &w, &b), &[2, 8, 6, 5], Tolerance::for_reduction(27));
    }
}

#[test]
fn enqueued_ops_chain_without_waiting() {
    // Each call returns at once; the download waits for all three.
    let gpu = gpu();
    let (conv, pool) = attrs();
    let (input, w, b) = (random(XS.iter().product(), 6), random(WS.iter().product(), 7), random(8, 8));
    let xt = Tensor::from_slice(&gpu, &input, &XS).unwrap();
    let wt = Tensor::from_slice(&gpu, &w, &WS).unwrap();
    let bt = Tensor::from_slice(&gpu, &b, &[8]).unwrap();
    let z = pool2d(&relu(&conv2d(&xt, &wt, Some(&bt), &conv).unwrap()).unwrap(), &pool).unwrap();
    let got = z.download().unwrap();
    assert_close("enqueued chain", &got, &expected(&input, &w, &b), z.shape(), Tolerance::for_reduction(27));
    gpu.wait_idle().unwrap();
}

#[test]
fn recording_checks_outputs_and_devices() {
    let gpu = gpu();
    let (conv, pool) = attrs();
    let weight = ConvWeight::upload(&gpu, &random(WS.iter().product(), 1), None, WS, 1).unwrap();
    let x = Tensor::zeros(&gpu, &XS).unwrap();
    let wrong = Tensor::zeros(&gpu, &[2, 8, 12, 11]).unwrap();
    let e = weight.record(&x, &wrong, &conv).unwrap_err();
    assert_eq!(e.to_string(), "conv2d: shapes [2, 8, 12, 10] and [2, 8, 12, 11] do not match");
    let e = record_pool2d(&x, &wrong, &pool).unwrap_err();
    assert!(matches!(e, Error::Mismatch { op: "pool2d", .. }), "{e}");

    let other = Gpu::with_adapter(None).unwrap();
    let there = Tensor::zeros(&other, &XS).unwrap();
    let here = record_relu(&x, &Tensor::zeros(&gpu, &XS).unwrap()).unwrap();
    let e = here.then(record_relu(&there, &Tensor::zeros(&other, &XS).unwrap()).unwrap()).unwrap_err();
    assert!(matches!(e, Error::WrongDevice { op: "launch", .. }), "{e}");
}

#[test]
fn a_launch_times_itself_within_the_wall_clock() {
    let gpu = gpu();
    let x = Tensor::from_slice(&gpu, &random(1 << 20, 3), &[1 << 20]).unwrap();
    let y = Tensor::zeros(&gpu, &[1 << 20]).unwrap();
    let launch = record_relu(&x, &y).unwrap();
    launch.time().unwrap(); // builds nothing new, but warms the caches
    let start = std::time::Instant::now();
    let seconds = launch.time().unwrap();
    let wall = start.elapsed().as_secs_f64();
    // GPU timestamps lie inside the call; without them the time is the call's wall clock.
    assert!(seconds > 0.0 && seconds <= wall, "timed {seconds} s in a call of {wall} s");
    // It ran: the output is the rectified input.
    let expected: Vec<f32> = x.download().unwrap().iter().map(|v| v.max(0.0)).collect();
    assert_eq!(y.download().unwrap(), expected);
}
