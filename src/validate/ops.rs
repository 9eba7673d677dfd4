//! The validation matrix: every kernel over representative and awkward shapes, checked
//! against the CPU reference.

use rand::{Rng, SeedableRng, rngs::StdRng};

use crate::error::Result;
use crate::gpu::Gpu;
use crate::ops::conv2d::{self, Conv2d, ConvKernel, Padding};
use crate::ops::dense::{DenseGeometry, DenseKernel, DenseWeight};
use crate::ops::lrn::{self, Lrn};
use crate::ops::pool2d::{self, Pool2d, PoolKind};
use crate::ops::{elementwise, softmax};
use crate::reference;
use crate::tensor::Tensor;
use crate::tolerance::Tolerance;
use crate::validate::{CaseResult, Prepared, Work};

/// Random inputs in [-1, 1), reproducible from `--seed`.
struct Inputs(StdRng);

impl Inputs {
    fn take(&mut self, len: usize) -> Vec<f32> {
        (0..len).map(|_| self.0.random_range(-1.0..1.0)).collect()
    }
}

fn conv_case(gpu: &Gpu, inputs: &mut Inputs, xs: [usize; 4], ws: [usize; 4], attrs: Conv2d) -> Result<Prepared> {
    let geo = attrs.geometry(&xs, &ws, Some(ws[0]))?;
    let (x, w, b) =
        (inputs.take(geo.input_shape().iter().product()), inputs.take(ws.iter().product()), inputs.take(ws[0]));
    let expected = reference::conv2d(&geo, &x, &w, Some(&b))?;
    let (xt, wt, bt) =
        (Tensor::from_slice(gpu, &x, &xs)?, Tensor::from_slice(gpu, &w, &ws)?, Tensor::from_slice(gpu, &b, &[ws[0]])?);
    let output = Tensor::zeros(gpu, &geo.output_shape())?;
    let dispatch = conv2d::plan(&geo, &xt, &wt, Some(&bt), &output, ConvKernel::Auto)?;
    let a = &attrs;
    let p = a.padding;
    let mut case = format!("{xs:?} * {ws:?}");
    if a.stride != [1, 1] {
        case += &format!(" s{}x{}", a.stride[0], a.stride[1]);
    }
    if p != Padding::default() {
        case += &format!(" p{},{},{},{}", p.top, p.left, p.bottom, p.right);
    }
    if a.dilation != [1, 1] {
        case += &format!(" d{}x{}", a.dilation[0], a.dilation[1]);
    }
    if a.groups > 1 {
        case += &format!(" g{}", a.groups);
    }
    Ok(Prepared {
        op: if geo.is_pointwise() { "conv1x1" } else { "conv2d" },
        case,
        dispatches: vec![dispatch],
        output,
        expected,
        tolerance: Tolerance::for_reduction(geo.reduction_len()),
        work: Work::Flops(geo.flops()),
    })
}

fn pool_case(gpu: &Gpu, inputs: &mut Inputs, xs: [usize; 4], attrs: Pool2d) -> Result<Prepared> {
    let geo = attrs.geometry(&xs)?;
    let x = inputs.take(xs.iter().product());
    let expected = reference::pool2d(&geo, &x)?;
    let xt = Tensor::from_slice(gpu, &x, &xs)?;
    let output = Tensor::zeros(gpu, &geo.output_shape())?;
    let dispatch = pool2d::plan(&geo, &xt, &output)?;
    let kind = if attrs.kind == PoolKind::Max { "max" } else { "avg" };
    let mut case =
        format!("{kind} {xs:?} k{}x{} s{}x{}", attrs.kernel[0], attrs.kernel[1], attrs.stride[0], attrs.stride[1]);
    let p = attrs.padding;
    if p != Padding::default() {
        case += &format!(" p{},{},{},{}", p.top, p.left, p.bottom, p.right);
    }
    if attrs.ceil_mode {
        case += " ceil";
    }
    if attrs.count_include_pad {
        case += " incl-pad";
    }
    Ok(Prepared {
        op: "pool2d",
        case,
        dispatches: vec![dispatch],
        output,
        expected,
        tolerance: Tolerance::default(),
        work: Work::Bytes(geo.bytes()),
    })
}

fn dense_case(gpu: &Gpu, inputs: &mut Inputs, n: usize, f: usize, o: usize) -> Result<Prepared> {
    let geo = DenseGeometry::new(&[n, f], &[o, f], Some(o), true)?;
    let (x, w, b) = (inputs.take(n * f), inputs.take(o * f), inputs.take(o));
    let expected = reference::dense(&geo, &x, &w, Some(&b))?;
    let xt = Tensor::from_slice(gpu, &x, &[n, f])?;
    let weight = DenseWeight::upload(gpu, &w, Some(&b), o, f)?;
    let output = Tensor::zeros(gpu, &[n, o])?;
    let dispatches = weight.plan(&xt, &output, true, DenseKernel::Auto)?;
    // Batch 1 streams the weights: report it in GB/s.
    let work = if n == 1 { Work::Bytes(4 * (o * f + f + 2 * o) as u64) } else { Work::Flops(geo.flops()) };
    Ok(Prepared {
        op: "dense",
        case: format!("[{n}, {f}] x [{o}, {f}]ᵀ +b relu, {} slice(s)", weight.slices.len()),
        dispatches,
        output,
        expected,
        tolerance: Tolerance::for_reduction(f),
        work,
    })
}

fn lrn_case(gpu: &Gpu, inputs: &mut Inputs, xs: [usize; 4], attrs: Lrn) -> Result<Prepared> {
    let x: Vec<f32> = inputs.take(xs.iter().product()).iter().map(|v| v * 10.0).collect();
    let expected = reference::lrn(xs, &x, &attrs)?;
    let xt = Tensor::from_slice(gpu, &x, &xs)?;
    let output = Tensor::zeros(gpu, &xs)?;
    let dispatch = lrn::plan(&xt, &output, &attrs)?;
    Ok(Prepared {
        op: "lrn",
        case: format!("{xs:?} size {} groups {}", attrs.size, attrs.groups),
        dispatches: vec![dispatch],
        output,
        expected,
        tolerance: Tolerance { atol: 1e-5, rtol: 1e-4 },
        work: Work::Bytes(8 * x.len() as u64),
    })
}

fn softmax_case(gpu: &Gpu, inputs: &mut Inputs, xs: [usize; 2], offset: f32) -> Result<Prepared> {
    let x: Vec<f32> = inputs.take(xs[0] * xs[1]).iter().map(|v| v * 20.0 + offset).collect();
    let expected = reference::softmax(&xs, &x)?;
    let xt = Tensor::from_slice(gpu, &x, &xs)?;
    let output = Tensor::zeros(gpu, &xs)?;
    let dispatch = softmax::plan(&xt, &output)?;
    Ok(Prepared {
        op: "softmax",
        case: format!("{xs:?} logits around {offset}"),
        dispatches: vec![dispatch],
        output,
        expected,
        tolerance: Tolerance { atol: 1e-6, rtol: 1e-4 },
        work: Work::Bytes(8 * x.len() as u64),
    })
}

fn elementwise_case(gpu: &Gpu, inputs: &mut Inputs, xs: [usize; 4], with_add: bool) -> Result<Prepared> {
    let len = xs.iter().product();
    let (a, b) = (inputs.take(len), inputs.take(len));
    let expected = if with_add { reference::add(&a, &b, true)? } else { reference::relu(&a) };
    let at = Tensor::from_slice(gpu, &a, &xs)?;
    let bt = Tensor::from_slice(gpu, &b, &xs)?;
    let output = Tensor::zeros(gpu, &xs)?;
    let dispatch = elementwise::plan(&at, with_add.then_some(&bt), &output, true)?;
    Ok(Prepared {
        op: if with_add { "add+relu" } else { "relu" },
        case: format!("{xs:?}"),
        dispatches: vec![dispatch],
        output,
        expected,
        tolerance: Tolerance { atol: 0.0, rtol: 0.0 },
        work: Work::Bytes(4 * len as u64 * if with_add { 3 } else { 2 }),
    })
}

/// Runs the whole matrix on `gpu`; `reps` timed runs per case after the checked one.
pub fn run_all(gpu: &Gpu, seed: u64, reps: usize) -> Vec<CaseResult> {
    let mut inputs = Inputs(StdRng::seed_from_u64(seed));
    let c = Conv2d::default().with_relu(true);
    let same = |p| Padding::symmetric(p, p);
    let max = |k, s| Pool2d::new(PoolKind::Max, [k, k], [s, s]);
    let avg = |k, s| Pool2d::new(PoolKind::Avg, [k, k], [s, s]);
    type Build<'a> = Box<dyn FnOnce(&Gpu, &mut Inputs) -> Result<Prepared> + 'a>;
    let cases: Vec<(&str, Build)> = vec![
        ("conv2d", Box::new(|g, i| conv_case(g, i, [1, 3, 227, 227], [96, 3, 11, 11], c.with_stride(4, 4)))),
        (
            "conv2d",
            Box::new(|g, i| conv_case(g, i, [1, 96, 27, 27], [256, 48, 5, 5], c.with_padding(same(2)).with_groups(2))),
        ),
        ("conv2d", Box::new(|g, i| conv_case(g, i, [1, 256, 13, 13], [384, 256, 3, 3], c.with_padding(same(1))))),
        ("conv2d", Box::new(|g, i| conv_case(g, i, [1, 64, 56, 56], [64, 64, 3, 3], c.with_padding(same(1))))),
        (
            "conv2d",
            Box::new(|g, i| conv_case(g, i, [3, 5, 17, 13], [17, 5, 3, 3], c.with_padding(Padding::new(1, 2, 0, 1)))),
        ),
        ("conv2d", Box::new(|g, i| conv_case(g, i, [2, 3, 15, 12], [5, 3, 3, 3], c.with_stride(2, 1)))),
        (
            "conv2d",
            Box::new(|g, i| conv_case(g, i, [1, 3, 17, 17], [5, 3, 3, 3], c.with_dilation(2, 2).with_padding(same(2)))),
        ),
        (
            "conv2d",
            Box::new(|g, i| conv_case(g, i, [2, 32, 28, 28], [32, 1, 3, 3], c.with_groups(32).with_padding(same(1)))),
        ),
        ("conv2d", Box::new(|g, i| conv_case(g, i, [1, 3, 7, 19], [5, 3, 3, 3], c.with_padding(same(1))))),
        ("conv2d", Box::new(|g, i| conv_case(g, i, [2, 3, 5, 5], [4, 3, 5, 5], c))),
        ("conv1x1", Box::new(|g, i| conv_case(g, i, [1, 256, 56, 56], [64, 256, 1, 1], c))),
        ("conv1x1", Box::new(|g, i| conv_case(g, i, [1, 64, 56, 56], [256, 64, 1, 1], c))),
        ("conv1x1", Box::new(|g, i| conv_case(g, i, [1, 384, 13, 13], [192, 384, 1, 1], c))),
        ("conv1x1", Box::new(|g, i| conv_case(g, i, [1, 3, 7, 19], [5, 3, 1, 1], c))),
        ("conv1x1", Box::new(|g, i| conv_case(g, i, [3, 64, 14, 14], [64, 32, 1, 1], c.with_groups(2)))),
        ("pool2d", Box::new(|g, i| pool_case(g, i, [1, 96, 55, 55], max(3, 2)))),
        ("pool2d", Box::new(|g, i| pool_case(g, i, [3, 256, 13, 13], max(3, 2)))),
        (
            "pool2d",
            Box::new(|g, i| {
                pool_case(g, i, [1, 5, 9, 11], avg(3, 2).with_padding(same(1)).with_count_include_pad(true))
            }),
        ),
        (
            "pool2d",
            Box::new(|g, i| {
                pool_case(g, i, [2, 3, 10, 7], max(3, 2).with_padding(Padding::new(1, 1, 0, 1)).with_ceil_mode(true))
            }),
        ),
        ("pool2d", Box::new(|g, i| pool_case(g, i, [2, 512, 7, 7], pool2d::global_avg_attrs(&[2, 512, 7, 7])))),
        ("dense", Box::new(|g, i| dense_case(g, i, 1, 9216, 4096))),
        ("dense", Box::new(|g, i| dense_case(g, i, 1, 4096, 4096))),
        ("dense", Box::new(|g, i| dense_case(g, i, 1, 4096, 1000))),
        ("dense", Box::new(|g, i| dense_case(g, i, 4, 9216, 4096))),
        ("dense", Box::new(|g, i| dense_case(g, i, 3, 257, 129))),
        ("lrn", Box::new(|g, i| lrn_case(g, i, [1, 96, 55, 55], Lrn::alexnet().with_groups(2)))),
        ("lrn", Box::new(|g, i| lrn_case(g, i, [3, 7, 5, 9], Lrn { size: 3, ..Lrn::alexnet() }))),
        ("softmax", Box::new(|g, i| softmax_case(g, i, [4, 1000], 0.0))),
        ("softmax", Box::new(|g, i| softmax_case(g, i, [3, 1000], 1000.0))),
        ("relu", Box::new(|g, i| elementwise_case(g, i, [1, 96, 55, 55], false))),
        ("add+relu", Box::new(|g, i| elementwise_case(g, i, [1, 256, 56, 56], true))),
    ];
    cases
        .into_iter()
        .map(|(op, build)| match build(gpu, &mut inputs).and_then(|p| p.run(gpu, reps)) {
            Ok(r) => r,
            Err(e) => CaseResult::broken(op, "", e.to_string()),
        })
        .collect()
}
