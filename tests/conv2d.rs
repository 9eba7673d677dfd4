//! conv2d on the GPU against the CPU reference over a shape matrix, hand-computed cases that
//! anchor the reference itself, a seeded property test, and every bad input.

mod common;

use common::{assert_close, gpu, random};
use dojang::error::Error;
use dojang::ops::{Conv2d, ConvKernel, ConvWeight, Padding, Tile, conv2d, conv2d_with};
use dojang::tolerance::Tolerance;
use dojang::tools::cases;
use dojang::{Gpu, Tensor, reference};

/// Runs `attrs` on x [xs] and w [ws] (+ bias) with each of `kernels`, compares with the
/// reference (computed once).
fn check_kernels(name: &str, xs: [usize; 4], ws: [usize; 4], bias: bool, attrs: Conv2d, kernels: &[ConvKernel]) {
    let gpu = gpu();
    let geo = attrs.geometry(&xs, &ws, bias.then_some(ws[0])).unwrap();
    let x = random(xs.iter().product(), 1);
    let w = random(ws.iter().product(), 2);
    let b = random(ws[0], 3);
    let b = bias.then_some(b.as_slice());
    let expected = reference::conv2d(&geo, &x, &w, b).unwrap();
    let xt = Tensor::from_slice(&gpu, &x, &xs).unwrap();
    let wt = Tensor::from_slice(&gpu, &w, &ws).unwrap();
    let bt = b.map(|b| Tensor::from_slice(&gpu, b, &[ws[0]]).unwrap());
    for kernel in kernels {
        let y = conv2d_with(&xt, &wt, bt.as_ref(), &attrs, *kernel).unwrap();
        assert_eq!(y.shape(), geo.output_shape());
        let got = y.download().unwrap();
        let what = format!("{name} with {}", kernel.name());
        assert_close(&what, &got, &expected, &geo.output_shape(), Tolerance::for_reduction(geo.reduction_len()));
    }
}

fn check(name: &str, xs: [usize; 4], ws: [usize; 4], bias: bool, attrs: Conv2d, kernel: ConvKernel) {
    check_kernels(name, xs, ws, bias, attrs, &[kernel]);
}

#[test]
fn every_candidate_matches_reference_over_the_case_table() {
    // What the autotuner may pick, what it picked, and the tiles it does not try.
    for c in cases::conv2d() {
        let geo = c.attrs.geometry(&c.input, &c.weight, None).unwrap();
        let mut kernels = ConvKernel::candidates(&geo);
        kernels.push(ConvKernel::Auto);
        for (tm, tn) in [(4, 4), (16, 4), (4, 8)] {
            kernels.push(ConvKernel::Gemm(Tile { tm, tn }));
        }
        // The implicit GEMM's loads of 2 and 3 texels, on every shape (the autotuner offers
        // it only with 8 or more output channels per group).
        kernels.extend([ConvKernel::Implicit(Tile { tm: 4, tn: 4 }), ConvKernel::Implicit(Tile { tm: 16, tn: 8 })]);
        // The shifted GEMM's tiles of 4 and 8 columns wherever the stride across is 1 or 2.
        if c.attrs.stride[1] <= 2 {
            kernels.extend([ConvKernel::Shifted(Tile { tm: 4, tn: 4 }), ConvKernel::Shifted(Tile { tm: 8, tn: 8 })]);
        }
        check_kernels(c.name, c.input, c.weight, c.bias, c.attrs, &kernels);
    }
}

#[test]
fn direct_kernel_workgroup_shapes_match_reference() {
    // Workgroups that do not divide the grid: ragged blocks at both edges.
    let kernels: Vec<_> = [(4, 1, 1), (8, 3, 5), (4, 16, 16), (8, 64, 1)]
        .map(|(tile_co, wg_x, wg_y)| ConvKernel::Direct { tile_co, wg_x, wg_y })
        .into();
    for c in cases::conv2d().into_iter().filter(|c| c.input.iter().product::<usize>() < 20_000) {
        check_kernels(c.name, c.input, c.weight, c.bias, c.attrs, &kernels);
    }
}

#[test]
fn pointwise_convolutions_with_and_without_im2col_match_reference() {
    // A GEMM reads a pointwise convolution's input as it stands; where the images do not hold
    // whole column tiles (14·14 = 196 is a multiple of 4, not of 8 or 16) it runs an image a
    // slice of its grid, and a tile's columns past the plane are not stored.
    let c = Conv2d::default();
    let kernels = [
        ConvKernel::Gemm(Tile { tm: 16, tn: 4 }),
        ConvKernel::Gemm(Tile { tm: 8, tn: 8 }),
        ConvKernel::Gemm(Tile { tm: 16, tn: 16 }),
        ConvKernel::Direct { tile_co: 8, wg_x: 16, wg_y: 4 },
    ];
    check_kernels("256->64 on 14x14", [1, 256, 14, 14], [64, 256, 1, 1], true, c, &kernels);
    check_kernels("groups 2, batch 3", [3, 8, 4, 4], [10, 4, 1, 1], false, c.with_groups(2), &kernels);
    check_kernels("odd pixels and channels", [2, 5, 7, 3], [9, 5, 1, 1], true, c.with_relu(true), &kernels);
    check_kernels("batch 2 of 14x14", [2, 24, 14, 14], [20, 24, 1, 1], true, c.with_relu(true), &kernels);
    check_kernels("batch 3 of 7x7, groups 2", [3, 38, 7, 7], [20, 19, 1, 1], true, c.with_groups(2), &kernels);
    // One image whose planes are not whole texels: its rows read from where they start.
    check_kernels("one 7x7 image", [1, 37, 7, 7], [20, 37, 1, 1], true, c, &kernels);
    check_kernels("one 5x3 image", [1, 6, 5, 3], [8, 6, 1, 1], false, c, &kernels);
}

/// x [1, C, H, W] from rows, w [1, C, KH, KW] from rows; the GPU result as rows.
fn run_small(
    x: &[f32],
    xs: [usize; 4],
    w: &[f32],
    ws: [usize; 4],
    b: Option<f32>,
    attrs: Conv2d,
) -> (Vec<f32>, Vec<f32>) {
    let gpu = gpu();
    let geo = attrs.geometry(&xs, &ws, b.map(|_| ws[0])).unwrap();
    let bias = b.map(|v| vec![v; ws[0]]);
    let cpu = reference::conv2d(&geo, x, w, bias.as_deref()).unwrap();
    let xt = Tensor::from_slice(&gpu, x, &xs).unwrap();
    let wt = Tensor::from_slice(&gpu, w, &ws).unwrap();
    let bt = bias.map(|b| Tensor::from_slice(&gpu, &b, &[ws[0]]).unwrap());
    let gpu_out = conv2d(&xt, &wt, bt.as_ref(), &attrs).unwrap().download().unwrap();
    (cpu, gpu_out)
}

/// The 4x4 ramp x[i][j] = 4i + j + 1.
fn ramp() -> Vec<f32> {
    (1..=16).map(|v| v as f32).collect()
}

#[test]
fn sobel_on_a_ramp_hand_computed() {
    let sobel_x = [-1.0, 0.0, 1.0, -2.0, 0.0, 2.0, -1.0, 0.0, 1.0];
    let sobel_y = [-1.0, -2.0, -1.0, 0.0, 0.0, 0.0, 1.0, 2.0, 1.0];
    // The ramp rises by 1 per column and 4 per row; Sobel weighs a difference 2 apart by 1+2+1.
    for (k, expected) in [(sobel_x, 8.0), (sobel_y, 32.0)] {
        let (cpu, gpu) = run_small(&ramp(), [1, 1, 4, 4], &k, [1, 1, 3, 3], None, Conv2d::default());
        assert_eq!(cpu, vec![expected; 4]);
        assert_eq!(gpu, vec![expected; 4]);
    }
    // With zero padding the corner sees only part of the ramp:
    // y[0][0] = -2·0 + 2·x[0][1] + -1·0 + 1·x[1][1] = 2·2 + 6 = 10.
    let same = Conv2d::default().with_padding(Padding::symmetric(1, 1));
    let (cpu, gpu) = run_small(&ramp(), [1, 1, 4, 4], &sobel_x, [1, 1, 3, 3], None, same);
    assert_eq!(cpu[0], 10.0);
    assert_eq!(gpu[0], 10.0);
    // y[1][1] is interior: 8, as without padding.
    assert_eq!(gpu[5], 8.0);
}

#[test]
fn laplacian_of_a_ramp_is_zero_inside() {
    let lap = [0.0, 1.0, 0.0, 1.0, -4.0, 1.0, 0.0, 1.0, 0.0];
    let (cpu, gpu) = run_small(&ramp(), [1, 1, 4, 4], &lap, [1, 1, 3, 3], None, Conv2d::default());
    assert_eq!(cpu, vec![0.0; 4]);
    assert_eq!(gpu, vec![0.0; 4]);
}

#[test]
fn dilated_strided_sum_hand_computed() {
    // 5x5 image 0..24, 2x2 ones dilated by 2 (a 3x3 footprint), stride 2: output 2x2 of
    // x[0][0]+x[0][2]+x[2][0]+x[2][2] = 0+2+10+12 = 24, then 32, 64, 72.
    let x: Vec<f32> = (0..25).map(|v| v as f32).collect();
    let attrs = Conv2d::default().with_dilation(2, 2).with_stride(2, 2);
    let (cpu, gpu) = run_small(&x, [1, 1, 5, 5], &[1.0; 4], [1, 1, 2, 2], None, attrs);
    assert_eq!(cpu, vec![24.0, 32.0, 64.0, 72.0]);
    assert_eq!(gpu, cpu);
}

#[test]
fn strided_1x1_taken_at_its_stride_hand_computed() {
    // A 1x1 convolution of stride (2, 3) with a row of padding above and a column right runs
    // the pointwise GEMM over the input taken at its stride. x: channel 0 the 5x7 ramp 7i + j,
    // channel 1 ones; w = (1, 100). Output 3x3 over rows −1, 1, 3 and columns 0, 3, 6: the
    // padding row gives 0, the others x0 + 100.
    let gpu = gpu();
    let x: Vec<f32> = (0..35).map(|v| v as f32).chain([1.0; 35]).collect();
    let xt = Tensor::from_slice(&gpu, &x, &[1, 2, 5, 7]).unwrap();
    let wt = Tensor::from_slice(&gpu, &[1.0, 100.0], &[1, 2, 1, 1]).unwrap();
    let attrs = Conv2d::default().with_stride(2, 3).with_padding(Padding::new(1, 0, 0, 1));
    let expected = [0.0, 0.0, 0.0, 107.0, 110.0, 113.0, 121.0, 124.0, 127.0];
    for tile in [Tile { tm: 16, tn: 16 }, Tile { tm: 8, tn: 4 }] {
        let y = conv2d_with(&xt, &wt, None, &attrs, ConvKernel::Gemm(tile)).unwrap();
        assert_eq!(y.shape(), [1, 1, 3, 3]);
        assert_eq!(y.download().unwrap(), expected, "{tile:?}");
    }
}

/// A kernel of two taps for [`check_two_taps_of`]: its size (KH, KW), the tap after (0, 0), and
/// how close the results must come (0: exactly).
struct TwoTaps {
    kernel: [usize; 2],
    tap: [usize; 2],
    tol: f32,
}

/// The 3x3 kernel with taps (0, 0) and (2, 1), results exact.
const THREE_BY_THREE: TwoTaps = TwoTaps { kernel: [3, 3], tap: [2, 1], tol: 0.0 };

/// [`check_two_taps_of`] with [`THREE_BY_THREE`].
fn check_two_taps(
    attrs: Conv2d,
    out: [usize; 2],
    taps: impl Fn(isize, isize) -> [[isize; 2]; 2],
    kernels: &[ConvKernel],
) {
    check_two_taps_of(&THREE_BY_THREE, attrs, out, taps, kernels)
}

/// Two images of 9x7, x[n, 0, i, j] = 100n + 10i + j, and 9 output channels of a `two.kernel`
/// (KH, KW), channel o weighing tap (0, 0) by o + 1 and tap `two.tap` by 10(o + 1), zero
/// elsewhere, convolved with `attrs` into `out` rows x columns by each of `kernels`. Each must
/// give
///   y[n, o, oy, ox] = (o + 1) · (x(a) + 10 · x(b)),   [a, b] = taps(oy, ox),
/// x zero outside the image: exactly, or within `two.tol` times the largest |y| (Winograd).
fn check_two_taps_of(
    two: &TwoTaps,
    attrs: Conv2d,
    out: [usize; 2],
    taps: impl Fn(isize, isize) -> [[isize; 2]; 2],
    kernels: &[ConvKernel],
) {
    let (n, h, w, cout) = (2, 9, 7, 9);
    let ([kh, kw], [ty, tx]) = (two.kernel, two.tap);
    let xs: Vec<f32> = (0..n * h * w).map(|i| (100 * (i / (h * w)) + 10 * (i / w % h) + i % w) as f32).collect();
    let mut ws = vec![0.0; cout * kh * kw];
    for o in 0..cout {
        ws[o * kh * kw] = (o + 1) as f32;
        ws[o * kh * kw + ty * kw + tx] = 10.0 * (o + 1) as f32;
    }
    let geo = attrs.geometry(&[n, 1, h, w], &[cout, 1, kh, kw], None).unwrap();
    assert_eq!(geo.output_shape(), [n, cout, out[0], out[1]]);
    let at = |img: usize, [i, j]: [isize; 2]| match (0..h as isize).contains(&i) && (0..w as isize).contains(&j) {
        true => xs[(img * h + i as usize) * w + j as usize],
        false => 0.0,
    };
    let mut expected = Vec::new();
    for img in 0..n {
        for o in 0..cout {
            for oy in 0..out[0] as isize {
                for ox in 0..out[1] as isize {
                    let [a, b] = taps(oy, ox);
                    expected.push((o + 1) as f32 * (at(img, a) + 10.0 * at(img, b)));
                }
            }
        }
    }
    assert!(expected.iter().filter(|v| **v != 0.0).count() > expected.len() / 4, "{expected:?}");
    let gpu = gpu();
    let x = Tensor::from_slice(&gpu, &xs, &[n, 1, h, w]).unwrap();
    let wt = Tensor::from_slice(&gpu, &ws, &[cout, 1, kh, kw]).unwrap();
    let tol = two.tol * expected.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    for kernel in kernels {
        let y = conv2d_with(&x, &wt, None, &attrs, *kernel).unwrap().download().unwrap();
        let off = y.iter().zip(&expected).position(|(got, want)| (got - want).abs() > tol);
        assert!(off.is_none(), "{}, {out:?} outputs: {y:?} against {expected:?}", kernel.name());
    }
}

#[test]
fn implicit_gemm_taps_hand_computed() {
    // Stride (3, 2), dilation (2, 1), padding top 2, left 1, bottom 0, right 3: taps
    // (3oy − 2, 2ox − 1) and (3oy + 2, 2ox), every row phase of the stride, a row shift,
    // both paddings.
    let attrs = Conv2d::default().with_stride(3, 2).with_dilation(2, 1).with_padding(Padding::new(2, 1, 0, 3));
    let kernels = [(4, 4), (8, 8), (16, 16)].map(|(tm, tn)| ConvKernel::Implicit(Tile { tm, tn }));
    check_two_taps(attrs, [3, 5], |oy, ox| [[3 * oy - 2, 2 * ox - 1], [3 * oy + 2, 2 * ox]], &kernels);
}

#[test]
fn shifted_gemm_taps_hand_computed() {
    // Stride (3, 1), dilation (2, 2), padding top 2, left 1, bottom 0, right 3 (7 outputs a
    // row: stores by the column) or 0 (4: whole vec4s and, with 4 a tile, whole tiles): taps
    // (3oy − 2, ox − 1) and (3oy + 2, ox + 1), read from before the first word, rows above and
    // below, columns left and right of the image.
    let kernels = [(4, 4), (8, 8), (16, 16)].map(|(tm, tn)| ConvKernel::Shifted(Tile { tm, tn }));
    for (right, ow) in [(3, 7), (0, 4)] {
        let attrs = Conv2d::default().with_stride(3, 1).with_dilation(2, 2).with_padding(Padding::new(2, 1, 0, right));
        check_two_taps(attrs, [3, ow], |oy, ox| [[3 * oy - 2, ox - 1], [3 * oy + 2, ox + 1]], &kernels);
    }
    // Stride 2 across (every other word of 2·TN), dilation (2, 1): taps (3oy − 2, 2ox − 1) and
    // (3oy + 2, 2ox), 5 or 3 outputs a row.
    for (right, ow) in [(3, 5), (0, 3)] {
        let attrs = Conv2d::default().with_stride(3, 2).with_dilation(2, 1).with_padding(Padding::new(2, 1, 0, right));
        check_two_taps(attrs, [3, ow], |oy, ox| [[3 * oy - 2, 2 * ox - 1], [3 * oy + 2, 2 * ox]], &kernels);
    }
}

#[test]
fn space_to_depth_winograd_taps_hand_computed() {
    // Kernels that fold by their stride S into 3x3 (6x6 at 2, 7x7 at 3, AlexNet's 11x11 at 4)
    // and 5x5 (9x9 at 2): the second tap lies in another phase of the fold than (0, 0), and
    // the padding is uneven (a row of outputs sees the image's left, right or no edge).
    let s2d = |m, fused| ConvKernel::SpaceToDepth { m, tile: Tile { tm: 16, tn: 16 }, fused };
    let threes = [s2d(2, false), s2d(4, false), s2d(2, true), s2d(4, true)];
    let two = |kernel, tap| TwoTaps { kernel, tap, tol: 1e-5 };
    let c = Conv2d::default();
    let at = |s: usize, pad: Padding| c.with_stride(s, s).with_padding(pad);
    // Taps (2oy − 1, 2ox − 2) and (2oy + 4, 2ox + 1): 3 x 4 outputs.
    let attrs = at(2, Padding::new(1, 2, 0, 3));
    check_two_taps_of(
        &two([6, 6], [5, 3]),
        attrs,
        [3, 4],
        |oy, ox| [[2 * oy - 1, 2 * ox - 2], [2 * oy + 4, 2 * ox + 1]],
        &threes,
    );
    // Taps (3oy − 1, 3ox − 2) and (3oy + 5, 3ox + 2): 2 x 2 outputs.
    let attrs = at(3, Padding::new(1, 2, 1, 3));
    check_two_taps_of(
        &two([7, 7], [6, 4]),
        attrs,
        [2, 2],
        |oy, ox| [[3 * oy - 1, 3 * ox - 2], [3 * oy + 5, 3 * ox + 2]],
        &threes,
    );
    // Taps (4oy − 2, 4ox − 4) and (4oy + 7, 4ox + 2): 1 x 2 outputs (AlexNet's conv1, padded).
    let attrs = at(4, Padding::new(2, 4, 0, 4));
    check_two_taps_of(
        &two([11, 11], [9, 6]),
        attrs,
        [1, 2],
        |oy, ox| [[4 * oy - 2, 4 * ox - 4], [4 * oy + 7, 4 * ox + 2]],
        &threes,
    );
    // Taps (2oy − 4, 2ox − 4) and (2oy + 3, 2ox + 4), folded to 5x5 (F(2x2, 5x5)): 5 x 4 outputs.
    let attrs = at(2, Padding::new(4, 4, 4, 4));
    let fives = [s2d(2, false), s2d(2, true)];
    check_two_taps_of(
        &two([9, 9], [7, 8]),
        attrs,
        [5, 4],
        |oy, ox| [[2 * oy - 4, 2 * ox - 4], [2 * oy + 3, 2 * ox + 4]],
        &fives,
    );
    // What does not fold into a Winograd form is refused by name.
    let gpu = gpu();
    let x = Tensor::from_slice(&gpu, &[0.0; 81], &[1, 1, 9, 9]).unwrap();
    let w = Tensor::from_slice(&gpu, &[0.0; 9], &[1, 1, 3, 3]).unwrap();
    let err = conv2d_with(&x, &w, None, &c.with_stride(2, 1), s2d(4, false)).unwrap_err();
    assert!(err.to_string().contains("space-to-depth Winograd runs the same stride above 1 both ways"), "{err}");
    assert!(err.to_string().contains("F(4x4) of a 3x3 kernel, stride [2, 1], dilation [1, 1]"), "{err}");
    // 3x3 at stride 2 folds to 2x2.
    let err = conv2d_with(&x, &w, None, &c.with_stride(2, 2), s2d(4, true)).unwrap_err();
    assert!(err.to_string().contains("F(4x4) fused of a 3x3 kernel, stride [2, 2]"), "{err}");
}

/// Two h x w images of the ramp 0, 1, … (the second goes on from the first) on the device, and
/// per image the sums of its (2r + 1)² box around each pixel, zero outside the image: the
/// expected output of a box filter by hand.
fn ramp_box_sums(gpu: &Gpu, h: isize, w: isize, r: isize) -> (Tensor, [Vec<f32>; 2]) {
    let n = h * w;
    let ramp: Vec<f32> = (0..2 * n).map(|v| v as f32).collect();
    let x = Tensor::from_slice(gpu, &ramp, &[2, 1, h as usize, w as usize]).unwrap();
    let inside = |i: isize, j: isize| (0..h).contains(&i) && (0..w).contains(&j);
    let sums = [0, 1].map(|image| {
        let at = |i: isize, j: isize| if inside(i, j) { (image * n + w * i + j) as f32 } else { 0.0 };
        let boxed = |i: isize, j: isize| (-r..=r).flat_map(|a| (-r..=r).map(move |c| at(i + a, j + c))).sum::<f32>();
        (0..n).map(|k| boxed(k / w, k % w)).collect()
    });
    (x, sums)
}

/// The box tests' outputs, image after image: channel 0 the sums plus a bias of 1, channel 1
/// ReLU of the bias minus them (a weight of −1).
fn biased_and_negated(sums: &[Vec<f32>; 2]) -> Vec<f32> {
    sums.iter().flat_map(|s| s.iter().map(|s| s + 1.0).chain(s.iter().map(|s| (1.0 - s).max(0.0)))).collect()
}

/// Winograd F(2x2, 3x3) and F(4x4, 3x3) by hand: a 3x3 box sum over the ramp 0, 1, … on two
/// 5x5, 8x8, 9x9 and 9x4 images (the second goes on from the first), so that tiles run past
/// the image's edge, blocks of 4 tiles wrap from one row into the next (at 9x4 with F(4x4),
/// one tile a row, into the next three), and an image's dead tiles (9 live of 12 columns at
/// 9x9 with F(4x4) and 5x5 with F(2x2)) lie before the next; output rows of whole vec4s or
/// not; one cell of zero padding (tiles cross the image's edge), bias 1, ReLU after a weight
/// of −1 in a second channel. Interior sums are 9 times the centre (the window's mean); the
/// corner of the first 5x5 sees 0 + 1 + 5 + 6 = 12. F(2x2)'s halves are exact in f32 here;
/// F(4x4)'s sixths and 24ths are not, and agree to f32 rounding. The output transform in a
/// pass of its own and in the GEMM (fused; tiles of 4 and 16 columns).
#[test]
fn winograd_box_sums_hand_computed() {
    let gpu = gpu();
    let attrs = Conv2d::default().with_padding(Padding::symmetric(1, 1)).with_relu(true);
    let ws: Vec<f32> = [[1.0; 9], [-1.0; 9]].concat();
    let wt = Tensor::from_slice(&gpu, &ws, &[2, 1, 3, 3]).unwrap();
    let b = Tensor::from_slice(&gpu, &[1.0, 1.0], &[2]).unwrap();
    for (h, w) in [(5isize, 5isize), (8, 8), (9, 9), (9, 4)] {
        let n = h * w;
        let (x, sums) = ramp_box_sums(&gpu, h, w, 1);
        for (image, sums) in sums.iter().enumerate() {
            assert_eq!(sums[(w + 1) as usize], 9.0 * (image as isize * n + w + 1) as f32);
            if (h, w, image) == (5, 5, 0) {
                assert_eq!(sums[0], 12.0);
            }
        }
        let expected = biased_and_negated(&sums);
        for ((tm, tn), fused) in [((8, 16), false), ((16, 16), false), ((4, 4), true), ((8, 16), true)] {
            let kernel = |m| ConvKernel::Winograd { m, tile: Tile { tm, tn }, fused };
            let y = conv2d_with(&x, &wt, Some(&b), &attrs, kernel(2)).unwrap();
            assert_eq!(y.download().unwrap(), expected, "{h}x{w}, {}", kernel(2).name());
            let y = conv2d_with(&x, &wt, Some(&b), &attrs, kernel(4)).unwrap().download().unwrap();
            for (k, (got, want)) in y.iter().zip(&expected).enumerate() {
                assert!(
                    (got - want).abs() <= 2e-6 * (1.0 + want.abs()),
                    "{h}x{w} {} at {k}: {got} vs {want}",
                    kernel(4).name()
                );
            }
        }
    }
    // Not a 3x3 of stride 1, dilation 1, one group: refused by name.
    let x = Tensor::from_slice(&gpu, &[0.0; 25], &[1, 1, 5, 5]).unwrap();
    let strided = attrs.with_stride(2, 2);
    let f4 = ConvKernel::Winograd { m: 4, tile: Tile { tm: 16, tn: 16 }, fused: false };
    let err = conv2d_with(&x, &wt, None, &strided, f4).unwrap_err();
    assert!(err.to_string().contains("winograd runs F(2x2, 3x3), F(4x4, 3x3) and F(2x2, 5x5)"), "{err}");
    assert!(err.to_string().contains("F(4x4) of a 3x3 kernel, stride [2, 2]"), "{err}");
    let f3 = ConvKernel::Winograd { m: 3, tile: Tile { tm: 16, tn: 16 }, fused: true };
    let err = conv2d_with(&x, &wt, None, &attrs, f3).unwrap_err();
    assert!(err.to_string().contains("F(3x3) fused of a 3x3 kernel"), "{err}");
}

/// Winograd F(2x2, 5x5) by hand: a 5x5 box sum over the ramp 0, 1, … on two 6x6, 7x9 and 9x4
/// images, two cells of zero padding (tiles run past the edge, blocks of 4 tiles wrap into the
/// next row, odd sizes leave dead tiles; 9x4 has no window inside the image), bias 1, ReLU after a weight of −1 in a second
/// channel. Interior sums are 25 times the centre; the corner of the first 6x6 sees rows 0–2
/// and columns 0–2: 0 + 1 + 2 + 6 + 7 + 8 + 12 + 13 + 14 = 63. Its sixths and 24ths are not exact
/// in f32: it agrees to f32 rounding. The output transform in a pass of its own and in the
/// GEMM (fused); F(4x4) is refused by name.
#[test]
fn winograd_5x5_box_sums_hand_computed() {
    let gpu = gpu();
    let attrs = Conv2d::default().with_padding(Padding::symmetric(2, 2)).with_relu(true);
    let ws: Vec<f32> = [[1.0; 25], [-1.0; 25]].concat();
    let wt = Tensor::from_slice(&gpu, &ws, &[2, 1, 5, 5]).unwrap();
    let b = Tensor::from_slice(&gpu, &[1.0, 1.0], &[2]).unwrap();
    for (h, w) in [(6isize, 6isize), (7, 9), (9, 4)] {
        let n = h * w;
        let (x, sums) = ramp_box_sums(&gpu, h, w, 2);
        for (image, sums) in sums.iter().enumerate() {
            if w >= 5 {
                assert_eq!(sums[(2 * w + 2) as usize], 25.0 * (image as isize * n + 2 * w + 2) as f32);
            }
            if (h, w, image) == (6, 6, 0) {
                assert_eq!(sums[0], 63.0);
            }
        }
        let expected = biased_and_negated(&sums);
        for ((tm, tn), fused) in [((8, 16), false), ((16, 16), false), ((4, 4), true), ((8, 16), true)] {
            let kernel = ConvKernel::Winograd { m: 2, tile: Tile { tm, tn }, fused };
            let y = conv2d_with(&x, &wt, Some(&b), &attrs, kernel).unwrap().download().unwrap();
            for (k, (got, want)) in y.iter().zip(&expected).enumerate() {
                assert!(
                    (got - want).abs() <= 2e-6 * (1.0 + want.abs()),
                    "{h}x{w} {} at {k}: {got} vs {want}",
                    kernel.name()
                );
            }
        }
    }
    let x = Tensor::from_slice(&gpu, &[0.0; 36], &[1, 1, 6, 6]).unwrap();
    let f4 = ConvKernel::Winograd { m: 4, tile: Tile { tm: 16, tn: 16 }, fused: true };
    let err = conv2d_with(&x, &wt, None, &attrs, f4).unwrap_err();
    assert!(err.to_string().contains("F(4x4) fused of a 5x5 kernel"), "{err}");
}

/// Winograd's products (16 per tile and output channel for F(2x2), here 277 MB; 36 per tile
/// of 4x4 for F(4x4), 158 MB) past one storage binding (lavapipe's holds 128 MiB): the image
/// is cut into bands of rows, each its own convolution, and agrees with the implicit GEMM.
#[test]
fn winograd_past_a_binding_runs_in_bands() {
    let gpu = gpu();
    let (c, hw, co) = (4, 520, 64);
    let xs: Vec<f32> = (0..c * hw * hw).map(|i| ((i * 7919) % 1000) as f32 / 1000.0 - 0.5).collect();
    let ws: Vec<f32> = (0..co * c * 9).map(|i| ((i * 104729) % 1000) as f32 / 5000.0 - 0.1).collect();
    let x = Tensor::from_slice(&gpu, &xs, &[1, c, hw, hw]).unwrap();
    let w = Tensor::from_slice(&gpu, &ws, &[co, c, 3, 3]).unwrap();
    let attrs = Conv2d::default().with_padding(Padding::symmetric(1, 1));
    let run = |k| conv2d_with(&x, &w, None, &attrs, k).unwrap().download().unwrap();
    let implicit = run(ConvKernel::Implicit(Tile { tm: 16, tn: 16 }));
    for (m, fused) in [(2, false), (4, false), (4, true)] {
        let winograd = run(ConvKernel::Winograd { m, tile: Tile { tm: 16, tn: 16 }, fused });
        let c = Tolerance::for_reduction(c * 9).compare(&winograd, &implicit);
        assert!(c.passed(), "F({m}x{m}), fused {fused}: {}", c.describe(&[1, co, hw, hw]));
    }
}

#[test]
fn groups_bias_and_relu_hand_computed() {
    // Two channels, groups 2, 1x1 weights 2 and -3, bias -1, ReLU:
    // channel 0: relu(2x − 1), channel 1: relu(−3x − 1).
    let x = [1.0, 0.25, 2.0, -1.0];
    let attrs = Conv2d::default().with_groups(2).with_relu(true);
    let (cpu, gpu) = run_small(&x, [1, 2, 1, 2], &[2.0, -3.0], [2, 1, 1, 1], Some(-1.0), attrs);
    assert_eq!(cpu, vec![1.0, 0.0, 0.0, 2.0]);
    assert_eq!(gpu, cpu);
}

#[test]
fn same_padding_keeps_the_size() {
    for (k, s, d, h) in [(3, 1, 1, 9), (4, 1, 1, 8), (3, 2, 1, 9), (5, 1, 2, 7)] {
        let p = Padding::same([h, h + 3], [k, k], [s, s], [d, d]);
        let geo = Conv2d::default().with_stride(s, s).with_dilation(d, d).with_padding(p);
        let geo = geo.geometry(&[1, 1, h, h + 3], &[1, 1, k, k], None).unwrap();
        assert_eq!(geo.output_shape()[2..], [h.div_ceil(s), (h + 3).div_ceil(s)], "k {k} s {s} d {d}");
    }
    assert_eq!(Padding::same([8, 8], [4, 4], [1, 1], [1, 1]), Padding::new(1, 1, 2, 2));
}

#[test]
fn alexnet_output_sizes() {
    // 227 → 55 (11x11/4), the document's first figure.
    let geo = Conv2d::default().with_stride(4, 4).geometry(&[1, 3, 227, 227], &[96, 3, 11, 11], None).unwrap();
    assert_eq!(geo.output_shape(), [1, 96, 55, 55]);
    assert_eq!(geo.macs(), 105_415_200);
}

fn tensors(gpu: &Gpu, xs: &[usize], ws: &[usize]) -> (Tensor, Tensor) {
    let x = Tensor::zeros(gpu, xs).unwrap();
    let w = Tensor::zeros(gpu, ws).unwrap();
    (x, w)
}

#[test]
fn bad_input_is_a_typed_error_naming_the_numbers() {
    let gpu = gpu();
    let c = Conv2d::default();

    let (x, w) = tensors(&gpu, &[1, 5, 8, 8], &[4, 2, 3, 3]);
    let e = conv2d(&x, &w, None, &c.with_groups(2)).unwrap_err();
    assert!(matches!(e, Error::Groups { what: "input channels", channels: 5, groups: 2, .. }), "{e}");
    assert_eq!(e.to_string(), "conv2d: input channels (5) is not divisible by groups (2)");

    let (x, w) = tensors(&gpu, &[1, 4, 8, 8], &[5, 2, 3, 3]);
    let e = conv2d(&x, &w, None, &c.with_groups(2)).unwrap_err();
    assert!(matches!(e, Error::Groups { what: "output channels", channels: 5, groups: 2, .. }), "{e}");

    let (x, w) = tensors(&gpu, &[1, 6, 8, 8], &[4, 2, 3, 3]);
    let e = conv2d(&x, &w, None, &c.with_groups(2)).unwrap_err();
    assert!(matches!(e, Error::Channels { got: 3, expected: 2, .. }), "{e}");
    assert_eq!(e.to_string(), "conv2d: input has 3 channels per group, weight expects 2");

    let (x, w) = tensors(&gpu, &[1, 3, 8, 8], &[4, 3, 3, 3]);
    let b = Tensor::zeros(&gpu, &[5]).unwrap();
    let e = conv2d(&x, &w, Some(&b), &c).unwrap_err();
    assert!(matches!(e, Error::BiasLength { got: 5, expected: 4, .. }), "{e}");

    let e = conv2d(&x, &w, None, &c.with_stride(0, 1)).unwrap_err();
    assert!(matches!(e, Error::Zero { what: "stride", value: [0, 1], .. }), "{e}");
    let e = conv2d(&x, &w, None, &c.with_dilation(1, 0)).unwrap_err();
    assert!(matches!(e, Error::Zero { what: "dilation", value: [1, 0], .. }), "{e}");
    let e = conv2d(&x, &w, None, &c.with_groups(0)).unwrap_err();
    assert!(matches!(e, Error::Zero { what: "groups", .. }), "{e}");

    // A 5x5 window on a 3x3 image with 1 pixel of padding: (3 + 1 + 0 − 5) / 1 + 1 = 0.
    let (x, w) = tensors(&gpu, &[1, 1, 3, 3], &[1, 1, 5, 5]);
    let e = conv2d(&x, &w, None, &c.with_padding(Padding::new(1, 0, 0, 0))).unwrap_err();
    assert!(matches!(e, Error::EmptyOutput { out_h: 0, out_w: -1, .. }), "{e}");
    assert!(e.to_string().contains("output would be 0x-1"), "{e}");

    let (x, _) = tensors(&gpu, &[1, 3, 8, 8], &[1]);
    let w3 = Tensor::zeros(&gpu, &[4, 3, 3]).unwrap();
    let e = conv2d(&x, &w3, None, &c).unwrap_err();
    assert!(matches!(e, Error::Rank { what: "weight", expected: 4, .. }), "{e}");

    let e = Tensor::from_slice(&gpu, &[1.0; 5], &[2, 3]).unwrap_err();
    assert!(matches!(e, Error::DataLength { expected: 6, got: 5, .. }), "{e}");
    let e = Tensor::zeros(&gpu, &[2, 0, 3]).unwrap_err();
    assert!(matches!(e, Error::Empty { .. }), "{e}");

    // A workgroup above the device's limit, one whose size overflows 32 bits, and a tile the
    // kernel does not have.
    let (x, w) = tensors(&gpu, &[1, 3, 8, 8], &[4, 3, 3, 3]);
    let e = conv2d_with(&x, &w, None, &c, ConvKernel::Direct { tile_co: 4, wg_x: 64, wg_y: 64 }).unwrap_err();
    assert!(matches!(e, Error::Limit { needed: 4096, .. }), "{e}");
    let huge = ConvKernel::Direct { tile_co: 4, wg_x: u32::MAX / 2, wg_y: 4 };
    let e = conv2d_with(&x, &w, None, &c, huge).unwrap_err();
    assert!(matches!(e, Error::Limit { needed, .. } if needed == (u32::MAX / 2) as u64 * 4), "{e}");
    for tile_co in [0, 2, 6, 16] {
        let e = conv2d_with(&x, &w, None, &c, ConvKernel::Direct { tile_co, wg_x: 8, wg_y: 8 }).unwrap_err();
        assert_eq!(e.to_string(), format!("conv2d: tile_co = {tile_co} is not supported; it must be 4 or 8"));
    }

    // Attributes beyond the kernels' 32-bit parameters are refused, not truncated.
    let (x, w) = tensors(&gpu, &[1, 1, 4, 4], &[1, 1, 1, 1]);
    let e = conv2d(&x, &w, None, &c.with_stride(1, 1 << 33)).unwrap_err();
    assert!(matches!(e, Error::Limit { op: "conv2d", needed, .. } if needed == 1 << 33), "{e}");

    // A prepared weight used with other groups than it was packed for.
    let (x, w) = tensors(&gpu, &[1, 4, 8, 8], &[4, 2, 3, 3]);
    let weight = ConvWeight::new(&w, None, 2).unwrap();
    let e = weight.forward(&x, &c).unwrap_err();
    assert!(matches!(e, Error::WeightGroups { prepared: 2, asked: 1 }), "{e}");
    assert_eq!(weight.forward(&x, &c.with_groups(2)).unwrap().shape(), [1, 4, 6, 6]);
}

#[test]
fn tensor_on_another_device_is_refused_and_both_stay_usable() {
    let a = gpu();
    let b = Gpu::with_adapter(None).expect("a second logical device");
    let x = Tensor::from_slice(&a, &random(3 * 6 * 6, 7), &[1, 3, 6, 6]).unwrap();
    let w_b = Tensor::from_slice(&b, &random(2 * 3 * 9, 8), &[2, 3, 3, 3]).unwrap();
    let e = conv2d(&x, &w_b, None, &Conv2d::default()).unwrap_err();
    assert!(
        matches!(e, Error::WrongDevice { what: "weight", tensor_device, op_device, .. } if tensor_device == b.id() && op_device == a.id()),
        "{e}"
    );
    // After the refusal, the same call with the weight on the right device works on both.
    for gpu in [&a, &b] {
        let w = Tensor::from_slice(gpu, &random(2 * 3 * 9, 8), &[2, 3, 3, 3]).unwrap();
        let x = Tensor::from_slice(gpu, &random(3 * 6 * 6, 7), &[1, 3, 6, 6]).unwrap();
        let y = conv2d(&x, &w, None, &Conv2d::default()).unwrap();
        assert_eq!(y.shape(), [1, 2, 4, 4]);
    }
}

#[test]
fn the_context_stays_usable_after_errors() {
    let gpu = gpu();
    let (x, w) = tensors(&gpu, &[1, 5, 8, 8], &[4, 2, 3, 3]);
    for _ in 0..3 {
        assert!(conv2d(&x, &w, None, &Conv2d::default().with_groups(2)).is_err());
        assert!(Tensor::zeros(&gpu, &[1, (gpu.limits().max_buffer_size / 4 + 1) as usize]).is_err());
    }
    check("after errors", [1, 3, 9, 9], [4, 3, 3, 3], true, Conv2d::default(), ConvKernel::Auto);
}

#[test]
fn reductions_past_a_texture_run_in_bands() {
    // More weights per output channel than a texture has rows: the packed weight is cut into
    // bands of whole input channels, and the GEMM adds band after band (bias with the first,
    // ReLU with the last). The direct kernel reads one texture: it refuses, and Auto passes it
    // over.
    let rows = gpu().limits().max_texture_dimension_2d as usize;
    let cin = rows / 9 + 7;
    let attrs = Conv2d::default().with_padding(Padding::symmetric(1, 1)).with_relu(true);
    let kernels =
        [ConvKernel::Auto, ConvKernel::Gemm(Tile { tm: 8, tn: 8 }), ConvKernel::Implicit(Tile { tm: 8, tn: 16 })];
    check_kernels("banded 3x3", [1, cin, 3, 4], [6, cin, 3, 3], true, attrs, &kernels);
    let (x, w) = tensors(&gpu(), &[1, cin, 3, 4], &[6, cin, 3, 3]);
    let direct = ConvKernel::Direct { tile_co: 4, wg_x: 0, wg_y: 0 };
    let e = conv2d_with(&x, &w, None, &attrs, direct).unwrap_err();
    assert!(matches!(e, Error::Limit { op: "conv2d", .. }), "{e}");
}

/// A residual add in the GEMM's epilogue (`record_onto`): y = act(conv(x) + bias + residual)
/// against the reference's convolution, then add, then activation; by hand; on a 3x3 whose
/// im2col windows pass a texture (the GEMM in bands of rows, each part adding onto its rows);
/// a non-ReLU activation (a pass after the GEMM); kernels that cannot add, refused.
#[test]
fn a_residual_add_in_the_gemms_epilogue() {
    use dojang::ops::Activation;
    let gpu = gpu();
    // By hand: a 1x1 weight of 2, bias 1, residual 10: relu(2x + 11) for x = −8 .. −1.
    let w = ConvWeight::upload(&gpu, &[2.0], Some(&[1.0]), [1, 1, 1, 1], 1).unwrap();
    let xs: Vec<f32> = (-8..0).map(|v| v as f32).collect();
    let x = Tensor::from_slice(&gpu, &xs, &[1, 1, 2, 4]).unwrap();
    let residual = Tensor::from_slice(&gpu, &[10.0; 8], &[1, 1, 2, 4]).unwrap();
    let y = Tensor::zeros(&gpu, &[1, 1, 2, 4]).unwrap();
    w.record_onto(&x, &residual, &y, &Conv2d::default().with_relu(true)).unwrap().run().unwrap();
    assert_eq!(y.download().unwrap(), [0.0, 0.0, 0.0, 1.0, 3.0, 5.0, 7.0, 9.0]);

    let cases = [
        ([2, 16, 7, 9], [32, 16, 1, 1], Padding::default(), Some(Activation::Relu)),
        ([1, 8, 256, 300], [8, 8, 3, 3], Padding::symmetric(1, 1), Some(Activation::Relu)),
        ([1, 12, 10, 6], [16, 12, 3, 3], Padding::symmetric(1, 1), Some(Activation::Sigmoid)),
        ([2, 12, 10, 6], [16, 12, 3, 3], Padding::new(0, 1, 2, 1), None),
    ];
    for (k, (xs, ws, padding, act)) in cases.into_iter().enumerate() {
        let attrs = Conv2d { activation: act, ..Conv2d::default().with_padding(padding) };
        let plain = Conv2d::default().with_padding(padding);
        let (xv, wv, bv) = (random(xs.iter().product(), 1), random(ws.iter().product(), 2), random(ws[0], 3));
        let weight = ConvWeight::upload(&gpu, &wv, Some(&bv), ws, 1).unwrap();
        let geo = plain.geometry(&xs, &ws, Some(ws[0])).unwrap();
        let rv = random(geo.output_shape().iter().product(), 4);
        let summed = reference::add(&reference::conv2d(&geo, &xv, &wv, Some(&bv)).unwrap(), &rv, false).unwrap();
        let expected = match act {
            Some(a) => reference::activation(&summed, a),
            None => summed,
        };
        let x = Tensor::from_slice(&gpu, &xv, &xs).unwrap();
        let r = Tensor::from_slice(&gpu, &rv, &geo.output_shape()).unwrap();
        let tol = Tolerance::for_reduction(geo.reduction_len());
        for kernel in
            [ConvKernel::Auto, ConvKernel::Gemm(Tile { tm: 16, tn: 16 }), ConvKernel::Implicit(Tile { tm: 8, tn: 16 })]
        {
            let y = Tensor::zeros(&gpu, &geo.output_shape()).unwrap();
            let launch = weight.record_onto_with(&x, &r, &y, &attrs, kernel).unwrap();
            launch.run().unwrap();
            assert_close(
                &format!("case {k} {} ({})", kernel.name(), launch.kernel()),
                &y.download().unwrap(),
                &expected,
                &geo.output_shape(),
                tol,
            );
            if k == 1 && kernel == ConvKernel::Gemm(Tile { tm: 16, tn: 16 }) {
                assert!(launch.kernel().contains("parts"), "{}", launch.kernel());
            }
        }
        // Onto itself: y holds the residual already.
        let y = Tensor::from_slice(&gpu, &rv, &geo.output_shape()).unwrap();
        weight.record_onto(&x, &y, &y, &attrs).unwrap().run().unwrap();
        assert_close(&format!("case {k} onto itself"), &y.download().unwrap(), &expected, &geo.output_shape(), tol);
    }
    // Kernels that cannot add to their output, and a residual of another shape.
    let y = Tensor::zeros(&gpu, &[1, 1, 2, 4]).unwrap();
    let direct = ConvKernel::Direct { tile_co: 4, wg_x: 0, wg_y: 0 };
    let err = w.record_onto_with(&x, &residual, &y, &Conv2d::default(), direct).unwrap_err();
    assert!(err.to_string().contains("the GEMM kernels"), "{err}");
    let small = Tensor::zeros(&gpu, &[1, 1, 2, 2]).unwrap();
    assert!(w.record_onto(&x, &small, &y, &Conv2d::default()).is_err());
}

/// Split-K (the reduction in parts side by side, summed with bias and activation after): by
/// hand, against the reference (im2col windows and the input as it stands, groups, batches,
/// odd pixels, an activation that is no clamp), adding onto a residual, offered where the
/// tiles are few and refused where they are not.
#[test]
fn split_k_matches_hand_values_and_reference() {
    use dojang::ops::Activation;
    let gpu = gpu();
    let split = ConvKernel::SplitK(Tile { tm: 16, tn: 16 });
    let clip6 = Activation::Clip { min: 0.0, max: 6.0 };
    let relu6 = Some(clip6);
    // By hand: x = 1, w[o][c] = (o − 8) / 64 over 64 channels, bias 0.5: clip(o − 7.5, 0, 6).
    let w: Vec<f32> = (0..16).flat_map(|o| [(o as f32 - 8.0) / 64.0; 64]).collect();
    let weight = ConvWeight::upload(&gpu, &w, Some(&[0.5; 16]), [16, 64, 1, 1], 1).unwrap();
    let x = Tensor::from_slice(&gpu, &[1.0; 64 * 49], &[1, 64, 7, 7]).unwrap();
    let attrs = Conv2d { activation: relu6, ..Conv2d::default() };
    let y = weight.forward_with(&x, &attrs, split).unwrap().download().unwrap();
    for o in 0..16 {
        let want = (o as f32 - 7.5).clamp(0.0, 6.0);
        assert!(y[o * 49..(o + 1) * 49].iter().all(|&v| v == want), "channel {o}: {:?}", &y[o * 49..o * 49 + 3]);
    }

    let sigmoid = Some(Activation::Sigmoid);
    let cases = [
        ("960->160 on 7x7", [1, 960, 7, 7], [160, 960, 1, 1], Padding::default(), 1, relu6),
        ("480->64 on 7x7, batch 2", [2, 480, 7, 7], [64, 480, 1, 1], Padding::default(), 1, relu6),
        ("3x3, groups 2, batch 2", [2, 64, 5, 3], [32, 32, 3, 3], Padding::new(1, 0, 2, 1), 2, None),
        ("input as it stands", [1, 256, 4, 4], [24, 256, 1, 1], Padding::default(), 1, sigmoid),
    ];
    for (name, xs, ws, padding, groups, act) in cases {
        let attrs = Conv2d { activation: act, ..Conv2d::default().with_padding(padding).with_groups(groups) };
        let geo = attrs.geometry(&xs, &ws, Some(ws[0])).unwrap();
        assert!(ConvKernel::candidates(&geo).contains(&split), "{name}: not offered");
        check_kernels(name, xs, ws, true, attrs, &[split, ConvKernel::SplitK(Tile { tm: 16, tn: 8 })]);
    }

    // Onto a residual, then ReLU6.
    let (xs, ws) = ([1, 320, 7, 7], [64, 320, 1, 1]);
    let (xv, wv, bv) = (random(xs.iter().product(), 1), random(ws.iter().product(), 2), random(ws[0], 3));
    let weight = ConvWeight::upload(&gpu, &wv, Some(&bv), ws, 1).unwrap();
    let geo = Conv2d::default().geometry(&xs, &ws, Some(ws[0])).unwrap();
    let rv = random(geo.output_shape().iter().product(), 4);
    let summed = reference::add(&reference::conv2d(&geo, &xv, &wv, Some(&bv)).unwrap(), &rv, false).unwrap();
    let expected = reference::activation(&summed, clip6);
    let x = Tensor::from_slice(&gpu, &xv, &xs).unwrap();
    let r = Tensor::from_slice(&gpu, &rv, &geo.output_shape()).unwrap();
    let y = Tensor::zeros(&gpu, &geo.output_shape()).unwrap();
    weight.record_onto_with(&x, &r, &y, &attrs, split).unwrap().run().unwrap();
    let tol = Tolerance::for_reduction(geo.reduction_len());
    assert_close("split-K onto a residual", &y.download().unwrap(), &expected, &geo.output_shape(), tol);

    // Enough tiles without it: not offered, and refused by name.
    let big = Conv2d::default().geometry(&[1, 64, 32, 32], &[64, 64, 1, 1], None).unwrap();
    assert!(!ConvKernel::candidates(&big).contains(&split));
    let (x, w) = tensors(&gpu, &[1, 64, 32, 32], &[64, 64, 1, 1]);
    let err = conv2d_with(&x, &w, None, &Conv2d::default(), split).unwrap_err();
    assert!(matches!(err, Error::KernelShape { .. }), "{err}");
}
