//! Helpers shared by the GPU tests: the device, seeded inputs, and the comparison that reports
//! the first mismatch with its coordinates.
#![allow(dead_code)]

pub mod onnx_graph;

use std::sync::OnceLock;

use dojang::Gpu;
use dojang::tolerance::Tolerance;
use proptest::prelude::*;
use rand::{Rng, SeedableRng, rngs::StdRng};

/// The test device. A missing adapter fails the test with the error's advice; nothing skips.
pub fn gpu() -> Gpu {
    static GPU: OnceLock<Gpu> = OnceLock::new();
    GPU.get_or_init(|| match Gpu::new() {
        Ok(g) => g,
        Err(e) => panic!("GPU tests need an adapter: {e}"),
    })
    .clone()
}

/// `len` values uniform in [-1, 1) from `seed`.
pub fn random(len: usize, seed: u64) -> Vec<f32> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..len).map(|_| rng.random_range(-1.0..1.0)).collect()
}

/// Fails with the first mismatch (as coordinates of `shape`) when `got` is not within `tol`.
pub fn assert_close(what: &str, got: &[f32], expected: &[f32], shape: &[usize], tol: Tolerance) {
    let c = tol.compare(got, expected);
    assert!(c.passed(), "{what}: {} (atol {:e}, rtol {:e})", c.describe(shape), tol.atol, tol.rtol);
}

/// A size that is small, at a 32-bit boundary, or near the top of usize: for the tests that
/// feed absurd attributes.
pub fn absurd_size() -> impl Strategy<Value = usize> {
    prop_oneof![
        4 => 0usize..6,
        1 => Just(1usize << 31),
        1 => Just((1usize << 32) + 1),
        1 => Just(1usize << 62),
        1 => (usize::MAX - 4)..=usize::MAX,
    ]
}
