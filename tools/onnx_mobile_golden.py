#!/usr/bin/env python3
"""Writes golden cases for the mobile networks' ops, computed by the ONNX reference
implementation (onnx.reference), independent of dojang: each activation alone, depthwise
convolutions (3x3 and 5x5, stride 1 and 2, a channel multiplier, dilation, asymmetric
padding), convolutions with an activation fused (the ONNX graph runs them as two nodes), and
Pad in its three modes.

    python3 tools/onnx_mobile_golden.py tests/golden

Each case is a folder with case.json, x.npy, w.npy, b.npy and y.npy (float32), as
tools/make_golden.py writes.
"""
import json
import os
import sys

import numpy as np
from onnx import TensorProto, helper
from onnx.reference import ReferenceEvaluator

rng = np.random.default_rng(22)

# The golden format's activation (name and parameters) and the ONNX node that computes it.
ACTIVATIONS = {
    "relu": ({"name": "relu"}, "Relu", {}),
    "relu6": ({"name": "clip", "min": 0.0, "max": 6.0}, "Clip", {"min": 0.0, "max": 6.0}),
    "sigmoid": ({"name": "sigmoid"}, "Sigmoid", {}),
    "hard_sigmoid": ({"name": "hard_sigmoid", "alpha": 0.1666667, "beta": 0.5}, "HardSigmoid",
                     {"alpha": 0.1666667, "beta": 0.5}),
    "hard_swish": ({"name": "hard_swish"}, "HardSwish", {}),
    "leaky_relu": ({"name": "leaky_relu", "alpha": 0.1}, "LeakyRelu", {"alpha": 0.1}),
}


def run(nodes, inputs, consts):
    """Runs `nodes` (the last writes "y") on `inputs` with initializers `consts`."""
    graph = helper.make_graph(
        nodes, "case", [helper.make_tensor_value_info(k, TensorProto.FLOAT, list(v.shape)) for k, v in inputs.items()],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [helper.make_tensor(k, TensorProto.FLOAT, v.shape, v.flatten()) for k, v in consts.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
    return ReferenceEvaluator(model).run(None, inputs)[0]


def activation_nodes(name, x, y):
    _, op, attrs = ACTIVATIONS[name]
    if op == "Clip":  # opset 11 on: bounds are inputs
        return [helper.make_node("Constant", [], ["lo"], value_float=attrs["min"]),
                helper.make_node("Constant", [], ["hi"], value_float=attrs["max"]),
                helper.make_node("Clip", [x, "lo", "hi"], [y])]
    return [helper.make_node(op, [x], [y], **attrs)]


def write(root, op, name, arrays, attrs, atol=1e-5):
    d = os.path.join(root, op, name)
    os.makedirs(d, exist_ok=True)
    for k, v in arrays.items():
        np.save(os.path.join(d, f"{k}.npy"), v.astype(np.float32))
    with open(os.path.join(d, "case.json"), "w") as f:
        json.dump({"op": op, "attrs": attrs, "atol": atol, "rtol": 1e-5, "source": "onnx-reference"}, f, indent=1)
        f.write("\n")


def activation_case(root, name):
    # Far out on both sides, near the bends, NaN-free.
    x = np.concatenate([rng.uniform(-8, 8, 244), [-100, -3, -0.5, 0, 0.5, 3, 6, 100]]).astype(np.float32)
    x = x.reshape(2, 3, 6, 7)
    y = run(activation_nodes(name, "x", "y"), {"x": x}, {})
    write(root, "activation", f"onnx_{name}", {"x": x, "y": y}, {"activation": ACTIVATIONS[name][0]})


def conv_case(root, name, xs, ws, group, stride, pads, dilation=(1, 1), activation=None):
    x = rng.uniform(-1, 1, xs).astype(np.float32)
    w = rng.uniform(-1, 1, ws).astype(np.float32)
    b = rng.uniform(-1, 1, ws[0]).astype(np.float32)
    conv = helper.make_node("Conv", ["x", "w", "b"], ["c" if activation else "y"], group=group, strides=list(stride),
                            pads=[pads[0], pads[1], pads[2], pads[3]], dilations=list(dilation))
    nodes = [conv] + (activation_nodes(activation, "c", "y") if activation else [])
    y = run(nodes, {"x": x}, {"w": w, "b": b})
    attrs = {"stride": list(stride), "padding": list(pads), "dilation": list(dilation), "groups": group,
             "activation": ACTIVATIONS[activation][0] if activation else None}
    write(root, "conv2d", name, {"x": x, "w": w, "b": b, "y": y}, attrs, atol=1e-4)


def pad_case(root, name, xs, pads, mode, value=0.0):
    x = rng.uniform(-1, 1, xs).astype(np.float32)
    t, l, b, r = pads
    nodes = [helper.make_node("Constant", [], ["pads"], value_ints=[0, 0, t, l, 0, 0, b, r]),
             helper.make_node("Constant", [], ["value"], value_float=value),
             helper.make_node("Pad", ["x", "pads", "value"], ["y"], mode=mode)]
    y = run(nodes, {"x": x}, {})
    write(root, "pad", name, {"x": x, "y": y}, {"padding": list(pads), "mode": mode, "value": value}, atol=0.0)


def prelu_case(root, name, xs):
    x = np.concatenate([rng.uniform(-4, 4, int(np.prod(xs)) - 4), [-100, -0.5, 0, 100]]).astype(np.float32)
    x = x.reshape(xs)
    w = rng.uniform(-1, 1, xs[1]).astype(np.float32)
    y = run([helper.make_node("PRelu", ["x", "slope"], ["y"])], {"x": x}, {"slope": w.reshape(xs[1], 1, 1)})
    write(root, "prelu", name, {"x": x, "w": w, "y": y}, {}, atol=0.0)


def main(root):
    for name in ACTIVATIONS:
        activation_case(root, name)
    # Pads are (top, left, bottom, right), ONNX's begin-then-end order.
    conv_case(root, "onnx_depthwise_3x3_s1", (1, 16, 14, 13), (16, 1, 3, 3), 16, (1, 1), (1, 1, 1, 1))
    conv_case(root, "onnx_depthwise_3x3_s2_relu6", (2, 8, 15, 16), (8, 1, 3, 3), 8, (2, 2), (0, 0, 1, 1),
              activation="relu6")
    conv_case(root, "onnx_depthwise_5x5_hard_swish", (1, 12, 11, 9), (12, 1, 5, 5), 12, (1, 1), (2, 2, 2, 2),
              activation="hard_swish")
    conv_case(root, "onnx_depthwise_multiplier_dilated", (1, 5, 12, 10), (10, 1, 3, 3), 5, (1, 2), (2, 1, 2, 3),
              dilation=(2, 2))
    conv_case(root, "onnx_conv_3x3_sigmoid", (1, 6, 9, 8), (7, 6, 3, 3), 1, (1, 1), (1, 1, 1, 1),
              activation="sigmoid")
    pad_case(root, "onnx_edge", (2, 3, 5, 4), (1, 2, 3, 0), "edge")
    pad_case(root, "onnx_reflect", (1, 4, 6, 5), (2, 4, 5, 1), "reflect")
    pad_case(root, "onnx_constant", (1, 2, 3, 3), (0, 1, 2, 3), "constant", value=0.25)
    conv_case(root, "onnx_pointwise_leaky_relu", (2, 24, 7, 7), (40, 24, 1, 1), 1, (1, 1), (0, 0, 0, 0),
              activation="leaky_relu")
    prelu_case(root, "onnx_per_channel", (2, 5, 3, 4))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/golden")
