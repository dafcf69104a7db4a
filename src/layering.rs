//! The crate's layering, checked on its own sources (run by `make lint`
//! and with the unit tests): only the glue (`src/filter*`) talks to the
//! host through `proxy_wasm`, and only the glue, the `jwt-guard` command
//! (`src/cli*`) and the compiler itself (`src/config*`) name the config
//! compiler. Everything else owns its
//! compiled types, so the module graph points one way:
//! `filter → config → rules → {authn, authz} → {jwt, jws, jwks, crypto, …}`.
//! Test fixtures (`src/fixtures.rs`) build policies through the compiler.

use std::fs;
use std::path::{Path, PathBuf};

/// Files allowed to import `crate::config`.
fn may_import_config(file: &str) -> bool {
    file.starts_with("src/config")
        || file.starts_with("src/filter")
        || file.starts_with("src/cli")
        || file == "src/fixtures.rs"
}

/// Files allowed to use `proxy_wasm`.
fn may_use_proxy_wasm(file: &str) -> bool {
    file.starts_with("src/filter")
}

/// The code of `text` without `//` comments (doc comments name modules in
/// prose, which is no import).
fn code(text: &str) -> String {
    text.lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Whether `code` imports the `config` module: `crate::config` anywhere, or
/// `config` inside a `use crate::{...}` group.
fn imports_config(code: &str) -> bool {
    let named = code
        .match_indices("crate::config")
        .any(|(i, m)| !is_ident(code[i + m.len()..].chars().next()));
    let grouped = code.match_indices("crate::{").any(|(i, m)| {
        let group = &code[i + m.len()..];
        let group = &group[..group.find(';').unwrap_or(group.len())];
        group
            .split(|c: char| c == ',' || c == '{' || c == '}' || c.is_whitespace())
            .any(|w| w == "config" || w.starts_with("config::"))
    });
    named || grouped
}

fn is_ident(c: Option<char>) -> bool {
    c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn uses_proxy_wasm(code: &str) -> bool {
    code.contains("proxy_wasm")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("src is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every `(file, rule broken)` in the crate's sources.
fn violations() -> Vec<(String, &'static str)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    assert!(files.len() > 50, "found only {} source files", files.len());
    let mut out = Vec::new();
    for path in files {
        let file = path
            .strip_prefix(root)
            .expect("under the crate")
            .to_string_lossy()
            .replace('\\', "/");
        if file == "src/layering.rs" {
            continue; // names the rules it checks
        }
        let text = code(&fs::read_to_string(&path).expect("a UTF-8 source file"));
        if imports_config(&text) && !may_import_config(&file) {
            out.push((file.clone(), "imports crate::config"));
        }
        if uses_proxy_wasm(&text) && !may_use_proxy_wasm(&file) {
            out.push((file, "uses proxy_wasm"));
        }
    }
    out
}

#[test]
fn layering_only_the_glue_and_the_compiler_import_config_and_only_the_glue_uses_the_host() {
    assert_eq!(violations(), Vec::<(String, &str)>::new());
}

#[test]
fn layering_check_catches_every_way_to_import() {
    for line in [
        "use crate::config;",
        "use crate::config::compile;",
        "let c = crate::config::compile(t);",
        "use crate::{config, rules};",
        "use crate::{rules, config::Compiled};",
        "use crate::{\n    authn::Provider,\n    config::{self, Compiled},\n};",
    ] {
        assert!(imports_config(&code(line)), "{line}");
    }
    for line in [
        "use crate::configuration;",
        "use crate::{rules, authn::config_of};",
        "/// see `crate::config` for the compiler",
        "let config = policy;",
    ] {
        assert!(!imports_config(&code(line)), "{line}");
    }
    assert!(uses_proxy_wasm("use proxy_wasm::hostcalls;"));
    assert!(!uses_proxy_wasm(&code("// no proxy_wasm here")));
    assert!(may_import_config("src/config/istio/authn.rs") && may_import_config("src/filter.rs"));
    assert!(!may_import_config("src/rules.rs") && !may_use_proxy_wasm("src/callout.rs"));
}
