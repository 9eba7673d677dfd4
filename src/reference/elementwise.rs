//! ReLU, the activations, the element-wise sum and product, the per-channel affine map,
//! concatenation and channel shuffle.

use crate::attrs::Activation;
use crate::error::{Error, Result, Shape};

/// max(x, 0) per element (NaN stays NaN).
pub fn relu(x: &[f32]) -> Vec<f32> {
    x.iter().map(|&v| if v < 0.0 { 0.0 } else { v }).collect()
}

/// a + b, then ReLU when `relu`: `b` of `a`'s length (element by element) or holding one
/// value per `plane` consecutive elements of `a` (per channel, as [`mul`]'s gate).
pub fn add(a: &[f32], b: &[f32], relu: bool) -> Result<Vec<f32>> {
    if b.is_empty() || !a.len().is_multiple_of(b.len()) {
        return Err(Error::Mismatch { op: "add", a: Shape(vec![a.len()]), b: Shape(vec![b.len()]) });
    }
    let plane = a.len() / b.len();
    Ok(a.iter()
        .enumerate()
        .map(|(i, &x)| {
            let s = x + b[i / plane];
            if relu && s < 0.0 { 0.0 } else { s }
        })
        .collect())
}

/// y = act(x·weight\[c\] + bias\[c\]) over `[N, C, …]` `x` with `weight` and `bias` of C
/// values each.
pub fn affine(x: &[f32], shape: &[usize], weight: &[f32], bias: &[f32], act: Option<Activation>) -> Result<Vec<f32>> {
    let c = shape.get(1).copied().unwrap_or(0);
    if shape.len() < 2 || weight.len() != c || bias.len() != c || x.len() != shape.iter().product::<usize>() {
        return Err(Error::Mismatch { op: "affine", a: Shape(shape.to_vec()), b: Shape(vec![weight.len()]) });
    }
    let plane: usize = shape[2..].iter().product();
    Ok(x.iter()
        .enumerate()
        .map(|(i, &v)| {
            let ch = i / plane.max(1) % c;
            activate(act, v as f64 * weight[ch] as f64 + bias[ch] as f64) as f32
        })
        .collect())
}

/// Channels `start..end` of `x` `[N, C, …]`.
pub fn channel_slice(x: &[f32], shape: &[usize], start: usize, end: usize) -> Result<Vec<f32>> {
    let c = shape.get(1).copied().unwrap_or(0);
    if shape.len() < 2 || start >= end || end > c {
        return Err(Error::ChannelRange { op: "channel_slice", start, end, channels: c });
    }
    let plane: usize = shape[2..].iter().product();
    Ok(x.chunks(c * plane).flat_map(|image| &image[start * plane..end * plane]).copied().collect())
}

/// PReLU per channel of `x` `[N, C, …]`: x where x ≥ 0, else x·slope\[c\]; NaN stays NaN.
pub fn prelu(x: &[f32], shape: &[usize], slope: &[f32]) -> Result<Vec<f32>> {
    let c = shape.get(1).copied().unwrap_or(0);
    if shape.len() < 2 || slope.len() != c || x.len() != shape.iter().product::<usize>() {
        return Err(Error::Mismatch { op: "prelu", a: Shape(shape.to_vec()), b: Shape(vec![slope.len()]) });
    }
    let plane: usize = shape[2..].iter().product();
    Ok(x.iter()
        .enumerate()
        .map(|(i, &v)| if v >= 0.0 || v.is_nan() { v } else { v * slope[i / plane.max(1) % c] })
        .collect())
}

/// `parts` (each `[N, Cₖ, …]` flattened, with the same trailing sizes) side by side along
/// dimension 1: image by image, the parts in order.
pub fn concat(parts: &[&[f32]], batch: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(parts.iter().map(|p| p.len()).sum());
    for n in 0..batch {
        for p in parts {
            let per = p.len() / batch.max(1);
            out.extend_from_slice(&p[n * per..(n + 1) * per]);
        }
    }
    out
}

/// `act` per element, in f64.
pub fn activation(x: &[f32], act: Activation) -> Vec<f32> {
    x.iter().map(|&v| activate(Some(act), v as f64) as f32).collect()
}

/// `act` of one value (none: the value), in f64; NaN stays NaN.
pub fn activate(act: Option<Activation>, v: f64) -> f64 {
    let sigmoid = |v: f64| 1.0 / (1.0 + (-v).exp());
    // Comparisons, not f64::max/min, which would drop a NaN.
    let clamp = |v: f64, lo: f64, hi: f64| {
        if v < lo {
            lo
        } else if v > hi {
            hi
        } else {
            v
        }
    };
    match act {
        None => v,
        Some(Activation::Relu) => clamp(v, 0.0, f64::INFINITY),
        Some(Activation::Clip { min, max }) => clamp(v, min as f64, max as f64),
        Some(Activation::Sigmoid) => sigmoid(v),
        Some(Activation::HardSigmoid { alpha, beta }) => clamp(alpha as f64 * v + beta as f64, 0.0, 1.0),
        Some(Activation::HardSwish) => v * clamp(v / 6.0 + 0.5, 0.0, 1.0),
        Some(Activation::Silu) => v * sigmoid(v),
        Some(Activation::LeakyRelu { alpha }) => {
            if v < 0.0 {
                alpha as f64 * v
            } else {
                v
            }
        }
    }
}

/// x · g, where `g` is of `x`'s length (element by element) or holds one value per `plane`
/// consecutive elements of `x` (a gate per channel: `x` `[N, C, H, W]`, `g` `[N, C, 1, 1]`).
pub fn mul(x: &[f32], g: &[f32]) -> Result<Vec<f32>> {
    if g.is_empty() || !x.len().is_multiple_of(g.len()) {
        return Err(Error::Mismatch { op: "mul", a: Shape(vec![x.len()]), b: Shape(vec![g.len()]) });
    }
    let plane = x.len() / g.len();
    Ok(x.iter().enumerate().map(|(i, &v)| (v as f64 * g[i / plane] as f64) as f32).collect())
}

/// The channels of `[N, C, …]` `x` in `groups` groups, transposed: output channel j·groups + i
/// is input channel i·(C / groups) + j (ShuffleNet's channel shuffle).
pub fn channel_shuffle(x: &[f32], shape: &[usize], groups: usize) -> Result<Vec<f32>> {
    let (n, c) = (shape.first().copied().unwrap_or(0), shape.get(1).copied().unwrap_or(0));
    if groups == 0 || !c.is_multiple_of(groups) || x.len() != shape.iter().product::<usize>() {
        return Err(Error::Groups { op: "channel_shuffle", what: "channels", channels: c, groups });
    }
    let plane: usize = shape[2..].iter().product();
    let per = c / groups;
    let mut y = vec![0.0; x.len()];
    for img in 0..n {
        for i in 0..groups {
            for j in 0..per {
                let (src, dst) = ((img * c + i * per + j) * plane, (img * c + j * groups + i) * plane);
                y[dst..dst + plane].copy_from_slice(&x[src..src + plane]);
            }
        }
    }
    Ok(y)
}
