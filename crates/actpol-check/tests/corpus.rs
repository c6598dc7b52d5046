//! The failing corpus: every `tests/check/<case>.actpol` at the repository
//! root is checked as a policy to compile, and the rendered diagnostics are
//! snapshotted. Files under `tests/check/lib/` are imported by cases.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use actpol_check::{check, render_json, render_text, require_policy, Diagnostic, FileId, SourceDb};

/// Every code of docs/language.md "Checks and lints"; each needs a case.
const CODES: [&str; 58] = [
    "actpol::syntax::unexpected",
    "actpol::syntax::single_equals",
    "actpol::syntax::symbol_operator",
    "actpol::syntax::single_quote",
    "actpol::syntax::digit_group",
    "actpol::syntax::currency_symbol",
    "actpol::syntax::clock_time",
    "actpol::syntax::bidi_control",
    "actpol::check::unknown_type",
    "actpol::check::unknown_entity",
    "actpol::check::unknown_attribute",
    "actpol::check::unknown_action",
    "actpol::check::unknown_variant",
    "actpol::check::unknown_budget",
    "actpol::check::unknown_agent",
    "actpol::check::unknown_approver",
    "actpol::check::unknown_rule",
    "actpol::check::invalid_precedence",
    "actpol::check::unknown_workflow",
    "actpol::check::unknown_system",
    "actpol::check::unknown_data_class",
    "actpol::check::unknown_destination",
    "actpol::check::unknown_param",
    "actpol::check::unknown_context",
    "actpol::check::unknown_name",
    "actpol::check::unknown_import",
    "actpol::check::import_cycle",
    "actpol::check::self_import",
    "actpol::check::type_mismatch",
    "actpol::check::unit_mismatch",
    "actpol::check::optional_without_has",
    "actpol::check::too_many_hops",
    "actpol::check::constrain_unknown_param",
    "actpol::check::consume_type",
    "actpol::check::duplicate_name",
    "actpol::check::duplicate_member",
    "actpol::check::missing_member",
    "actpol::check::missing_reason",
    "actpol::check::invalid_outcome",
    "actpol::check::raise_not_stricter",
    "actpol::check::invalid_literal",
    "actpol::check::invalid_bounds",
    "actpol::check::invalid_pattern",
    "actpol::check::unknown_zone",
    "actpol::check::not_constant",
    "actpol::check::wrong_arity",
    "actpol::check::risk_out_of_scope",
    "actpol::check::no_policy",
    "actpol::check::duplicate_policy",
    "actpol::check::invalid_type",
    "actpol::lint::unmatched_pattern",
    "actpol::lint::never_fires",
    "actpol::lint::shadowed",
    "actpol::lint::unused_budget",
    "actpol::lint::unused_agent",
    "actpol::lint::allow_irreversible",
    "actpol::lint::has_required",
    "actpol::lint::guarded_by_has",
    "actpol::lint::invalid_suppression",
];

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn actpol_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("tests/check exists")
        .map(|e| e.expect("readable entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            actpol_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "actpol") {
            out.push(path);
        }
    }
}

/// Every corpus file, with its path relative to the repository root.
fn corpus() -> Vec<(String, String)> {
    let root = repo_root();
    let mut paths = Vec::new();
    actpol_files(&root.join("tests/check"), &mut paths);
    paths
        .into_iter()
        .map(|p| {
            let rel = p.strip_prefix(&root).expect("under the root");
            let text = std::fs::read_to_string(&p).expect("readable case");
            (rel.to_string_lossy().replace('\\', "/"), text)
        })
        .collect()
}

/// The cases: files directly in `tests/check/`.
fn cases(db: &SourceDb) -> Vec<(String, FileId)> {
    db.ids()
        .filter_map(|id| {
            let path = &db.file(id).path;
            let name = path.strip_prefix("tests/check/")?;
            (!name.contains('/')).then(|| (name.trim_end_matches(".actpol").to_string(), id))
        })
        .collect()
}

/// A case checked as a policy to compile: its diagnostics, and `no_policy`
/// when it has no header.
fn diagnostics(db: &SourceDb, id: FileId) -> Vec<Diagnostic> {
    let checked = check(db, id);
    let missing = require_policy(db, id, &checked);
    let mut diags = checked.diagnostics;
    diags.extend(missing);
    diags
}

#[test]
fn corpus_diagnostics_match_their_snapshots() {
    let files = corpus();
    let db = SourceDb::from_sources(files.iter().map(|(p, t)| (p.as_str(), t.as_str())));
    let cases = cases(&db);
    assert!(cases.len() >= 30, "the corpus has {} cases", cases.len());
    for (name, id) in cases {
        let diags = diagnostics(&db, id);
        assert!(!diags.is_empty(), "case `{name}` reports nothing");
        let codes: Vec<String> = diags.iter().map(Diagnostic::code).collect();
        let mut shown = format!("codes: {}\n\n", codes.join(", "));
        for d in &diags {
            shown.push_str(&render_text(&db, d, 100));
            shown.push('\n');
        }
        insta::assert_snapshot!(name, shown);
    }
}

/// The JSON form carries what the text form shows: every label (a second
/// declaration's "first declared here", the other operand of a clash) and
/// its place.
#[test]
fn json_diagnostics_carry_every_label() {
    let files = corpus();
    let db = SourceDb::from_sources(files.iter().map(|(p, t)| (p.as_str(), t.as_str())));
    for (name, id) in cases(&db) {
        if !["duplicate_name", "type_mismatch", "unit_mismatch"].contains(&name.as_str()) {
            continue;
        }
        let diags = diagnostics(&db, id);
        let shown: Vec<serde_json::Value> = diags.iter().map(|d| render_json(&db, d)).collect();
        let labels: usize = shown
            .iter()
            .map(|j| j["labels"].as_array().map_or(0, Vec::len))
            .sum();
        assert!(
            labels > diags.len(),
            "case `{name}` shows no second label: {shown:?}"
        );
        let pretty = serde_json::to_string_pretty(&shown).expect("json");
        insta::assert_snapshot!(format!("json_{name}"), pretty);
    }
}

#[test]
fn corpus_covers_every_code() {
    let files = corpus();
    let db = SourceDb::from_sources(files.iter().map(|(p, t)| (p.as_str(), t.as_str())));
    let mut seen = BTreeSet::new();
    for (_, id) in cases(&db) {
        seen.extend(diagnostics(&db, id).iter().map(Diagnostic::code));
    }
    let missing: Vec<&str> = CODES
        .iter()
        .copied()
        .filter(|c| !seen.contains(*c))
        .collect();
    assert!(missing.is_empty(), "no corpus case reports {missing:?}");
}

#[test]
fn every_case_is_named_for_a_code_it_reports() {
    // A case named after a code must report that code; others (such as
    // `many_errors_at_once`) may report anything but must report errors.
    let files = corpus();
    let db = SourceDb::from_sources(files.iter().map(|(p, t)| (p.as_str(), t.as_str())));
    for (name, id) in cases(&db) {
        let codes: Vec<String> = diagnostics(&db, id).iter().map(Diagnostic::code).collect();
        let named = CODES
            .iter()
            .find(|c| c.rsplit("::").next() == Some(name.as_str()));
        if let Some(code) = named {
            assert!(
                codes.iter().any(|c| c == code),
                "case `{name}` reports {codes:?}"
            );
        }
    }
}
