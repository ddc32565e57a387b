//! The core's layers (ARCHITECTURE.md, "Layers"): every module of `core/src` belongs to one
//! layer of the table below, imports nothing from a higher layer, and no modules import each
//! other in a loop. Read from the source: `use crate::…` lines, `use crate::{a, b::c}` groups,
//! `crate::module::` paths written inline and `super::sibling` in a folder's submodule, in code
//! and in test modules alike (comments, doc comments and string literals are not code). A path
//! through a re-export of `lib.rs` (`crate::Postdesk`) counts as an import of its module.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Bottom → top. A module may import modules of its own layer (without a loop) and of lower
/// layers. A submodule of a folder module (`ops::dne`) has its folder's layer.
const LAYERS: &[(&str, &[&str])] = &[
    // 1. Leaves: no module of the core below them.
    ("leaves", &["diagnosis", "files", "secrets", "rfc5322", "settings", "checks"]),
    // 2. Pure rules over values: no I/O but the clock (`edits::today`).
    (
        "pure rules",
        &[
            "model", "model_de", "keys", "validate", "resolve", "explain", "templates", "dne", "message", "hints",
            "redirect", "transfer", "presets", "sendmail_args", "identity", "edits", "migrate", "clouds", "fixtures", "proxy",
            "wording",
        ],
    ),
    // 3. Protocol clients and the edges (disk, network), each usable alone.
    ("protocol clients and edges", &["error", "tls", "smtp", "http", "sysproxy", "oauth", "receiver", "store", "limits", "policy"]),
    // 4. Operations on `Postdesk`.
    ("operations", &["app", "mail", "support", "clients", "login", "prefetch", "ops"]),
];

/// Imports exempted from the rule: (from, to, why). Empty, and meant to stay so; an entry no
/// import matches any more fails the test (so the list can only shrink).
const ALLOWED: &[(&str, &str, &str)] = &[];

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Edge {
    from: String,
    to: String,
    file: String,
    line: usize,
}

/// The module a file under `src/` defines: `app.rs` → `app`, `ops/dne.rs` → `ops::dne`,
/// `ops/mod.rs` → `ops`; `lib.rs` → `None` (the crate root).
fn module_of(rel: &str) -> Option<String> {
    let rel = rel.strip_suffix(".rs")?;
    let rel = rel.strip_suffix("/mod").unwrap_or(rel);
    (rel != "lib" && rel != "main").then(|| rel.replace('/', "::"))
}

/// The source with comments and the contents of string and character literals blanked out
/// (line ends kept, so positions keep their line numbers).
fn code_only(src: &str) -> String {
    let c: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let blank = |ch: char| if ch == '\n' { '\n' } else { ' ' };
    let ident = |ch: char| ch.is_alphanumeric() || ch == '_';
    let mut i = 0;
    while i < c.len() {
        let at = |k: usize| c.get(k).copied();
        if c[i] == '/' && at(i + 1) == Some('/') {
            while i < c.len() && c[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if c[i] == '/' && at(i + 1) == Some('*') {
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && at(i + 1) == Some('*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if c[i] == '*' && at(i + 1) == Some('/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(c[i]));
                    i += 1;
                }
            }
        } else if (c[i] == 'r' || (c[i] == 'b' && at(i + 1) == Some('r'))) && (i == 0 || !ident(c[i - 1])) && {
            let start = if c[i] == 'b' { i + 2 } else { i + 1 };
            let hashes = c[start..].iter().take_while(|&&ch| ch == '#').count();
            c.get(start + hashes) == Some(&'"')
        } {
            // Raw string: r"…", r#"…"#, br"…".
            let start = if c[i] == 'b' { i + 2 } else { i + 1 };
            let hashes = c[start..].iter().take_while(|&&ch| ch == '#').count();
            let mut j = start + hashes + 1;
            while j < c.len() && !(c[j] == '"' && c[j + 1..].iter().take(hashes).filter(|&&ch| ch == '#').count() == hashes) {
                j += 1;
            }
            let end = (j + 1 + hashes).min(c.len());
            out.extend(c[i..end].iter().map(|&ch| blank(ch)));
            i = end;
        } else if c[i] == '"' {
            out.push(' ');
            i += 1;
            while i < c.len() && c[i] != '"' {
                if c[i] == '\\' && i + 1 < c.len() {
                    out.push(' ');
                    i += 1;
                }
                out.push(blank(c[i]));
                i += 1;
            }
            out.push(' ');
            i += 1;
        } else if c[i] == '\'' && (at(i + 1) == Some('\\') || at(i + 2) == Some('\'')) {
            // A character literal ('x', '\n', '\u{1b}'); a lifetime ('a) is code.
            let mut j = i + 1;
            if c[j] == '\\' {
                j += 2;
            } else {
                j += 1;
            }
            while j < c.len() && c[j] != '\'' {
                j += 1;
            }
            let end = (j + 1).min(c.len());
            out.extend(c[i..end].iter().map(|&ch| blank(ch)));
            i = end;
        } else {
            out.push(c[i]);
            i += 1;
        }
    }
    out
}

/// The names `lib.rs` re-exports (`pub use app::{Error, Postdesk};`) → their module.
fn reexports(lib: &str) -> BTreeMap<String, String> {
    let code = code_only(lib);
    let mut map = BTreeMap::new();
    for stmt in code.split(';') {
        let Some(rest) = stmt.trim().strip_prefix("pub use ") else { continue };
        let rest = rest.trim().trim_start_matches("crate::").trim_start_matches("self::");
        let Some((module, names)) = rest.split_once("::") else { continue };
        for name in names.trim_matches(|c: char| c == '{' || c == '}' || c.is_whitespace()).split(',') {
            let name = name.split(" as ").last().unwrap_or(name).trim();
            if !name.is_empty() {
                map.insert(name.to_string(), module.trim().to_string());
            }
        }
    }
    map
}

/// Every `crate::…` path in `code` (already [`code_only`]): the first segments of the paths
/// it names (several for a `crate::{a, b::c}` group), each with its byte offset.
fn crate_paths(code: &str) -> Vec<(usize, Vec<String>)> {
    paths_after(code, "crate::")
}

/// [`crate_paths`] for any leading keyword (`crate::`, `super::`).
fn paths_after(code: &str, keyword: &str) -> Vec<(usize, Vec<String>)> {
    let bytes = code.as_bytes();
    let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(pos) = code[from..].find(keyword).map(|p| p + from) {
        from = pos + keyword.len();
        if pos > 0 && (ident(bytes[pos - 1]) || bytes[pos - 1] == b'$' || bytes[pos - 1] == b':') {
            continue;
        }
        let after = code[from..].trim_start();
        let mut paths = Vec::new();
        if let Some(group) = after.strip_prefix('{') {
            // Top-level items of the group, up to its closing brace.
            let (mut depth, mut item) = (0, String::new());
            for ch in group.chars() {
                match ch {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        paths.push(std::mem::take(&mut item));
                        continue;
                    }
                    _ => {}
                }
                item.push(ch);
            }
            paths.push(item);
        } else {
            paths.push(after.to_string());
        }
        let segments: Vec<String> = paths
            .iter()
            .filter_map(|p| {
                let p = p.trim();
                let path: String = p.chars().take_while(|&c| c.is_alphanumeric() || c == '_' || c == ':').collect();
                (!path.is_empty() && path != "self").then_some(path)
            })
            .collect();
        found.push((pos, segments));
    }
    found
}

/// The import edges of a set of files (`path relative to src/` → text); `Err` for a path
/// that names no module the checker knows.
fn edges(files: &BTreeMap<String, String>) -> (Vec<Edge>, Vec<String>) {
    let modules: BTreeSet<String> = files.keys().filter_map(|f| module_of(f)).collect();
    let reexported = files.get("lib.rs").map(|l| reexports(l)).unwrap_or_default();
    let (mut out, mut errors) = (Vec::new(), Vec::new());
    for (file, text) in files {
        let Some(from) = module_of(file) else { continue };
        let code = code_only(text);
        for (pos, paths) in crate_paths(&code) {
            let line = code[..pos].matches('\n').count() + 1;
            for path in paths {
                let segs: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
                // The longest module named by the path's leading segments.
                let to = (1..=segs.len()).rev().map(|n| segs[..n].join("::")).find(|m| modules.contains(m));
                let to = to.or_else(|| reexported.get(segs[0]).cloned());
                match to {
                    Some(to) if to == from => {}
                    Some(to) => out.push(Edge { from: from.clone(), to, file: format!("src/{file}"), line }),
                    None => errors.push(format!("src/{file}:{line}: crate::{path} names no module of the core")),
                }
            }
        }
        // In a submodule file (`ops/dne.rs`), `super::templates` is its sibling `ops::templates`
        // (other `super::` paths name items of the file itself or of its folder module).
        if let Some((parent, _)) = from.rsplit_once("::") {
            for (pos, paths) in paths_after(&code, "super::") {
                let line = code[..pos].matches('\n').count() + 1;
                for path in paths {
                    let sibling = format!("{parent}::{}", path.split("::").next().unwrap_or(""));
                    if modules.contains(&sibling) && sibling != from {
                        out.push(Edge { from: from.clone(), to: sibling, file: format!("src/{file}"), line });
                    }
                }
            }
        }
    }
    (out, errors)
}

fn layer_of<'a>(layers: &'a [(&'a str, &'a [&'a str])], module: &str) -> Option<(usize, &'a str)> {
    let top = module.split("::").next().unwrap_or(module);
    layers.iter().enumerate().find(|(_, (_, ms))| ms.contains(&module) || ms.contains(&top)).map(|(i, (name, _))| (i + 1, *name))
}

/// Everything wrong with the imports of `files` under `layers` and `allowed`.
fn check(files: &BTreeMap<String, String>, layers: &[(&str, &[&str])], allowed: &[(&str, &str, &str)]) -> Vec<String> {
    let (all, mut problems) = edges(files);
    for (from, to, owner) in allowed {
        if !all.iter().any(|e| e.from == *from && e.to == *to) {
            problems.push(format!("allowlist: {from} → {to} ({owner}) is imported nowhere any more: remove the entry"));
        }
    }
    let edges: Vec<&Edge> = all.iter().filter(|e| !allowed.iter().any(|(f, t, _)| e.from == *f && e.to == *t)).collect();
    for module in files.keys().filter_map(|f| module_of(f)) {
        if layer_of(layers, &module).is_none() {
            problems.push(format!("module {module} has no layer: add it to the table"));
        }
    }
    for e in &edges {
        if let (Some((lf, nf)), Some((lt, nt))) = (layer_of(layers, &e.from), layer_of(layers, &e.to)) {
            if lf < lt {
                problems.push(format!("{}:{}: {} (layer {lf}, {nf}) imports {} (layer {lt}, {nt}), a higher layer", e.file, e.line, e.from, e.to));
            }
        }
    }
    // Loops: a path back to a module from each of its imports, reported once per set of modules.
    let mut graph: BTreeMap<&str, BTreeMap<&str, &Edge>> = BTreeMap::new();
    for e in &edges {
        graph.entry(e.from.as_str()).or_default().entry(e.to.as_str()).or_insert(e);
    }
    let mut reported: BTreeSet<BTreeSet<&str>> = BTreeSet::new();
    for &start in graph.keys() {
        // Breadth-first from `start`, remembering how each module was reached.
        let mut came_from: BTreeMap<&str, &Edge> = BTreeMap::new();
        let mut queue = std::collections::VecDeque::from([start]);
        let mut back: Option<&Edge> = None;
        while let Some(m) = queue.pop_front() {
            for (&next, &edge) in graph.get(m).into_iter().flatten() {
                if next == start {
                    back = Some(edge);
                    queue.clear();
                    break;
                }
                if !came_from.contains_key(next) {
                    came_from.insert(next, edge);
                    queue.push_back(next);
                }
            }
        }
        let Some(last) = back else { continue };
        let mut cycle = vec![last];
        let mut at = last.from.as_str();
        while at != start {
            let e = came_from[at];
            cycle.push(e);
            at = e.from.as_str();
        }
        cycle.reverse();
        let members: BTreeSet<&str> = cycle.iter().map(|e| e.from.as_str()).collect();
        if reported.insert(members) {
            let names: Vec<&str> = cycle.iter().map(|e| e.from.as_str()).chain([start]).collect();
            let wheres: Vec<String> = cycle.iter().map(|e| format!("{} → {} at {}:{}", e.from, e.to, e.file, e.line)).collect();
            problems.push(format!("import loop {}: {}", names.join(" → "), wheres.join("; ")));
        }
    }
    problems
}

fn read_tree(dir: &Path, rel: &str, files: &mut BTreeMap<String, String>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).expect("core/src").map(|e| e.expect("entry").path()).collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let rel_name = if rel.is_empty() { name.clone() } else { format!("{rel}/{name}") };
        if path.is_dir() {
            read_tree(&path, &rel_name, files);
        } else if name.ends_with(".rs") {
            files.insert(rel_name, std::fs::read_to_string(&path).expect("source"));
        }
    }
}

#[test]
fn core_modules_import_only_their_own_and_lower_layers_without_loops() {
    let mut files = BTreeMap::new();
    read_tree(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), "", &mut files);
    assert!(files.len() > 20, "read {} files", files.len());
    let (found, _) = edges(&files);
    assert!(found.len() > 50, "only {} imports found: the reader is broken", found.len());
    let problems = check(&files, LAYERS, ALLOWED);
    assert!(problems.is_empty(), "the core's layers are broken (ARCHITECTURE.md, \"Layers\"):\n{}", problems.join("\n"));
}

#[test]
fn an_upward_import_added_to_the_real_core_is_reported_as_a_loop() {
    let mut files = BTreeMap::new();
    read_tree(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), "", &mut files);
    let model = files.get_mut("model.rs").expect("model.rs");
    *model = format!("use crate::app;\n{model}");
    let problems = check(&files, LAYERS, ALLOWED);
    let text = problems.join("\n");
    assert!(text.contains("src/model.rs:1: model (layer 2, pure rules) imports app (layer 4, operations), a higher layer"), "{text}");
    assert!(text.contains("import loop app → model → app"), "{text}");
}

fn synthetic(files: &[(&str, &str)]) -> BTreeMap<String, String> {
    files.iter().map(|(p, t)| (p.to_string(), t.to_string())).collect()
}

const TOY_LAYERS: &[(&str, &[&str])] = &[("low", &["low", "leaf"]), ("mid", &["a", "b", "c"]), ("high", &["high", "ops"])];

#[test]
fn the_checker_reports_a_loop_and_an_upward_import_with_file_and_line() {
    let files = synthetic(&[
        ("lib.rs", "pub mod a;\npub mod b;\npub use high::Thing;\n"),
        ("a.rs", "use crate::leaf::X;\n\nfn f() {\n    crate::b::g();\n}\n"),
        ("b.rs", "//! see crate::high::Thing (a doc comment)\nuse crate::{leaf, c::Y};\n"),
        ("c.rs", "fn h() -> &'static str {\n    let _ = 'x';\n    \"crate::high::nothing\"\n}\n#[cfg(test)]\nmod tests {\n    use crate::a::f;\n}\n"),
        ("leaf.rs", "/* crate::high */ pub struct X;\n"),
        ("low.rs", "pub fn g() -> crate::Thing {\n    r#\"crate::a\"#;\n    todo!()\n}\n"),
        ("high.rs", "use crate::low;\npub struct Thing;\n"),
        ("ops/mod.rs", "pub mod dne;\npub mod mail;\n"),
        ("ops/dne.rs", "use crate::ops::mod_less;\nuse crate::a;\nuse super::mail::send;\n#[cfg(test)]\nmod tests {\n    use super::*;\n}\n"),
        ("ops/mail.rs", "pub fn send() {}\n"),
    ]);
    let (found, errors) = edges(&files);
    let pairs: BTreeSet<(&str, &str, &str, usize)> = found.iter().map(|e| (e.from.as_str(), e.to.as_str(), e.file.as_str(), e.line)).collect();
    let expected: BTreeSet<(&str, &str, &str, usize)> = [
        ("a", "leaf", "src/a.rs", 1),
        ("a", "b", "src/a.rs", 4),
        ("b", "leaf", "src/b.rs", 2),
        ("b", "c", "src/b.rs", 2),
        ("c", "a", "src/c.rs", 7),
        ("low", "high", "src/low.rs", 1),
        ("high", "low", "src/high.rs", 1),
        ("ops::dne", "ops", "src/ops/dne.rs", 1),
        ("ops::dne", "a", "src/ops/dne.rs", 2),
        ("ops::dne", "ops::mail", "src/ops/dne.rs", 3),
    ]
    .into();
    assert_eq!(pairs, expected, "comments, doc comments and strings are not imports");
    assert!(errors.is_empty(), "{errors:?}");

    let problems = check(&files, TOY_LAYERS, &[]);
    let text = problems.join("\n");
    assert!(text.contains("src/low.rs:1: low (layer 1, low) imports high (layer 3, high), a higher layer"), "{text}");
    assert!(text.contains("import loop a → b → c → a"), "{text}");
    assert!(text.contains("a → b at src/a.rs:4") && text.contains("b → c at src/b.rs:2") && text.contains("c → a at src/c.rs:7"), "{text}");
    assert!(text.contains("import loop high → low → high") || text.contains("import loop low → high → low"), "{text}");
    assert_eq!(problems.len(), 3, "one upward import and two loops, each once: {text}");

    // The allowlist exempts an import, and an entry nothing matches is itself a failure.
    let problems = check(&files, TOY_LAYERS, &[("low", "high", "someone"), ("c", "a", "someone"), ("leaf", "a", "someone")]);
    assert_eq!(problems, vec!["allowlist: leaf → a (someone) is imported nowhere any more: remove the entry".to_string()]);

    // A module missing from the table and a path to no module are named.
    let mut files = synthetic(&[("lib.rs", ""), ("a.rs", "use crate::nowhere::X;\n"), ("stray.rs", "")]);
    files.insert("b.rs".into(), String::new());
    let problems = check(&files, TOY_LAYERS, &[]);
    assert!(problems.contains(&"module stray has no layer: add it to the table".to_string()), "{problems:?}");
    let (_, errors) = edges(&files);
    assert_eq!(errors, vec!["src/a.rs:1: crate::nowhere::X names no module of the core".to_string()]);
}
