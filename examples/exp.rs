use dojang::ops::conv2d::*;
use dojang::*;
use std::time::Instant;
fn main() -> Result<()> {
    let gpu = Gpu::new()?;
    let p = |k| Conv2d::default().with_padding(Padding::symmetric(k, k));
    for (xs, ws, a) in [([1, 64, 56, 56], [64, 64, 3, 3], p(1)), ([1, 96, 27, 27], [256, 48, 5, 5], p(2).with_groups(2)), ([1, 256, 13, 13], [384, 256, 3, 3], p(1)), ([1, 3, 227, 227], [96, 3, 11, 11], Conv2d::default().with_stride(4, 4))] {
        let geo = a.geometry(&xs, &ws, None)?;
        let x = Tensor::zeros(&gpu, &xs)?;
        let w = Tensor::zeros(&gpu, &ws)?;
        conv2d(&x, &w, None, &a)?;
        let t = Instant::now();
        for _ in 0..5 { conv2d(&x, &w, None, &a)?; }
        let s = t.elapsed().as_secs_f64() / 5.0;
        println!("{ws:?}: {:.1} ms {:.2} GFLOP/s", s * 1e3, geo.flops() as f64 / s / 1e9);
    }
    Ok(())
}
