//! Autotuning state: per device, which candidate kernel won for each shape class, kept in
//! memory and in a cache file so that the next run starts tuned.
//!
//! The ops name the shape classes and the candidates and time them (`ops/tune.rs`); this
//! module only remembers. The file holds one table per adapter, driver and crate version:
//! any of them changing means tuning again, and so does a change to the kernels' WGSL (each
//! key carries a hash of it). `DOJANG_AUTOTUNE=off` picks each op's fixed
//! default; `DOJANG_AUTOTUNE_CACHE=FILE` moves the file (default
//! `$XDG_CACHE_HOME/dojang/autotune.json`, else `~/.cache/dojang/autotune.json`).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
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
    /// Which adapter, driver and crate version the choices hold for.
    table: String,
    choices: Mutex<HashMap<String, String>>,
    trials: AtomicU64,
}

impl Tuner {
    pub(crate) fn new(mode: Autotune, adapter: &wgpu::AdapterInfo) -> Tuner {
        let table = format!(
            "{} | {} {} | dojang {}",
            adapter.name,
            adapter.driver,
            adapter.driver_info,
            env!("CARGO_PKG_VERSION")
        );
        let tuner = Tuner {
            mode: Mutex::new(Autotune::Off),
            table,
            choices: Mutex::new(HashMap::new()),
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
            all.entry(self.table.clone()).or_default().insert(key.to_string(), winner.to_string());
            if let Err(e) = write(path, &all) {
                log::warn!("autotune: cannot write {}: {e}", path.display());
            }
        }
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

fn write(path: &Path, tables: &Tables) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    // Write aside, then rename: a reader never sees half a file.
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, serde_json::to_string_pretty(tables).map_err(std::io::Error::other)?)?;
    std::fs::rename(tmp, path)
}
