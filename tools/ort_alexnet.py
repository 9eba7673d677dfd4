#!/usr/bin/env python3
"""AlexNet (dojang's `alexnet`: the two-tower network on 3x227x227) in ONNX Runtime on the CPU,
the reference point of the Performance table: the same layers, random weights, batch 1 and 8,
median of 11 runs after 3 warm-ups, on every core ORT sees.

    pip install onnx onnxruntime numpy
    python3 tools/ort_alexnet.py

ONNX's LRN has no groups: each tower's channels are normalised apart (split, LRN, concat), as
the two-GPU network did.
"""
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(2012)
nodes, inits = [], []


def param(name, shape):
    fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else 1
    inits.append(numpy_helper.from_array((rng.standard_normal(shape) * np.sqrt(2 / fan_in)).astype(np.float32), name))
    return name


def conv(x, name, cin, cout, k, stride, pad, groups):
    w = param(name + ".w", [cout, cin // groups, k, k])
    b = param(name + ".b", [cout])
    nodes.append(helper.make_node("Conv", [x, w, b], [name], kernel_shape=[k, k], strides=[stride] * 2,
                                  pads=[pad] * 4, group=groups))
    nodes.append(helper.make_node("Relu", [name], [name + ".relu"]))
    return name + ".relu"


def lrn_towers(x, name, channels):
    halves = [name + ".a", name + ".b"]
    split = param(name + ".split", [2])
    inits[-1] = numpy_helper.from_array(np.array([channels // 2] * 2, dtype=np.int64), split)
    nodes.append(helper.make_node("Split", [x, split], halves, axis=1))
    for h in halves:
        nodes.append(helper.make_node("LRN", [h], [h + ".n"], size=5, alpha=1e-4, beta=0.75, bias=2.0))
    nodes.append(helper.make_node("Concat", [h + ".n" for h in halves], [name], axis=1))
    return name


def pool(x, name):
    nodes.append(helper.make_node("MaxPool", [x], [name], kernel_shape=[3, 3], strides=[2, 2]))
    return name


def dense(x, name, fin, fout, relu=True):
    w = param(name + ".w", [fout, fin])
    b = param(name + ".b", [fout])
    nodes.append(helper.make_node("Gemm", [x, w, b], [name], transB=1))
    if relu:
        nodes.append(helper.make_node("Relu", [name], [name + ".relu"]))
        return name + ".relu"
    return name


x = conv("input", "conv1", 3, 96, 11, 4, 0, 1)
x = pool(lrn_towers(x, "lrn1", 96), "pool1")
x = conv(x, "conv2", 96, 256, 5, 1, 2, 2)
x = pool(lrn_towers(x, "lrn2", 256), "pool2")
x = conv(x, "conv3", 256, 384, 3, 1, 1, 1)
x = conv(x, "conv4", 384, 384, 3, 1, 1, 2)
x = pool(conv(x, "conv5", 384, 256, 3, 1, 1, 2), "pool5")
nodes.append(helper.make_node("Flatten", [x], ["flat"]))
x = dense(dense(dense("flat", "fc6", 9216, 4096), "fc7", 4096, 4096), "fc8", 4096, 1000, relu=False)
nodes.append(helper.make_node("Softmax", [x], ["output"], axis=1))
graph = helper.make_graph(nodes, "alexnet", [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, 227, 227])],
                          [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["N", 1000])], inits)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
onnx.checker.check_model(model)
session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
print(f"onnxruntime {ort.__version__}, CPU, {ort.get_device()}")
for batch in (1, 8):
    feed = {"input": rng.uniform(-1, 1, (batch, 3, 227, 227)).astype(np.float32)}
    for _ in range(3):
        session.run(None, feed)
    times = []
    for _ in range(11):
        start = time.perf_counter()
        session.run(None, feed)
        times.append(time.perf_counter() - start)
    median = sorted(times)[5]
    print(f"alexnet-b{batch}: {median * 1e3:.1f} ms per pass, {median * 1e3 / batch:.1f} ms per image")
