//! The architecture invariants that a change could break without any
//! behaviour test noticing, read from the repository itself so that a
//! violation fails here, not in review:
//!
//! - the runtime crates never link the parser, the checker, the IR or the
//!   compiler (read from their manifests);
//! - state sits on top of the runtime's interfaces: no runtime crate links a
//!   database or the store, the store links only the core contracts, and
//!   the PostgreSQL backend only those and the store's interface (read from
//!   their manifests);
//! - the command, the policy test runner, the server and the benchmark use
//!   actpol only through the facade, as any embedding program would (read
//!   from their manifests);
//! - every runtime error code is written out in one place, the
//!   `ErrorCode` enum of `actpol-core` (read from every Rust file under
//!   `crates/`, tests and comments included: elsewhere, code names it by
//!   its variant).

use std::path::{Path, PathBuf};

use actpol::ErrorCode;

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

/// What only a store may link: the runtime never knows where state lives.
const STORAGE: [&str; 6] = [
    "rusqlite",
    "postgres",
    "tokio-postgres",
    "sqlx",
    "actpol-store",
    "actpol-store-pg",
];

#[test]
fn the_runtime_never_knows_sql_and_the_store_only_the_core() {
    for krate in RUNTIME {
        let deps = table(&manifest(krate), "dependencies");
        for forbidden in STORAGE {
            assert!(
                !deps.iter().any(|d| d == forbidden),
                "{krate} depends on {forbidden}: the runtime must not know where state lives"
            );
        }
    }
    let store = table(&manifest("actpol-store"), "dependencies");
    assert!(
        store.iter().any(|d| d == "actpol-core"),
        "actpol-store: no `actpol-core` dependency read"
    );
    for dep in store.iter().filter(|d| d.starts_with("actpol")) {
        assert!(
            ["actpol-core", "actpol-vocab"].contains(&dep.as_str()),
            "actpol-store depends on {dep}: it sits on the core's state and ledger interfaces, \
             and is handed the decision to make"
        );
    }
    for forbidden in COMPILE_TIME {
        assert!(
            !store.iter().any(|d| d == forbidden),
            "actpol-store depends on {forbidden}"
        );
    }
    // A backend on a database server sits on the store's interface and
    // the core contracts, and nothing else of actpol.
    let pg = table(&manifest("actpol-store-pg"), "dependencies");
    assert!(
        pg.iter().any(|d| d == "actpol-store"),
        "actpol-store-pg: no `actpol-store` dependency read"
    );
    for dep in pg.iter().filter(|d| d.starts_with("actpol")) {
        assert!(
            ["actpol-core", "actpol-store"].contains(&dep.as_str()),
            "actpol-store-pg depends on {dep}: a backend knows the core contracts and the store's interface only"
        );
    }
}

/// Plans sit on the core's contracts (envelopes, decisions, the state
/// view) and decide through an interface the facade implements: they link
/// no compiler, no VM, no store, no database, no HTTP.
#[test]
fn plans_know_only_the_core() {
    let deps = table(&manifest("actpol-plan"), "dependencies");
    assert!(
        deps.iter().any(|d| d == "actpol-core"),
        "actpol-plan: no `actpol-core` dependency read"
    );
    for dep in deps.iter().filter(|d| d.starts_with("actpol")) {
        assert!(
            ["actpol-core", "actpol-vocab"].contains(&dep.as_str()),
            "actpol-plan depends on {dep}: it decides through the `Decider` the facade implements"
        );
    }
    for forbidden in STORAGE
        .iter()
        .chain(["axum", "hyper", "tokio", "pest"].iter())
    {
        assert!(
            !deps.iter().any(|d| d == forbidden),
            "actpol-plan depends on {forbidden}"
        );
    }
}

/// The crates that use actpol as an embedding program would, and the
/// workspace crates each may depend on.
const FACADE_USERS: [(&str, &[&str]); 4] = [
    ("actpol-cli", &["actpol", "actpol-testing", "actpol-server"]),
    ("actpol-server", &["actpol"]),
    ("actpol-testing", &["actpol"]),
    ("actpol-bench", &["actpol"]),
];

#[test]
fn the_command_and_the_test_runner_use_only_the_facade() {
    for (krate, allowed) in FACADE_USERS {
        let manifest = manifest(krate);
        let deps = table(&manifest, "dependencies");
        assert!(
            deps.iter().any(|d| d == "actpol"),
            "{krate}: no `actpol` dependency read"
        );
        for dep in deps.iter().chain(&table(&manifest, "dev-dependencies")) {
            assert!(
                !dep.starts_with("actpol") || allowed.contains(&dep.as_str()),
                "{krate} depends on {dep}: it may use only {allowed:?}, through their public API"
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

#[test]
fn runtime_error_codes_are_written_once() {
    let crates = crates_dir();
    let home = crates.join("actpol-core/src/error.rs");
    let mut files = Vec::new();
    rust_files(&crates, &mut files);
    assert!(files.len() > 100, "only {} Rust files found", files.len());
    let codes: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    let mut found = Vec::new();
    for file in files.iter().filter(|f| **f != home) {
        let text = std::fs::read_to_string(file).expect("a readable source file");
        for (number, line) in text.lines().enumerate() {
            if codes.iter().any(|code| mentions(line, code)) {
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
    assert!(
        found.is_empty(),
        "runtime error codes written outside actpol-core/src/error.rs (use `ErrorCode`):\n{}",
        found.join("\n")
    );

    // The check sees what it looks for: every code is in error.rs.
    let defined = std::fs::read_to_string(&home).expect("error.rs");
    for code in &codes {
        assert!(mentions(&defined, code), "error.rs does not write `{code}`");
    }
}

/// Whether `text` holds `code` as a whole word, not as the start of a
/// longer name.
fn mentions(text: &str, code: &str) -> bool {
    text.match_indices(code).any(|(at, _)| {
        let next = text[at + code.len()..].chars().next();
        !next.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}
