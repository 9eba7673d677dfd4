#!/usr/bin/env python3
"""Fixtures for dojang-classify and its tests: a small trained classifier, real photos, and
what ONNX Runtime says of them.

The model is PaddleOCR's text-direction classifier (ch_ppocr_mobile_v2.0_cls, Apache-2.0: a
MobileNetV3-small with hard-swish and squeeze-excitation, 0.13 M parameters, trained to tell
upright text lines, "0", from upside-down ones, "180"), as the registry package
rapidocr_onnxruntime ships it. The photos are scikit-image's sample data: `text` (handwriting
on paper, public domain), the same photo turned upside down, `chelsea` (a cat, CC0) and
`coffee` (CC0), the last two scaled to 300 pixels wide to keep the repository small.

Each photo is prepared as dojang-classify prepares it (scaled to cover the model's 48x192
input with a triangle filter on float pixels, centre-cropped, (x - 0.5) / 0.5), and ONNX
Runtime runs the batch. Written to tests/fixtures/classify/:
  text_orientation.onnx     the model, copied from the package
  text_orientation.labels   its classes, one per line
  *.png                     the photos
  inputs.npy                the prepared batch [4, 3, 48, 192], as ONNX Runtime saw it
  expected.json             per photo: ONNX Runtime's probabilities

Usage: python3 tools/classify_fixtures.py [--wheel-dir DIR]
Needs: pip install onnxruntime numpy pillow, and `pip download` of rapidocr_onnxruntime and
scikit-image (done into --wheel-dir when the wheels are not there).
"""
import argparse
import glob
import json
import os
import subprocess
import zipfile

import numpy as np
import onnxruntime as ort
from PIL import Image

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "classify")
MODEL = "rapidocr_onnxruntime/models/ch_ppocr_mobile_v2.0_cls_infer.onnx"
SHAPE = (48, 192)
MEAN, STD = 0.5, 0.5


def wheel(folder, package):
    found = glob.glob(os.path.join(folder, package.replace("-", "_") + "-*.whl"))
    if not found:
        subprocess.run(["pip", "download", "--no-deps", "-q", "-d", folder, package], check=True)
        found = glob.glob(os.path.join(folder, package.replace("-", "_") + "-*.whl"))
    return zipfile.ZipFile(sorted(found)[-1])


def prepare(image, shape):
    """Scale to cover `shape` (H, W), centre-crop, normalise: dojang-classify's steps, in
    float pixels (PIL's "F" mode, so no rounding between the two resampling passes)."""
    h, w = shape
    scale = max(h / image.height, w / image.width)
    size = (max(w, round(image.width * scale)), max(h, round(image.height * scale)))
    left, top = (size[0] - w) // 2, (size[1] - h) // 2
    planes = []
    for band in image.convert("RGB").split():
        plane = Image.fromarray(np.asarray(band, np.float32) / 255, mode="F")
        plane = plane.resize(size, Image.BILINEAR).crop((left, top, left + w, top + h))
        planes.append((np.asarray(plane, np.float32) - MEAN) / STD)
    return np.stack(planes)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--wheel-dir", default="target/wheels")
    args = parser.parse_args()
    os.makedirs(args.wheel_dir, exist_ok=True)
    os.makedirs(OUT, exist_ok=True)

    ocr = wheel(args.wheel_dir, "rapidocr_onnxruntime")
    model = os.path.join(OUT, "text_orientation.onnx")
    with open(model, "wb") as f:
        f.write(ocr.read(MODEL))
    with open(os.path.join(OUT, "text_orientation.labels"), "w") as f:
        f.write("0\n180\n")

    skimage = wheel(args.wheel_dir, "scikit-image")
    sample = lambda name: Image.open(skimage.open(f"skimage/data/{name}")).copy()
    text = sample("text.png")
    photos = {
        "text.png": text,
        "text_upside_down.png": text.rotate(180),
        "chelsea.png": sample("chelsea.png"),
        "coffee.png": sample("coffee.png"),
    }
    for name in ("chelsea.png", "coffee.png"):
        p = photos[name]
        photos[name] = p.resize((300, round(p.height * 300 / p.width)), Image.LANCZOS)
    for name, image in photos.items():
        image.save(os.path.join(OUT, name), optimize=True)

    # Read back what was written, so the batch is of the committed files.
    names = list(photos)
    batch = np.stack([prepare(Image.open(os.path.join(OUT, n)), SHAPE) for n in names]).astype(np.float32)
    np.save(os.path.join(OUT, "inputs.npy"), batch)
    session = ort.InferenceSession(model)
    probabilities = session.run(None, {session.get_inputs()[0].name: batch})[0]
    expected = {
        "model": "text_orientation.onnx",
        "input_shape": [3, *SHAPE],
        "mean": [MEAN] * 3,
        "std": [STD] * 3,
        "onnxruntime": ort.__version__,
        "images": [{"image": n, "probabilities": [float(v) for v in p]} for n, p in zip(names, probabilities)],
    }
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")
    for n, p in zip(names, probabilities):
        print(f"{n:24} " + "  ".join(f"{v:.4f}" for v in p))


if __name__ == "__main__":
    main()
