//! A lost device: every later call fails fast with `Error::DeviceLost`, never a panic or a
//! hang, and other devices go on.

use dojang::error::Error;
use dojang::model::{Weights, zoo};
use dojang::ops::{Pool2d, PoolKind, conv2d, pool2d, relu};
use dojang::{Gpu, GpuModel, Tensor};

fn lost<T: std::fmt::Debug>(what: &str, r: dojang::Result<T>) {
    match r {
        Err(Error::DeviceLost(reason)) => assert!(!reason.is_empty(), "{what}"),
        other => panic!("{what}: expected DeviceLost, got {other:?}"),
    }
}

#[test]
fn every_call_after_a_loss_fails_fast() {
    let gpu = Gpu::new().unwrap();
    let model = zoo::build("bottleneck").unwrap();
    let mut m = GpuModel::new(&gpu, &model, &Weights::he_normal(&model, 1)).unwrap();
    let x = Tensor::from_slice(&gpu, &[1.0, -2.0, 3.0, -4.0], &[1, 1, 2, 2]).unwrap();
    let w = Tensor::from_slice(&gpu, &[1.0], &[1, 1, 1, 1]).unwrap();
    assert_eq!(relu(&x).unwrap().download().unwrap(), [1.0, 0.0, 3.0, 0.0]);

    gpu.destroy();
    let start = std::time::Instant::now();
    lost("download", x.download());
    lost("relu", relu(&x));
    lost("conv2d", conv2d(&x, &w, None, &Default::default()));
    lost("pool2d", pool2d(&x, &Pool2d::new(PoolKind::Max, [2, 2], [2, 2])));
    lost("zeros", Tensor::zeros(&gpu, &[4]));
    lost("write", x.write(&[0.0; 4]));
    lost("forward", m.forward(&vec![0.0; model.input().iter().product()], 1));
    lost("wait", gpu.wait_idle());
    assert!(start.elapsed().as_secs() < 5, "failing took {:?}", start.elapsed());
    let e = relu(&x).unwrap_err();
    assert!(e.to_string().contains("lost"), "{e}");

    // Another device on the same adapter is untouched.
    let other = Gpu::new().unwrap();
    let y = Tensor::from_slice(&other, &[-1.0, 2.0], &[2]).unwrap();
    assert_eq!(relu(&y).unwrap().download().unwrap(), [0.0, 2.0]);
}
