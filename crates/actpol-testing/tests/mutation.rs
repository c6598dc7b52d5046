//! Mutation testing, tested: a policy whose suite is weak on purpose
//! reports exactly the survivors its cases leave, equivalence marks are
//! held to what they claim, reports do not depend on scheduling, and the
//! threshold changes the example suites once let through now fail them.

mod common;

use std::path::{Path, PathBuf};

use actpol_testing::mutation::Outcome;
use actpol_testing::render;
use actpol_testing::{run, Kind, MutationReport, Options, RunReport};
use common::copy_dir;

fn fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/weak");
    copy_dir(&source, dir.path());
    dir
}

fn mutants(threads: usize) -> Options {
    Options {
        mutants: true,
        threads,
        ..Options::default()
    }
}

fn run_mutants(dir: &Path, threads: usize) -> RunReport {
    run(&[dir.to_path_buf()], &mutants(threads)).expect("something to run")
}

fn only(report: &RunReport) -> &MutationReport {
    assert_eq!(report.mutation.len(), 1, "one policy under test");
    &report.mutation[0]
}

fn survivors(m: &MutationReport) -> Vec<&str> {
    m.survivors().map(|r| r.mutant.id.as_str()).collect()
}

/// The fixture's two cases (10 recipients allowed, 5000 escalated) sit far
/// from every boundary, never leave the agent's scope, never reach the
/// default or an error, and never look at budgets. Each survivor below is a
/// part of the policy they leave loose; the five killed mutants are the ones
/// that turn one of those two decisions around.
const WEAK_SURVIVORS: [&str; 18] = [
    // No case is decided by the default or fails to evaluate.
    "main.actpol:6:11: default `deny` → `escalate to growth-lead`",
    "main.actpol:7:12: on_error `deny` → `escalate to growth-lead`",
    // The only sequence has an audience of 4000: the scope is never left,
    // nor its boundary approached.
    "main.actpol:34:28: record predicate `object.audience <= 10_000` removed",
    "main.actpol:34:44: `<=` → `<`",
    "main.actpol:34:47: `10_000` → `9_999`",
    "main.actpol:34:47: `10_000` → `10_001`",
    // No case looks at the budget, nor comes near its limit.
    "main.actpol:39:9: `5_000` → `4_999`",
    "main.actpol:39:9: `5_000` → `5_001`",
    "main.actpol:42:16: `escalate to growth-lead` → `constrain`",
    // small_send matching the large send only adds a budget line to an
    // escalation, which no case checks.
    "main.actpol:47:8: `params.recipients <= 100` dropped: the rule always applies",
    // 10 and 5000 are far from 100: the boundary moves unnoticed.
    "main.actpol:47:26: `<=` → `<`",
    "main.actpol:47:29: `100` → `99`",
    "main.actpol:47:29: `100` → `101`",
    "main.actpol:49:20: `params.recipients` → `params.recipients + 1`",
    "main.actpol:49:20: `params.recipients` → `params.recipients - 1`",
    "main.actpol:54:26: `>` → `>=`",
    "main.actpol:54:28: `100` → `99`",
    "main.actpol:54:28: `100` → `101`",
];

#[test]
fn a_weak_suite_reports_the_survivors_it_leaves() {
    let dir = fixture();
    let report = run_mutants(dir.path(), 2);
    let m = only(&report);
    assert_eq!(survivors(m), WEAK_SURVIVORS);
    let c = m.counts();
    assert_eq!(
        (c.mutants, c.killed, c.equivalent, c.invalid),
        (23, 5, 0, 0)
    );
    assert!((m.score() - 5.0 * 100.0 / 23.0).abs() < 1e-9);
    // Without a threshold, survivors are reported, not failed.
    assert!(report.passed());
}

#[test]
fn killed_mutants_name_the_first_case_that_fails() {
    let dir = fixture();
    let report = run_mutants(dir.path(), 1);
    let killed: Vec<(&str, &str)> = only(&report)
        .results
        .iter()
        .filter_map(|r| match &r.outcome {
            Outcome::Killed { case, .. } => Some((r.mutant.id.as_str(), case.as_str())),
            _ => None,
        })
        .collect();
    assert_eq!(
        killed,
        [
            ("main.actpol:34:44: `<=` → `>`", "a small send goes ahead"),
            ("main.actpol:47:26: `<=` → `>`", "a small send goes ahead"),
            (
                "main.actpol:54:8: `params.recipients > 100` dropped: the rule always applies",
                "a small send goes ahead"
            ),
            ("main.actpol:54:26: `>` → `<=`", "a small send goes ahead"),
            (
                "main.actpol:55:3: `escalate to growth-lead` → `constrain`",
                "a large send needs a human"
            ),
        ]
    );
}

#[test]
fn survivors_come_with_an_envelope_that_kills_them_when_one_is_near() {
    let dir = fixture();
    let report = run_mutants(dir.path(), 2);
    let m = only(&report);
    let suggestion = |id: &str| {
        m.results
            .iter()
            .find(|r| r.mutant.id == id)
            .and_then(|r| match &r.outcome {
                Outcome::Survived { suggestion } => suggestion.clone(),
                _ => None,
            })
            .unwrap_or_else(|| panic!("a suggestion for `{id}`"))
    };
    // The boundary itself tells `<=` from `<`.
    let s = suggestion("main.actpol:47:26: `<=` → `<`");
    assert_eq!(s.case, "a small send goes ahead");
    assert_eq!(
        s.set,
        [("action.params.recipients".to_string(), Some(100.into()))]
    );
    assert_eq!(s.policy.decision, actpol::Level::Allow);
    assert_eq!(s.mutant.decision, actpol::Level::Deny);
    // A case that already decides differently, unnoticed, is named as is.
    let s = suggestion("main.actpol:49:20: `params.recipients` → `params.recipients + 1`");
    assert!(s.set.is_empty());
    assert_ne!(s.policy.budgets, s.mutant.budgets);
    // Nothing in the suite reaches the default.
    assert!(m
        .results
        .iter()
        .find(|r| r.mutant.id.starts_with("main.actpol:6:11"))
        .is_some_and(|r| matches!(r.outcome, Outcome::Survived { suggestion: None })));
}

#[test]
fn reports_do_not_depend_on_threads() {
    let dir = fixture();
    let one = run_mutants(dir.path(), 1);
    let four = run_mutants(dir.path(), 4);
    let outcomes = |r: &RunReport| -> Vec<(String, Outcome)> {
        only(r)
            .results
            .iter()
            .map(|x| (x.mutant.id.clone(), x.outcome.clone()))
            .collect()
    };
    assert_eq!(outcomes(&one), outcomes(&four));
}

fn mark(dir: &Path, mutant: &str, reason: &str) -> PathBuf {
    let path = dir.join("tests/weak.test.toml");
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str(&format!(
        "\n[[equivalent]]\nmutant = {mutant:?}\nreason = {reason:?}\n"
    ));
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_marked_survivor_is_equivalent_and_leaves_the_score() {
    let dir = fixture();
    mark(
        dir.path(),
        "main.actpol:7:12: on_error `deny` → `escalate to growth-lead`",
        "nothing in this policy can fail to evaluate",
    );
    let report = run_mutants(dir.path(), 2);
    let m = only(&report);
    let c = m.counts();
    assert_eq!((c.killed, c.survived, c.equivalent), (5, 17, 1));
    assert!((m.score() - 5.0 * 100.0 / 22.0).abs() < 1e-9);
    let text = render::mutation_text(&report.mutation);
    assert!(
        text.contains("equivalent  main.actpol:7:12: on_error `deny` → `escalate to growth-lead`")
            && text.contains("nothing in this policy can fail to evaluate"),
        "{text}"
    );
    assert!(report.passed());
}

#[test]
fn a_mark_on_a_killed_mutant_fails_the_run() {
    let dir = fixture();
    mark(
        dir.path(),
        "main.actpol:47:26: `<=` → `>`",
        "claimed, wrongly",
    );
    let report = run_mutants(dir.path(), 2);
    let problems: Vec<_> = report.mutation_problems().collect();
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].kind, Kind::NotEquivalent);
    assert!(problems[0]
        .message
        .contains("case `a small send goes ahead`"));
    assert!(problems[0].line_column().is_some(), "points at the mark");
    assert!(!report.passed());
}

#[test]
fn a_mark_that_names_no_mutant_fails_the_run_with_the_closest_id() {
    let dir = fixture();
    // The survivor's line as it was before an edit moved it.
    mark(dir.path(), "main.actpol:48:26: `<=` → `<`", "stale");
    let report = run_mutants(dir.path(), 2);
    let problems: Vec<_> = report.mutation_problems().collect();
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].kind, Kind::UnknownMutant);
    assert!(
        problems[0]
            .help_text()
            .contains("main.actpol:47:26: `<=` → `<`"),
        "{}",
        problems[0].help_text()
    );
    assert!(!report.passed());
}

#[test]
fn a_mark_needs_a_reason() {
    let dir = fixture();
    mark(dir.path(), "main.actpol:34:44: `<=` → `<`", " ");
    let report = run_mutants(dir.path(), 2);
    let d = &report.suites[0].diagnostics;
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].kind, Kind::InvalidValue);
    assert!(!report.passed());
}

#[test]
fn a_score_below_the_threshold_fails_the_run_and_says_why() {
    let dir = fixture();
    let options = Options {
        min_mutation_score: Some(90.0),
        ..mutants(2)
    };
    let report = run(&[dir.path().to_path_buf()], &options).unwrap();
    assert!(!report.passed());
    let text = render::text(&report, false);
    assert!(
        text.contains("mutation score of `weak`")
            && text.contains("is 21.7%, below the required 90%: 18 survivor(s)"),
        "{text}"
    );
    let junit = render::junit_xml(&report);
    let doc = roxmltree::Document::parse(&junit).expect("well-formed XML");
    let suite = doc
        .descendants()
        .find(|n| n.has_tag_name("testsuite") && n.attribute("name") == Some("mutation"))
        .expect("a mutation suite");
    assert_eq!(suite.attribute("failures"), Some("1"));
}

#[test]
fn json_lines_carry_each_survivor_with_its_span() {
    let dir = fixture();
    let report = run_mutants(dir.path(), 2);
    let lines = render::json_lines(&report, false);
    let m = lines
        .iter()
        .find(|l| l["type"] == "mutants")
        .expect("a mutants line");
    assert_eq!(m["mutants"], 23);
    assert_eq!(m["killed"], 5);
    assert_eq!(m["by_kind"]["threshold_moved"]["mutants"], 8);
    let survivors = m["survivors"].as_array().unwrap();
    assert_eq!(survivors.len(), 18);
    let first = &survivors[2];
    assert_eq!(first["kind"], "scope_predicate_removed");
    assert_eq!(first["line"], 34);
    assert_eq!(first["column"], 28);
    assert_eq!(first["owner"]["kind"], "scope");
    assert_eq!(first["status"], "survived");
    let span = &first["span"];
    let text = std::fs::read_to_string(dir.path().join("main.actpol")).unwrap();
    let (start, end) = (
        span["start"].as_u64().unwrap() as usize,
        span["end"].as_u64().unwrap() as usize,
    );
    assert_eq!(&text[start..end], "object.audience <= 10_000");
    assert_eq!(lines.last().unwrap()["type"], "summary");
}

/// The threshold changes that once left the example suites green (each
/// threshold tripled): each now fails some case.
#[test]
fn the_threshold_changes_the_examples_once_missed_now_fail_them() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let changes = [
        (
            "growth",
            "crm.actpol",
            "risk.account_weight < 50_000 USD",
            "risk.account_weight < 150_000 USD",
            0,
        ),
        (
            "support",
            "identities.actpol",
            "object.amount <= 10_000 USD",
            "object.amount <= 30_000 USD",
            0,
        ),
        (
            "support",
            "identities.actpol",
            "object.amount <= 10_000 USD",
            "object.amount <= 30_000 USD",
            1,
        ),
        (
            "finance",
            "identities.actpol",
            "object.amount <= 250_000 USD",
            "object.amount <= 750_000 USD",
            0,
        ),
    ];
    for (set, file, from, to, nth) in changes {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(&examples.join(set), dir.path());
        let path = dir.path().join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        let at = text
            .match_indices(from)
            .nth(nth)
            .unwrap_or_else(|| panic!("{set}/{file} holds `{from}` ({nth})"))
            .0;
        let changed = format!("{}{to}{}", &text[..at], &text[at + from.len()..]);
        std::fs::write(&path, changed).unwrap();
        let report = run(&[dir.path().join("tests")], &Options::default()).unwrap();
        let failed: Vec<&str> = report
            .suites
            .iter()
            .flat_map(|s| s.results.iter())
            .filter(|r| r.status == actpol_testing::Status::Failed)
            .map(|r| r.name.as_str())
            .collect();
        assert!(
            !failed.is_empty() && report.counts().broken == 0,
            "{set}: `{from}` → `{to}` (occurrence {nth}) fails no case"
        );
    }
}

#[test]
fn a_policy_tested_as_an_artifact_has_no_mutants_and_fails_a_threshold() {
    let dir = fixture();
    let policy = actpol::Policy::from_paths(&[dir.path()]).unwrap();
    std::fs::write(
        dir.path().join("weak.actpolc"),
        policy.to_artifact_bytes().unwrap(),
    )
    .unwrap();
    let path = dir.path().join("tests/weak.test.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, format!("policy = \"../weak.actpolc\"\n{text}")).unwrap();
    let report = run_mutants(dir.path(), 2);
    let m = only(&report);
    assert!(m
        .not_run
        .as_deref()
        .is_some_and(|why| why.contains("compiled artifact")));
    assert!(m.results.is_empty());
    assert!(report.passed(), "no threshold, nothing to fail");
    let options = Options {
        min_mutation_score: Some(50.0),
        ..mutants(2)
    };
    assert!(!run(&[dir.path().to_path_buf()], &options).unwrap().passed());
}
