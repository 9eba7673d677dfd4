//! How close a GPU result must be to the CPU reference.
//!
//! An element passes when |got − expected| ≤ atol + rtol·|expected|, and NaN appears exactly
//! where the reference has NaN. The GPU sums in f32, the reference in f64; for a sum of K
//! products of inputs of order 1 with random signs, f32 rounding error grows like √K·ε·|term|
//! (ε = 2⁻²⁴). [`Tolerance::for_reduction`] allows 1e-5·√K absolute (about 170 ε·√K, room
//! for any summation order and for fused multiply-adds) plus 1e-4 relative. A wrong index or
//! a dropped tap gives errors of the order of the terms themselves, far above either bound.

/// Absolute and relative tolerance.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tolerance {
    /// Absolute part of the bound.
    pub atol: f32,
    /// Part relative to the expected value.
    pub rtol: f32,
}

impl Default for Tolerance {
    fn default() -> Self {
        Tolerance { atol: 1e-4, rtol: 1e-4 }
    }
}

/// The outcome of comparing a result with its reference.
#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    /// Largest |got − expected|.
    pub max_abs: f32,
    /// Largest |got − expected| / |expected|.
    pub max_rel: f32,
    /// First element outside the tolerance: (flat index, got, expected).
    pub first_bad: Option<(usize, f32, f32)>,
    /// Elements outside the tolerance (a length mismatch counts as all of them).
    pub bad: usize,
}

impl Comparison {
    /// True when every element is within the bound.
    pub fn passed(&self) -> bool {
        self.bad == 0
    }

    /// "at [n, c, y, x]: got G, expected E" for the first mismatch, with `shape` for coordinates.
    pub fn describe(&self, shape: &[usize]) -> String {
        match self.first_bad {
            None => format!("max abs err {:.3e}", self.max_abs),
            Some((i, got, exp)) => {
                let mut coords = vec![0; shape.len()];
                let mut rest = i;
                for (d, &s) in shape.iter().enumerate().rev() {
                    coords[d] = rest % s.max(1);
                    rest /= s.max(1);
                }
                format!(
                    "{} of {} elements off; first at {coords:?}: got {got}, expected {exp}",
                    self.bad,
                    shape.iter().product::<usize>()
                )
            }
        }
    }
}

impl Tolerance {
    /// For outputs that each sum `terms` products (convolutions, dense layers).
    pub fn for_reduction(terms: usize) -> Tolerance {
        Tolerance { atol: 1e-5 * (terms.max(1) as f32).sqrt(), rtol: 1e-4 }
    }

    /// For a layer deep in a network, whose errors compound through the layers before it: a
    /// bound relative to the layer's own scale, |gpu − cpu| ≤ 1e-4·max|cpu| + 1e-3·|cpu|.
    pub fn for_layer(expected: &[f32]) -> Tolerance {
        let scale = expected.iter().fold(0f32, |m, v| m.max(v.abs()));
        Tolerance { atol: 1e-4 * scale.max(1e-3), rtol: 1e-3 }
    }

    /// Compares `got` with `expected` element by element.
    pub fn compare(&self, got: &[f32], expected: &[f32]) -> Comparison {
        let mut c = Comparison { max_abs: 0.0, max_rel: 0.0, first_bad: None, bad: 0 };
        if got.len() != expected.len() {
            c.bad = got.len().max(expected.len());
            c.max_abs = f32::INFINITY;
            return c;
        }
        for (i, (&g, &e)) in got.iter().zip(expected).enumerate() {
            let ok = if e.is_nan() || g.is_nan() {
                e.is_nan() && g.is_nan()
            } else if e.is_infinite() || g.is_infinite() {
                e == g
            } else {
                let err = (g - e).abs();
                c.max_abs = c.max_abs.max(err);
                c.max_rel = c.max_rel.max(err / e.abs().max(f32::MIN_POSITIVE));
                err <= self.atol + self.rtol * e.abs()
            };
            if !ok {
                c.bad += 1;
                c.first_bad.get_or_insert((i, g, e));
            }
        }
        c
    }
}
