//! The failing corpus: every `tests/check/<case>.actpol` at the repository
//! root is checked as a policy to compile, and the rendered diagnostics are
//! snapshotted. Files under `tests/check/lib/` are imported by cases.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use actpol_check::{check, render_json, render_text, require_policy, Diagnostic, FileId, SourceDb};

/// Every code of docs/language.md "Checks and lints"; each needs a case.
const CODES: &[&str] = &[
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

/// The code a help line suggests writing: "did you mean `x`?", or the
/// code after "write" or "write …:" (`write the amount with its currency:
/// `500 USD``). `None` for a help line that only explains, shows a use
/// ("as in `…`"), or whose code has a placeholder to fill in (`…`,
/// `<approver>`).
fn suggested_code(help: &str) -> Option<&str> {
    let after = help
        .find("did you mean `")
        .or_else(|| help.find("write "))?;
    let rest = &help[after..];
    let start = rest.find('`')? + 1;
    // "write `x`" or "write the amount with its currency: `x`"; not a
    // code named in a sentence, nor a use shown "as in `…`".
    let lead = rest[..start - 1].trim_end();
    if !(lead == "write" || lead.starts_with("did you mean") || lead.ends_with(':')) {
        return None;
    }
    let len = rest[start..].find('`')?;
    let code = &rest[start..start + len];
    let placeholder = code.contains('…')
        || code.split('<').skip(1).any(|p| {
            p.split('>')
                .next()
                .is_some_and(|w| w.chars().all(|c| c.is_ascii_lowercase() || c == ' '))
        });
    (!placeholder && !code.is_empty()).then_some(code)
}

/// `(start, end)` grown to whole words at either end: a syntax error marks
/// the first character of a misspelt word.
fn whole_words(text: &str, (mut start, mut end): (usize, usize)) -> (usize, usize) {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    while start > 0 && text[..start].ends_with(word) && text[start..].starts_with(word) {
        start -= 1;
    }
    while end < text.len() && text[..end].ends_with(word) && text[end..].starts_with(word) {
        end += 1;
    }
    (start, end)
}

/// `(start, end)` grown leftwards to as many words as `fix` has: a fix such
/// as `for agent bot` stands in for `for workflow bot`, where the mark is
/// on the name.
fn as_many_words(text: &str, (mut start, end): (usize, usize), fix: &str) -> (usize, usize) {
    let wanted = fix.split_whitespace().count();
    while text[start..end].split_whitespace().count() < wanted && start > 0 {
        let before = text[..start].trim_end();
        start = before.rfind(char::is_whitespace).map_or(0, |i| i + 1);
    }
    (start, end)
}

/// The words inside `(start, end)`, each as its own place.
fn words_within(text: &str, (start, end): (usize, usize)) -> Vec<(usize, usize)> {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut places = Vec::new();
    let mut at = start;
    while at < end {
        if text[at..].starts_with(word) && !text[..at].ends_with(word) {
            let len = text[at..end].find(|c: char| !word(c)).unwrap_or(end - at);
            places.push((at, at + len));
            at += len;
        } else {
            at += text[at..].chars().next().map_or(1, char::len_utf8);
        }
    }
    places
}

/// Every help line that suggests code is held to it: that code, written in
/// place of one of the places the diagnostic marks, makes the mistake go
/// without a syntax error or the same mistake in its place; a case whose
/// one error it is then compiles.
#[test]
fn suggested_fixes_fix_what_they_are_suggested_for() {
    let files = corpus();
    let db = SourceDb::from_sources(files.iter().map(|(p, t)| (p.as_str(), t.as_str())));
    let shown = |diags: &[Diagnostic]| -> Vec<String> {
        diags
            .iter()
            .map(|d| format!("{}: {}", d.code(), d.inner))
            .collect()
    };
    let mut tried = 0;
    for (name, id) in cases(&db) {
        let path = db.file(id).path.clone();
        let text = db.file(id).text.to_string();
        let before = diagnostics(&db, id);
        let errors_before = before.iter().filter(|d| d.is_error()).count();
        let before = shown(&before);
        for diag in diagnostics(&db, id) {
            let help = diag.inner.help().map(|h| h.to_string()).unwrap_or_default();
            let Some(fix) = suggested_code(&help) else {
                continue;
            };
            tried += 1;
            let code = format!("{}:", diag.code());
            let this = format!("{}: {}", diag.code(), diag.inner);
            let places: Vec<(usize, usize)> = diag
                .inner
                .labels()
                .into_iter()
                .flatten()
                .map(|l| whole_words(&text, (l.offset(), l.offset() + l.len())))
                .flat_map(|place| {
                    let mut places = vec![place, as_many_words(&text, place, fix)];
                    // A "did you mean" may correct one word of a longer
                    // mark (a misspelt lint in a whole `// allow(…)` line).
                    places.extend(words_within(&text, place));
                    places
                })
                .collect();
            let fixed = places.iter().any(|&(start, end)| {
                let changed = format!("{}{fix}{}", &text[..start], &text[end..]);
                let sources = files.iter().map(|(p, t)| {
                    let t = if *p == path {
                        changed.as_str()
                    } else {
                        t.as_str()
                    };
                    (p.as_str(), t)
                });
                let db = SourceDb::from_sources(sources);
                let after = diagnostics(&db, id);
                let errors_after = after.iter().filter(|d| d.is_error()).count();
                let after = shown(&after);
                // Gone, and not traded for a syntax error or the same
                // mistake elsewhere; a case with one error then compiles.
                // (A fixed name may reveal the next mistake, such as an
                // optional field read without `has`.)
                let new: Vec<&String> = after.iter().filter(|d| !before.contains(d)).collect();
                !after.contains(&this)
                    && !new
                        .iter()
                        .any(|d| d.starts_with("actpol::syntax::") || d.starts_with(&code))
                    && (errors_before > 1 || errors_after == 0)
            });
            assert!(
                fixed,
                "case `{name}`: writing `{fix}` as `{}` suggests ({help}) does not fix it",
                diag.code()
            );
        }
    }
    assert!(tried >= 15, "only {tried} suggested fixes were tried");
}
