//! The ONNX importer, GPU-free: each load-time rewrite on a small graph written here, run on
//! the CPU reference against values worked out by hand; and every kind of bad file refused
//! with a message that names what is wrong.

mod common;

use common::onnx_graph::{A, Onnx, floats};
use dojang::model::Op;
use dojang::onnx::proto::{StringStringEntryProto, TensorProto, data_type};
use dojang::onnx::{Imported, Options, load, load_bytes, load_with};

fn import(g: &Onnx) -> Imported {
    load_bytes(&g.bytes(), &Options::default()).unwrap_or_else(|e| panic!("{e}"))
}

fn refused(g: &Onnx) -> String {
    match load_bytes(&g.bytes(), &Options::default()) {
        Ok(_) => panic!("the model loaded"),
        Err(e) => e.to_string(),
    }
}

fn run(m: &Imported, x: &[f32], batch: usize) -> Vec<f32> {
    let outs = m.model.forward_reference(&m.weights, x, batch).unwrap_or_else(|e| panic!("{e}"));
    outs.last().cloned().unwrap_or_default()
}

fn assert_near(got: &[f32], expected: &[f32]) {
    assert_eq!(got.len(), expected.len(), "{got:?} vs {expected:?}");
    for (g, e) in got.iter().zip(expected) {
        assert!((g - e).abs() <= 1e-5 * (1.0 + e.abs()), "{got:?} vs {expected:?}");
    }
}

fn ops(m: &Imported) -> Vec<Op> {
    m.model.layers().iter().map(|l| l.op.clone()).collect()
}

/// Conv (1x1, weight 2, bias 1) → BatchNormalization (scale 3, bias 0.5, mean 1, var 3, eps 1)
/// → ReLU: y = relu(3·((2x + 1) − 1) / 2 + 0.5) = relu(3x + 0.5).
#[test]
fn batch_norm_folds_into_the_convolution_before_it() {
    let mut g = Onnx::new(13, &[Some(1), Some(1), Some(1), Some(3)]);
    g.init("w", &[1, 1, 1, 1], &[2.0]).init("b", &[1], &[1.0]);
    for (n, v) in [("s", 3.0), ("beta", 0.5), ("mean", 1.0), ("var", 3.0)] {
        g.init(n, &[1], &[v]);
    }
    g.node("Conv", "conv", &["x", "w", "b"], "c", vec![]);
    g.node("BatchNormalization", "bn", &["c", "s", "beta", "mean", "var"], "n", vec![("epsilon", A::F(1.0))]);
    g.node("Relu", "relu", &["n"], "y", vec![]);
    let m = import(&g);
    assert_eq!(m.model.layers().len(), 2, "{:?}", ops(&m));
    assert_eq!(m.tensors, ["n", "y"], "the convolution stands for the normalised tensor");
    assert!(m.rewrites.iter().any(|(w, n)| w == "BatchNormalization into Conv" && *n == 1), "{:?}", m.rewrites);
    assert_eq!(m.file_parameters, 4, "conv weight and bias, BN scale and bias; not its statistics");
    assert_near(&run(&m, &[-1.0, 0.0, 1.0], 1), &[0.0, 0.5, 3.5]);
}

/// A BatchNormalization reading the graph's input has no layer to fold into: it becomes a
/// per-channel affine map, and the ReLU after it runs inside it.
#[test]
fn batch_norm_without_a_layer_before_it_is_an_affine_map() {
    let mut g = Onnx::new(9, &[Some(1), Some(2), Some(1), Some(2)]);
    g.init("s", &[2], &[1.0, 2.0]).init("b", &[2], &[0.0, 1.0]).init("m", &[2], &[0.0, 0.0]).init(
        "v",
        &[2],
        &[1.0, 4.0],
    );
    g.node("BatchNormalization", "bn", &["x", "s", "b", "m", "v"], "n", vec![("epsilon", A::F(0.0))]);
    g.node("Relu", "relu", &["n"], "y", vec![]);
    let m = import(&g);
    assert_eq!(ops(&m), [Op::Affine { relu: true }]);
    // Channel 0: x; channel 1: 2·x/2 + 1.
    assert_near(&run(&m, &[-1.0, 2.0, -3.0, 4.0], 1), &[0.0, 2.0, 0.0, 5.0]);
}

/// The flatten subgraph exporters write (Shape → Gather → Unsqueeze → Concat → Reshape)
/// keeps the batch symbolic; Gemm with transB = 0, alpha and beta becomes a dense layer.
#[test]
fn the_flatten_subgraph_and_gemm_run_at_any_batch() {
    let mut g = Onnx::new(11, &[None, Some(2), Some(1), Some(1)]);
    g.ints("zero", &[0]).ints("minus_one", &[-1]);
    g.inits[0].dims.clear(); // a scalar index, as exporters write it
    g.node("Shape", "shape", &["x"], "s", vec![]);
    g.node("Gather", "gather", &["s", "zero"], "n", vec![("axis", A::I(0))]);
    g.node("Unsqueeze", "unsq", &["n"], "n1", vec![("axes", A::Is(vec![0]))]);
    g.node("Concat", "cat", &["n1", "minus_one"], "shape2", vec![("axis", A::I(0))]);
    g.node("Reshape", "reshape", &["x", "shape2"], "flat", vec![]);
    // B is [K=2, M=3]: y = 2·(x·B) + 0.5·c.
    g.init("B", &[2, 3], &[1.0, 0.0, 1.0, 0.0, 1.0, 1.0]).init("c", &[3], &[2.0, 2.0, 2.0]);
    g.node("Gemm", "fc", &["flat", "B", "c"], "y", vec![("alpha", A::F(2.0)), ("beta", A::F(0.5))]);
    let m = import(&g);
    assert_eq!(m.batch, None, "a symbolic batch");
    assert_eq!(ops(&m), [Op::Flatten, Op::Dense { out_features: 3 }]);
    let got = run(&m, &[1.0, 2.0, -1.0, 3.0], 2);
    assert_near(&got, &[3.0, 5.0, 7.0, -1.0, 7.0, 5.0]);
}

/// The batch taken with Slice (PaddlePaddle's exporter: Shape → Slice [0, 1) → Concat with
/// −1 → Reshape), its starts and ends as inputs (opset 10 on) or as attributes (before).
#[test]
fn a_slice_of_the_shape_folds_with_the_batch_symbolic() {
    for opset in [9, 13] {
        let mut g = Onnx::new(opset, &[None, Some(2), Some(1), Some(1)]);
        g.ints("minus_one", &[-1]).ints("start", &[0]).ints("end", &[1]);
        g.node("Shape", "shape", &["x"], "s", vec![]);
        match opset {
            9 => g.node("Slice", "slice", &["s"], "n", vec![("starts", A::Is(vec![0])), ("ends", A::Is(vec![1]))]),
            _ => g.node("Slice", "slice", &["s", "start", "end"], "n", vec![]),
        };
        g.node("Concat", "cat", &["n", "minus_one"], "shape2", vec![("axis", A::I(0))]);
        g.node("Reshape", "reshape", &["x", "shape2"], "flat", vec![]);
        g.node("Relu", "relu", &["flat"], "y", vec![]);
        let m = import(&g);
        assert_eq!(m.batch, None, "opset {opset}: a symbolic batch");
        assert_eq!(ops(&m), [Op::Flatten, Op::Relu], "opset {opset}");
        assert_near(&run(&m, &[1.0, -2.0, -1.0, 3.0], 2), &[1.0, 0.0, 0.0, 3.0]);
    }
}

/// MatMul then Add of a constant: a dense layer with that bias.
#[test]
fn matmul_and_add_become_a_dense_layer() {
    let mut g = Onnx::new(13, &[Some(1), Some(2), Some(1), Some(1)]);
    g.node("Flatten", "flat", &["x"], "f", vec![]);
    g.init("B", &[2, 2], &[1.0, 2.0, 3.0, 4.0]).init("c", &[2], &[10.0, 20.0]);
    g.node("MatMul", "mm", &["f", "B"], "p", vec![]);
    g.node("Add", "add", &["p", "c"], "y", vec![]);
    let m = import(&g);
    assert_eq!(ops(&m), [Op::Flatten, Op::Dense { out_features: 2 }]);
    assert_near(&run(&m, &[1.0, 1.0], 1), &[14.0, 26.0]);
}

/// A zero Pad before a convolution becomes its padding; SAME_UPPER and SAME_LOWER put the
/// odd pixel below/right and above/left.
#[test]
fn pad_and_auto_pad_become_the_convolutions_padding() {
    let conv = |auto: Option<&'static str>, pad: bool| {
        let mut g = Onnx::new(13, &[Some(1), Some(1), Some(4), Some(4)]);
        g.init("w", &[1, 1, 2, 2], &[1.0; 4]).ints("pads", &[0, 0, 1, 0, 0, 0, 0, 1]);
        let mut input = "x";
        if pad {
            g.node("Pad", "pad", &["x", "pads"], "p", vec![]);
            input = "p";
        }
        let mut attrs = vec![("strides", A::Is(vec![2, 2]))];
        if let Some(a) = auto {
            attrs.push(("auto_pad", A::S(a)));
        }
        g.node("Conv", "conv", &[input, "w"], "y", attrs);
        import(&g)
    };
    let padding = |m: &Imported| match &m.model.layers()[0].op {
        Op::Conv2d { attrs, .. } => attrs.padding,
        op => panic!("{op:?}"),
    };
    let pad = conv(None, true);
    assert_eq!(m_len(&pad), 1, "the Pad is no layer of its own");
    assert_eq!((padding(&pad).top, padding(&pad).right, padding(&pad).bottom, padding(&pad).left), (1, 1, 0, 0));
    // 4 → ceil(4/2) = 2 outputs of a 2-window at stride 2 need no padding; a 3x3 input would.
    let x: Vec<f32> = (1..=16).map(|v| v as f32).collect();
    // Rows padded above by 1, columns right by 1: windows (rows -1..0, 1..2) x (cols 0..1, 2..3).
    assert_near(&run(&pad, &x, 1), &[3.0, 7.0, 30.0, 38.0]);
    let mut g = Onnx::new(13, &[Some(1), Some(1), Some(3), Some(3)]);
    g.init("w", &[1, 1, 2, 2], &[1.0; 4]);
    g.node("Conv", "conv", &["x", "w"], "y", vec![("strides", A::Is(vec![2, 2])), ("auto_pad", A::S("SAME_LOWER"))]);
    let lower = import(&g);
    assert_eq!((padding(&lower).top, padding(&lower).left, padding(&lower).bottom), (1, 1, 0));
    assert_eq!(lower.model.output_shape(), [1, 2, 2]);
    let x: Vec<f32> = (1..=9).map(|v| v as f32).collect();
    assert_near(&run(&lower, &x, 1), &[1.0, 5.0, 11.0, 28.0]);
    let upper = conv(Some("SAME_UPPER"), false);
    assert_eq!(padding(&upper), dojang::attrs::Padding::default(), "4 at stride 2 needs none");
}

fn m_len(m: &Imported) -> usize {
    m.model.layers().len()
}

/// ReduceMean over H and W (what the newer exporter writes for global average pooling), with
/// axes as an attribute (opset < 18) or an input, keeping the dimensions or not.
#[test]
fn reduce_mean_over_the_image_is_global_average_pooling() {
    let mut g = Onnx::new(17, &[Some(1), Some(2), Some(1), Some(2)]);
    g.node("ReduceMean", "mean", &["x"], "y", vec![("axes", A::Is(vec![-1, -2])), ("keepdims", A::I(0))]);
    let m = import(&g);
    assert_eq!(ops(&m), [Op::GlobalAvgPool, Op::Flatten]);
    assert_near(&run(&m, &[1.0, 3.0, -2.0, 6.0], 1), &[2.0, 2.0]);
    let mut g = Onnx::new(18, &[Some(1), Some(2), Some(1), Some(2)]);
    g.ints("axes", &[2, 3]);
    g.node("ReduceMean", "mean", &["x", "axes"], "y", vec![]);
    assert_eq!(import(&g).model.output_shape(), [2, 1, 1]);
    let mut g = Onnx::new(18, &[Some(1), Some(2), Some(1), Some(2)]);
    g.ints("axes", &[1]);
    g.node("ReduceMean", "mean", &["x", "axes"], "y", vec![]);
    assert!(refused(&g).contains("a mean over axes [1]"), "{}", refused(&g));
}

/// A constant broadcasts from the right, as ONNX defines it: [C, 1, 1] scales channels (and
/// folds into the convolution before it); [C] against [N, C, H, W] would scale columns, which
/// dojang refuses rather than misread.
#[test]
fn per_channel_constants_broadcast_from_the_right() {
    let scaled = |dims: &[i64]| {
        let mut g = Onnx::new(13, &[Some(1), Some(2), Some(1), Some(2)]);
        g.init("w", &[2, 2, 1, 1], &[1.0, 0.0, 0.0, 1.0]).init("s", dims, &[2.0, 3.0]);
        g.node("Conv", "conv", &["x", "w"], "c", vec![]);
        g.node("Mul", "mul", &["s", "c"], "y", vec![]);
        g
    };
    let m = import(&scaled(&[2, 1, 1]));
    assert_eq!(ops(&m).len(), 1, "the Mul folds into the convolution");
    assert_near(&run(&m, &[1.0, 2.0, 3.0, 4.0], 1), &[2.0, 4.0, 9.0, 12.0]);
    assert!(refused(&scaled(&[2])).contains("Mul by a constant of shape [2]"), "{}", refused(&scaled(&[2])));
}

/// Dropout and Identity vanish; Sum of three is two adds, and the ReLU after runs in the last.
#[test]
fn dropout_identity_and_sum() {
    let mut g = Onnx::new(9, &[Some(1), Some(1), Some(1), Some(2)]);
    g.node("Dropout", "drop", &["x"], "d", vec![]);
    g.node("Identity", "id", &["d"], "i", vec![]);
    g.node("Relu", "r", &["i"], "r", vec![]);
    g.node("Sum", "sum", &["i", "r", "x"], "s", vec![]);
    g.node("Relu", "out", &["s"], "y", vec![]);
    let m = import(&g);
    assert_eq!(m.model.layers().len(), 3, "{:?}", ops(&m));
    assert!(matches!(m.model.layers()[2].op, Op::Add { relu: true, .. }));
    // x = [-1, 2]: x + relu(x) + x = [-2, 6] → relu → [0, 6].
    assert_near(&run(&m, &[-1.0, 2.0], 1), &[0.0, 6.0]);
}

/// A branch and a concatenation: the layer graph is a DAG.
#[test]
fn branches_meet_in_a_concatenation() {
    let mut g = Onnx::new(13, &[Some(1), Some(1), Some(1), Some(2)]);
    g.init("w", &[2, 1, 1, 1], &[1.0, -1.0]);
    g.node("Conv", "a", &["x", "w"], "a", vec![]);
    g.node("Relu", "b", &["x"], "b", vec![]);
    g.node("Concat", "cat", &["b", "a", "x"], "y", vec![("axis", A::I(1))]);
    let m = import(&g);
    assert_eq!(m.model.output_shape(), [4, 1, 2]);
    assert_near(&run(&m, &[-1.0, 2.0], 1), &[0.0, 2.0, -1.0, 2.0, 1.0, -2.0, -1.0, 2.0]);
}

/// f16 and bf16 initializers widen to f32; IR 3 lists initializers among the inputs.
#[test]
fn half_precision_initializers_and_ir_3() {
    let mut g = Onnx::new(9, &[Some(1), Some(1), Some(1), Some(1)]);
    g.ir = 3;
    let bits = |v: u16| v.to_le_bytes().to_vec();
    g.inits.push(TensorProto {
        dims: vec![1, 1, 1, 1],
        data_type: data_type::FLOAT16,
        name: "w".into(),
        raw_data: bits(half::f16::from_f32(1.5).to_bits()),
        ..Default::default()
    });
    g.inits.push(TensorProto {
        dims: vec![1],
        data_type: data_type::BFLOAT16,
        name: "b".into(),
        int32_data: vec![half::bf16::from_f32(-0.5).to_bits() as i32],
        ..Default::default()
    });
    g.node("Conv", "conv", &["x", "w", "b"], "y", vec![]);
    assert_near(&run(&import(&g), &[2.0], 1), &[2.5]);
}

/// Softmax follows ONNX's axis rules: before opset 13 it flattens at `axis`; from 13 it is one
/// axis, by default the last.
#[test]
fn softmax_axis_rules() {
    let softmax = |opset: i64, input: &[Option<i64>], flatten: bool| {
        let mut g = Onnx::new(opset, input);
        let mut x = "x";
        if flatten {
            g.node("Flatten", "f", &["x"], "f", vec![]);
            x = "f";
        }
        g.node("Softmax", "sm", &[x], "y", vec![]);
        load_bytes(&g.bytes(), &Options::default())
    };
    let m = softmax(13, &[Some(1), Some(3), Some(1), Some(1)], true).unwrap_or_else(|e| panic!("{e}"));
    let e: Vec<f64> = [0.0f64, 1.0, 2.0].iter().map(|v| v.exp()).collect();
    let sum: f64 = e.iter().sum();
    let expected: Vec<f32> = e.iter().map(|v| (v / sum) as f32).collect();
    assert_near(&run(&m, &[0.0, 1.0, 2.0], 1), &expected);
    softmax(11, &[Some(1), Some(3), Some(1), Some(1)], false).unwrap_or_else(|e| panic!("{e}"));
    let wrong = softmax(13, &[Some(1), Some(3), Some(1), Some(1)], false).map(|_| ()).unwrap_err().to_string();
    assert!(wrong.contains("softmax over axis 3"), "{wrong}");
}

#[test]
fn every_unsupported_node_is_listed_at_once() {
    let mut g = Onnx::new(17, &[Some(1), Some(1), Some(2), Some(2)]);
    g.node("Resize", "Resize_12", &["x"], "a", vec![]);
    g.node("Resize", "Resize_13", &["a"], "b", vec![]);
    g.node("Relu", "r", &["b"], "c", vec![]);
    g.nodes.push(dojang::onnx::proto::NodeProto {
        input: vec!["c".into()],
        output: vec!["y".into()],
        name: "fused".into(),
        op_type: "FusedConv".into(),
        domain: "com.microsoft".into(),
        ..Default::default()
    });
    g.output = "y".into();
    let e = refused(&g);
    assert_eq!(
        e,
        "model (opset 17): Resize ×2 (first 'Resize_12'), com.microsoft.FusedConv ×1 (first 'fused') are not supported by dojang"
    );
}

#[test]
fn bad_files_are_refused_with_what_is_wrong() {
    let conv = |w: TensorProto| {
        let mut g = Onnx::new(13, &[Some(1), Some(1), Some(2), Some(2)]);
        g.inits.push(w);
        g.node("Conv", "conv", &["x", "w"], "y", vec![]);
        g
    };
    let e = refused(&conv(TensorProto { data_type: data_type::INT8, ..floats("w", &[1, 1, 1, 1], &[1.0]) }));
    assert!(e.contains("8-bit integers (quantised weights)"), "{e}");
    let e = refused(&conv(floats("w", &[1, 1, 2, 2], &[1.0, 2.0])));
    assert!(e.contains("tensor 'w' of shape [1, 1, 2, 2] needs 4 values (16 bytes); it holds 8 bytes"), "{e}");
    let mut g = conv(floats("w", &[1, 1, 1, 1], &[1.0]));
    g.nodes[0].input.push("bias".into());
    assert!(refused(&g).contains("missing initializer 'bias' (read by Conv 'conv')"));
    let mut g = conv(floats("w", &[1, 1, 1, 1], &[1.0]));
    g.node("Concat", "cat", &["y", "y"], "z", vec![("axis", A::I(2))]);
    assert!(refused(&g).contains("concatenates along axis 2"), "{}", refused(&g));
    for opset in [6, 22] {
        let mut g = conv(floats("w", &[1, 1, 1, 1], &[1.0]));
        g.opset = opset;
        assert!(refused(&g).contains(&format!("opset {opset} of the default domain")), "{}", refused(&g));
    }
    let bytes = conv(floats("w", &[1, 1, 1, 1], &[1.0])).bytes();
    for cut in [bytes.len() / 2, bytes.len() - 1] {
        let e = load_bytes(&bytes[..cut], &Options::default()).map(|_| ()).unwrap_err().to_string();
        assert!(e.starts_with("model: not an ONNX model"), "{e}");
    }
    let e = load_bytes(b"\x89PNG\r\n\x1a\n not a model", &Options::default()).map(|_| ()).unwrap_err().to_string();
    assert!(e.contains("not an ONNX model"), "{e}");
}

/// External data is read from the model's folder only: a relative location loads; an
/// absolute one, one with `..`, a missing file and bytes without a folder are refused.
#[test]
fn external_data_stays_in_the_models_folder() {
    let dir = std::env::temp_dir().join(format!("dojang-onnx-external-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("data")).unwrap();
    std::fs::write(dir.join("data/w.bin"), [0u8; 4].iter().chain(&2.0f32.to_le_bytes()).copied().collect::<Vec<u8>>())
        .unwrap();
    let model = |location: &str| {
        let mut g = Onnx::new(13, &[Some(1), Some(1), Some(1), Some(1)]);
        let entry = |k: &str, v: &str| StringStringEntryProto { key: k.into(), value: v.into() };
        g.inits.push(TensorProto {
            dims: vec![1, 1, 1, 1],
            data_type: data_type::FLOAT,
            name: "w".into(),
            data_location: dojang::onnx::proto::EXTERNAL,
            external_data: vec![entry("location", location), entry("offset", "4"), entry("length", "4")],
            ..Default::default()
        });
        g.node("Conv", "conv", &["x", "w"], "y", vec![]);
        let path = dir.join("m.onnx");
        std::fs::write(&path, g.bytes()).unwrap();
        (path, g.bytes())
    };
    let (path, bytes) = model("data/w.bin");
    let m = load(&path).unwrap_or_else(|e| panic!("{e}"));
    assert_near(&run(&m, &[3.0], 1), &[6.0]);
    let e = load_bytes(&bytes, &Options::default()).map(|_| ()).unwrap_err().to_string();
    assert!(e.contains("load the model from its path"), "{e}");
    for (location, says) in [
        ("/etc/passwd", "leaves the model's folder"),
        ("../w.bin", "leaves the model's folder"),
        ("data/none.bin", "cannot read its external data file 'data/none.bin'"),
    ] {
        let (path, _) = model(location);
        let e = load_with(&path, &Options::default()).map(|_| ()).unwrap_err().to_string();
        assert!(e.contains(says), "{location}: {e}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A symbolic height and width need the input shape; a given shape must agree with a fixed one.
#[test]
fn symbolic_image_sizes_need_the_input_shape() {
    let mut g = Onnx::new(13, &[None, Some(1), None, None]);
    g.node("Relu", "r", &["x"], "y", vec![]);
    let e = refused(&g);
    assert!(e.contains("symbolic dimension 'N': give the input shape C,H,W"), "{e}");
    let m = load_bytes(&g.bytes(), &Options { input_shape: Some([1, 5, 7]) }).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(m.model.input(), [1, 5, 7]);
    let e = load_bytes(&g.bytes(), &Options { input_shape: Some([3, 5, 7]) }).map(|_| ()).unwrap_err().to_string();
    assert!(e.contains("3 was given for dimension 1"), "{e}");
}

/// The mobile networks' patterns: Clip with bounds as inputs (ReLU6), x · sigmoid(x) as one
/// SiLU layer, a squeeze-and-excitation gate as a product by a [C, 1, 1] layer, and the
/// Reshape → Transpose → Reshape channel shuffle.
#[test]
fn mobile_patterns() {
    let mut g = Onnx::new(13, &[Some(1), Some(2), Some(1), Some(2)]);
    g.init("lo", &[], &[0.0]).init("hi", &[], &[6.0]);
    g.node("Clip", "relu6", &["x", "lo", "hi"], "c", vec![]);
    g.node("Sigmoid", "sig", &["c"], "s", vec![]);
    g.node("Mul", "silu", &["c", "s"], "m", vec![]);
    g.node("GlobalAveragePool", "squeeze", &["m"], "p", vec![]);
    g.node("HardSigmoid", "excite", &["p"], "e", vec![]);
    g.node("Mul", "gate", &["m", "e"], "y", vec![]);
    let m = import(&g);
    let names: Vec<_> = m.model.layers().iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["relu6", "sig", "squeeze", "excite", "gate"]);
    assert_eq!(m.model.layers()[1].op, Op::Activation(dojang::ops::Activation::Silu));
    // x = [−1, 8 | 2, 4] → relu6 [0, 6 | 2, 4] → silu → mean per channel → hard sigmoid → gate.
    let silu = |v: f64| v / (1.0 + (-v).exp());
    let c = [[0.0, 6.0], [2.0, 4.0]].map(|ch| ch.map(silu));
    let gate = c.map(|ch| (0.2 * (ch[0] + ch[1]) / 2.0 + 0.5).clamp(0.0, 1.0));
    let expected: Vec<f32> = (0..2).flat_map(|k| c[k].map(|v| (v * gate[k]) as f32)).collect();
    assert_near(&run(&m, &[-1.0, 8.0, 2.0, 4.0], 1), &expected);

    // [1, 4, 1, 1] in 2 groups: Reshape [1, 2, 2, 1, 1], Transpose, Reshape back.
    let mut g = Onnx::new(13, &[Some(1), Some(4), Some(1), Some(1)]);
    g.ints("five", &[1, 2, 2, 1, 1]).ints("four", &[1, 4, 1, 1]);
    g.node("Reshape", "r1", &["x", "five"], "a", vec![]);
    g.node("Transpose", "t", &["a"], "b", vec![("perm", A::Is(vec![0, 2, 1, 3, 4]))]);
    g.node("Reshape", "r2", &["b", "four"], "y", vec![]);
    let m = import(&g);
    assert_eq!(ops(&m), [Op::ChannelShuffle { groups: 2 }]);
    assert_near(&run(&m, &[0.0, 1.0, 2.0, 3.0], 1), &[0.0, 2.0, 1.0, 3.0]);

    // Clip to [0, inf) is a ReLU; other transposes are refused.
    let mut g = Onnx::new(9, &[Some(1), Some(1), Some(1), Some(1)]);
    g.node("Clip", "c", &["x"], "c", vec![("min", A::F(0.0))]);
    assert_eq!(ops(&import(&g)), [Op::Relu]);
    let mut g = Onnx::new(13, &[Some(1), Some(2), Some(1), Some(3)]);
    g.node("Transpose", "t", &["x"], "y", vec![("perm", A::Is(vec![0, 1, 3, 2]))]);
    assert!(refused(&g).contains("transposes [2, 1, 3] per image"), "{}", refused(&g));
}

/// Split and Slice along the channels (ShuffleNet v2's channel split) are channel slices: Split
/// by the `split` input, by the attribute (before opset 13) and in equal parts; Slice by
/// constant starts and ends, a whole axis left as it is; other slices refused.
#[test]
fn split_and_slice_along_the_channels() {
    let x: Vec<f32> = (0..6).map(|v| v as f32).collect(); // 3 channels of 2 values
    for (opset, sizes) in [(13, Some(vec![1, 2])), (11, Some(vec![1, 2])), (13, None)] {
        let mut g = Onnx::new(opset, &[Some(1), Some(3), Some(1), Some(2)]);
        let mut attrs = vec![("axis", A::I(1))];
        let mut inputs = vec!["x"];
        match (&sizes, opset) {
            (Some(s), 13) => {
                g.ints("split", s);
                inputs.push("split");
            }
            (Some(s), _) => attrs.push(("split", A::Is(s.clone()))),
            _ => {}
        }
        g.node("Split", "split", &inputs, "a", attrs);
        g.outputs_of("split", &["a", "b"]);
        g.node("Concat", "cat", &["b", "a"], "y", vec![("axis", A::I(1))]);
        let m = import(&g);
        let (a, b) = if sizes.is_some() { (1, 3) } else { (2, 3) };
        assert_eq!(ops(&m)[..2], [Op::Slice { start: 0, end: a }, Op::Slice { start: a, end: b }], "opset {opset}");
        let want: Vec<f32> = x[2 * a..].iter().chain(&x[..2 * a]).copied().collect();
        assert_near(&run(&m, &x, 1), &want);
    }
    let mut g = Onnx::new(13, &[Some(1), Some(3), Some(1), Some(2)]);
    g.ints("starts", &[1]).ints("ends", &[i64::MAX]).ints("axes", &[1]);
    g.node("Slice", "slice", &["x", "starts", "ends", "axes"], "y", vec![]);
    let m = import(&g);
    assert_eq!(ops(&m), [Op::Slice { start: 1, end: 3 }]);
    assert_near(&run(&m, &x, 1), &x[2..]);
    let mut g = Onnx::new(13, &[Some(1), Some(3), Some(1), Some(2)]);
    g.ints("starts", &[1]).ints("ends", &[2]).ints("axes", &[3]);
    g.node("Slice", "slice", &["x", "starts", "ends", "axes"], "y", vec![]);
    assert!(refused(&g).contains("slices a run of channels only"), "{}", refused(&g));
}

/// PRelu: a slope per channel ([C, 1, 1] as PyTorch exports nn.PReLU(C)) is a PReLU layer,
/// one slope a leaky ReLU; a slope per column is refused.
#[test]
fn prelu_per_channel_or_one_slope() {
    let mut g = Onnx::new(13, &[Some(1), Some(2), Some(1), Some(2)]);
    g.init("slope", &[2, 1, 1], &[0.5, -1.0]);
    g.node("PRelu", "prelu", &["x", "slope"], "y", vec![]);
    let m = import(&g);
    assert_eq!(ops(&m), [Op::PRelu]);
    assert_eq!(m.file_parameters, 2);
    assert_near(&run(&m, &[-2.0, 3.0, -4.0, 1.0], 1), &[-1.0, 3.0, 4.0, 1.0]);
    let mut g = Onnx::new(13, &[Some(1), Some(2), Some(1), Some(2)]);
    g.init("slope", &[1], &[0.25]);
    g.node("PRelu", "prelu", &["x", "slope"], "y", vec![]);
    assert_eq!(ops(&import(&g)), [Op::Activation(dojang::ops::Activation::LeakyRelu { alpha: 0.25 })]);
    let mut g = Onnx::new(13, &[Some(1), Some(2), Some(1), Some(2)]);
    g.init("slope", &[2], &[0.5, 0.5]);
    g.node("PRelu", "prelu", &["x", "slope"], "y", vec![]);
    assert!(refused(&g).contains("one slope per channel"), "{}", refused(&g));
}

/// Pad with edge (replicate) mode is a layer of its own before the convolution: [1, 2] padded
/// by one column each side → [1, 1, 2, 2], then a 1x2 sum → [2, 3, 4]. Reflect → [2, 1, 2, 1]
/// → [3, 3, 3]; a constant of 5 → [5, 1, 2, 5] → [6, 3, 7].
#[test]
fn pad_by_a_mode_is_a_layer() {
    for (mode, value, want) in
        [("edge", 0.0, [2.0, 3.0, 4.0]), ("reflect", 0.0, [3.0, 3.0, 3.0]), ("constant", 5.0, [6.0, 3.0, 7.0])]
    {
        let mut g = Onnx::new(13, &[Some(1), Some(1), Some(1), Some(2)]);
        g.ints("pads", &[0, 0, 0, 1, 0, 0, 0, 1]).init("value", &[], &[value]).init("w", &[1, 1, 1, 2], &[1.0, 1.0]);
        g.node("Pad", "pad", &["x", "pads", "value"], "p", vec![("mode", A::S(mode))]);
        g.node("Conv", "conv", &["p", "w"], "y", vec![]);
        let m = import(&g);
        assert!(matches!(ops(&m)[0], Op::Pad { .. }), "{mode}: {:?}", ops(&m));
        assert_near(&run(&m, &[1.0, 2.0], 1), &want);
    }
}

/// PyTorch's `padding_mode="replicate"` and `"reflect"` as torch.onnx exports them: the pads
/// computed by a chain of constant ops (ConstantOfShape, Concat, Reshape, a Slice of step −1,
/// Transpose, Cast), folded at load, then Pad by edge or reflect; the CPU reference against
/// ONNX Runtime's output (tools/padding_mode_fixture.py).
#[test]
fn pytorch_padding_modes_import_and_agree_with_onnx_runtime() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/onnx");
    let m = load(&dir.join("padding_modes.onnx")).unwrap_or_else(|e| panic!("{e}"));
    let pads: Vec<&Op> = m.model.layers().iter().map(|l| &l.op).filter(|op| matches!(op, Op::Pad { .. })).collect();
    assert_eq!(pads.len(), 2, "{:?}", ops(&m));
    let npy = |name: &str| {
        let bytes = std::fs::read(dir.join(name)).unwrap();
        npyz::NpyFile::new(&bytes[..]).unwrap().into_vec::<f32>().unwrap()
    };
    let (x, want) = (npy("padding_modes.input.npy"), npy("padding_modes.expected.npy"));
    let got = run(&m, &x, 1);
    assert_eq!(got.len(), want.len());
    for (g, e) in got.iter().zip(&want) {
        assert!((g - e).abs() <= 1e-4 * (1.0 + e.abs()), "{g} vs {e}");
    }
}

/// An Add of an activation and its channel means (GlobalAveragePool: [N, C, 1, 1]), in either
/// order, adds each channel's mean to its cells: channel 0 [1, 3] (mean 2) → [3, 5].
#[test]
fn an_add_of_a_value_per_channel_imports() {
    for inputs in [["x", "m"], ["m", "x"]] {
        let mut g = Onnx::new(13, &[Some(1), Some(2), Some(1), Some(2)]);
        g.node("GlobalAveragePool", "gap", &["x"], "m", vec![]);
        g.node("Add", "add", &inputs, "y", vec![]);
        let m = import(&g);
        assert_near(&run(&m, &[1.0, 3.0, -2.0, 0.0], 1), &[3.0, 5.0, -3.0, -1.0]);
    }
}
