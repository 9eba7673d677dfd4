#!/usr/bin/env python3
"""ResNet-50, MobileNetV2 and SqueezeNet 1.1 (torchvision's, random weights, BatchNorm folded
as a deployed graph has it) in ONNX Runtime on the CPU: the peer of `dojang-validate bench`'s
model lines `resnet50-b1`, `resnet50-b8`, `mobilenetv2-b1` and `squeezenet-b1`. Batch 1 and 8,
median of 11 runs after 3 warm-ups, on every core ORT sees.

    pip install torch torchvision onnx onnxruntime numpy
    python3 tools/ort_networks.py
"""
import os
import statistics
import tempfile
import time

import numpy as np
import onnxruntime as ort
import torch
import torchvision

NETWORKS = {
    "resnet50": torchvision.models.resnet50,
    "mobilenetv2": torchvision.models.mobilenet_v2,
    "squeezenet1_1": torchvision.models.squeezenet1_1,
}


def median_ms(session, x, runs=11, warmups=3):
    feed = {session.get_inputs()[0].name: x}
    for _ in range(warmups):
        session.run(None, feed)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        session.run(None, feed)
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def main():
    torch.manual_seed(0)
    print(f"onnxruntime {ort.__version__}, {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as d:
        for name, make in NETWORKS.items():
            path = os.path.join(d, name + ".onnx")
            torch.onnx.export(make().eval(), (torch.zeros(1, 3, 224, 224),), path, opset_version=17, dynamo=False,
                              input_names=["input"], dynamic_axes={"input": {0: "N"}})
            session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
            for batch in (1, 8):
                x = np.random.default_rng(2012).uniform(-1, 1, (batch, 3, 224, 224)).astype(np.float32)
                ms = median_ms(session, x)
                print(f"{name}-b{batch}: {ms:.1f} ms ({ms / batch:.1f} ms per image)")


if __name__ == "__main__":
    main()
