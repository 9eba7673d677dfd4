//! `dojang-validate ops`: every case of the validation table (`dojang::tools::cases`) on the GPU,
//! against the CPU reference.

use dojang::ops::{ConvWeight, Dense, DenseWeight, PoolKind, Softmax, record_add, record_lrn, record_pool2d};
use dojang::ops::{Padding, record_relu, record_softmax};
use dojang::tolerance::Tolerance;
use dojang::tools::cases;
use dojang::tools::cases::{ConvCase, DenseCase, ElementwiseCase, LrnCase, PoolCase, SoftmaxCase};
use dojang::{Gpu, Result, Tensor, reference};
use rand::{Rng, SeedableRng, rngs::StdRng};

use crate::report::{CaseResult, Prepared, Progress, Work};

/// Random inputs in [-1, 1), reproducible from `--seed`.
struct Inputs(StdRng);

impl Inputs {
    fn take(&mut self, len: usize) -> Vec<f32> {
        (0..len).map(|_| self.0.random_range(-1.0..1.0)).collect()
    }
}

/// " s2x1 p1,0,0,1 d2x2 g2"-style attributes that differ from the default.
fn describe_window(stride: [usize; 2], padding: Padding, dilation: [usize; 2], groups: usize) -> String {
    let mut s = String::new();
    if stride != [1, 1] {
        s += &format!(" s{}x{}", stride[0], stride[1]);
    }
    if padding != Padding::default() {
        s += &format!(" p{},{},{},{}", padding.top, padding.left, padding.bottom, padding.right);
    }
    if dilation != [1, 1] {
        s += &format!(" d{}x{}", dilation[0], dilation[1]);
    }
    if groups > 1 {
        s += &format!(" g{groups}");
    }
    s
}

fn conv_case(gpu: &Gpu, inputs: &mut Inputs, c: &ConvCase) -> Result<Prepared> {
    let cout = c.weight[0];
    let geo = c.attrs.geometry(&c.input, &c.weight, c.bias.then_some(cout))?;
    let (x, w, b) = (inputs.take(c.input.iter().product()), inputs.take(c.weight.iter().product()), inputs.take(cout));
    let b = c.bias.then_some(b.as_slice());
    let expected = reference::conv2d(&geo, &x, &w, b)?;
    let xt = Tensor::from_slice(gpu, &x, &c.input)?;
    let weight = ConvWeight::upload(gpu, &w, b, c.weight, c.attrs.groups)?;
    let output = Tensor::zeros(gpu, &geo.output_shape())?;
    let a = &c.attrs;
    Ok(Prepared {
        op: if geo.is_pointwise() { "conv1x1" } else { "conv2d" },
        case: format!("{:?} * {:?}{}", c.input, c.weight, describe_window(a.stride, a.padding, a.dilation, a.groups)),
        launch: weight.record(&xt, &output, a)?,
        output,
        expected,
        tolerance: Tolerance::for_reduction(geo.reduction_len()),
        work: Work::Flops(geo.flops()),
    })
}

fn pool_case(gpu: &Gpu, inputs: &mut Inputs, c: &PoolCase) -> Result<Prepared> {
    let a = &c.attrs;
    let geo = a.geometry(&c.input)?;
    let x = inputs.take(c.input.iter().product());
    let expected = reference::pool2d(&geo, &x)?;
    let xt = Tensor::from_slice(gpu, &x, &c.input)?;
    let output = Tensor::zeros(gpu, &geo.output_shape())?;
    let kind = if a.kind == PoolKind::Max { "max" } else { "avg" };
    let mut case = format!(
        "{kind} {:?} k{}x{}{}",
        c.input,
        a.kernel[0],
        a.kernel[1],
        describe_window(a.stride, a.padding, [1, 1], 1)
    );
    if a.ceil_mode {
        case += " ceil";
    }
    if a.count_include_pad {
        case += " incl-pad";
    }
    Ok(Prepared {
        op: "pool2d",
        case,
        launch: record_pool2d(&xt, &output, a)?,
        output,
        expected,
        tolerance: Tolerance::default(),
        work: Work::Bytes(geo.bytes()),
    })
}

fn dense_case(gpu: &Gpu, inputs: &mut Inputs, c: &DenseCase) -> Result<Prepared> {
    let (n, f, o) = (c.batch, c.in_features, c.out_features);
    let attrs = Dense::default().with_relu(c.relu);
    let geo = attrs.geometry(&[n, f], &[o, f], c.bias.then_some(o))?;
    let (x, w, b) = (inputs.take(n * f), inputs.take(o * f), inputs.take(o));
    let b = c.bias.then_some(b.as_slice());
    let expected = reference::dense(&geo, &x, &w, b)?;
    let xt = Tensor::from_slice(gpu, &x, &[n, f])?;
    let weight = DenseWeight::upload(gpu, &w, b, o, f)?;
    let output = Tensor::zeros(gpu, &[n, o])?;
    // Batch 1 streams the weights: report it in GB/s.
    let work = if n == 1 { Work::Bytes(4 * (o * f + f + 2 * o) as u64) } else { Work::Flops(geo.flops()) };
    let extras = format!("{}{}", if c.bias { " +b" } else { "" }, if c.relu { " relu" } else { "" });
    Ok(Prepared {
        op: "dense",
        case: format!("[{n}, {f}] x [{o}, {f}]ᵀ{extras}, {} band(s)", weight.band_count()),
        launch: weight.record(&xt, &output, &attrs)?,
        output,
        expected,
        tolerance: Tolerance::for_reduction(f),
        work,
    })
}

fn lrn_case(gpu: &Gpu, inputs: &mut Inputs, c: &LrnCase) -> Result<Prepared> {
    // Inputs of order 10, so that the sum of squares matters next to k.
    let x: Vec<f32> = inputs.take(c.input.iter().product()).iter().map(|v| v * 10.0).collect();
    let expected = reference::lrn(&c.attrs.geometry(&c.input)?, &x)?;
    let xt = Tensor::from_slice(gpu, &x, &c.input)?;
    let output = Tensor::zeros(gpu, &c.input)?;
    Ok(Prepared {
        op: "lrn",
        case: format!("{:?} size {} groups {}", c.input, c.attrs.size, c.attrs.groups),
        launch: record_lrn(&xt, &output, &c.attrs)?,
        output,
        expected,
        tolerance: Tolerance { atol: 1e-5, rtol: 1e-4 },
        work: Work::Bytes(8 * x.len() as u64),
    })
}

fn softmax_case(gpu: &Gpu, inputs: &mut Inputs, c: &SoftmaxCase) -> Result<Prepared> {
    let len = c.shape.iter().product();
    let x: Vec<f32> = inputs.take(len).iter().map(|v| v * c.scale + c.offset).collect();
    let expected = reference::softmax(&Softmax.geometry(&c.shape)?, &x)?;
    let xt = Tensor::from_slice(gpu, &x, &c.shape)?;
    let output = Tensor::zeros(gpu, &c.shape)?;
    Ok(Prepared {
        op: "softmax",
        case: format!("{:?} logits around {}", c.shape, c.offset),
        launch: record_softmax(&xt, &output)?,
        output,
        expected,
        tolerance: Tolerance { atol: 1e-6, rtol: 1e-4 },
        work: Work::Bytes(8 * len as u64),
    })
}

fn elementwise_case(gpu: &Gpu, inputs: &mut Inputs, c: &ElementwiseCase) -> Result<Prepared> {
    let len = c.shape.iter().product();
    let (a, b) = (inputs.take(len), inputs.take(len));
    let expected = if c.add { reference::add(&a, &b, true)? } else { reference::relu(&a) };
    let at = Tensor::from_slice(gpu, &a, &c.shape)?;
    let bt = Tensor::from_slice(gpu, &b, &c.shape)?;
    let output = Tensor::zeros(gpu, &c.shape)?;
    let launch = if c.add { record_add(&at, &bt, &output, true)? } else { record_relu(&at, &output)? };
    Ok(Prepared {
        op: if c.add { "add+relu" } else { "relu" },
        case: format!("{:?}", c.shape),
        launch,
        output,
        expected,
        tolerance: Tolerance { atol: 0.0, rtol: 0.0 },
        work: Work::Bytes(4 * len as u64 * if c.add { 3 } else { 2 }),
    })
}

/// Runs the whole table on `gpu`; `reps` timed runs per case after the checked one.
pub fn run_all(gpu: &Gpu, seed: u64, reps: usize, progress: impl Fn(usize) -> Progress) -> Vec<CaseResult> {
    let mut inputs = Inputs(StdRng::seed_from_u64(seed));
    type Build<'a> = Box<dyn FnOnce(&mut Inputs) -> Result<Prepared> + 'a>;
    let mut builds: Vec<(&str, Build)> = Vec::new();
    for c in cases::conv2d() {
        builds.push(("conv2d", Box::new(move |i| conv_case(gpu, i, &c))));
    }
    for c in cases::pool2d() {
        builds.push(("pool2d", Box::new(move |i| pool_case(gpu, i, &c))));
    }
    for c in cases::dense() {
        builds.push(("dense", Box::new(move |i| dense_case(gpu, i, &c))));
    }
    for c in cases::lrn() {
        builds.push(("lrn", Box::new(move |i| lrn_case(gpu, i, &c))));
    }
    for c in cases::softmax() {
        builds.push(("softmax", Box::new(move |i| softmax_case(gpu, i, &c))));
    }
    for c in cases::elementwise() {
        builds.push(("elementwise", Box::new(move |i| elementwise_case(gpu, i, &c))));
    }
    let bar = progress(builds.len());
    builds
        .into_iter()
        .map(|(op, build)| {
            bar.message(op);
            let r = match build(&mut inputs).and_then(|p| p.run(reps)) {
                Ok(r) => r,
                Err(e) => CaseResult::broken(op, "", e.to_string()),
            };
            bar.step(&r.case);
            r
        })
        .collect()
}
