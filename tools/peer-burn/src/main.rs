// The peer measured beside dojang: burn 0.21's wgpu backend on the same adapter, the same
// layers as `dojang-validate bench`, median of 11 runs after warm-up (its autotuning done),
// each run synchronised. fc6's weight (151 MB) is above lavapipe's 128 MiB binding, which
// burn does not cut: it aborts there, so fc6 runs only when named.
use std::time::Instant;

use burn::backend::Wgpu;
use burn::backend::wgpu::WgpuDevice;
use burn::tensor::backend::Backend;
use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Distribution, Tensor};

type B = Wgpu;

fn median(dev: &WgpuDevice, mut f: impl FnMut()) -> f64 {
    for _ in 0..3 {
        f();
        B::sync(dev).unwrap();
    }
    let mut t: Vec<f64> = (0..11)
        .map(|_| {
            let s = Instant::now();
            f();
            B::sync(dev).unwrap();
            s.elapsed().as_secs_f64()
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[5]
}

fn main() {
    let dev = WgpuDevice::default();
    let only: Vec<String> = std::env::args().skip(1).collect();
    let want = |n: &str| only.is_empty() || only.iter().any(|o| o == n);
    let r = |shape: Vec<usize>| Tensor::<B, 1>::random([shape.iter().product::<usize>()], Distribution::Uniform(-1.0, 1.0), &dev);
    if want("roofline-gemm-1024") {
        let a = Tensor::<B, 2>::random([1024, 1024], Distribution::Uniform(-1.0, 1.0), &dev);
        let b = Tensor::<B, 2>::random([1024, 1024], Distribution::Uniform(-1.0, 1.0), &dev);
        let s = median(&dev, || {
            let _ = a.clone().matmul(b.clone());
        });
        println!("{:<24} {:>8.2} ms {:>8.1} GFLOP/s", "roofline-gemm-1024", s * 1e3, 2.0 * 1024f64.powi(3) / s / 1e9);
    }
    let convs: [(&str, [usize; 4], [usize; 4], usize, usize, usize); 7] = [
        ("alexnet-conv1", [1, 3, 227, 227], [96, 3, 11, 11], 4, 0, 1),
        ("alexnet-conv2", [1, 96, 27, 27], [256, 48, 5, 5], 1, 2, 2),
        ("alexnet-conv3", [1, 256, 13, 13], [384, 256, 3, 3], 1, 1, 1),
        ("alexnet-conv4", [1, 384, 13, 13], [384, 192, 3, 3], 1, 1, 2),
        ("alexnet-conv5", [1, 384, 13, 13], [256, 192, 3, 3], 1, 1, 2),
        ("bottleneck-1x1-256-64", [1, 256, 56, 56], [64, 256, 1, 1], 1, 0, 1),
        ("bottleneck-1x1-64-256", [1, 64, 56, 56], [256, 64, 1, 1], 1, 0, 1),
    ];
    for (name, xs, ws, s, p, g) in convs {
        if !want(name) {
            continue;
        }
        let x: Tensor<B, 4> = r(xs.to_vec()).reshape(xs);
        let w: Tensor<B, 4> = r(ws.to_vec()).reshape(ws);
        let b: Tensor<B, 1> = r(vec![ws[0]]);
        let opts = ConvOptions::new([s, s], [p, p], [1, 1], g);
        let secs = median(&dev, || {
            let _ = burn::tensor::activation::relu(conv2d(x.clone(), w.clone(), Some(b.clone()), opts.clone()));
        });
        let oh = (xs[2] + 2 * p - ws[2]) / s + 1;
        let flops = 2.0 * (ws[0] * oh * oh * ws[1] * ws[2] * ws[3]) as f64;
        println!("{:<24} {:>8.2} ms {:>8.1} GFLOP/s", name, secs * 1e3, flops / secs / 1e9);
    }
    for (name, n, f, o) in [
        ("fc6-b1", 1, 9216, 4096),
        ("fc7-b1", 1, 4096, 4096),
        ("fc8-b1", 1, 4096, 1000),
        ("fc6-b64", 64, 9216, 4096),
        ("fc7-b64", 64, 4096, 4096),
        ("fc8-b64", 64, 4096, 1000),
    ] {
        if !want(name) || (only.is_empty() && name.starts_with("fc6")) {
            continue;
        }
        let x = Tensor::<B, 2>::random([n, f], Distribution::Uniform(-1.0, 1.0), &dev);
        let w = Tensor::<B, 2>::random([f, o], Distribution::Uniform(-1.0, 1.0), &dev);
        let b = Tensor::<B, 2>::random([1, o], Distribution::Uniform(-1.0, 1.0), &dev);
        let secs = median(&dev, || {
            let _ = burn::tensor::activation::relu(x.clone().matmul(w.clone()) + b.clone());
        });
        let flops = 2.0 * (n * f * o) as f64;
        println!("{:<24} {:>8.2} ms {:>8.1} GFLOP/s {:>6.2} GB/s", name, secs * 1e3, flops / secs / 1e9, 4.0 * (f * o) as f64 / secs / 1e9);
    }
}
