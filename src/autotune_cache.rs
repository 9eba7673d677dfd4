//! Autotuning state: per device, which candidate kernel won for each shape class, kept in
//! memory and in a cache file so that the next run starts tuned.
//!
//! The ops name the shape classes and the candidates and time them
//! (`ops/autotune_timing.rs`); this module only remembers. The file holds one table per
//! adapter, driver and build of the crate (its version and a hash of its sources, `build.rs`):
//! any of them changing means tuning again, as a kernel's speed is its WGSL's and the host
//! code's that launches it. A build's table replaces the tables of other builds for the same
//! adapter and driver.
//! `DOJANG_AUTOTUNE=off` picks each op's fixed default; `DOJANG_AUTOTUNE_CACHE=FILE` moves the
//! file (default `$XDG_CACHE_HOME/dojang/autotune.json`, else `~/.cache/dojang/autotune.json`).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::Mutex;

/// How a device picks among candidate kernels.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Autotune {
    /// Each op's fixed default, nothing timed.
    Off,
    /// Time the candidates on first use; remember the winner, in `cache` when given.
    On {
        /// The cache file, where winners are kept between runs.
        cache: Option<PathBuf>,
    },
}

impl Autotune {
    /// From `DOJANG_AUTOTUNE` (`off` turns it off) and `DOJANG_AUTOTUNE_CACHE`.
    pub fn from_env() -> Autotune {
        if std::env::var("DOJANG_AUTOTUNE").is_ok_and(|v| v.eq_ignore_ascii_case("off") || v == "0") {
            return Autotune::Off;
        }
        let cache = std::env::var_os("DOJANG_AUTOTUNE_CACHE").map(PathBuf::from).or_else(|| {
            let base = std::env::var_os("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache")))?;
            Some(base.join("dojang").join("autotune.json"))
        });
        Autotune::On { cache }
    }
}

/// One device's choices.
pub(crate) struct Tuner {
    mode: Mutex<Autotune>,
    /// The adapter and driver the choices hold for: `adapter | driver info | `.
    device: String,
    /// The table they go in: the device, then this build of the crate.
    table: String,
    choices: Mutex<HashMap<String, String>>,
    /// Per key being tuned, the lock its tuner holds while timing.
    turns: Mutex<HashMap<String, Arc<Mutex<()>>>>,
    trials: AtomicU64,
}

impl Tuner {
    /// What a table's name says of `adapter`: its name and driver.
    pub(crate) fn device_of(adapter: &wgpu::AdapterInfo) -> String {
        format!("{} | {} {} | ", adapter.name, adapter.driver, adapter.driver_info)
    }

    /// A tuner in `mode` keeping its choices in the cache file's table for `device` and this
    /// build.
    pub(crate) fn new(mode: Autotune, device: String) -> Tuner {
        let table = format!("{device}dojang {} (sources {})", env!("CARGO_PKG_VERSION"), env!("DOJANG_SOURCES"));
        let tuner = Tuner {
            mode: Mutex::new(Autotune::Off),
            device,
            table,
            choices: Mutex::new(HashMap::new()),
            turns: Mutex::new(HashMap::new()),
            trials: AtomicU64::new(0),
        };
        tuner.set_mode(mode);
        tuner
    }

    /// Switches mode, loading the choices the cache file holds for this device.
    pub(crate) fn set_mode(&self, mode: Autotune) {
        if let Autotune::On { cache: Some(path) } = &mode {
            let loaded = read(path).remove(&self.table).unwrap_or_default();
            self.choices.lock().extend(loaded);
        }
        *self.mode.lock() = mode;
    }

    pub(crate) fn enabled(&self) -> bool {
        *self.mode.lock() != Autotune::Off
    }

    /// The remembered winner for `key`.
    pub(crate) fn get(&self, key: &str) -> Option<String> {
        self.choices.lock().get(key).cloned()
    }

    /// Remembers `winner` for `key`, in the cache file too (a file that cannot be written
    /// costs a warning, not the op).
    pub(crate) fn set(&self, key: &str, winner: &str) {
        self.choices.lock().insert(key.to_string(), winner.to_string());
        if let Autotune::On { cache: Some(path) } = &*self.mode.lock() {
            let mut all = read(path);
            all.retain(|table, _| *table == self.table || !table.starts_with(&self.device));
            all.entry(self.table.clone()).or_default().insert(key.to_string(), winner.to_string());
            if let Err(e) = write(path, &all) {
                log::warn!("autotune: cannot write {}: {e}", path.display());
            }
        }
    }

    /// The lock of `key`'s tuning: whoever holds it times the candidates, and threads that
    /// wait for it then find the winner rather than timing again.
    pub(crate) fn turn(&self, key: &str) -> Arc<Mutex<()>> {
        self.turns.lock().entry(key.to_string()).or_default().clone()
    }

    /// Counts a timed candidate.
    pub(crate) fn count_trial(&self) {
        self.trials.fetch_add(1, Ordering::Relaxed);
    }

    /// Candidates timed so far on this device.
    pub(crate) fn trials(&self) -> u64 {
        self.trials.load(Ordering::Relaxed)
    }
}

type Tables = BTreeMap<String, BTreeMap<String, String>>;

/// The cache file's tables; an absent or unreadable file is empty.
fn read(path: &Path) -> Tables {
    std::fs::read_to_string(path).ok().and_then(|s| serde_json::from_str(&s).ok()).unwrap_or_default()
}

/// Writes aside, then renames: a reader never sees half a file, and of two writers (threads
/// or processes) each renames a whole file of its own, so the file stays valid JSON.
fn write(path: &Path, tables: &Tables) -> std::io::Result<()> {
    static WRITES: AtomicU64 = AtomicU64::new(0);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let n = WRITES.fetch_add(1, Ordering::Relaxed);
    let tmp = path.with_extension(format!("tmp{}-{n}", std::process::id()));
    let written = serde_json::to_string_pretty(tables)
        .map_err(std::io::Error::other)
        .and_then(|text| std::fs::write(&tmp, text))
        .and_then(|()| std::fs::rename(&tmp, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writers_at_once_leave_a_valid_file() {
        let path = std::env::temp_dir().join(format!("dojang-cache-test-{}.json", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let writers: Vec<_> = (0..8)
            .map(|t| {
                let path = path.clone();
                std::thread::spawn(move || {
                    // Each its own tuner, as two processes would have.
                    let tuner = Tuner::new(Autotune::On { cache: Some(path) }, "device | ".into());
                    for k in 0..20 {
                        tuner.set(&format!("key {t} {k}"), "winner");
                    }
                })
            })
            .collect();
        writers.into_iter().for_each(|w| w.join().unwrap());
        let text = std::fs::read_to_string(&path).unwrap();
        let tables: Tables = serde_json::from_str(&text).unwrap();
        assert_eq!(tables.len(), 1);
        assert!(tables.values().all(|table| !table.is_empty()));
        let dir = std::fs::read_dir(path.parent().unwrap()).unwrap();
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        let left: Vec<_> =
            dir.flatten().filter(|e| e.file_name().to_string_lossy().starts_with(&format!("{stem}.tmp"))).collect();
        assert!(left.is_empty(), "temporary files left: {left:?}");
        std::fs::remove_file(&path).unwrap();
    }
}
