//! Choosing among candidate kernels by timing them on the device: once per shape class, on
//! first use, the winner remembered by the device's tuner (`src/autotune_cache.rs`).

use std::fmt::Display;

use crate::error::{Error, Result, Shape};
use crate::gpu::Gpu;
use crate::launch::Launch;
use crate::ops::scratch;

/// Timed rounds over the candidates, after a warm-up run of each: a pipeline's first dispatch
/// on llvmpipe runs several times slower than the next, the more so for the larger tiles
/// (conv1: implicit-16x16 57.6 ms, then 6.4; gemm-16x8 29.0, then 8.5), so a timed first run
/// pruned the fastest kernels (conv1's best tile, in two fresh tunings of three).
const ROUNDS: usize = 5;

/// After [`FULL_ROUNDS`] timed rounds, candidates slower than this many times the best drop
/// out.
const PRUNE: f64 = 1.5;

/// Rounds every candidate runs before any drops out: one sample each is too few on a shared
/// machine (pruning after one, fresh tunings kept conv1 on implicit-8x16 or gemm-8x16, 18–30%
/// slower than implicit-16x16, twice in a day's runs), and so were two (a fresh tuning kept
/// gemm-8x16 for the 64→256 1x1 at twice gemm-16x16's time).
const FULL_ROUNDS: usize = 3;

/// Seconds of tuning after which no further round starts: a layer of a second per run (a
/// tensor past the device's limits, cut in parts) gets its warm-up and first round and stops
/// there.
const BUDGET_SECONDS: f64 = 1.0;

/// The size class of `n`: the power of two at or above it, so that nearby shapes share a
/// choice.
pub(crate) fn class(n: usize) -> usize {
    n.checked_next_power_of_two().unwrap_or(usize::MAX)
}

/// The launch of the candidate to run for shape class `key` (the sizes that matter to the
/// choice, rounded by the op family's rule, as the cache file writes it): the remembered
/// winner, or the first (the fixed default) with autotuning off, or else the fastest of
/// `candidates` as `record` launches them on the real tensors: each runs once to warm up, then
/// all are timed in turn, round after round ([`Launch::time`]: GPU timestamps where the adapter
/// has them), and each keeps its best round: interleaving gives them the same share of a
/// machine whose speed drifts. After [`FULL_ROUNDS`] rounds the clearly slower ones drop out,
/// and no round starts once the tuning has taken [`BUDGET_SECONDS`]. A candidate that cannot be
/// recorded for this shape is passed over, as is a remembered one or the default. Threads
/// tuning one key on one device take turns: the first times it, the others find its winner.
/// While a plan's layers share their scratch (scratch.rs), each candidate takes it as if
/// recorded alone, and what the losers made is dropped.
pub(crate) fn choose<K: Copy>(
    gpu: &Gpu,
    key: &impl Display,
    candidates: &[(String, K)],
    record: impl Fn(K) -> Result<Launch>,
) -> Result<Launch> {
    let (since, before) = (scratch::made(), scratch::held());
    // Each candidate takes what the layers before left and what it makes itself.
    let recorded = |k| {
        scratch::hold(&before, since);
        let start = scratch::made();
        let held = |launch| (launch, scratch::held().into_iter().filter(|&e| e < since || e >= start).collect());
        record(k).map(held)
    };
    let chosen = choose_recorded(gpu, key, candidates, recorded);
    let kept = chosen.as_ref().map_or(&before, |(_, held)| held);
    scratch::forget(since, kept);
    scratch::hold(kept, since);
    chosen.map(|(launch, _)| launch)
}

/// [`choose`], with the shared scratch each candidate's launch holds.
fn choose_recorded<K: Copy>(
    gpu: &Gpu,
    key: &impl Display,
    candidates: &[(String, K)],
    record: impl Fn(K) -> Result<(Launch, Vec<u64>)>,
) -> Result<(Launch, Vec<u64>)> {
    let key = &key.to_string();
    let tuner = gpu.tuner();
    // A remembered winner is a shape class's: one member may be past a limit that another
    // was not (more groups than a texture has rows), and then it is tuned as new.
    let remembered = || {
        let name = tuner.get(key)?;
        candidates.iter().find(|(n, _)| *n == name).and_then(|(_, k)| record(*k).ok())
    };
    if let Some(launch) = remembered() {
        return Ok(launch);
    }
    if !tuner.enabled() || candidates.len() == 1 {
        // The fixed default, or the first after it that can run this shape.
        let mut first_error = None;
        for (_, k) in candidates {
            match record(*k) {
                Ok(launch) => return Ok(launch),
                Err(e) => drop(first_error.get_or_insert(e)),
            }
        }
        return Err(first_error.unwrap_or(Error::Empty { op: "autotune", what: "candidates", shape: Shape(vec![0]) }));
    }
    // Held while timing; record never tunes (its kernels are explicit), so it never waits here.
    let turn = tuner.turn(key);
    let _turn = turn.lock();
    if let Some(launch) = remembered() {
        return Ok(launch);
    }
    let mut runnable = Vec::new();
    let mut first_error = None;
    for (name, k) in candidates {
        match record(*k).and_then(|launch| launch.0.time().map(|_| launch)) {
            Ok(launch) => runnable.push((name, *k, launch, f64::INFINITY)),
            Err(e) => {
                log::debug!("autotune {key}: {name} cannot run: {e}");
                first_error.get_or_insert(e);
            }
        }
    }
    let start = std::time::Instant::now();
    for round in 0..ROUNDS {
        if round > 0 && start.elapsed().as_secs_f64() > BUDGET_SECONDS {
            break;
        }
        let leader = match round {
            0..FULL_ROUNDS => f64::INFINITY,
            _ => runnable.iter().map(|r| r.3).fold(f64::INFINITY, f64::min),
        };
        for (_, _, launch, best) in runnable.iter_mut().filter(|r| r.3 <= PRUNE * leader) {
            *best = best.min(launch.0.time()?);
        }
    }
    let count = runnable.len();
    let winner = runnable.into_iter().min_by(|a, b| a.3.total_cmp(&b.3));
    match (winner, first_error) {
        (Some((name, _, launch, seconds)), _) => {
            log::debug!("autotune {key}: {name} in {:.3} ms of {count} candidates", seconds * 1e3);
            (0..count).for_each(|_| tuner.count_trial());
            tuner.set(key, name);
            // The winner as it was timed: recorded once.
            Ok(launch)
        }
        (None, Some(e)) => Err(e),
        (None, None) => Err(Error::Empty { op: "autotune", what: "candidates", shape: Shape(vec![0]) }),
    }
}
