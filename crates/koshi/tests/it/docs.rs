//! The documents point at what exists: every test `docs/traceability.md` names as evidence for a
//! paragraph of the Rules is a test in the workspace (a renamed or deleted test fails here).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() && p.file_name().is_some_and(|n| n != "target") {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The identifier at the start of `s`.
fn ident(s: &str) -> &str {
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    &s[..end]
}

/// Names a file defines as tests: functions, modules, and the first argument of the macros that
/// make a test per backend (`on_both!(name, …)`, `with_trust!(name, …)`).
fn defined(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for marker in ["fn ", "mod ", "on_both!(", "with_trust!("] {
        for (i, _) in text.match_indices(marker) {
            let name = ident(text[i + marker.len()..].trim_start());
            if !name.is_empty() {
                names.insert(name.to_string());
            }
        }
    }
    names
}

#[test]
fn every_test_the_traceability_table_names_exists() {
    let root = root();
    let table = std::fs::read_to_string(root.join("docs/traceability.md")).unwrap();
    let mut files = Vec::new();
    rust_files(&root.join("crates"), &mut files);
    let mut all = BTreeSet::new();
    let mut by_module: Vec<(String, BTreeSet<String>)> = Vec::new();
    for f in &files {
        let names = defined(&std::fs::read_to_string(f).unwrap());
        let stem = f.file_stem().unwrap().to_string_lossy().to_string();
        all.extend(names.iter().cloned());
        all.insert(stem.clone());
        by_module.push((stem, names));
    }
    let mut missing = Vec::new();
    let mut checked = 0;
    for row in table.lines().filter(|l| l.starts_with("| ")).skip(2) {
        let cells: Vec<&str> = row.trim().trim_matches('|').split(" | ").collect();
        let Some(tests) = cells.get(3) else { continue };
        for name in tests.split('`').skip(1).step_by(2) {
            checked += 1;
            let found = if name.contains('/') {
                root.join(name).exists()
            } else if let Some((module, test)) = name.split_once("::") {
                by_module
                    .iter()
                    .any(|(m, names)| m == module && (test == "*" || names.contains(test)))
            } else if let Some(prefix) = name.strip_suffix('*').or_else(|| name.strip_suffix('…')) {
                all.iter().any(|n| n.starts_with(prefix))
            } else {
                all.contains(name)
            };
            if !found {
                missing.push(name.to_string());
            }
        }
    }
    assert!(checked > 50, "the table's test column was not read ({checked} names)");
    assert!(
        missing.is_empty(),
        "docs/traceability.md names tests that do not exist: {missing:?}"
    );
}

#[test]
fn the_check_finds_a_test_that_does_not_exist() {
    // The same reading, on a made-up name: it must not be taken for an existing test.
    let names = defined("fn real_test() {}\non_both!(\n    http_case,\n    opts,\n    body\n);");
    assert!(names.contains("real_test") && names.contains("http_case"));
    assert!(!names.contains("no_such_test"));
}

/// The top-level modules of the edge (the binary's crate) and of the case core import each other
/// without a circle (issue 14): a module's `crate::other` paths are its edges, comments left out;
/// a directory module counts as one.
#[test]
fn the_modules_import_no_circle() {
    no_circle_in("crates/koshi/src", 10);
    no_circle_in("crates/koshi-cases/src", 15);
}

/// The case core knows no HTTP (issue 14 item 1): neither the web framework, nor the OpenAPI
/// generator, nor the page templates are among its dependencies (the registries' HTTP
/// simulator, which serves with axum, is a feature only the binary turns on).
#[test]
fn the_case_core_depends_on_no_http_framework() {
    let manifest = std::fs::read_to_string(root().join("crates/koshi-cases/Cargo.toml")).unwrap();
    let deps = manifest
        .split("[dependencies]")
        .nth(1)
        .unwrap()
        .split("\n[")
        .next()
        .unwrap();
    let names: Vec<&str> = deps
        .lines()
        .filter_map(|l| l.split(['.', ' ', '=']).next())
        .filter(|n| !n.is_empty() && !n.starts_with('#'))
        .collect();
    assert!(
        names.contains(&"koshi-law") && names.contains(&"koshi-store"),
        "{names:?}"
    );
    for http in ["axum", "utoipa", "maud", "hyper", "hyper-util", "tower", "tower-http"] {
        assert!(!names.contains(&http), "koshi-cases depends on {http}");
    }
    let registries = std::fs::read_to_string(root().join("crates/koshi-registries/Cargo.toml")).unwrap();
    assert!(
        registries.contains("axum = { workspace = true, optional = true }"),
        "the registries' HTTP simulator must stay an optional feature"
    );
    assert!(
        manifest.contains("koshi-registries.workspace = true"),
        "the case core turns on no registries feature"
    );
}

/// No source file over 800 lines (issue 14): a file that grows past it is split by what it does.
#[test]
fn no_source_file_is_over_800_lines() {
    let mut files = Vec::new();
    rust_files(&root().join("crates"), &mut files);
    assert!(files.len() > 100, "the sources were not read");
    let long: Vec<String> = files
        .iter()
        .filter_map(|f| {
            let n = std::fs::read_to_string(f).unwrap().lines().count();
            (n > 800).then(|| format!("{} ({n} lines)", f.display()))
        })
        .collect();
    assert!(long.is_empty(), "over 800 lines: {long:?}");
}

fn no_circle_in(dir: &str, at_least: usize) {
    use std::collections::BTreeMap;
    let src = root().join(dir);
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in &files {
        let rel = f.strip_prefix(&src).unwrap();
        let module = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        if module == "lib" || module == "main" {
            continue;
        }
        let text = std::fs::read_to_string(f).unwrap();
        let code: String = text
            .lines()
            .map(|l| l.split("//").next().unwrap_or(""))
            .collect::<Vec<_>>()
            .join("\n");
        let deps = edges.entry(module.clone()).or_default();
        for (i, _) in code.match_indices("crate::") {
            let name = ident(&code[i + "crate::".len()..]);
            if !name.is_empty() && name != module {
                deps.insert(name.to_string());
            }
        }
    }
    assert!(
        edges.len() > at_least,
        "the modules of {dir} were not read: {:?}",
        edges.keys()
    );
    // Depth-first search for a back edge.
    fn visit<'a>(
        n: &'a str,
        edges: &'a BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|p| *p == n) {
            return Some(path[i..].iter().map(|s| s.to_string()).chain([n.to_string()]).collect());
        }
        if done.contains(n) {
            return None;
        }
        path.push(n);
        for d in edges.get(n).into_iter().flatten() {
            if let Some(c) = visit(d, edges, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(n);
        None
    }
    let mut done = BTreeSet::new();
    for n in edges.keys() {
        if let Some(circle) = visit(n, &edges, &mut Vec::new(), &mut done) {
            panic!("modules of {dir} import each other in a circle: {}", circle.join(" → "));
        }
    }
}
