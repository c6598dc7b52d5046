//! `actpol test`, `actpol snapshot` and `actpol diff`, run as a user runs
//! them: the real binary, in a directory holding a small policy, its
//! envelopes and a test file.

use std::path::{Path, PathBuf};

mod common;

use common::{copy_dir, run_in, Run};

struct Workspace {
    dir: tempfile::TempDir,
}

impl Workspace {
    /// The fixture of `actpol-testing`: policy `mini`, four envelopes, a
    /// paired state and a passing test file.
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let fixture =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../actpol-testing/tests/fixtures/mini");
        copy_dir(&fixture, dir.path());
        Workspace { dir }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn write(&self, rel: &str, text: &str) {
        let path = self.path(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).unwrap()
    }

    fn actpol(&self, args: &[&str]) -> Run {
        run_in(self.dir.path(), args, "")
    }
}

const WRONG: &str = r#"
[template]
envelope = "../envelopes/send.json"

[[case]]
name = "a large send is routine"
set = { "action.params.recipients" = 5000 }
expect.decision = "allow"
expect.rules = ["routine_send"]
"#;

#[test]
fn a_passing_suite_exits_zero_and_lists_every_case() {
    let ws = Workspace::new();
    let run = ws.actpol(&["test"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.starts_with("tests/send.test.toml\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("  ok   send size / 1001 recipients\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("9 cases, 9 passed, 0 failed\n"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_failing_case_exits_one_with_its_diff() {
    let ws = Workspace::new();
    ws.write("tests/wrong.test.toml", WRONG);
    let run = ws.actpol(&["test", "tests"]);
    assert_eq!(run.code, 1);
    let out = &run.stdout;
    assert!(
        out.contains("  FAIL a large send is routine  (tests/wrong.test.toml:5)"),
        "{out}"
    );
    assert!(out.contains("expected: allow, by routine_send"), "{out}");
    assert!(
        out.contains("got:      escalate to growth-lead, by bulk_send"),
        "{out}"
    );
    assert!(
        out.contains("- decision: expected allow, got escalate"),
        "{out}"
    );
    assert!(
        out.contains("10 cases, 9 passed, 1 failed\nFAILED\n"),
        "{out}"
    );
}

#[test]
fn filter_runs_only_matching_cases() {
    let ws = Workspace::new();
    ws.write("tests/wrong.test.toml", WRONG);
    let run = ws.actpol(&["test", "--filter", "send size"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(
        run.stdout.contains("3 cases, 3 passed, 0 failed"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("a large send"), "{}", run.stdout);
}

#[test]
fn json_output_is_one_parseable_object_per_line() {
    let ws = Workspace::new();
    ws.write("tests/wrong.test.toml", WRONG);
    ws.write("tests/broken.test.toml", "[[case]\n");
    let run = ws.actpol(&["test", "--format", "json", "--coverage"]);
    assert_eq!(run.code, 1);
    let lines: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("`{l}` is not JSON: {e}")))
        .collect();
    let of_type = |t: &str| lines.iter().filter(|l| l["type"] == t).count();
    assert_eq!(of_type("case"), 10);
    assert_eq!(of_type("diagnostic"), 1);
    assert_eq!(of_type("coverage"), 1);
    let diagnostic = lines.iter().find(|l| l["type"] == "diagnostic").unwrap();
    assert_eq!(diagnostic["code"], "actpol::test::toml_syntax");
    assert_eq!(diagnostic["file"], "tests/broken.test.toml");
    assert_eq!(diagnostic["line"], 1);
    let summary = lines.last().unwrap();
    assert_eq!(summary["type"], "summary");
    assert_eq!(
        (summary["cases"].as_u64(), summary["failed"].as_u64()),
        (Some(10), Some(1))
    );
    assert_eq!(summary["broken_files"], 1);
}

#[test]
fn junit_output_parses_as_xml() {
    let ws = Workspace::new();
    ws.write("tests/wrong.test.toml", WRONG);
    let run = ws.actpol(&["test", "--junit", "report.xml"]);
    assert_eq!(run.code, 1);
    let xml = ws.read("report.xml");
    let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    assert_eq!(root.attribute("tests"), Some("10"));
    assert_eq!(root.attribute("failures"), Some("1"));
    let cases = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .count();
    assert_eq!(cases, 10);
    let failure = doc
        .descendants()
        .find(|n| n.has_tag_name("failure"))
        .unwrap();
    assert_eq!(
        failure.parent().unwrap().attribute("name"),
        Some("a large send is routine")
    );
}

#[test]
fn coverage_is_reported_and_enforced() {
    let ws = Workspace::new();
    let run = ws.actpol(&["test", "--coverage"]);
    assert_eq!(run.code, 0);
    assert!(
        run.stdout.contains("mini (.): 4 of 4 rules matched (100.0%), 7 of 7 outcome branches, 1 of 1 raises fired, 9 case(s)"),
        "{}",
        run.stdout
    );
    assert!(ws.actpol(&["test", "--min-coverage", "100"]).code == 0);

    let run = ws.actpol(&["test", "--filter", "send size", "--min-coverage", "75"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout
            .contains("is 50.0%, below the required 75%: never matched: new_copy, recall"),
        "{}",
        run.stdout
    );
}

#[test]
fn snapshot_record_check_change_accept() {
    let ws = Workspace::new();
    let run = ws.actpol(&[
        "snapshot",
        "--policy",
        ".",
        "--envelopes",
        "envelopes",
        "-o",
        "decisions.snapshot.json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("recorded 4 decision(s)"),
        "{}",
        run.stderr
    );
    let run = ws.actpol(&["test", "decisions.snapshot.json"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(
        run.stdout.contains("1 snapshot(s), 4 decisions, 0 changed"),
        "{}",
        run.stdout
    );

    let policy = ws.read("main.actpol");
    ws.write(
        "main.actpol",
        &policy.replace(
            "allow \"recalling stops contact\"",
            "escalate to growth-lead \"recalls need a look\"",
        ),
    );
    let run = ws.actpol(&["test"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout
            .contains("FAIL envelopes/recall.json  (decisions.snapshot.json)"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("- decision: recorded allow, now escalate"),
        "{}",
        run.stdout
    );
    // The test file's recall case fails too: the policy changed under it.
    assert!(
        run.stdout.contains("FAIL a recall goes ahead"),
        "{}",
        run.stdout
    );

    let run = ws.actpol(&["test", "decisions.snapshot.json", "--accept"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(run.stdout.contains("snapshot rewritten"), "{}", run.stdout);
    assert!(ws
        .read("decisions.snapshot.json")
        .contains("recalls need a look"));
    assert_eq!(ws.actpol(&["test", "decisions.snapshot.json"]).code, 0);
}

#[test]
fn diff_exits_one_and_names_exactly_the_changed_envelopes() {
    let ws = Workspace::new();
    let policy = ws.read("main.actpol");
    ws.write(
        "v2/main.actpol",
        &policy.replace("params.recipients > 1000", "params.recipients > 100"),
    );
    let run = ws.actpol(&[
        "diff",
        "--old",
        "main.actpol",
        "--new",
        "v2",
        "--envelopes",
        "envelopes",
    ]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .starts_with("1 of 4 envelope(s) decided differently\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("allow → escalate (1)\n  envelopes/send.json\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(
            "    old: allow, by routine_send\n    new: escalate to growth-lead, by bulk_send"
        ),
        "{}",
        run.stdout
    );

    let run = ws.actpol(&[
        "diff",
        "--old",
        "main.actpol",
        "--new",
        "v2",
        "--envelopes",
        "envelopes",
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 1);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["envelopes"], 4);
    assert_eq!(doc["changed"], 1);
    assert_eq!(doc["transitions"][0]["from"], "allow");
    assert_eq!(doc["transitions"][0]["to"], "escalate");
    assert_eq!(
        doc["transitions"][0]["envelopes"][0]["envelope"],
        "envelopes/send.json"
    );
    assert_eq!(
        doc["transitions"][0]["envelopes"][0]["new"]["rules"][0],
        "bulk_send"
    );

    let run = ws.actpol(&[
        "diff",
        "--old",
        "main.actpol",
        "--new",
        "main.actpol",
        "--envelopes",
        "envelopes",
    ]);
    assert_eq!(run.code, 0);
    assert_eq!(run.stdout, "no decision changes across 4 envelope(s)\n");
}

#[test]
fn broken_test_files_exit_one_with_a_pointed_diagnostic() {
    let ws = Workspace::new();
    for (name, text, code, place) in [
        ("syntax", "[[case]\n", "actpol::test::toml_syntax", ":1:"),
        ("key", "[[case]]\nname = \"x\"\nexpct.decision = \"allow\"\n", "actpol::test::unknown_key", ":3:1"),
        ("decision", "[[case]]\nname = \"x\"\nenvelope = \"../envelopes/send.json\"\nexpect.decision = \"yes\"\n", "actpol::test::unknown_decision", ":4:19"),
        ("row", "[[table]]\nname = \"t\"\nenvelope = \"../envelopes/send.json\"\ncolumns = [\"expect.decision\"]\nrows = [[\"a\"]]\n", "actpol::test::row_length", ":5:9"),
    ] {
        let file = format!("tests/{name}.test.toml");
        ws.write(&file, text);
        let run = ws.actpol(&["test", &file]);
        assert_eq!(run.code, 1, "{name}: {}", run.stdout);
        assert!(run.stdout.contains(code), "{name}: {}", run.stdout);
        assert!(run.stdout.contains(&format!("{file}{place}")), "{name}: {}", run.stdout);
        assert!(run.stdout.contains("1 file(s) could not run"), "{name}: {}", run.stdout);
    }
}

#[test]
fn snapshot_errors_are_diagnostics_in_either_format() {
    let ws = Workspace::new();
    let args = [
        "snapshot",
        "--policy",
        ".",
        "--envelopes",
        "nowhere",
        "-o",
        "x.snapshot.json",
    ];
    let run = ws.actpol(&args);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("actpol::test::no_such_path"),
        "{}",
        run.stderr
    );
    let run = ws.actpol(&[&args[..], &["--format", "json"]].concat());
    let j: serde_json::Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(j["code"], "actpol::test::no_such_path");
    assert!(!ws.path("x.snapshot.json").exists());
}

/// The example policies' own suites: every rule covered, every recorded
/// decision unchanged. A change to an example that moves a decision shows
/// here until its snapshot is accepted.
#[test]
fn the_examples_pass_with_full_coverage() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let run = run_in(&root, &["test", "examples", "--min-coverage", "100"], "");
    let stdout = run.stdout;
    assert_eq!(run.code, 0, "{stdout}");
    assert!(stdout.contains(" 0 failed\n"), "{stdout}");
    assert!(stdout.contains("4 snapshot(s)"), "{stdout}");
}

#[test]
fn usage_errors_exit_two() {
    let ws = Workspace::new();
    let run = ws.actpol(&["test", "no/such/dir"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("actpol::test::no_such_path"),
        "{}",
        run.stderr
    );
    assert_eq!(ws.actpol(&["test", "--min-coverage", "150"]).code, 2);
    assert_eq!(ws.actpol(&["test", "--no-such-flag"]).code, 2);
    assert_eq!(ws.actpol(&["diff", "--old", "main.actpol"]).code, 2);
    // Paths that exist but hold no tests fail rather than pass.
    let run = ws.actpol(&["test", "envelopes"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("actpol::test::no_tests"),
        "{}",
        run.stderr
    );
}

#[test]
fn condition_coverage_is_reported_written_as_lcov_and_enforced() {
    let ws = Workspace::new();
    let run = ws.actpol(&["test", "--coverage", "--lcov", "coverage.info"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("    conditions: "), "{}", run.stdout);
    let lcov = ws.read("coverage.info");
    assert!(lcov.starts_with("TN:mini\nSF:main.actpol\n"), "{lcov}");
    for record in ["FN:", "FNDA:", "BRDA:", "DA:", "end_of_record"] {
        assert!(lcov.contains(record), "{record} in {lcov}");
    }
    assert!(lcov.contains("FN:50,routine_send"), "{lcov}");

    assert!(
        run.stdout
            .contains("conditions: 20 of 20 outcomes seen (100.0%)"),
        "{}",
        run.stdout
    );
    let both = [
        "test",
        "--min-coverage",
        "100",
        "--min-coverage",
        "conditions=100",
    ];
    assert_eq!(ws.actpol(&both).code, 0);
    // The size table alone never fails to evaluate nor spends the budget.
    let run = ws.actpol(&[
        "test",
        "--filter",
        "send size",
        "--min-coverage",
        "conditions=90",
    ]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout
            .contains("condition coverage of `mini` (.) is 55.0%, below the required 90%"),
        "{}",
        run.stdout
    );
    assert_eq!(
        ws.actpol(&["test", "--min-coverage", "conditions=10"]).code,
        0
    );
    assert_eq!(
        ws.actpol(&["test", "--min-coverage", "branches=10"]).code,
        2
    );
    assert_eq!(
        ws.actpol(&["test", "--min-coverage", "conditions=150"])
            .code,
        2
    );
}

#[test]
fn mutants_are_reported_and_a_score_is_enforced() {
    let ws = Workspace::new();
    let run = ws.actpol(&["test", "--mutants"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("\nmutants\n  mini (.): "),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("    survived    main.actpol:"),
        "{}",
        run.stdout
    );
    let run = ws.actpol(&["test", "--min-mutation-score", "100"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout.contains("mutation score of `mini` (.) is"),
        "{}",
        run.stdout
    );
    assert_eq!(ws.actpol(&["test", "--min-mutation-score", "101"]).code, 2);
}

/// The example suites hold at least 90% of each policy's mutants in
/// place, and name every survivor with its place.
#[test]
fn the_examples_reach_their_mutation_score() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let run = run_in(
        &root,
        &[
            "test",
            "examples",
            "--mutants",
            "--min-mutation-score",
            "90",
            "--format",
            "json",
        ],
        "",
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
    let reports: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|l| l["type"] == "mutants")
        .collect();
    let names: Vec<&str> = reports
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["assistant", "finance", "growth", "support"]);
    for r in &reports {
        assert!(r["score"].as_f64().unwrap() >= 90.0, "{r}");
        assert_eq!(r["invalid"], 0, "{r}");
        for s in r["survivors"].as_array().unwrap() {
            assert!(s["file"].as_str().unwrap().starts_with("examples/"), "{s}");
            assert!(s["line"].as_u64().unwrap() > 0 && s["column"].as_u64().unwrap() > 0);
        }
    }
}
