//! One device shared by threads: the handles are `Send + Sync`, and four threads running
//! forward passes and ops on one `Gpu` at once get what one thread gets.

mod common;

use common::{gpu, random};
use dojang::model::{Weights, zoo};
use dojang::ops::{ConvWeight, DenseWeight, Pool2d, PoolKind, pool2d};
use dojang::tolerance::Tolerance;
use dojang::{Gpu, GpuModel, Launch, Tensor};

fn send_sync<T: Send + Sync>() {}

#[test]
fn handles_cross_threads() {
    send_sync::<Gpu>();
    send_sync::<Tensor>();
    send_sync::<Launch>();
    send_sync::<GpuModel>();
    send_sync::<ConvWeight>();
    send_sync::<DenseWeight>();
    send_sync::<dojang::Error>();
}

#[test]
fn four_threads_on_one_device_match_one_thread() {
    let gpu = gpu();
    let model = zoo::build("bottleneck").unwrap();
    let weights = Weights::he_normal(&model, 5);
    let per_image: usize = model.input().iter().product();
    let inputs: Vec<Vec<f32>> = (0..4).map(|t| random(2 * per_image, 100 + t)).collect();

    // One thread, one after another: the expected outputs.
    let mut alone = GpuModel::new(&gpu, &model, &weights).unwrap();
    let expected: Vec<Vec<f32>> = inputs.iter().map(|x| alone.forward(x, 2).unwrap()).collect();
    let pool = Pool2d::new(PoolKind::Max, [3, 3], [2, 2]);
    let pooled = |x: &[f32]| {
        let t = Tensor::from_slice(&gpu, x, &[2, 256, 56, 56]).unwrap();
        pool2d(&t, &pool).unwrap().download().unwrap()
    };
    let expected_pools: Vec<Vec<f32>> = inputs.iter().map(|x| pooled(x)).collect();

    // Four threads at once, each with its own model on the shared device, three passes each,
    // and a stand-alone op between them.
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|t| {
                let (gpu, model, weights, input, pool) = (gpu.clone(), &model, &weights, &inputs[t], &pool);
                s.spawn(move || {
                    let mut m = GpuModel::new(&gpu, model, weights).unwrap();
                    let mut outs = Vec::new();
                    for _ in 0..3 {
                        outs.push(m.forward(input, 2).unwrap());
                        let t = Tensor::from_slice(&gpu, input, &[2, 256, 56, 56]).unwrap();
                        outs.push(pool2d(&t, pool).unwrap().download().unwrap());
                    }
                    outs
                })
            })
            .collect();
        for (t, h) in handles.into_iter().enumerate() {
            let outs = h.join().expect("a thread panicked");
            for pass in outs.chunks(2) {
                let c = Tolerance::for_layer(&expected[t]).compare(&pass[0], &expected[t]);
                assert!(c.passed(), "thread {t}: {}", c.describe(&[2, expected[t].len() / 2]));
                assert_eq!(pass[1], expected_pools[t], "thread {t}: max pool");
            }
        }
    });
}
