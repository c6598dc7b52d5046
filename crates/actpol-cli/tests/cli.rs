//! `check`, `fmt`, `compile`, `eval`, `explain` and `disasm`, run as a user
//! runs them: the real binary, from the repository root, on the shipped
//! examples and the failing corpus. Each test checks an exit code and what
//! the output says.

use actpol::{ErrorCode, ErrorFamily};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

mod common;

use common::{copy_dir, run_in, Run};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs `actpol args…` from the repository root, `stdin` piped in.
fn actpol_with(args: &[&str], stdin: &str) -> Run {
    run_in(&root(), args, stdin)
}

fn actpol(args: &[&str]) -> Run {
    actpol_with(args, "")
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"))
}

const GROWTH_ENVELOPE: &str = "examples/growth/envelopes/bulk-send-escalates.json";

#[test]
fn the_examples_check_and_are_formatted() {
    let run = actpol(&["check", "examples/"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("0 error(s), 0 warning(s)"),
        "{}",
        run.stderr
    );
    let run = actpol(&["fmt", "--check", "examples/"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("0 would change"), "{}", run.stderr);
}

#[test]
fn fmt_rewrites_what_check_mode_reports() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("p.actpol");
    std::fs::write(&file, "enum   Tier {gold,silver}\nsystem crm\n").unwrap();
    let path = file.to_str().unwrap();
    let run = actpol(&["fmt", "--check", path]);
    assert_eq!(run.code, 1, "a file that would change fails the check");
    assert!(run.stdout.contains("is not formatted"), "{}", run.stdout);
    assert_eq!(actpol(&["fmt", path]).code, 0);
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "enum Tier { gold, silver }\nsystem crm\n"
    );
    assert_eq!(actpol(&["fmt", "--check", path]).code, 0);
}

/// Every diagnostic over the failing corpus, as JSON: the fields of the
/// JSON diagnostic form on each, and at least 20 distinct codes.
#[test]
fn check_json_over_the_corpus_names_file_span_line_column_and_help() {
    let run = actpol(&["check", "--format", "json", "tests/check"]);
    assert_eq!(run.code, 1, "the corpus holds errors");
    let mut codes = BTreeSet::new();
    for line in run.stdout.lines() {
        let d = json(line);
        for field in [
            "code", "severity", "message", "file", "line", "column", "help",
        ] {
            assert!(!d[field].is_null(), "no `{field}` in {d}");
        }
        assert!(
            d["span"]["start"].as_u64().is_some() && d["span"]["end"].as_u64().is_some(),
            "{d}"
        );
        assert!(
            d["line"].as_u64().unwrap() >= 1 && d["column"].as_u64().unwrap() >= 1,
            "{d}"
        );
        assert!(
            d["file"].as_str().unwrap().starts_with("tests/check/"),
            "{d}"
        );
        assert!(
            !d["help"].as_str().unwrap().is_empty(),
            "an empty help in {d}"
        );
        codes.insert(d["code"].as_str().unwrap().to_string());
    }
    let errors = codes
        .iter()
        .filter(|c| c.starts_with("actpol::check::"))
        .count();
    assert!(
        errors >= 20,
        "only {errors} distinct error codes: {codes:?}"
    );
}

#[test]
fn eval_prints_the_decision_contract() {
    let run = actpol(&[
        "eval",
        "--policy",
        "examples/growth",
        "--envelope",
        GROWTH_ENVELOPE,
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let d = json(&run.stdout);
    for field in [
        "decision",
        "reasons",
        "rules",
        "constraints",
        "escalation",
        "budgets",
        "policy",
        "errors",
    ] {
        assert!(d.get(field).is_some(), "no `{field}` in {d}");
    }
    assert_eq!(d["decision"], "escalate");
    assert_eq!(d["escalation"]["approver"], "growth-lead");
    assert!(d["policy"]["hash"].as_str().unwrap().starts_with("sha256:"));
}

/// Malformed or ill-typed envelopes: exit 1, never `allow`, and an error
/// that names the JSON path of what is wrong.
#[test]
fn bad_envelopes_fail_closed_with_a_json_path() {
    let good: serde_json::Value =
        json(&std::fs::read_to_string(root().join(GROWTH_ENVELOPE)).unwrap());
    let mut cases: Vec<(&str, String, &str)> = Vec::new();
    let mut without_agent = good.clone();
    without_agent.as_object_mut().unwrap().remove("agent");
    cases.push(("missing agent", without_agent.to_string(), "$.agent"));
    let mut wrong_type = good.clone();
    wrong_type["action"]["params"]["recipients"] = json("\"many\"");
    cases.push((
        "wrong type",
        wrong_type.to_string(),
        "$.action.params.recipients",
    ));
    let mut unknown_action = good.clone();
    unknown_action["action"]["name"] = json("\"outbound.blast\"");
    cases.push((
        "unknown action",
        unknown_action.to_string(),
        "$.action.name",
    ));
    let mut unknown_attribute = good.clone();
    unknown_attribute["object"]["attrs"]["colour"] = json("\"red\"");
    cases.push((
        "unknown attribute",
        unknown_attribute.to_string(),
        "$.object.attrs.colour",
    ));
    cases.push(("malformed JSON", "{\"agent\": ".to_string(), "$.agent"));
    for (what, envelope, path) in cases {
        let run = actpol_with(
            &["eval", "--policy", "examples/growth", "--envelope", "-"],
            &envelope,
        );
        assert_eq!(run.code, 1, "{what}: {}", run.stdout);
        let d = json(&run.stdout);
        assert_ne!(d["decision"], "allow", "{what}");
        assert_ne!(d["decision"], "constrain", "{what}");
        let error = &d["errors"][0];
        assert_eq!(error["path"], path, "{what}: {d}");
        let code = ErrorCode::from_text(error["code"].as_str().unwrap());
        assert_eq!(
            code.map(ErrorCode::family),
            Some(ErrorFamily::Envelope),
            "{what}"
        );
    }
}

#[test]
fn exit_code_follows_the_decision_when_asked() {
    let cases = [
        ("examples/growth/envelopes/routine-send-allows.json", 0),
        (
            "examples/growth/envelopes/new-copy-test-cell-constrains.json",
            0,
        ),
        (GROWTH_ENVELOPE, 3),
        ("examples/growth/envelopes/off-hours-send-denies.json", 4),
    ];
    for (envelope, code) in cases {
        let run = actpol(&[
            "eval",
            "--policy",
            "examples/growth",
            "--envelope",
            envelope,
            "--exit-code",
        ]);
        assert_eq!(run.code, code, "{envelope}: {}", run.stdout);
    }
}

#[test]
fn batch_mode_reads_ndjson_and_writes_a_decision_per_line() {
    let lines: Vec<String> = [
        "routine-send-allows",
        "bulk-send-escalates",
        "off-hours-send-denies",
    ]
    .iter()
    .map(|name| {
        let text =
            std::fs::read_to_string(root().join(format!("examples/growth/envelopes/{name}.json")))
                .unwrap();
        json(&text).to_string()
    })
    .collect();
    let input = lines.join("\n") + "\n";
    let run = actpol_with(
        &[
            "eval",
            "--policy",
            "examples/growth",
            "--envelope",
            "-",
            "--batch",
        ],
        &input,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let decisions: Vec<String> = run
        .stdout
        .lines()
        .map(|l| json(l)["decision"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(decisions, ["allow", "escalate", "deny"]);
}

#[test]
fn compiled_artifacts_decide_as_the_sources_do_and_disassemble() {
    let dir = tempfile::tempdir().unwrap();
    let artifact = dir.path().join("growth.actpolc");
    let artifact = artifact.to_str().unwrap();
    let run = actpol(&["compile", "examples/growth", "-o", artifact]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("57 rules"), "{}", run.stderr);
    let from_sources = actpol(&[
        "eval",
        "--policy",
        "examples/growth",
        "--envelope",
        GROWTH_ENVELOPE,
    ]);
    let from_artifact = actpol(&["eval", "--policy", artifact, "--envelope", GROWTH_ENVELOPE]);
    assert_eq!(from_artifact.code, 0, "{}", from_artifact.stderr);
    assert_eq!(json(&from_sources.stdout), json(&from_artifact.stdout));

    let all = actpol(&["disasm", artifact]);
    assert_eq!(all.code, 0, "{}", all.stderr);
    assert!(
        all.stdout.starts_with("policy growth: 57 rules"),
        "{}",
        all.stdout
    );
    let one = actpol(&["disasm", artifact, "--rule", "bulk_send"]);
    assert_eq!(one.code, 0);
    assert!(one.stdout.contains("rule bulk_send"), "{}", one.stdout);
    assert!(
        one.stdout.contains("param        recipients"),
        "{}",
        one.stdout
    );
    let missing = actpol(&["disasm", artifact, "--rule", "no_such_rule"]);
    assert_eq!(missing.code, 1);
    assert!(
        missing.stderr.contains("actpol::disasm::unknown_rule"),
        "{}",
        missing.stderr
    );
}

#[test]
fn a_damaged_artifact_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("growth.actpolc");
    assert_eq!(
        actpol(&["compile", "examples/growth", "-o", path.to_str().unwrap()]).code,
        0
    );
    let mut bytes = std::fs::read(&path).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x40;
    std::fs::write(&path, &bytes).unwrap();
    let run = actpol(&[
        "eval",
        "--policy",
        path.to_str().unwrap(),
        "--envelope",
        GROWTH_ENVELOPE,
    ]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout.is_empty(),
        "no decision from a damaged artifact: {}",
        run.stdout
    );
    assert!(
        run.stderr.contains(ErrorCode::ArtifactChecksum.as_str()),
        "{}",
        run.stderr
    );
}

#[test]
fn explain_says_which_rules_ran_and_why() {
    let run = actpol(&[
        "explain",
        "--policy",
        "examples/growth",
        "--envelope",
        GROWTH_ENVELOPE,
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.starts_with("decision: escalate"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("matched bulk_send (escalate)"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("params.recipients = 2500"),
        "{}",
        run.stdout
    );

    let eval = actpol(&[
        "eval",
        "--policy",
        "examples/growth",
        "--envelope",
        GROWTH_ENVELOPE,
        "--explain",
    ]);
    let d = json(&eval.stdout);
    let rules = d["explanation"]["rules"]
        .as_array()
        .expect("an explanation lists rules");
    assert!(rules
        .iter()
        .any(|r| r["rule"] == "bulk_send" && r["matched"] == true));
    assert!(rules
        .iter()
        .any(|r| r["matched"] == false && r.get("failed").is_some()));
}

#[test]
fn usage_errors_exit_two() {
    assert_eq!(actpol(&["check"]).code, 2, "no paths");
    assert_eq!(
        actpol(&["check", "no/such/dir"]).code,
        2,
        "a path that does not exist"
    );
    assert_eq!(
        actpol(&[
            "eval",
            "--policy",
            "examples/growth",
            "--envelope",
            "no/such.json"
        ])
        .code,
        2
    );
    assert_eq!(actpol(&["frobnicate"]).code, 2, "an unknown subcommand");
}

/// One rule's outcome changed in a copy of an example: its tests fail with
/// a diff that names the case and the rule, and `diff` lists exactly the
/// envelopes whose decision moved.
#[test]
fn changing_a_rule_in_a_copy_of_an_example_is_caught_by_test_and_diff() {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("growth");
    copy_dir(&root().join("examples/growth"), &copy);
    let rules = copy.join("outbound.actpol");
    let text = std::fs::read_to_string(&rules).unwrap();
    let changed = text.replacen(
        "escalate to growth-lead \"bulk send above 1000 recipients needs a human\"",
        "deny \"bulk sends are never allowed\"",
        1,
    );
    assert_ne!(
        text, changed,
        "the rule to change is where the test expects it"
    );
    std::fs::write(&rules, changed).unwrap();
    let copy = copy.to_str().unwrap();

    let run = actpol(&["test", copy]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout.contains("1001 recipients"),
        "the failing case is named:\n{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("bulk_send"),
        "the rule is named:\n{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("expected escalate") || run.stdout.contains("escalate"),
        "{}",
        run.stdout
    );

    // Which envelopes the old policy escalates by `bulk_send` alone is what
    // must move: find them with the old policy, then compare with `diff`.
    let mut moved = BTreeSet::new();
    let envelopes = root().join("examples/growth/envelopes");
    for entry in std::fs::read_dir(&envelopes).unwrap().flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let before = actpol(&[
            "eval",
            "--policy",
            "examples/growth",
            "--envelope",
            path.to_str().unwrap(),
        ]);
        let after = actpol(&[
            "eval",
            "--policy",
            copy,
            "--envelope",
            path.to_str().unwrap(),
        ]);
        if json(&before.stdout)["decision"] != json(&after.stdout)["decision"] {
            moved.insert(entry.file_name().to_string_lossy().into_owned());
        }
    }
    assert!(!moved.is_empty(), "the change moves some example decision");
    let diff = actpol(&[
        "diff",
        "--old",
        "examples/growth",
        "--new",
        copy,
        "--envelopes",
        "examples/growth/envelopes",
        "--format",
        "json",
    ]);
    assert_eq!(diff.code, 1, "{}", diff.stdout);
    let report = json(&diff.stdout);
    let listed: BTreeSet<String> = report
        .to_string()
        .split('"')
        .filter(|s| s.ends_with(".json"))
        .map(|s| s.rsplit('/').next().unwrap_or(s).to_string())
        .collect();
    assert_eq!(
        listed, moved,
        "diff lists exactly the moved envelopes:\n{}",
        diff.stdout
    );
}
