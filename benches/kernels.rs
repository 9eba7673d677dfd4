//! Kernel throughput, variants side by side: `cargo bench`. Each group is op/algorithm/shape
//! and reports GFLOP/s (criterion's "elements" are floating-point operations). A measured
//! iteration is one call: submit, wait for the GPU, output allocation included; conv calls
//! also repack their weights, dense weights are uploaded once.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use dojang::ops::conv2d::{Conv2d, ConvKernel, Padding, conv2d_with};
use dojang::ops::dense::{DenseGeometry, DenseKernel, DenseWeight};
use dojang::{Gpu, Tensor};

fn gpu() -> Gpu {
    Gpu::new().unwrap_or_else(|e| panic!("benches need an adapter: {e}"))
}

fn conv(c: &mut Criterion) {
    let gpu = gpu();
    let same = Conv2d::default().with_padding(Padding::symmetric(1, 1));
    let cases = [
        ("alexnet-conv1", [1, 3, 227, 227], [96, 3, 11, 11], Conv2d::default().with_stride(4, 4)),
        (
            "alexnet-conv2",
            [1, 96, 27, 27],
            [256, 48, 5, 5],
            Conv2d::default().with_padding(Padding::symmetric(2, 2)).with_groups(2),
        ),
        ("alexnet-conv3", [1, 256, 13, 13], [384, 256, 3, 3], same),
        ("resnet-3x3-64", [1, 64, 56, 56], [64, 64, 3, 3], same),
        ("resnet-1x1-256-64", [1, 256, 56, 56], [64, 256, 1, 1], Conv2d::default()),
    ];
    for (name, xs, ws, attrs) in cases {
        let geo = attrs.geometry(&xs, &ws, None).unwrap();
        let x = Tensor::zeros(&gpu, &xs).unwrap();
        let w = Tensor::zeros(&gpu, &ws).unwrap();
        let mut group = c.benchmark_group(format!("conv2d/{name}"));
        group.sample_size(10).throughput(Throughput::Elements(geo.flops()));
        // Auto: 8 channels per invocation; pointwise convolutions over the flattened image.
        let variants = [
            ("auto", ConvKernel::Auto),
            ("direct-4co-16x4", ConvKernel::Direct { tile_co: 4, wg_x: 16, wg_y: 4 }),
            ("direct-8co-16x4", ConvKernel::Direct { tile_co: 8, wg_x: 16, wg_y: 4 }),
            ("direct-8co-4x16", ConvKernel::Direct { tile_co: 8, wg_x: 4, wg_y: 16 }),
        ];
        for (variant, kernel) in variants {
            conv2d_with(&x, &w, None, &attrs, kernel).unwrap(); // warm the pipeline
            group.bench_function(variant, |b| b.iter(|| conv2d_with(&x, &w, None, &attrs, kernel).unwrap()));
        }
        group.finish();
    }
}

fn dense(c: &mut Criterion) {
    let gpu = gpu();
    for (name, n, f, o) in [("fc7-batch1", 1, 4096, 4096), ("fc8-batch1", 1, 4096, 1000), ("fc7-batch4", 4, 4096, 4096)]
    {
        let geo = DenseGeometry::new(&[n, f], &[o, f], None, false).unwrap();
        let x = Tensor::zeros(&gpu, &[n, f]).unwrap();
        // Uploaded once, as a model holds it: the iterations time the kernel, not the upload.
        let w = DenseWeight::upload(&gpu, &vec![0.0; o * f], None, o, f).unwrap();
        let mut group = c.benchmark_group(format!("dense/{name}"));
        group.sample_size(10).throughput(Throughput::Elements(geo.flops()));
        let mut variants =
            vec![("gemm-4x1", DenseKernel::Gemm { tile_n: 1 }), ("gemm-4x4", DenseKernel::Gemm { tile_n: 4 })];
        if n == 1 {
            variants.push(("gemv-64", DenseKernel::Gemv { wg: 64 }));
            variants.push(("gemv-256", DenseKernel::Gemv { wg: 256 }));
        }
        for (variant, kernel) in variants {
            w.forward_with(&x, false, kernel).unwrap();
            group.bench_function(variant, |b| b.iter(|| w.forward_with(&x, false, kernel).unwrap()));
        }
        group.finish();
    }
}

criterion_group!(benches, conv, dense);
criterion_main!(benches);
