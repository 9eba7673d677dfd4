//! Kernel throughput, variants side by side: `cargo bench`. Each group is op/algorithm/shape
//! and reports GFLOP/s (criterion's "elements" are floating-point operations). A measured
//! iteration is one recorded launch, submitted and waited for; weights are prepared once, as
//! a model holds them.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use dojang::ops::{Conv2d, ConvKernel, ConvWeight, Dense, DenseKernel, DenseWeight, Padding, Tile};
use dojang::ops::{Pool2d, PoolKind, conv2d, pool2d, record_pool2d, record_relu, relu};
use dojang::{Gpu, Launch, Tensor};

fn gpu() -> Gpu {
    Gpu::new().unwrap_or_else(|e| panic!("benches need an adapter: {e}"))
}

/// Runs a recording and waits for it.
fn run(launch: &Launch) {
    launch.run().unwrap();
    launch.gpu().wait_idle().unwrap();
}

/// The adapter's yardstick: a plain 1024³ GEMM with the 16x16 tile, operands in textures.
fn roofline(c: &mut Criterion) {
    let gpu = gpu();
    let n = 1024;
    let launch = dojang::ops::roofline_gemm(&gpu, n).unwrap();
    run(&launch);
    let mut group = c.benchmark_group("gemm/roofline");
    group.sample_size(10).throughput(Throughput::Elements(2 * (n * n * n) as u64));
    group.bench_function("1024", |b| b.iter(|| run(&launch)));
    group.finish();
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
        let w = ConvWeight::new(&Tensor::zeros(&gpu, &ws).unwrap(), None, attrs.groups).unwrap();
        let y = Tensor::zeros(&gpu, &geo.output_shape()).unwrap();
        let mut group = c.benchmark_group(format!("conv2d/{name}"));
        group.sample_size(10).throughput(Throughput::Elements(geo.flops()));
        // Auto: 8 channels per invocation; pointwise convolutions over the flattened image.
        // Every candidate the autotuner would time, and its choice.
        let mut variants = ConvKernel::candidates(&geo);
        variants.push(ConvKernel::Auto);
        for kernel in variants {
            let variant = kernel.name();
            let launch = w.record_with(&x, &y, &attrs, kernel).unwrap();
            run(&launch); // warm the pipeline
            group.bench_function(variant, |b| b.iter(|| run(&launch)));
        }
        group.finish();
    }
}

fn dense(c: &mut Criterion) {
    let gpu = gpu();
    for (name, n, f, o) in [("fc7-batch1", 1, 4096, 4096), ("fc8-batch1", 1, 4096, 1000), ("fc7-batch4", 4, 4096, 4096)]
    {
        let geo = Dense::default().geometry(&[n, f], &[o, f], None).unwrap();
        let x = Tensor::zeros(&gpu, &[n, f]).unwrap();
        let y = Tensor::zeros(&gpu, &[n, o]).unwrap();
        let w = DenseWeight::upload(&gpu, &vec![0.0; o * f], None, o, f).unwrap();
        let mut group = c.benchmark_group(format!("dense/{name}"));
        group.sample_size(10).throughput(Throughput::Elements(geo.flops()));
        let mut variants = vec![DenseKernel::Gemm(Tile { tm: 16, tn: 4 }), DenseKernel::Gemm(Tile { tm: 16, tn: 16 })];
        if n == 1 {
            variants.extend([DenseKernel::Gemv { tm: 4 }, DenseKernel::Gemv { tm: 8 }]);
        }
        for kernel in variants {
            let variant = kernel.name();
            let launch = w.record_with(&x, &y, &Dense::default(), kernel).unwrap();
            run(&launch);
            group.bench_function(variant, |b| b.iter(|| run(&launch)));
        }
        group.finish();
    }
}

/// conv → ReLU → max pool, three op calls: each waited for (a round trip per op, as ops ran
/// before they stopped waiting), enqueued with one wait at the end, and as one recording.
fn chain(c: &mut Criterion) {
    let gpu = gpu();
    let attrs = Conv2d::default().with_padding(Padding::symmetric(1, 1));
    let pool = Pool2d::new(PoolKind::Max, [2, 2], [2, 2]);
    let x = Tensor::zeros(&gpu, &[1, 64, 56, 56]).unwrap();
    let w = Tensor::zeros(&gpu, &[64, 64, 3, 3]).unwrap();
    let geo = attrs.geometry(x.shape(), w.shape(), None).unwrap();
    let mut group = c.benchmark_group("chain/conv3x3-relu-maxpool-64x56x56");
    group.sample_size(10).throughput(Throughput::Elements(geo.flops()));
    group.bench_function("calls-each-waited", |b| {
        b.iter(|| {
            let y = conv2d(&x, &w, None, &attrs).unwrap();
            gpu.wait_idle().unwrap();
            let r = relu(&y).unwrap();
            gpu.wait_idle().unwrap();
            let z = pool2d(&r, &pool).unwrap();
            z.download().unwrap()
        })
    });
    group.bench_function("calls-enqueued", |b| {
        b.iter(|| pool2d(&relu(&conv2d(&x, &w, None, &attrs).unwrap()).unwrap(), &pool).unwrap().download().unwrap())
    });
    let weight = ConvWeight::new(&w, None, 1).unwrap();
    let (y, r, z) = (
        Tensor::zeros(&gpu, &geo.output_shape()).unwrap(),
        Tensor::zeros(&gpu, &geo.output_shape()).unwrap(),
        Tensor::zeros(&gpu, &[1, 64, 28, 28]).unwrap(),
    );
    let recorded = weight
        .record(&x, &y, &attrs)
        .and_then(|l| l.then(record_relu(&y, &r)?))
        .and_then(|l| l.then(record_pool2d(&r, &z, &pool)?))
        .unwrap();
    group.bench_function("recorded", |b| {
        b.iter(|| {
            recorded.run().unwrap();
            z.download().unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, roofline, conv, dense, chain);
criterion_main!(benches);
