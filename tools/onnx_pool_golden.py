#!/usr/bin/env python3
"""Writes golden pooling cases whose padding is wider than half the window (ONNX allows any),
computed by the ONNX reference implementation (onnx.reference), independent of dojang and of
tools/make_golden.py.

    python3 tools/onnx_pool_golden.py tests/golden

Each case is a folder with case.json, x.npy and y.npy (float32), as make_golden.py writes.
"""
import json
import os
import sys
import warnings

import numpy as np
from onnx import TensorProto, helper
from onnx.reference import ReferenceEvaluator

rng = np.random.default_rng(7)


def onnx_pool(x, kind, kernel, stride, pads, ceil_mode, count_include_pad):
    op = "MaxPool" if kind == "max" else "AveragePool"
    attrs = {"kernel_shape": list(kernel), "strides": list(stride), "pads": list(pads), "ceil_mode": int(ceil_mode)}
    if kind == "avg":
        attrs["count_include_pad"] = int(count_include_pad)
    node = helper.make_node(op, ["x"], ["y"], **attrs)
    graph = helper.make_graph(
        [node], "pool", [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x.shape))],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 19)])
    with warnings.catch_warnings():  # an empty window's mean is NaN by design
        warnings.simplefilter("ignore", RuntimeWarning)
        return ReferenceEvaluator(model).run(None, {"x": x})[0]


def case(root, name, shape, kind, kernel, stride, pads, ceil_mode=False, count_include_pad=False):
    x = rng.uniform(-1, 1, size=shape).astype(np.float32)
    y = onnx_pool(x, kind, kernel, stride, pads, ceil_mode, count_include_pad)
    d = os.path.join(root, "pool2d", name)
    os.makedirs(d, exist_ok=True)
    np.save(os.path.join(d, "x.npy"), x)
    np.save(os.path.join(d, "y.npy"), y.astype(np.float32))
    attrs = {"kind": kind, "kernel": list(kernel), "stride": list(stride), "padding": list(pads),
             "ceil_mode": ceil_mode, "count_include_pad": count_include_pad}
    with open(os.path.join(d, "case.json"), "w") as f:
        json.dump({"op": "pool2d", "attrs": attrs, "atol": 1e-5, "rtol": 1e-5, "source": "onnx-reference"}, f,
                  indent=1)
        f.write("\n")


def main(root):
    # Pads are ONNX's order, (top, left, bottom, right), as the golden format's.
    # Stride 1: every window holds an input cell (the reference cannot take a max of none there).
    case(root, "onnx_max_pad_2_window_3", (1, 2, 5, 6), "max", (3, 3), (1, 1), (2, 2, 2, 2))
    # Windows wholly in the padding: max gives 0, an average of input cells NaN.
    case(root, "onnx_max_windows_in_padding", (2, 3, 3, 4), "max", (2, 2), (2, 2), (3, 0, 2, 3))
    case(root, "onnx_avg_excl_windows_in_padding", (1, 2, 4, 5), "avg", (2, 3), (2, 3), (3, 4, 2, 4))
    case(root, "onnx_avg_incl_windows_in_padding", (1, 3, 5, 4), "avg", (3, 2), (3, 2), (4, 2, 3, 3),
         count_include_pad=True)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/golden")
