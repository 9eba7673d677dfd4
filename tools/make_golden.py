#!/usr/bin/env python3
"""Writes golden cases for `dojang-validate golden` with an implementation independent of
dojang: NumPy, vectorised over the output (padding by np.pad, windows by slicing).

    python3 tools/make_golden.py tests/golden

Each case is a folder with case.json, x.npy, optional w.npy/b.npy, and y.npy (float32).
"""
import json
import math
import os
import sys

import numpy as np

rng = np.random.default_rng(2012)


def rand(*shape, scale=1.0):
    return (rng.uniform(-1, 1, size=shape) * scale).astype(np.float32)


def conv2d(x, w, b, stride, padding, dilation, groups, relu):
    t, l, bo, r = padding
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (t, bo), (l, r)))
    n, cin, h, wd = xp.shape
    cout, cpg, kh, kw = w.shape
    sh, sw = stride
    dh, dw = dilation
    oh = (h - dh * (kh - 1) - 1) // sh + 1
    ow = (wd - dw * (kw - 1) - 1) // sw + 1
    y = np.zeros((n, cout, oh, ow))
    opg = cout // groups
    for g in range(groups):
        xs = xp[:, g * cpg:(g + 1) * cpg]
        ws = w[g * opg:(g + 1) * opg].astype(np.float64)
        for ky in range(kh):
            for kx in range(kw):
                patch = xs[:, :, ky * dh: ky * dh + sh * (oh - 1) + 1: sh, kx * dw: kx * dw + sw * (ow - 1) + 1: sw]
                y[:, g * opg:(g + 1) * opg] += np.einsum("ncij,oc->noij", patch, ws[:, :, ky, kx])
    if b is not None:
        y += b[None, :, None, None]
    if relu:
        y = np.maximum(y, 0)
    return y.astype(np.float32)


def pool_out(size, pa, pb, k, s, ceil):
    if not ceil:
        return (size + pa + pb - k) // s + 1
    out = math.ceil((size + pa + pb - k) / s) + 1
    if (out - 1) * s >= size + pa:  # last window would start in the padding: dropped
        out -= 1
    return out


def pool2d(x, kind, kernel, stride, padding, ceil_mode, count_include_pad):
    n, c, h, w = x.shape
    t, l, bo, r = padding
    kh, kw = kernel
    sh, sw = stride
    oh = pool_out(h, t, bo, kh, sh, ceil_mode)
    ow = pool_out(w, l, r, kw, sw, ceil_mode)
    y = np.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            y0, x0 = i * sh - t, j * sw - l
            y1, x1 = min(y0 + kh, h + bo), min(x0 + kw, w + r)
            win = x[:, :, max(y0, 0):min(y1, h), max(x0, 0):min(x1, w)].astype(np.float64)
            if kind == "max":
                y[:, :, i, j] = win.max(axis=(2, 3))  # NaN propagates through np.max
            else:
                count = (y1 - y0) * (x1 - x0) if count_include_pad else win.shape[2] * win.shape[3]
                y[:, :, i, j] = win.sum(axis=(2, 3)) / count
    return y.astype(np.float32)


def lrn(x, size, alpha, beta, k):
    sq = x.astype(np.float64) ** 2
    c = x.shape[1]
    s = np.zeros_like(sq)
    half = (size - 1) // 2
    for ch in range(c):
        s[:, ch] = sq[:, max(0, ch - half):min(c, ch + size - half)].sum(axis=1)
    return (x / (k + alpha / size * s) ** beta).astype(np.float32)


def softmax(x):
    e = np.exp(x.astype(np.float64) - x.max(axis=1, keepdims=True))
    return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


def write(root, name, op, attrs, arrays, atol=1e-4, rtol=1e-4):
    d = os.path.join(root, name)
    os.makedirs(d, exist_ok=True)
    for key, value in arrays.items():
        np.save(os.path.join(d, key + ".npy"), np.ascontiguousarray(value, dtype=np.float32))
    with open(os.path.join(d, "case.json"), "w") as f:
        json.dump({"op": op, "attrs": attrs, "atol": atol, "rtol": rtol, "source": "numpy"}, f, indent=1)
        f.write("\n")


def conv_case(root, name, xs, ws, bias=True, stride=(1, 1), padding=(0, 0, 0, 0), dilation=(1, 1), groups=1, relu=False):
    x, w = rand(*xs), rand(*ws)
    b = rand(ws[0]) if bias else None
    y = conv2d(x, w, b, stride, padding, dilation, groups, relu)
    attrs = {"stride": list(stride), "padding": list(padding), "dilation": list(dilation), "groups": groups,
             "activation": "relu" if relu else None}
    arrays = {"x": x, "w": w, "y": y}
    if bias:
        arrays["b"] = b
    write(root, name, "conv2d", attrs, arrays)


def pool_case(root, name, x, kind, kernel, stride, padding=(0, 0, 0, 0), ceil_mode=False, count_include_pad=False):
    y = pool2d(x, kind, kernel, stride, padding, ceil_mode, count_include_pad)
    attrs = {"kind": kind, "kernel": list(kernel), "stride": list(stride), "padding": list(padding),
             "ceil_mode": ceil_mode, "count_include_pad": count_include_pad}
    write(root, name, "pool2d", attrs, {"x": x, "y": y})


def main(root):
    conv_case(root, "conv2d/3x3_pad1", (2, 3, 9, 8), (5, 3, 3, 3), padding=(1, 1, 1, 1))
    conv_case(root, "conv2d/asym_pad_stride_groups_relu", (1, 4, 11, 7), (6, 2, 3, 2), stride=(2, 1),
              padding=(1, 0, 2, 1), groups=2, relu=True)
    conv_case(root, "conv2d/dilation2_no_bias", (1, 3, 12, 10), (4, 3, 3, 3), bias=False, dilation=(2, 2),
              padding=(2, 2, 2, 2))
    conv_case(root, "conv2d/depthwise", (2, 5, 7, 19), (5, 1, 3, 3), padding=(1, 1, 1, 1), groups=5)
    conv_case(root, "conv2d/pointwise_groups2", (1, 6, 5, 9), (4, 3, 1, 1), groups=2)
    conv_case(root, "conv2d/alexnet_conv1_small", (1, 3, 35, 35), (8, 3, 11, 11), stride=(4, 4), relu=True)

    x = rand(2, 3, 10, 7)
    pool_case(root, "pool2d/max_ceil_pad", x, "max", (3, 3), (2, 2), (1, 1, 0, 1), ceil_mode=True)
    pool_case(root, "pool2d/avg_include_pad", x, "avg", (3, 3), (2, 2), (1, 1, 1, 1), count_include_pad=True)
    pool_case(root, "pool2d/avg_exclude_pad_ceil", x, "avg", (3, 2), (2, 2), (1, 1, 1, 0), ceil_mode=True)
    pool_case(root, "pool2d/alexnet_max_13_to_6", rand(1, 4, 13, 13), "max", (3, 3), (2, 2))
    xn = rand(1, 2, 4, 4)
    xn[0, 1, 2, 3] = np.nan
    pool_case(root, "pool2d/max_nan", xn, "max", (2, 2), (2, 2))

    x = rand(2, 3, 5, 7)
    write(root, "global_avg_pool/basic", "global_avg_pool", {}, {"x": x, "y": x.mean(axis=(2, 3), keepdims=True)})

    x, w, b = rand(3, 37), rand(11, 37), rand(11)
    write(root, "dense/bias_relu", "dense", {"activation": "relu"},
          {"x": x, "w": w, "b": b, "y": np.maximum(x.astype(np.float64) @ w.T.astype(np.float64) + b, 0)})
    x, w = rand(1, 300), rand(7, 300)
    write(root, "dense/batch1_no_bias", "dense", {"activation": None}, {"x": x, "w": w, "y": x @ w.T})

    x = rand(2, 3, 4, 5)
    write(root, "relu/basic", "relu", {}, {"x": x, "y": np.maximum(x, 0)})
    x = rand(2, 10, 3, 4, scale=10.0)
    write(root, "lrn/alexnet", "lrn", {"size": 5, "alpha": 1e-4, "beta": 0.75, "k": 2.0},
          {"x": x, "y": lrn(x, 5, 1e-4, 0.75, 2.0)})
    x = rand(3, 1000, scale=30.0) + 1000.0
    write(root, "softmax/large_logits", "softmax", {"axis": 1}, {"x": x, "y": softmax(x)}, atol=1e-6)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/golden")
