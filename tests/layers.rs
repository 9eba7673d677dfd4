//! The crate's layering, read from its source: every module names only modules below it, so
//! that the definition of correctness (`reference`) builds on the op parameters alone and
//! nothing low imports anything high:
//!
//! error → params → reference, pipeline, timestamps, tune → gpu → tensor → launch, texture → ops → model → split
//!
//! (`tolerance`, `cases` and `app` are leaves beside them.) No GPU needed.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Each module with its level; a module may mention only modules of a lower level.
const LEVELS: &[(&str, u32)] = &[
    ("error", 0),
    ("app", 0),
    ("tolerance", 0),
    ("params", 1),
    ("cases", 2),
    ("reference", 2),
    ("pipeline", 2),
    ("timestamps", 2),
    ("tune", 2),
    ("gpu", 3),
    ("tensor", 4),
    ("launch", 5),
    ("texture", 5),
    ("ops", 6),
    ("model", 7),
    ("split", 8),
];

/// Items re-exported at the crate root, and the module each comes from.
const ROOT_ITEMS: &[(&str, &str)] = &[
    ("Error", "error"),
    ("Result", "error"),
    ("Gpu", "gpu"),
    ("Tensor", "tensor"),
    ("Launch", "launch"),
    ("GpuModel", "split"),
];

fn level(module: &str) -> u32 {
    LEVELS.iter().find(|(m, _)| *m == module).unwrap_or_else(|| panic!("module {module} has no level")).1
}

/// The crate modules a source text mentions through `crate::…` paths (in code and docs).
fn mentions(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for (at, _) in text.match_indices("crate::") {
        let rest = &text[at + "crate::".len()..];
        let names: Vec<&str> = match rest.strip_prefix('{') {
            Some(group) => top_level_entries(group),
            None => vec![rest],
        };
        for name in names {
            let ident: String = name.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            let module =
                ROOT_ITEMS.iter().find(|(item, _)| *item == ident).map_or(ident.clone(), |(_, m)| m.to_string());
            if !module.is_empty() {
                found.insert(module);
            }
        }
    }
    found
}

/// The entries of a `{…}` use group (its text after the `{`), split at its top-level commas.
fn top_level_entries(group: &str) -> Vec<&str> {
    let (mut entries, mut depth, mut start) = (vec![], 0, 0);
    for (i, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => {
                entries.push(group[start..i].trim());
                break;
            }
            '}' => depth -= 1,
            ',' if depth == 0 => {
                entries.push(group[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    entries
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_module_mentions_only_modules_below_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut checked = 0;
    for file in files {
        let relative = file.strip_prefix(&src).unwrap();
        let first = relative.components().next().unwrap().as_os_str().to_string_lossy().into_owned();
        let module = first.trim_end_matches(".rs");
        if module == "lib" || module == "bin" {
            continue; // the root re-exports everything; the binary stands on the public API
        }
        let own = level(module);
        for used in mentions(&std::fs::read_to_string(&file).unwrap()) {
            if used != module {
                assert!(
                    level(&used) < own,
                    "{} (level {own}) mentions crate::{used} (level {})",
                    relative.display(),
                    level(&used)
                );
            }
        }
        checked += 1;
    }
    assert!(checked > 30, "only {checked} files checked");
}

#[test]
fn the_definition_of_correctness_stands_alone() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = vec![src.join("pipeline.rs")];
    rust_files(&src.join("reference"), &mut files);
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(!text.contains("crate::ops"), "{} mentions crate::ops", file.display());
        if file.starts_with(src.join("reference")) {
            let allowed: BTreeSet<String> = ["error", "params"].map(String::from).into();
            assert!(mentions(&text).is_subset(&allowed), "{}: {:?}", file.display(), mentions(&text));
            assert!(!text.contains("wgpu"), "{} mentions wgpu", file.display());
        }
    }
}

#[test]
fn the_scanner_sees_grouped_and_root_paths() {
    let m = mentions("use crate::{error::Error, params::{Conv2d, Padding}};\n/// [`x`](crate::Tensor::write)");
    assert_eq!(m, ["error", "params", "tensor"].map(String::from).into());
}
