//! Build script: a hash of the engine's sources (`src/` and `shaders/`), which the autotune
//! cache keys its choices by. A choice is a timing of kernels as the host launches them, so a
//! change to either side makes it stale: an earlier build's cache kept an 8x8 GEMM tile for a
//! 512→2048 1x1 over 7x7 that ran at a third of the speed of a fresh tuning's 16x8.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};

fn main() {
    let mut files = Vec::new();
    for dir in ["src", "shaders"] {
        println!("cargo:rerun-if-changed={dir}");
        collect(Path::new(dir), &mut files);
    }
    files.sort();
    let mut hasher = DefaultHasher::new();
    for file in &files {
        file.hash(&mut hasher);
        std::fs::read(file).unwrap_or_default().hash(&mut hasher);
    }
    println!("cargo:rustc-env=DOJANG_SOURCES={:016x}", hasher.finish());
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, files);
        } else {
            files.push(path);
        }
    }
}
