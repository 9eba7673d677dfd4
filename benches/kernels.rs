//! Kernel throughput, variants side by side: `cargo bench`. Groups are op/layer (the layers
//! of `dojang-validate bench`), each timing every candidate kernel and the autotuner's
//! choice, in GFLOP/s (criterion's "elements" are floating-point operations), beside the
//! roofline GEMM. A measured iteration is one recorded launch, submitted and waited for;
//! weights are prepared once, as a model holds them.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use dojang::ops::{Conv2d, ConvKernel, ConvWeight, Dense, DenseKernel, DenseWeight, Padding};
use dojang::ops::{Pool2d, PoolKind, conv2d, pool2d, record_pool2d, record_relu, relu};
use dojang::tools::cases;
use dojang::{Gpu, Launch, Tensor};

fn gpu() -> Gpu {
    Gpu::new().unwrap_or_else(|e| panic!("benches need an adapter: {e}"))
}

/// Runs a recording and waits for it.
fn run(launch: &Launch) {
    launch.run().unwrap();
    launch.gpu().wait_idle().unwrap();
}

/// The adapter's yardsticks: a plain 1024³ GEMM with the 16x16 tile, operands in textures,
/// and a texture read as the batch-1 dense kernel streams its weight.
fn roofline(c: &mut Criterion) {
    let gpu = gpu();
    let n = 1024;
    let launch = dojang::tools::roofline_gemm(&gpu, n).unwrap();
    run(&launch);
    let mut group = c.benchmark_group("gemm/roofline");
    group.sample_size(10).throughput(Throughput::Elements(2 * (n * n * n) as u64));
    group.bench_function("1024", |b| b.iter(|| run(&launch)));
    group.finish();

    // The streaming yardstick of the batch-1 dense layers: fc6's weight read once, in bytes.
    let launch = dojang::tools::roofline_gemv(&gpu, 4096, 9216).unwrap();
    run(&launch);
    let mut group = c.benchmark_group("gemv/roofline");
    group.sample_size(10).throughput(Throughput::Bytes(4 * 4096 * 9216));
    group.bench_function("fc6-weight-stream", |b| b.iter(|| run(&launch)));
    group.finish();
}

/// The bench layers' convolutions, every candidate the autotuner times and its choice.
fn conv(c: &mut Criterion) {
    let gpu = gpu();
    for case in cases::bench_convs() {
        let (xs, ws, attrs) = (case.input, case.weight, case.attrs);
        let geo = attrs.geometry(&xs, &ws, None).unwrap();
        let x = Tensor::zeros(&gpu, &xs).unwrap();
        let w = ConvWeight::new(&Tensor::zeros(&gpu, &ws).unwrap(), None, attrs.groups).unwrap();
        let y = Tensor::zeros(&gpu, &geo.output_shape()).unwrap();
        let mut group = c.benchmark_group(format!("conv2d/{}", case.name));
        group.sample_size(10).throughput(Throughput::Elements(geo.flops()));
        let mut variants = ConvKernel::candidates(&geo);
        variants.push(ConvKernel::Auto);
        for kernel in variants {
            let launch = w.record_with(&x, &y, &attrs, kernel).unwrap();
            run(&launch); // warm the pipeline
            group.bench_function(kernel.name(), |b| b.iter(|| run(&launch)));
        }
        group.finish();
    }
}

/// The bench layers' dense layers, every candidate and the autotuner's choice.
fn dense(c: &mut Criterion) {
    let gpu = gpu();
    for case in cases::bench_dense() {
        let (n, f, o) = (case.batch, case.in_features, case.out_features);
        let attrs = Dense::default().with_relu(case.relu);
        let geo = attrs.geometry(&[n, f], &[o, f], None).unwrap();
        let x = Tensor::zeros(&gpu, &[n, f]).unwrap();
        let y = Tensor::zeros(&gpu, &[n, o]).unwrap();
        let w = DenseWeight::upload(&gpu, &vec![0.0; o * f], None, o, f).unwrap();
        let mut group = c.benchmark_group(format!("dense/{}", case.name));
        group.sample_size(10).throughput(Throughput::Elements(geo.flops()));
        let mut variants = DenseKernel::candidates(&geo);
        variants.push(DenseKernel::Auto);
        for kernel in variants {
            let launch = w.record_with(&x, &y, &attrs, kernel).unwrap();
            run(&launch);
            group.bench_function(kernel.name(), |b| b.iter(|| run(&launch)));
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
