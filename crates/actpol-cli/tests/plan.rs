//! `actpol plan`, run as a user runs it: the real binary, from the
//! repository root, on the shipped example plans.

use std::path::{Path, PathBuf};

mod common;

use common::{run_in, Run};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn actpol(args: &[&str], stdin: &str) -> Run {
    run_in(&root(), args, stdin)
}

const CUMULATIVE: &str = "examples/growth/plans/cumulative-sends.plan.json";

/// `actpol plan` of the growth example's cumulative sends, with `flags`.
fn plan_cumulative(flags: &[&str]) -> Run {
    let mut args = vec!["plan", "--policy", "examples/growth", "--plan", CUMULATIVE];
    args.extend_from_slice(flags);
    actpol(&args, "")
}

#[test]
fn a_plan_prints_its_decision_as_json_and_exits_by_it() {
    let run = plan_cumulative(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(out["decision"], "escalate");
    assert_eq!(out["plan"], "plan-winback-wave");
    let nodes = out["nodes"].as_array().unwrap();
    assert!(nodes.iter().any(|n| n["implied_by"] == "send-1"));
    assert!(out["packet"]["escalated"]
        .as_array()
        .is_some_and(|e| !e.is_empty()));

    let run = plan_cumulative(&["--exit-code"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
}

#[test]
fn a_plan_prints_as_dot_mermaid_and_text() {
    for (format, starts) in [
        ("dot", "digraph \"plan-winback-wave\" {"),
        ("mermaid", "flowchart LR"),
        ("text", "plan `plan-winback-wave` by `growth-bot`: escalate"),
    ] {
        let run = plan_cumulative(&["--format", format]);
        assert_eq!(run.code, 0, "{format}: {}", run.stderr);
        assert!(run.stdout.starts_with(starts), "{format}:\n{}", run.stdout);
    }
}

#[test]
fn a_broken_plan_is_every_error_with_its_path() {
    let plan = r#"{"id": "p", "agent": {"id": "growth-bot", "owner": "maria.chen@acme.example",
      "workflow": "outbound-campaigns"}, "time": "2026-11-25T14:10:00Z",
      "nodes": [{"id": "a", "action": {"name": "outbound.sned"}, "object": {"type": "Sequence", "id": "s"}},
                {"id": "a", "action": {"name": "outbound.send"}, "object": {"type": "Sequence", "id": "s"}}],
      "edges": [{"from": "a", "to": "b"}]}"#;
    let run = actpol(
        &["plan", "--policy", "examples/growth", "--plan", "-"],
        plan,
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stdout.is_empty());
    for expected in [
        actpol::ErrorCode::PlanDuplicateNode.as_str(),
        "$.nodes[1].id",
        actpol::ErrorCode::PlanDanglingEdge.as_str(),
        "$.edges[0].to",
        "$.nodes[0].action.name",
    ] {
        assert!(
            run.stderr.contains(expected),
            "no `{expected}` in:\n{}",
            run.stderr
        );
    }
}

#[test]
fn a_missing_plan_file_is_a_usage_error() {
    let run = actpol(
        &[
            "plan",
            "--policy",
            "examples/growth",
            "--plan",
            "no/such.plan.json",
        ],
        "",
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
}
