//! The architecture invariants that a change could break without any
//! behaviour test noticing, read from the repository itself so that a
//! violation fails here, not in review:
//!
//! - the runtime crates never link the parser, the checker, the IR or the
//!   compiler (read from their manifests);
//! - every runtime error code is written out in one place, the
//!   `ErrorCode` enum of `actpol-core` (read from every Rust file).

use std::path::{Path, PathBuf};

fn crates_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

const RUNTIME: [&str; 4] = [
    "actpol-vm",
    "actpol-bytecode",
    "actpol-core",
    "actpol-vocab",
];
const COMPILE_TIME: [&str; 5] = [
    "actpol-syntax",
    "actpol-check",
    "actpol-ir",
    "actpol-compiler",
    "pest",
];

/// The names in a manifest's table `[table]`.
fn table(manifest: &str, table: &str) -> Vec<String> {
    let header = format!("[{table}]");
    let mut inside = false;
    let mut out = Vec::new();
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            inside = line == header;
            continue;
        }
        if inside {
            if let Some((name, _)) = line.split_once('=') {
                out.push(name.trim().split('.').next().unwrap_or("").to_string());
            }
        }
    }
    out
}

fn manifest(krate: &str) -> String {
    let path = crates_dir().join(krate).join("Cargo.toml");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn runtime_crates_do_not_link_the_compiler() {
    for krate in RUNTIME {
        // Not dev-dependencies: tests may compile policies.
        let deps = table(&manifest(krate), "dependencies");
        assert!(!deps.is_empty(), "{krate}: no dependencies read");
        for forbidden in COMPILE_TIME {
            assert!(
                !deps.iter().any(|d| d == forbidden),
                "{krate} depends on {forbidden}: the runtime must not link compile-time crates"
            );
        }
    }
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The families of runtime error codes: `actpol::<family>::<kind>`.
const FAMILIES: [&str; 5] = ["envelope", "eval", "state", "artifact", "load"];

#[test]
fn runtime_error_codes_are_written_once() {
    let crates = crates_dir();
    let home = crates.join("actpol-core/src/error.rs");
    let mut files = Vec::new();
    rust_files(&crates, &mut files);
    assert!(files.len() > 100, "only {} Rust files found", files.len());
    let mut found = Vec::new();
    for file in files.iter().filter(|f| **f != home) {
        let text = std::fs::read_to_string(file).expect("a readable source file");
        for (number, line) in text.lines().enumerate() {
            for family in FAMILIES {
                // As a string literal, or as a miette `code(…)` attribute.
                let quoted = format!("\"actpol::{family}::");
                let attribute = format!("code(actpol::{family}::");
                if line.contains(&quoted) || line.contains(&attribute) {
                    let shown = file.strip_prefix(&crates).unwrap_or(file);
                    found.push(format!(
                        "{}:{}: {}",
                        shown.display(),
                        number + 1,
                        line.trim()
                    ));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "runtime error codes written outside actpol-core/src/error.rs (use `ErrorCode`):\n{}",
        found.join("\n")
    );

    // The check itself sees what it looks for.
    let defined = std::fs::read_to_string(&home).expect("error.rs");
    for family in FAMILIES {
        assert!(
            defined.contains(&format!("\"actpol::{family}::")),
            "error.rs defines no `{family}` code"
        );
    }
}
