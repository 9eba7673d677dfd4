#!/usr/bin/env python3
"""Writes torchvision networks as PyTorch's exporter writes them, weights left out, into
tests/fixtures/onnx/ (tv_*.onnx), with a symbolic batch: ResNet-18 (opset 17) and
EfficientNet-B0 (opset 13) with BatchNormalization kept as its own nodes (as the newer
exporter and an unfolded export write it); VGG-16, SqueezeNet 1.1, MobileNetV2,
MobileNetV3-Small and ShuffleNet v2 x0.5 at opsets 13 to 17, folded as a deployed graph is.

Each float initializer becomes a ConstantOfShape node of its shape, as in the `onnx` package's
light models, so the files are a few kB; tools/onnx_fixtures.py then seeds them, calibrates
their BatchNorms and records ONNX Runtime's outputs like the light models'.

Usage: python3 tools/torchvision_graphs.py
Needs: pip install torch torchvision onnx
"""
import os
import tempfile

import onnx
import torch
import torchvision
from onnx import helper, numpy_helper
import numpy as np

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "onnx")


def strip_weights(model):
    """Float initializers → ConstantOfShape nodes (placeholder 0.02) of int64 shape constants.
    The exporter shares equal initializers (an untrained network's BatchNorm statistics)
    through Identity nodes: each such Identity becomes a constant of its own, so that every
    tensor can be seeded and calibrated apart."""
    g = model.graph
    floats = {t.name: list(t.dims) for t in g.initializer if t.data_type == onnx.TensorProto.FLOAT}
    made = [(t.name, dims) for t, dims in ((t, floats.get(t.name)) for t in g.initializer) if dims is not None]
    rest = []
    for n in g.node:
        if n.op_type == "Identity" and n.input[0] in floats:
            made.append((n.output[0], floats[n.input[0]]))
        else:
            rest.append(n)
    keep = [t for t in g.initializer if t.data_type != onnx.TensorProto.FLOAT]
    nodes = []
    for name, dims in made:
        shape = name + "__SHAPE"
        keep.append(numpy_helper.from_array(np.array(dims, dtype=np.int64), shape))
        value = helper.make_tensor("value", onnx.TensorProto.FLOAT, [1], [0.02])
        nodes.append(helper.make_node("ConstantOfShape", [shape], [name], value=value))
    del g.initializer[:]
    g.initializer.extend(keep)
    del g.node[:]
    g.node.extend(nodes + rest)
    return model


def export(name, net, opset, keep_batchnorm):
    net.eval()
    x = torch.zeros(1, 3, 224, 224)
    mode = torch.onnx.TrainingMode.PRESERVE if keep_batchnorm else torch.onnx.TrainingMode.EVAL
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "m.onnx")
        torch.onnx.export(net, (x,), path, opset_version=opset, dynamo=False, training=mode,
                          do_constant_folding=not keep_batchnorm, input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}})
        model = onnx.load(path)
    out = os.path.join(FIXTURES, f"tv_{name}.onnx")
    onnx.save(strip_weights(model), out)
    ops = sorted({n.op_type for n in model.graph.node})
    print(f"{out}: opset {opset}, {os.path.getsize(out)} bytes, ops {ops}")


def main():
    torch.manual_seed(0)
    export("resnet18", torchvision.models.resnet18(), 17, keep_batchnorm=True)
    export("vgg16", torchvision.models.vgg16(), 13, keep_batchnorm=False)
    export("squeezenet1_1", torchvision.models.squeezenet1_1(), 15, keep_batchnorm=False)
    # The mobile networks: ReLU6 as Clip with min/max inputs, hard swish and sigmoid,
    # squeeze-and-excitation gates, SiLU as Sigmoid and Mul.
    export("mobilenet_v2", torchvision.models.mobilenet_v2(), 13, keep_batchnorm=False)
    export("mobilenet_v3_small", torchvision.models.mobilenet_v3_small(), 17, keep_batchnorm=False)
    export("efficientnet_b0", torchvision.models.efficientnet_b0(), 13, keep_batchnorm=True)
    # The channel split as Slices whose bounds come from the input's Shape, and the shuffle as
    # Reshape → Transpose → Reshape with shapes computed the same way.
    export("shufflenet_v2_x0_5", torchvision.models.shufflenet_v2_x0_5(), 15, keep_batchnorm=False)


if __name__ == "__main__":
    main()
