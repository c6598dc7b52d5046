//! Architecture invariant: the runtime crates never link the parser, the
//! checker, the IR or the compiler. Read from the manifests, so a new
//! dependency that breaks it fails here, not in review.

use std::path::Path;

const RUNTIME: [&str; 3] = ["actpol-vm", "actpol-bytecode", "actpol-core"];
const COMPILE_TIME: [&str; 5] = [
    "actpol-syntax",
    "actpol-check",
    "actpol-ir",
    "actpol-compiler",
    "pest",
];

/// The names in a manifest's `[dependencies]` table (not dev-dependencies:
/// tests may compile policies).
fn dependencies(manifest: &str) -> Vec<String> {
    let mut in_deps = false;
    let mut out = Vec::new();
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_deps = line == "[dependencies]";
            continue;
        }
        if in_deps {
            if let Some((name, _)) = line.split_once('=') {
                out.push(name.trim().split('.').next().unwrap_or("").to_string());
            }
        }
    }
    out
}

#[test]
fn runtime_crates_do_not_link_the_compiler() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for krate in RUNTIME {
        let manifest = std::fs::read_to_string(crates.join(krate).join("Cargo.toml")).unwrap();
        let deps = dependencies(&manifest);
        assert!(!deps.is_empty(), "{krate}: no dependencies read");
        for forbidden in COMPILE_TIME {
            assert!(
                !deps.iter().any(|d| d == forbidden),
                "{krate} depends on {forbidden}: the runtime must not link compile-time crates"
            );
        }
    }
}
