#!/usr/bin/env python3
"""Writes tests/fixtures/onnx/padding_modes.onnx: two PyTorch convolutions with
padding_mode="replicate" and "reflect" (3→4→2 channels, 3x3, on 8x8), as torch.onnx exports
them (a Pad of mode edge or reflect whose pads a chain of constant ops computes, then the
convolution), with its seeded input and ONNX Runtime's output beside it (.input.npy,
.expected.npy, a few hundred floats each).

Usage: python3 tools/padding_mode_fixture.py
Needs: pip install torch onnx onnxruntime numpy
"""
import os

import numpy as np
import onnxruntime as ort
import torch

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "onnx", "padding_modes")

torch.manual_seed(0)
model = torch.nn.Sequential(
    torch.nn.Conv2d(3, 4, 3, padding=1, padding_mode="replicate"),
    torch.nn.ReLU(),
    torch.nn.Conv2d(4, 2, 3, padding=2, padding_mode="reflect"),
)
x = torch.randn(1, 3, 8, 8)
torch.onnx.export(model, x, OUT + ".onnx", opset_version=17, dynamo=False)
session = ort.InferenceSession(OUT + ".onnx")
np.save(OUT + ".input.npy", x.numpy())
np.save(OUT + ".expected.npy", session.run(None, {session.get_inputs()[0].name: x.numpy()})[0])
