//! The façade (ARCHITECTURE.md, "The façade"): `lib.rs` declares every module through
//! `internal!` (`pub(crate)`, `pub` only with the feature `internals`) or as a private `mod`,
//! never as `pub mod`, so the crate's public face is only its `pub use` lines. (That the CLI
//! and the window build against the façade alone is checked by `scripts/test.sh`, which
//! builds them without the tests' `internals`.)

use std::path::Path;

/// The problems of a `lib.rs` text: a public module declaration, or a module file under `src/`
/// that `lib.rs` does not declare.
fn problems(lib: &str, module_files: &[String]) -> Vec<String> {
    let code: Vec<&str> = lib.lines().map(|l| l.split("//").next().unwrap_or("").trim()).collect();
    let mut found = Vec::new();
    for (i, line) in code.iter().enumerate() {
        // `pub mod $name;` inside the macro is the `internals` branch.
        if line.starts_with("pub mod ") && !line.contains('$') {
            found.push(format!("src/lib.rs:{}: `{line}` makes a module public: declare it in `internal!` instead", i + 1));
        }
    }
    let Some(start) = code.iter().position(|l| l.starts_with("internal!(")) else {
        found.push("src/lib.rs declares no `internal!(…);` list".into());
        return found;
    };
    let declared: Vec<String> = code[start + 1..]
        .iter()
        .take_while(|l| !l.starts_with(");"))
        .filter(|l| !l.starts_with("#["))
        .map(|l| l.trim_end_matches(';').to_string())
        .chain(code.iter().filter_map(|l| l.strip_prefix("mod ").map(|m| m.trim_end_matches(';').to_string())))
        .collect();
    for m in module_files {
        if !declared.contains(m) {
            found.push(format!("src/{m}: not declared in lib.rs (`internal!` or a private `mod`)"));
        }
    }
    found
}

#[test]
fn every_core_module_is_internal() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let lib = std::fs::read_to_string(src.join("lib.rs")).expect("lib.rs");
    let mut modules: Vec<String> = std::fs::read_dir(&src)
        .expect("src")
        .map(|e| e.expect("entry").path())
        .filter_map(|p| {
            let name = p.file_name()?.to_str()?.to_string();
            if p.is_dir() {
                Some(name)
            } else {
                name.strip_suffix(".rs").filter(|n| *n != "lib").map(String::from)
            }
        })
        .collect();
    modules.sort();
    assert!(modules.len() > 20, "read {} modules", modules.len());
    let found = problems(&lib, &modules);
    assert!(found.is_empty(), "the core's façade is widened (ARCHITECTURE.md, \"The façade\"):\n{}", found.join("\n"));
}

#[test]
fn a_public_module_is_reported() {
    let lib = "internal!(\n    app;\n    #[cfg(test)]\n    keys;\n);\nmod ops;\npub mod store; // oops\npub(crate) mod other;\nmacro_rules! m {\n    ($name:ident) => { pub mod $name; };\n}\n";
    let files = ["app", "keys", "ops", "store", "other", "stray"].map(String::from);
    assert_eq!(
        problems(lib, &files),
        vec![
            "src/lib.rs:7: `pub mod store;` makes a module public: declare it in `internal!` instead".to_string(),
            "src/store: not declared in lib.rs (`internal!` or a private `mod`)".to_string(),
            "src/other: not declared in lib.rs (`internal!` or a private `mod`)".to_string(),
            "src/stray: not declared in lib.rs (`internal!` or a private `mod`)".to_string(),
        ]
    );
}
