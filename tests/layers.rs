//! The crate's layering, read from its source. No GPU needed.
//!
//! - Between modules: every module names only modules below it, and sits exactly one level
//!   above the highest it names, so that a module that starts to lean on a higher one (the
//!   model on the ops, say) fails here until the table below says so:
//!
//!   error, pipeline, timestamps, tolerance, autotune_cache → adapter, attrs → gpu, reference
//!   → model, submit, tensor → launch, texture → ops → split, tools
//!
//! - Inside a folder: no two files name each other, directly or round a circle, and the
//!   folder's front (`mod.rs`) only declares and re-exports: a file that names its own
//!   folder's front instead of the sibling file it means makes a circle.
//!
//! - The definition of correctness (`reference`) builds on the op attributes alone.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Each module with its level.
const LEVELS: &[(&str, u32)] = &[
    ("error", 0),
    ("pipeline", 0),
    ("timestamps", 0),
    ("tolerance", 0),
    ("autotune_cache", 0),
    ("adapter", 1),
    ("attrs", 1),
    ("gpu", 2),
    ("reference", 2),
    ("model", 3),
    ("submit", 3),
    ("tensor", 3),
    ("launch", 4),
    ("onnx", 4),
    ("texture", 4),
    ("ops", 5),
    ("split", 6),
    ("tools", 6),
];

/// Items re-exported at the crate root, and the module each comes from.
const ROOT_ITEMS: &[(&str, &str)] = &[
    ("Autotune", "autotune_cache"),
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

/// Every `crate::…` path a source text names (in code and docs), groups expanded: `use
/// crate::{a::{B, C}, d}` is `[a, B]`, `[a, C]` and `[d]`.
fn paths(text: &str) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    for (at, _) in text.match_indices("crate::") {
        let rest: Vec<char> = text[at + "crate::".len()..].chars().collect();
        tree(&rest, &mut 0, &mut vec![], &mut found);
    }
    found
}

/// Reads one use-tree at `chars[*i..]` under `prefix`: `a::b`, `a::{…}`, `{…}`; pushes each
/// whole path into `found`.
fn tree(chars: &[char], i: &mut usize, prefix: &mut Vec<String>, found: &mut Vec<Vec<String>>) {
    let depth = prefix.len();
    loop {
        if chars.get(*i) == Some(&'{') {
            *i += 1;
            loop {
                while chars.get(*i).is_some_and(|c| c.is_whitespace()) {
                    *i += 1;
                }
                if matches!(chars.get(*i), Some('}') | None) {
                    *i += 1;
                    break;
                }
                tree(chars, i, prefix, found);
                // Past what follows the entry (`as x`), to its comma or the group's end.
                while chars.get(*i).is_some_and(|c| *c != ',' && *c != '}') {
                    *i += 1;
                }
                if chars.get(*i) == Some(&',') {
                    *i += 1;
                }
            }
            prefix.truncate(depth);
            return;
        }
        let ident: String = chars[*i..].iter().take_while(|c| c.is_alphanumeric() || **c == '_').collect();
        *i += ident.chars().count();
        if ident.is_empty() {
            break;
        }
        prefix.push(ident);
        if chars.get(*i) == Some(&':') && chars.get(*i + 1) == Some(&':') {
            *i += 2;
            continue;
        }
        break;
    }
    if prefix.len() > depth {
        found.push(prefix.clone());
    }
    prefix.truncate(depth);
}

/// The crate modules a source text mentions (root items resolved to their module).
fn mentions(text: &str) -> BTreeSet<String> {
    paths(text)
        .into_iter()
        .filter_map(|p| p.first().cloned())
        .map(|first| ROOT_ITEMS.iter().find(|(item, _)| *item == first).map_or(first, |(_, m)| m.to_string()))
        .collect()
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

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Per top-level module (a file or a folder of src/), the modules its files mention.
fn module_mentions() -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut by_module: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let relative = file.strip_prefix(src()).unwrap();
        let first = relative.components().next().unwrap().as_os_str().to_string_lossy().into_owned();
        let module = first.trim_end_matches(".rs").to_string();
        if module == "lib" || module == "bin" {
            continue; // the root re-exports everything; the binaries stand on the public API
        }
        let used = mentions(&std::fs::read_to_string(&file).unwrap());
        by_module.entry(module.clone()).or_default().extend(used.into_iter().filter(|u| *u != module));
    }
    by_module
}

#[test]
fn every_module_sits_one_level_above_the_highest_it_names() {
    let modules = module_mentions();
    assert!(modules.len() > 15, "only {} modules found", modules.len());
    // The levels the mentions give, for a table to copy when this test fails.
    let mut real: BTreeMap<&str, u32> = BTreeMap::new();
    while real.len() < modules.len() {
        let before = real.len();
        for (module, used) in &modules {
            if let Some(l) = used.iter().map(|u| real.get(u.as_str()).map(|l| l + 1)).collect::<Option<Vec<_>>>() {
                real.insert(module, l.into_iter().max().unwrap_or(0));
            }
        }
        // A circle between modules, or a name that is no module, leaves some without a level.
        let stuck: Vec<_> = modules.keys().filter(|m| !real.contains_key(m.as_str())).collect();
        assert!(real.len() > before, "no level for {stuck:?}: they name each other, or something not a module");
    }
    for (module, used) in &modules {
        let own = level(module);
        for u in used {
            assert!(level(u) < own, "{module} (level {own}) mentions crate::{u} (level {})", level(u));
        }
        let needed = used.iter().map(|u| level(u) + 1).max().unwrap_or(0);
        assert_eq!(own, needed, "{module} is at level {own}, what it names puts it at {needed} ({used:?}); {real:?}");
    }
    let listed: BTreeSet<&str> = LEVELS.iter().map(|(m, _)| *m).collect();
    let found: BTreeSet<&str> = modules.keys().map(String::as_str).collect();
    assert_eq!(listed, found, "LEVELS and the modules of src/");
}

/// Inside each folder of src/: file → the files of the same folder it names.
fn folder_graphs() -> BTreeMap<PathBuf, BTreeMap<String, BTreeSet<String>>> {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut graphs: BTreeMap<PathBuf, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for file in files.iter().filter(|f| f.parent() != Some(src().as_path())) {
        let dir = file.parent().unwrap().to_path_buf();
        let folder: Vec<String> = dir
            .strip_prefix(src())
            .unwrap()
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        if folder.first().is_some_and(|f| f == "bin") {
            continue;
        }
        let stem = file.file_stem().unwrap().to_string_lossy().into_owned();
        let siblings: BTreeSet<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "rs"))
            .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
            .collect();
        let text = std::fs::read_to_string(file).unwrap();
        let mut edges = BTreeSet::new();
        for path in paths(&text) {
            if path.len() > folder.len() && path[..folder.len()] == folder[..] {
                let next = &path[folder.len()];
                edges.insert(if siblings.contains(next) { next.clone() } else { "mod".to_string() });
            }
        }
        if stem == "mod" {
            // The front declares its files: an arrow to each.
            for line in text.lines() {
                let decl = line.trim().trim_start_matches("pub(crate) ").trim_start_matches("pub ");
                if let Some(name) = decl.strip_prefix("mod ").and_then(|n| n.strip_suffix(';')) {
                    edges.insert(name.to_string());
                }
            }
        }
        edges.remove(&stem);
        graphs.entry(dir).or_default().insert(stem, edges);
    }
    graphs
}

/// A circle in `graph`, as the files round it, if there is one.
fn circle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|p| p == node) {
            return Some([&path[at..], &[node.to_string()]].concat());
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, graph, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph.keys().find_map(|start| visit(start, graph, &mut vec![], &mut done))
}

#[test]
fn no_circles_between_the_files_of_a_folder() {
    let graphs = folder_graphs();
    assert!(graphs.len() >= 6, "only {} folders found", graphs.len());
    for (dir, graph) in &graphs {
        if let Some(c) = circle(graph) {
            panic!("{}: {}", dir.strip_prefix(src()).unwrap().display(), c.join(" → "));
        }
    }
}

#[test]
fn the_circle_finder_finds_circles() {
    let graph: BTreeMap<String, BTreeSet<String>> =
        [("mod", ["conv2d", "gemm"].as_slice()), ("conv2d", &["gemm", "sizes"]), ("gemm", &["conv2d"]), ("sizes", &[])]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect()))
            .collect();
    assert_eq!(circle(&graph), Some(vec!["conv2d".into(), "gemm".into(), "conv2d".into()]));
    let mut fixed = graph.clone();
    fixed.get_mut("gemm").unwrap().clear();
    assert_eq!(circle(&fixed), None);
}

#[test]
fn the_definition_of_correctness_stands_alone() {
    let mut files = vec![src().join("pipeline.rs")];
    rust_files(&src().join("reference"), &mut files);
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(!text.contains("crate::ops"), "{} mentions crate::ops", file.display());
        if file.starts_with(src().join("reference")) {
            let allowed: BTreeSet<String> = ["error", "attrs"].map(String::from).into();
            assert!(mentions(&text).is_subset(&allowed), "{}: {:?}", file.display(), mentions(&text));
            assert!(!text.contains("wgpu"), "{} mentions wgpu", file.display());
        }
    }
}

#[test]
fn the_scanner_sees_grouped_nested_and_root_paths() {
    let text = "use crate::{error::Error, attrs::{Conv2d, checks::{add, mul}}};\n/// [`x`](crate::Tensor::write)";
    let m = mentions(text);
    assert_eq!(m, ["attrs", "error", "tensor"].map(String::from).into());
    let p = paths(text);
    assert!(p.contains(&vec!["attrs".to_string(), "checks".into(), "mul".into()]), "{p:?}");
    assert!(p.contains(&vec!["attrs".to_string(), "Conv2d".into()]), "{p:?}");
}
