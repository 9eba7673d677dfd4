//! AlexNet forward, one device against its channel groups split over two: images/s in one
//! criterion run (`cargo bench --bench alexnet`). On lavapipe both "devices" share the same
//! CPU cores, so the split cannot be faster there; it measures what the exchanges cost.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use dojang::model::{Weights, zoo};
use dojang::{Gpu, GpuModel};

fn alexnet(c: &mut Criterion) {
    let gpu = Gpu::new().unwrap_or_else(|e| panic!("benches need an adapter: {e}"));
    let model = zoo::build("alexnet").unwrap();
    let weights = Weights::he_normal(&model, 1);
    let batch = 1;
    let input = vec![0.5f32; batch * 3 * 227 * 227];
    let mut one = GpuModel::new(&gpu, &model, &weights).unwrap();
    let gpus = Gpu::open_group(2, Some(&gpu.info().name)).unwrap();
    let mut two = GpuModel::split(&gpus, &model, &weights).unwrap();

    let mut group = c.benchmark_group("alexnet/forward-batch1");
    group.sample_size(10).throughput(Throughput::Elements(batch as u64));
    group.bench_function("1-device", |b| b.iter(|| one.forward(&input, batch).unwrap()));
    group.bench_function("2-devices", |b| b.iter(|| two.forward(&input, batch).unwrap()));
    group.finish();
}

criterion_group!(benches, alexnet);
criterion_main!(benches);
