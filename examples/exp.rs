use dojang::ops::conv2d::*;
use dojang::*;
use std::time::Instant;
fn main() -> Result<()> {
    let gpu = Gpu::new()?;
    for (xs, ws) in
        [([1, 256, 56, 56], [64, 256, 1, 1]), ([1, 64, 56, 56], [256, 64, 1, 1]), ([1, 384, 13, 13], [192, 384, 1, 1])]
    {
        let a = Conv2d::default();
        let flat = [xs[0], xs[1], 1, xs[2] * xs[3]];
        let geo = a.geometry(&flat, &ws, None)?;
        let x = Tensor::zeros(&gpu, &flat)?;
        let w = Tensor::zeros(&gpu, &ws)?;
        for k in [
            ConvKernel::Direct { tile_co: 8, wg_x: 16, wg_y: 4 },
            ConvKernel::Direct { tile_co: 8, wg_x: 64, wg_y: 1 },
            ConvKernel::Direct { tile_co: 4, wg_x: 64, wg_y: 1 },
        ] {
            conv2d_with(&x, &w, None, &a, k)?;
            let t = Instant::now();
            for _ in 0..5 {
                conv2d_with(&x, &w, None, &a, k)?;
            }
            let s = t.elapsed().as_secs_f64() / 5.0;
            println!("flat {ws:?} {k:?}: {:.1} ms {:.2} GFLOP/s", s * 1e3, geo.flops() as f64 / s / 1e9);
        }
    }
    Ok(())
}
