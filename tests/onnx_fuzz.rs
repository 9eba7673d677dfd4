//! The ONNX reader against damaged files: truncations and byte flips of a real model (the
//! `onnx` package's SqueezeNet graph) load or fail with an error; nothing panics.

use dojang::onnx::{Options, load_bytes};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};

fn model() -> Vec<u8> {
    std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/onnx/light_squeezenet.onnx")).expect("the model")
}

fn config(cases: u32) -> Config {
    Config { cases, rng_seed: RngSeed::Fixed(0x0dd5), failure_persistence: None, ..Config::default() }
}

proptest! {
    #![proptest_config(config(600))]
    #[test]
    fn truncated_models_fail_cleanly(cut in 0.0f64..1.0) {
        let bytes = model();
        let end = (cut * bytes.len() as f64) as usize;
        prop_assert!(load_bytes(&bytes[..end], &Options::default()).is_err(), "a model cut at {end} loaded");
    }
}

proptest! {
    #![proptest_config(config(1000))]
    #[test]
    fn flipped_bytes_never_panic(flips in proptest::collection::vec((0.0f64..1.0, 1u8..=255), 1..6)) {
        let mut bytes = model();
        let len = bytes.len();
        for (at, mask) in flips {
            bytes[((at * len as f64) as usize).min(len - 1)] ^= mask;
        }
        // Ok or a typed error: either way, no panic and no abort.
        let _ = load_bytes(&bytes, &Options::default());
    }
}
