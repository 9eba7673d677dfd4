//! Choosing among candidate kernels by timing them on the device: once per shape class, on
//! first use, the winner remembered by the device's tuner (`src/tune.rs`).

use crate::error::Result;
use crate::gpu::Gpu;
use crate::launch::Launch;

/// Timed rounds over the candidates, after one run each that builds their pipelines.
const ROUNDS: usize = 4;

/// The size class of `n`: the power of two at or above it, so that nearby shapes share a
/// choice.
pub(crate) fn class(n: usize) -> usize {
    n.next_power_of_two()
}

/// The candidate to run for shape class `key`: the remembered winner, or the first (the fixed
/// default) with autotuning off, or else the fastest of `candidates` as `record` launches them
/// on the real tensors. Each is run once to build its pipelines, then all are timed in turn,
/// round after round ([`Launch::time`]: GPU timestamps where the adapter has them), and each keeps its best round:
/// interleaving gives them the same share of a machine whose speed drifts. A candidate that
/// cannot be recorded for this shape is passed over.
pub(crate) fn choose<K: Copy>(
    gpu: &Gpu,
    key: &str,
    candidates: &[(String, K)],
    record: impl Fn(K) -> Result<Launch>,
) -> Result<K> {
    let tuner = gpu.tuner();
    if let Some(name) = tuner.get(key)
        && let Some((_, k)) = candidates.iter().find(|(n, _)| *n == name)
    {
        return Ok(*k);
    }
    if !tuner.enabled() || candidates.len() == 1 {
        return Ok(candidates[0].1);
    }
    let mut runnable = Vec::new();
    let mut first_error = None;
    for (name, k) in candidates {
        match record(*k) {
            Ok(launch) => {
                launch.run()?;
                runnable.push((name, *k, launch, f64::INFINITY));
            }
            Err(e) => {
                log::debug!("autotune {key}: {name} cannot run: {e}");
                first_error.get_or_insert(e);
            }
        }
    }
    gpu.wait_idle()?;
    for _ in 0..ROUNDS {
        for (_, _, launch, best) in &mut runnable {
            *best = best.min(launch.time()?);
        }
    }
    let winner = runnable.iter().min_by(|a, b| a.3.total_cmp(&b.3));
    match (winner, first_error) {
        (Some((name, k, _, seconds)), _) => {
            log::debug!("autotune {key}: {name} in {:.3} ms of {} candidates", seconds * 1e3, runnable.len());
            runnable.iter().for_each(|_| tuner.count_trial());
            tuner.set(key, name);
            Ok(*k)
        }
        (None, Some(e)) => Err(e),
        (None, None) => Ok(candidates[0].1),
    }
}
