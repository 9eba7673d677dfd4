#!/usr/bin/env python3
"""Fixtures for dojang's ONNX import tests, with ONNX Runtime as the oracle.

The `onnx` package's light models (tests/fixtures/onnx/light_*.onnx, copied from
onnx/backend/test/data/light/) and the torchvision graphs tools/torchvision_graphs.py writes
(tv_*.onnx) hold placeholder weights (ConstantOfShape of 0.02). This script
gives each seeded weights, calibrates its BatchNorm statistics with ONNX Runtime so that every
normalised activation has mean 0 and variance 1 over a seeded input, runs ONNX Runtime, and
writes tests/fixtures/onnx/<model>.expected.json: the seed, the calibration, the output (and the
logits before a final Softmax). The Rust tests rebuild the same weights from the seed and the
calibration (src/tools/onnx_seed.rs is this file's twin), so no weights are committed and the
tests need no Python.

With --models-dir DIR it also writes DIR/<model>.onnx (seeded), <model>.input.npy and
<model>.expected.npy, for `dojang-validate onnx DIR/<model>.onnx --input … --expect …`.

The seeded values (both sides compute them bit for bit):
  u(name, i) = float32(splitmix64(fnv1a64(name) ^ seed + i) >> 40) / 2**23 - 1   in [-1, 1)
  a convolution or dense weight: u · float32(sqrt(6 / fan_in))  (He-uniform)
  a BatchNormalization scale, or a constant a Mul reads: 1 + 0.1·u;  anything else: 0.1·u
  BatchNormalization mean and variance: the calibration (one mean and one variance a node)
  the input: u("input", i)

Usage: python3 tools/onnx_fixtures.py [--models-dir target/onnx] [MODEL ...]
Needs: pip install onnx onnxruntime numpy
"""
import argparse
import json
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort

ort.set_default_logger_severity(3)
from onnx import helper, numpy_helper

SEED = 1
FIXTURES = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "onnx")
M64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def fnv1a64(name):
    h = 0xCBF29CE484222325
    for b in name.encode():
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def uniform(name, n, seed=SEED):
    with np.errstate(over="ignore"):
        x = np.uint64(fnv1a64(name) ^ seed) + np.arange(n, dtype=np.uint64)
        z = x + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(40)).astype(np.float32) / np.float32(2**23) - np.float32(1)


def roles(graph):
    """name -> (role, fan_in) for every float constant a node reads."""
    readers = {}
    for node in graph.node:
        for k, name in enumerate(node.input):
            readers.setdefault(name, []).append((node, k))
    out = {}
    for name, uses in readers.items():
        node, k = uses[0]
        while node.op_type in ("Unsqueeze", "Identity", "Reshape") and node.output[0] in readers:
            node, k = readers[node.output[0]][0]
        out[name] = (node, k)
    return out


def scale_of(node, k, dims):
    op = node.op_type
    if op == "Conv" and k == 1:
        return "weight", int(np.prod(dims[1:]))
    if op == "Gemm" and k == 1:
        trans = any(a.name == "transB" and a.i for a in node.attribute)
        return "weight", int(dims[1] if trans else dims[0])
    if op == "MatMul" and k == 1:
        return "weight", int(dims[0])
    if op == "BatchNormalization" and k in (3, 4):
        return "stat", 0
    if (op == "BatchNormalization" and k == 1) or op == "Mul":
        return "gain", 0
    return "small", 0


def seeded(name, dims, role, fan_in):
    u = uniform(name, int(np.prod(dims)))
    if role == "weight":
        return u * np.float32(np.sqrt(6.0 / fan_in))
    if role == "gain":
        return np.float32(1) + np.float32(0.1) * u
    return np.float32(0.1) * u


def seed_model(model, calibration):
    """The model with every float constant seeded: ConstantOfShape nodes become initializers."""
    g = model.graph
    shapes = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    use = roles(g)
    keep, inits = [], []
    for t in g.initializer:
        if t.data_type == onnx.TensorProto.FLOAT:
            inits.append((t.name, list(t.dims)))
        else:
            keep.append(t)
    nodes = []
    for node in g.node:
        value = next((a.t for a in node.attribute if a.name == "value"), None)
        if node.op_type == "ConstantOfShape" and node.input[0] in shapes and (value is None or value.data_type == 1):
            inits.append((node.output[0], [int(d) for d in shapes[node.input[0]]]))
        else:
            nodes.append(node)
    new = []
    for name, dims in inits:
        node, k = use.get(name, (None, 0))
        role, fan_in = scale_of(node, k, dims) if node is not None else ("small", 0)
        if role == "stat":
            mean, var = calibration.get(node.input[3], (0.0, 1.0))
            values = np.full(dims, mean if k == 3 else var, dtype=np.float32)
        else:
            values = seeded(name, dims, role, fan_in).reshape(dims)
        new.append(numpy_helper.from_array(values, name))
    del g.initializer[:]
    g.initializer.extend(keep + new)
    del g.node[:]
    g.node.extend(nodes)
    # IR < 4 lists initializers among the inputs: the new ones too.
    if model.ir_version < 4:
        listed = {i.name for i in g.input}
        for t in new:
            if t.name not in listed:
                g.input.append(helper.make_tensor_value_info(t.name, onnx.TensorProto.FLOAT, list(t.dims)))
    return model


def run(model, x, extra=()):
    m = onnx.ModelProto()
    m.CopyFrom(model)
    for name in extra:
        m.graph.output.append(helper.ValueInfoProto(name=name))
    s = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
    return s.run(None, {s.get_inputs()[0].name: x})


def image_input(model):
    inits = {t.name for t in model.graph.initializer}
    return next(i for i in model.graph.input if i.name not in inits)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models-dir", help="also write the seeded models and .npy arrays here")
    ap.add_argument("models", nargs="*", help="names of tests/fixtures/onnx/*.onnx (default: all but ShuffleNet)")
    a = ap.parse_args()
    names = a.models or sorted(f[:-5] for f in os.listdir(FIXTURES) if f.endswith(".onnx") and "shufflenet" not in f)
    for name in names:
        base = onnx.load(os.path.join(FIXTURES, name + ".onnx"))
        inp = image_input(base)
        dims = [d.dim_value or 1 for d in inp.type.tensor_type.shape.dim]  # a symbolic batch runs at 1
        x = uniform("input", int(np.prod(dims))).reshape(dims)
        bns = [n for n in base.graph.node if n.op_type == "BatchNormalization"]
        calibration = {}
        for bn in bns:
            # Statistics of this node's input, with the nodes before it calibrated.
            model = seed_model(onnx.load(os.path.join(FIXTURES, name + ".onnx")), calibration)
            v = run(model, x, [bn.input[0]])[-1].astype(np.float64)
            calibration[bn.input[3]] = (float(np.float32(v.mean())), float(np.float32(v.var())))
        model = seed_model(base, calibration)
        last = model.graph.node[-1]
        logits = [last.input[0]] if last.op_type == "Softmax" else []
        got = run(model, x, logits)
        out = got[0]
        record = {
            "model": name,
            "seed": SEED,
            "onnxruntime": ort.__version__,
            "batchnorm": calibration,
            "output_shape": list(out.shape),
            "output": [float(v) for v in out.ravel()],
        }
        if logits:
            record["logits"] = [float(v) for v in got[-1].ravel()]
        with open(os.path.join(FIXTURES, name + ".expected.json"), "w") as f:
            json.dump(record, f)
        if a.models_dir:
            os.makedirs(a.models_dir, exist_ok=True)
            onnx.save(model, os.path.join(a.models_dir, name + ".onnx"))
            np.save(os.path.join(a.models_dir, name + ".input.npy"), x)
            np.save(os.path.join(a.models_dir, name + ".expected.npy"), out)
        top = np.argsort(out.ravel())[::-1][:3]
        print(f"{name}: {len(bns)} BatchNorm calibrated, output {list(out.shape)}, top-3 {list(top)}", file=sys.stderr)


if __name__ == "__main__":
    main()
