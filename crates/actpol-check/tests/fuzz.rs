//! Random and mutated policy text never makes the checker panic.

use std::path::Path;

use actpol_check::{check_all, SourceDb};
use proptest::prelude::*;

/// The corpus cases and the valid sample, as (path, text).
fn seeds() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut dirs = vec![root.join("tests/data"), root.join("../../tests/check")];
    let mut out = Vec::new();
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("seed dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "actpol") {
                let name = path
                    .file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .to_string();
                out.push((name, std::fs::read_to_string(&path).expect("seed")));
            }
        }
    }
    out.sort();
    out
}

/// Words that make mutations land on interesting paths of the checker.
const TOKENS: [&str; 24] = [
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    ".",
    ",",
    "->",
    "*",
    "\"x\"",
    "99999999999999999999",
    "0s",
    "25:00",
    "and",
    "not",
    "has",
    "params",
    "object",
    "risk",
    "budget",
    "USD",
    "Set<",
    "in",
];

#[derive(Clone, Debug)]
enum Edit {
    Delete(usize, usize),
    Insert(usize, usize),
    Swap(usize, usize),
    Duplicate(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), 1usize..4).prop_map(|(at, n)| Edit::Delete(at, n)),
        (any::<usize>(), 0..TOKENS.len()).prop_map(|(at, t)| Edit::Insert(at, t)),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Edit::Swap(a, b)),
        any::<usize>().prop_map(Edit::Duplicate),
    ]
}

/// Applies edits to the text's tokens (runs of non-blank characters), so
/// every mutation keeps the text valid UTF-8.
fn mutate(text: &str, edits: &[Edit]) -> String {
    let mut tokens: Vec<String> = text
        .split_inclusive(char::is_whitespace)
        .map(str::to_string)
        .collect();
    for e in edits {
        if tokens.is_empty() {
            tokens.push(String::new());
        }
        let n = tokens.len();
        match *e {
            Edit::Delete(at, k) => {
                let at = at % n;
                tokens.drain(at..(at + k).min(n));
            }
            Edit::Insert(at, t) => tokens.insert(at % (n + 1), format!("{} ", TOKENS[t])),
            Edit::Swap(a, b) => tokens.swap(a % n, b % n),
            Edit::Duplicate(at) => {
                let t = tokens[at % n].clone();
                tokens.insert(at % n, t);
            }
        }
    }
    tokens.concat()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn mutated_policies_never_panic(seed in any::<usize>(), edits in prop::collection::vec(edit(), 1..6)) {
        let seeds = seeds();
        let (name, text) = &seeds[seed % seeds.len()];
        let mutated = mutate(text, &edits);
        // The sample's schema stays beside it, so its import still resolves.
        let schema = seeds.iter().find(|(n, _)| n == "full_schema.actpol" && n != name);
        let sources = schema
            .map(|(n, t)| (n.as_str(), t.as_str()))
            .into_iter()
            .chain([(name.as_str(), mutated.as_str())]);
        let db = SourceDb::from_sources(sources);
        let _ = check_all(&db);
    }

    #[test]
    fn random_text_never_panics(text in "\\PC{0,300}") {
        let db = SourceDb::from_sources([("r.actpol", text.as_str())]);
        let _ = check_all(&db);
    }
}
