//! The CPU reference against hand-computed values. Needs no GPU: these run anywhere, and they
//! are what makes a GPU-vs-reference comparison mean something.

use dojang::attrs::{Conv2d, Dense, Lrn, Padding, Pool2d, PoolKind, Softmax};
use dojang::reference;

/// The 4x4 ramp x[i][j] = 4i + j + 1.
fn ramp() -> Vec<f32> {
    (1..=16).map(|v| v as f32).collect()
}

#[test]
fn conv_sobel_and_padding_by_hand() {
    let sobel_x = [-1.0, 0.0, 1.0, -2.0, 0.0, 2.0, -1.0, 0.0, 1.0];
    let geo = Conv2d::default().geometry(&[1, 1, 4, 4], &[1, 1, 3, 3], None).unwrap();
    // The ramp rises by 1 per column: (1 + 2 + 1) · 2 = 8 everywhere.
    assert_eq!(reference::conv2d(&geo, &ramp(), &sobel_x, None).unwrap(), vec![8.0; 4]);
    // Padded corner: 2·x[0][1] + x[1][1] = 4 + 6 = 10; a bias of 0.5 adds to every output.
    let same = Conv2d::default().with_padding(Padding::symmetric(1, 1));
    let geo = same.geometry(&[1, 1, 4, 4], &[1, 1, 3, 3], Some(1)).unwrap();
    let y = reference::conv2d(&geo, &ramp(), &sobel_x, Some(&[0.5])).unwrap();
    assert_eq!((y[0], y[5]), (10.5, 8.5));
}

#[test]
fn conv_groups_stride_dilation_by_hand() {
    // Two channels, groups 2, 1x1 weights 2 and 3: each output channel sees only its own.
    let geo = Conv2d::default().with_groups(2).geometry(&[1, 2, 1, 2], &[2, 1, 1, 1], None).unwrap();
    assert_eq!(
        reference::conv2d(&geo, &[1.0, 2.0, 10.0, 20.0], &[2.0, 3.0], None).unwrap(),
        vec![2.0, 4.0, 30.0, 60.0]
    );
    // 5x5 image 0..24, 2x2 ones dilated by 2, stride (2, 2): 0+2+10+12 = 24, 32, 64, 72.
    let x: Vec<f32> = (0..25).map(|v| v as f32).collect();
    let geo =
        Conv2d::default().with_dilation(2, 2).with_stride(2, 2).geometry(&[1, 1, 5, 5], &[1, 1, 2, 2], None).unwrap();
    assert_eq!(reference::conv2d(&geo, &x, &[1.0; 4], None).unwrap(), vec![24.0, 32.0, 64.0, 72.0]);
    // Stride (1, 3) on one row 0..6 with a 1x1 weight of 1: columns 0 and 3.
    let x: Vec<f32> = (0..6).map(|v| v as f32).collect();
    let geo = Conv2d::default().with_stride(1, 3).geometry(&[1, 1, 1, 6], &[1, 1, 1, 1], None).unwrap();
    assert_eq!(reference::conv2d(&geo, &x, &[1.0], None).unwrap(), vec![0.0, 3.0]);
}

#[test]
fn pooling_by_hand() {
    let geo = Pool2d::new(PoolKind::Max, [2, 2], [2, 2]).geometry(&[1, 1, 4, 4]).unwrap();
    assert_eq!(reference::pool2d(&geo, &ramp()).unwrap(), vec![6.0, 8.0, 14.0, 16.0]);
    let avg = Pool2d::new(PoolKind::Avg, [3, 3], [2, 2]).with_padding(Padding::symmetric(1, 1));
    // Corner window: 1 + 2 + 5 + 6 = 14 over 4 cells inside, or 9 with the padding counted.
    assert_eq!(reference::pool2d(&avg.geometry(&[1, 1, 4, 4]).unwrap(), &ramp()).unwrap()[0], 3.5);
    let incl = avg.with_count_include_pad(true);
    assert_eq!(reference::pool2d(&incl.geometry(&[1, 1, 4, 4]).unwrap(), &ramp()).unwrap()[0], 14.0 / 9.0);
}

#[test]
fn dense_lrn_softmax_by_hand() {
    let geo = Dense::default().with_relu(true).geometry(&[1, 3], &[2, 3], Some(2)).unwrap();
    let y = reference::dense(&geo, &[1.0, 2.0, 3.0], &[1.0, 0.0, -1.0, 2.0, 2.0, 2.0], Some(&[0.5, -20.0])).unwrap();
    assert_eq!(y, vec![0.0, 0.0]); // relu(-1.5), relu(-8)
    let lrn = Lrn { size: 3, alpha: 3.0, beta: 1.0, k: 1.0, groups: 1 };
    let y = reference::lrn(&lrn.geometry(&[1, 4, 1, 1]).unwrap(), &[1.0, 2.0, 3.0, 4.0]).unwrap();
    assert!((y[1] - 2.0 / 15.0).abs() < 1e-7, "{y:?}");
    let geo = Softmax.geometry(&[1, 4]).unwrap();
    let y = reference::softmax(&geo, &[1.0f32.ln(), 2.0f32.ln(), 3.0f32.ln(), 4.0f32.ln()]).unwrap();
    for (got, want) in y.iter().zip([0.1, 0.2, 0.3, 0.4]) {
        assert!((got - want).abs() < 1e-6, "{y:?}");
    }
}

#[test]
fn mismatched_data_is_an_error_not_a_panic() {
    let geo = Conv2d::default().geometry(&[1, 1, 4, 4], &[1, 1, 3, 3], None).unwrap();
    assert!(reference::conv2d(&geo, &[0.0; 15], &[0.0; 9], None).is_err());
    assert!(reference::add(&[1.0, 2.0, 3.0], &[1.0, 2.0], false).is_err());
}

#[test]
fn images_decode_scale_and_encode_by_hand() {
    use dojang::ops::{ImageFormat, ImageInput, ValueRange};
    // B, G, R, A bytes; half floats 1.0 and 0.5 (0x3c00, 0x3800); sRGB bytes as they stand.
    assert_eq!(reference::decode_texels(ImageFormat::Bgra8Unorm, &[0, 51, 255, 255]), [[1.0, 0.2, 0.0, 1.0]]);
    let halves = [0x00, 0x3c, 0x00, 0x38, 0x00, 0x00, 0x00, 0x3c];
    assert_eq!(reference::decode_texels(ImageFormat::Rgba16Float, &halves), [[1.0, 0.5, 0.0, 1.0]]);
    assert_eq!(reference::decode_texels(ImageFormat::Rgba8UnormSrgb, &[51, 0, 0, 255])[0][0], 0.2);
    // 1x2 → 1x4: centres at −0.25, 0.25, 0.75, 1.25 of the source, clamped: 0, ¼, ¾, 1 of the way.
    let texels = [[0.0, 0.0, 0.0, 1.0], [1.0, 0.0, 0.0, 1.0]];
    let y = reference::image_to_tensor(&texels, [1, 2], &ImageInput::default().with_resize([1, 4])).unwrap();
    assert_eq!(&y[..4], &[0.0, 0.25, 0.75, 1.0]);
    // A centre crop of 1 from 4 starts at 1 ((4 − 1) / 2, rounded down).
    let crop = ImageInput::default().with_resize([1, 4]).with_crop([1, 1]).with_normalise([0.5; 3], [0.25; 3]);
    assert_eq!(reference::image_to_tensor(&texels, [1, 2], &crop).unwrap(), [-1.0, -2.0, -2.0]);
    // 0.5 is 127.5 steps: ties go to the even byte, 128; signed(1) maps −1 to black, 1 to white.
    let x = [0.5, -1.0, 1.0];
    let bytes = reference::tensor_to_image(&x, [1, 3, 1, 1], 0, &[0, 1, 2], ValueRange::UNIT, ImageFormat::Rgba8Unorm);
    assert_eq!(bytes, [128, 0, 255, 255]);
    let grey = reference::tensor_to_image(&x, [1, 3, 1, 1], 0, &[1], ValueRange::signed(1.0), ImageFormat::Bgra8Unorm);
    assert_eq!(grey, [0, 0, 0, 255]);
}
