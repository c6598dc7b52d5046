//! Running test files: passing and failing cases, tables, overrides,
//! filters, coverage, and the renderings of a run.

mod common;

use actpol_testing::render;
use actpol_testing::{run, Kind, Options, RunReport, Status};
use common::Fixture;

fn run_at(f: &Fixture, options: &Options) -> RunReport {
    run(&[f.dir.path().to_path_buf()], options).expect("something to run")
}

fn statuses(report: &RunReport) -> Vec<(String, Status)> {
    report
        .suites
        .iter()
        .flat_map(|s| s.results.iter().map(|r| (r.name.clone(), r.status)))
        .collect()
}

#[test]
fn the_fixture_suite_passes() {
    let f = Fixture::new();
    let report = run_at(&f, &Options::default());
    let c = report.counts();
    assert_eq!((c.cases, c.passed, c.failed, c.broken), (9, 9, 0, 0));
    assert!(report.passed());
    let text = render::text(&report, false);
    assert!(
        text.ends_with("9 cases, 9 passed, 0 failed\nok\n"),
        "{text}"
    );
}

const FAILING: &str = r#"
policy = ".."
[template]
envelope = "../envelopes/send.json"

[[case]]
name = "a large send is routine"
set = { "action.params.recipients" = 5000 }
expect.decision = "allow"
expect.rules = ["routine_send"]
"#;

#[test]
fn a_failing_case_names_itself_both_decisions_and_their_rules() {
    let f = Fixture::new();
    f.write("tests/wrong.test.toml", FAILING);
    let report = run(&[f.path("tests/wrong.test.toml")], &Options::default()).unwrap();
    assert!(!report.passed());
    let result = &report.suites[0].results[0];
    assert_eq!(result.status, Status::Failed);
    let fields: Vec<&str> = result.differences.iter().map(|d| d.field).collect();
    assert_eq!(fields, ["decision", "rules"]);
    let text = render::text(&report, false);
    assert!(text.contains("FAIL a large send is routine"), "{text}");
    assert!(text.contains("wrong.test.toml:6)"), "{text}");
    assert!(text.contains("expected: allow, by routine_send"), "{text}");
    assert!(
        text.contains("got:      escalate to growth-lead, by bulk_send"),
        "{text}"
    );
    assert!(
        text.contains("- decision: expected allow, got escalate"),
        "{text}"
    );
    assert!(
        text.contains("- rules: expected [routine_send], got [bulk_send]"),
        "{text}"
    );
    assert!(text.contains("1 cases, 0 passed, 1 failed"), "{text}");
}

#[test]
fn table_rows_are_cases_that_pass_and_fail_alone() {
    let f = Fixture::new();
    f.write(
        "tests/size.test.toml",
        r#"
[template]
envelope = "../envelopes/send.json"

[[table]]
name = "size"
set = { "action.params.template" = "lib/other" }
columns = ["action.params.recipients", "expect.decision"]
rows = [
  ["small", 10, "allow"],
  ["edge", 1000, "allow"],
  ["bulk", 1001, "escalate"],
  ["mislabelled", 1001, "allow"],
]
"#,
    );
    let report = run(&[f.path("tests/size.test.toml")], &Options::default()).unwrap();
    assert_eq!(
        statuses(&report),
        [
            ("size / small".to_string(), Status::Passed),
            ("size / edge".to_string(), Status::Passed),
            ("size / bulk".to_string(), Status::Passed),
            ("size / mislabelled".to_string(), Status::Failed),
        ]
    );
    let lines: Vec<Option<usize>> = report.suites[0].results.iter().map(|r| r.line).collect();
    assert_eq!(lines, [Some(10), Some(11), Some(12), Some(13)]);
}

#[test]
fn overrides_add_change_and_remove_envelope_fields() {
    let f = Fixture::new();
    f.write(
        "tests/overrides.test.toml",
        r#"
[template]
envelope = "../envelopes/recall.json"

[[case]]
name = "a send built from the recall envelope"
set.action = { name = "outbound.send", params = { recipients = 20, template = "lib/a" } }
set.rollback = { kind = "compensate" }
expect.decision = "allow"
expect.rules = ["routine_send"]

[[case]]
name = "the same send without its plan"
set.action = { name = "outbound.send", params = { recipients = 20, template = "lib/a" } }
expect.decision = "constrain"

[[case]]
name = "an inline envelope"
envelope = { agent = { id = "growth-bot", owner = "maria@acme.example", workflow = "campaigns" }, action = { name = "outbound.recall" }, object = { type = "Sequence", id = "s", attrs = { audience = 1 } }, time = 2026-11-25T14:00:00Z }
expect.decision = "allow"
"#,
    );
    let report = run(&[f.path("tests/overrides.test.toml")], &Options::default()).unwrap();
    let c = report.counts();
    assert_eq!(
        (c.passed, c.failed),
        (3, 0),
        "{}",
        render::text(&report, false)
    );
}

#[test]
fn an_override_through_a_missing_object_points_at_its_path() {
    let f = Fixture::new();
    let text = "[template]\nenvelope = \"../envelopes/send.json\"\n\n[[case]]\nname = \"typo\"\nset = { \"action.parms.recipients\" = 5 }\nexpect.decision = \"allow\"\n";
    f.write("tests/typo.test.toml", text);
    let report = run(&[f.path("tests/typo.test.toml")], &Options::default()).unwrap();
    let d = &report.suites[0].diagnostics[0];
    assert_eq!(d.kind, Kind::BadOverride);
    let span = d.span.clone().unwrap();
    assert_eq!(&text[span], "\"action.parms.recipients\"");
    assert_eq!(d.help_text(), "did you mean `params`?");
    assert!(!report.passed());
}

#[test]
fn filters_select_cases_by_name() {
    let f = Fixture::new();
    let options = Options {
        filter: Some("send size".into()),
        ..Options::default()
    };
    let report = run_at(&f, &options);
    let names: Vec<String> = statuses(&report).into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        [
            "send size / 10 recipients",
            "send size / 1000 recipients",
            "send size / 1001 recipients"
        ]
    );
    let none = Options {
        filter: Some("no such case".into()),
        ..Options::default()
    };
    assert_eq!(run_at(&f, &none).counts().cases, 0);
}

#[test]
fn errors_in_a_decision_fail_a_case_that_does_not_expect_them() {
    let f = Fixture::new();
    f.write(
        "tests/errors.test.toml",
        r#"
[template]
envelope = "../envelopes/send.json"

[[case]]
name = "denied, but for a broken envelope"
set = { "action.params.recipients" = "many" }
expect.decision = "deny"
"#,
    );
    let report = run(&[f.path("tests/errors.test.toml")], &Options::default()).unwrap();
    let result = &report.suites[0].results[0];
    assert_eq!(result.status, Status::Failed);
    assert_eq!(result.differences[0].field, "errors");
    assert_eq!(
        result.differences[0].actual,
        format!("[{}]", actpol::ErrorCode::EnvelopeWrongType)
    );
}

#[test]
fn coverage_counts_matches_misses_and_raises() {
    let f = Fixture::new();
    let report = run_at(&f, &Options::default());
    let cov = &report.coverage[0];
    assert_eq!(cov.name, "mini");
    assert_eq!(cov.cases, 9);
    let rows: Vec<(&str, bool, u32, u32)> = cov
        .rules
        .iter()
        .map(|r| (r.name.as_str(), r.conditional, r.matched, r.not_matched))
        .collect();
    assert_eq!(
        rows,
        [
            ("routine_send", true, 5, 2),
            ("bulk_send", true, 1, 6),
            ("new_copy", true, 1, 6),
            ("recall", false, 1, 0),
        ]
    );
    assert_eq!(cov.raises[0].name, "rollback_needed");
    assert_eq!(cov.raises[0].fired, 1);
    assert_eq!(cov.branches(), (7, 7));
    assert!((cov.percent() - 100.0).abs() < f64::EPSILON);
}

#[test]
fn coverage_below_the_threshold_fails_the_run() {
    let f = Fixture::new();
    let options = Options {
        filter: Some("send size".into()),
        min_coverage: Some(60.0),
        ..Options::default()
    };
    let report = run_at(&f, &options);
    // Only the table ran: routine_send and bulk_send matched, 2 of 4.
    let cov = &report.coverage[0];
    assert_eq!(cov.rules_matched(), 2);
    assert!((cov.percent() - 50.0).abs() < f64::EPSILON);
    assert_eq!(report.counts().failed, 0);
    assert!(!report.passed());
    let text = render::text(&report, true);
    assert!(
        text.contains("rule coverage of `mini` (.) is 50.0%, below the required 60%: never matched: new_copy, recall")
            || text.contains("is 50.0%, below the required 60%: never matched: new_copy, recall"),
        "{text}"
    );
    assert!(
        text.contains("  recall                 0            -       0  never matched"),
        "{text}"
    );
    let enough = Options {
        min_coverage: Some(50.0),
        ..options
    };
    assert!(run_at(&f, &enough).passed());
}

#[test]
fn json_lines_each_parse_and_end_with_a_summary() {
    let f = Fixture::new();
    f.write("tests/wrong.test.toml", FAILING);
    let report = run_at(&f, &Options::default());
    let lines = render::json_lines(&report, true);
    let text: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    let parsed: Vec<serde_json::Value> = text
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let types: Vec<&str> = parsed.iter().map(|j| j["type"].as_str().unwrap()).collect();
    assert_eq!(types.iter().filter(|t| **t == "case").count(), 10);
    assert_eq!(types[types.len() - 2..], ["coverage", "summary"]);
    let failed = parsed.iter().find(|j| j["status"] == "fail").unwrap();
    assert_eq!(failed["name"], "a large send is routine");
    assert_eq!(failed["expected"]["decision"], "allow");
    assert_eq!(failed["actual"]["decision"], "escalate");
    assert_eq!(failed["actual"]["rules"][0], "bulk_send");
    assert_eq!(failed["differences"][0]["field"], "decision");
    let summary = parsed.last().unwrap();
    assert_eq!(summary["cases"], 10);
    assert_eq!(summary["failed"], 1);
    assert_eq!(summary["ok"], false);
}

#[test]
fn junit_is_well_formed_xml_with_a_failure_per_failing_case() {
    let f = Fixture::new();
    // TOML escapes the quotes; XML must escape them and the markup again.
    let odd = FAILING.replace("a large send is routine", r#"a <large> & \"odd\" send"#);
    f.write("tests/wrong.test.toml", &odd);
    f.write("tests/broken.test.toml", "[[case]\n");
    let report = run_at(
        &f,
        &Options {
            min_coverage: Some(100.0),
            ..Options::default()
        },
    );
    let xml = render::junit_xml(&report);
    let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    assert_eq!(root.attribute("tests"), Some("12"));
    assert_eq!(root.attribute("failures"), Some("1"));
    assert_eq!(root.attribute("errors"), Some("1"));
    let suites: Vec<&str> = root
        .children()
        .filter(|n| n.has_tag_name("testsuite"))
        .map(|n| n.attribute("name").unwrap())
        .collect();
    assert_eq!(suites.len(), 4);
    assert_eq!(suites[3], "coverage");
    let failure = doc
        .descendants()
        .find(|n| n.has_tag_name("failure"))
        .unwrap();
    let case = failure.parent().unwrap();
    assert_eq!(case.attribute("name"), Some("a <large> & \"odd\" send"));
    assert!(failure
        .text()
        .unwrap()
        .contains("- rules: expected [routine_send], got [bulk_send]"));
    let error = doc.descendants().find(|n| n.has_tag_name("error")).unwrap();
    assert_eq!(error.attribute("type"), Some("actpol::test::toml_syntax"));
}

#[test]
fn a_test_file_finds_its_policy_above_it_or_where_it_says() {
    let f = Fixture::new();
    f.write("tests/deep/er/x.test.toml", "[[case]]\nname = \"recall\"\nenvelope = \"../../../envelopes/recall.json\"\nexpect.decision = \"allow\"\n");
    let text = "policy = \"../nowhere\"\n";
    f.write("tests/lost.test.toml", text);
    let report = run_at(&f, &Options::default());
    let deep = report
        .suites
        .iter()
        .find(|s| s.file.ends_with("x.test.toml"))
        .unwrap();
    assert_eq!(deep.count(Status::Passed), 1);
    let lost = report
        .suites
        .iter()
        .find(|s| s.file.ends_with("lost.test.toml"))
        .unwrap();
    let d = &lost.diagnostics[0];
    assert_eq!(d.kind, Kind::NoPolicy);
    assert_eq!(&text[d.span.clone().unwrap()], "\"../nowhere\"");
}

#[test]
fn a_policy_with_errors_is_reported_against_the_test_file() {
    let f = Fixture::new();
    let policy = f.changed_policy(
        "broken",
        "params.recipients > 1000",
        "params.recipients > \"x\"",
    );
    std::fs::copy(f.path("envelopes/send.json"), policy.join("send.json")).unwrap();
    f.write(
        "broken/t.test.toml",
        "policy = \".\"\n[[case]]\nname = \"x\"\nenvelope = \"send.json\"\nexpect.decision = \"allow\"\n",
    );
    let report = run(&[f.path("broken/t.test.toml")], &Options::default()).unwrap();
    let d = &report.suites[0].diagnostics[0];
    assert_eq!(d.kind, Kind::InvalidPolicy);
    assert!(d.message.contains("has 1 error(s)"), "{}", d.message);
    assert!(
        d.render_text(100).contains("actpol::check::type_mismatch"),
        "{}",
        d.render_text(100)
    );
}

#[test]
fn nothing_to_run_is_an_error() {
    let f = Fixture::new();
    let err = run(&[f.path("envelopes")], &Options::default()).unwrap_err();
    assert_eq!(err.kind, Kind::NoTests);
    let err = run(&[f.path("nope")], &Options::default()).unwrap_err();
    assert_eq!(err.kind, Kind::NoSuchPath);
}
