//! The smallest real program: a convolution with ReLU and a max pool on the GPU, checked
//! against the CPU reference. `cargo run --release --example quickstart`
use dojang::ops::{Conv2d, Padding, Pool2d, PoolKind, conv2d, pool2d};
use dojang::tolerance::Tolerance;
use dojang::{Gpu, Tensor, reference};

fn main() -> dojang::Result<()> {
    let gpu = Gpu::new()?; // DOJANG_ADAPTER, else the high-performance adapter
    println!("adapter: {}", gpu.info().name);

    // One 3-channel 8x8 image (NCHW) and four 3x3 filters (OIHW).
    let x: Vec<f32> = (0..3 * 8 * 8).map(|i| (i % 7) as f32 - 3.0).collect();
    let w: Vec<f32> = (0..4 * 3 * 3 * 3).map(|i| (i % 5) as f32 * 0.1 - 0.2).collect();
    let conv = Conv2d::default().with_padding(Padding::symmetric(1, 1)).with_relu(true);
    let pool = Pool2d::new(PoolKind::Max, [2, 2], [2, 2]);

    // On the GPU: enqueued, and `download` waits for the result.
    let xt = Tensor::from_slice(&gpu, &x, &[1, 3, 8, 8])?;
    let wt = Tensor::from_slice(&gpu, &w, &[4, 3, 3, 3])?;
    let y = pool2d(&conv2d(&xt, &wt, None, &conv)?, &pool)?;
    let got = y.download()?;

    // On the CPU, by plain loops.
    let conv_geo = conv.geometry(&[1, 3, 8, 8], &[4, 3, 3, 3], None)?;
    let after_conv = reference::conv2d(&conv_geo, &x, &w, None)?;
    let expected = reference::pool2d(&pool.geometry(&conv_geo.output_shape())?, &after_conv)?;

    let check = Tolerance::for_reduction(conv_geo.reduction_len()).compare(&got, &expected);
    println!(
        "output {:?}, max abs error {:.1e}: {}",
        y.shape(),
        check.max_abs,
        if check.passed() { "pass" } else { "FAIL" }
    );
    std::process::exit(if check.passed() { 0 } else { 1 })
}
