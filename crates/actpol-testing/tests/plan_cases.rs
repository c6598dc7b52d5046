//! Plan cases: a test case that decides a whole plan and expects the plan's
//! decision and what some of its nodes are; rule coverage counts the rules
//! the plan's nodes hit.

mod common;

use actpol::ErrorCode;
use actpol_testing::render;
use actpol_testing::{run, Options, RunReport, Status};
use common::Fixture;

/// Six sends of 900 by the same agent: each alone is routine, together
/// they spend the day's 5,000 at the sixth; a recall waits behind it.
const PLAN: &str = r#"{
  "id": "plan-wave",
  "agent": {"id": "growth-bot", "owner": "maria@acme.example", "workflow": "campaigns"},
  "time": "2026-11-25T14:00:00Z",
  "nodes": [
    {"id": "s1", "action": {"name": "outbound.send", "params": {"recipients": 900, "template": "lib/a"}}, "object": {"type": "Sequence", "id": "seq-1", "attrs": {"audience": 4000}}, "rollback": {"kind": "compensate", "action": "outbound.recall", "within": "15m"}},
    {"id": "s2", "action": {"name": "outbound.send", "params": {"recipients": 900, "template": "lib/a"}}, "object": {"type": "Sequence", "id": "seq-1", "attrs": {"audience": 4000}}, "rollback": {"kind": "compensate", "action": "outbound.recall", "within": "15m"}},
    {"id": "s3", "action": {"name": "outbound.send", "params": {"recipients": 900, "template": "lib/a"}}, "object": {"type": "Sequence", "id": "seq-1", "attrs": {"audience": 4000}}, "rollback": {"kind": "compensate", "action": "outbound.recall", "within": "15m"}},
    {"id": "s4", "action": {"name": "outbound.send", "params": {"recipients": 900, "template": "lib/a"}}, "object": {"type": "Sequence", "id": "seq-1", "attrs": {"audience": 4000}}, "rollback": {"kind": "compensate", "action": "outbound.recall", "within": "15m"}},
    {"id": "s5", "action": {"name": "outbound.send", "params": {"recipients": 900, "template": "lib/a"}}, "object": {"type": "Sequence", "id": "seq-1", "attrs": {"audience": 4000}}, "rollback": {"kind": "compensate", "action": "outbound.recall", "within": "15m"}},
    {"id": "s6", "action": {"name": "outbound.send", "params": {"recipients": 900, "template": "lib/a"}}, "object": {"type": "Sequence", "id": "seq-1", "attrs": {"audience": 4000}}, "rollback": {"kind": "compensate", "action": "outbound.recall", "within": "15m"}},
    {"id": "after", "action": {"name": "outbound.recall", "params": {}}, "object": {"type": "Sequence", "id": "seq-1", "attrs": {"audience": 4000}}}
  ],
  "edges": [
    {"from": "s1", "to": "s2"}, {"from": "s2", "to": "s3"}, {"from": "s3", "to": "s4"},
    {"from": "s4", "to": "s5"}, {"from": "s5", "to": "s6"}, {"from": "s6", "to": "after"}
  ]
}"#;

const PASSING: &str = r#"
policy = ".."

[[case]]
name = "six routine sends spend the day's budget together"
plan = "../plans/wave.plan.json"
expect.decision = "escalate"
expect.rules = ["routine_send", "recall"]
expect.nodes.s1 = { decision = "allow", rules = ["routine_send"], blocked_by = [] }
expect.nodes.s5 = { decision = "allow" }
expect.nodes.s6 = { decision = "escalate", approver = "growth-lead", reasons = ["daily send budget is spent"] }
expect.nodes.after = { decision = "allow", rules = ["recall"], blocked_by = ["s6"] }
"#;

fn run_file(f: &Fixture, rel: &str) -> RunReport {
    run(&[f.path(rel)], &Options::default()).expect("something to run")
}

fn with_plan() -> Fixture {
    let f = Fixture::new();
    f.write("plans/wave.plan.json", PLAN);
    f
}

#[test]
fn a_plan_case_holds_the_plan_and_its_nodes_to_what_it_expects() {
    let f = with_plan();
    f.write("tests/plan.test.toml", PASSING);
    let report = run_file(&f, "tests/plan.test.toml");
    let result = &report.suites[0].results[0];
    assert_eq!(result.status, Status::Passed, "{:?}", result.differences);
    let actual = result.actual.as_ref().expect("the plan's record");
    assert_eq!(actual.nodes.len(), 7);
    assert_eq!(actual.nodes[5].id, "s6");
}

#[test]
fn a_node_that_differs_fails_the_case_naming_the_node() {
    let f = with_plan();
    let wrong = PASSING
        .replace(
            r#"expect.nodes.s5 = { decision = "allow" }"#,
            r#"expect.nodes.s5 = { decision = "escalate" }"#,
        )
        .replace(r#"blocked_by = ["s6"]"#, r#"blocked_by = []"#);
    f.write("tests/plan.test.toml", &wrong);
    let report = run_file(&f, "tests/plan.test.toml");
    let result = &report.suites[0].results[0];
    assert_eq!(result.status, Status::Failed);
    let shown: Vec<String> = result
        .differences
        .iter()
        .map(|d| format!("{}: {} / {}", d.field, d.expected, d.actual))
        .collect();
    assert_eq!(
        shown,
        [
            "nodes: `after` blocked by [] / `after` blocked by [s6]",
            "nodes: `s5` decided escalate / `s5` decided allow",
        ]
    );
    let text = render::text(&report, false);
    assert!(text.contains("`s5` decided escalate"), "{text}");
}

#[test]
fn rule_coverage_counts_the_rules_a_plans_nodes_hit() {
    let f = with_plan();
    f.write("tests/plan.test.toml", PASSING);
    let report = run_file(&f, "tests/plan.test.toml");
    let coverage = &report.coverage[0];
    assert_eq!(coverage.cases, 1);
    let routine = coverage
        .rules
        .iter()
        .find(|r| r.name == "routine_send")
        .expect("the rule");
    // Six sends matched it; the sixth too (its budget escalated it).
    assert_eq!(routine.matched, 6);
    let bulk = coverage
        .rules
        .iter()
        .find(|r| r.name == "bulk_send")
        .unwrap();
    assert_eq!((bulk.matched, bulk.not_matched), (0, 6));
}

#[test]
fn a_plan_that_does_not_hold_together_fails_its_case_with_the_plans_errors() {
    let f = Fixture::new();
    f.write(
        "plans/wave.plan.json",
        &PLAN.replace(
            r#"{"from": "s6", "to": "after"}"#,
            r#"{"from": "s6", "to": "aftr"}"#,
        ),
    );
    f.write("tests/plan.test.toml", PASSING);
    let report = run_file(&f, "tests/plan.test.toml");
    let result = &report.suites[0].results[0];
    assert_eq!(result.status, Status::Failed);
    assert_eq!(result.differences[0].field, "plan");
    assert!(
        result.differences[0]
            .actual
            .contains(&format!("{} at $.edges[5].to", ErrorCode::PlanDanglingEdge)),
        "{:?}",
        result.differences
    );
}

#[test]
fn an_envelope_key_on_a_plan_case_and_nodes_without_a_plan_are_errors() {
    let f = with_plan();
    f.write(
        "tests/plan.test.toml",
        r#"
policy = ".."

[[case]]
name = "a plan with an override"
plan = "../plans/wave.plan.json"
set = { "action.params.recipients" = 5 }
expect.decision = "escalate"

[[case]]
name = "nodes of no plan"
envelope = "../envelopes/send.json"
expect.decision = "allow"
expect.nodes.s1 = { decision = "allow" }
"#,
    );
    let report = run_file(&f, "tests/plan.test.toml");
    let suite = &report.suites[0];
    let messages: Vec<&str> = suite
        .diagnostics
        .iter()
        .map(|d| d.message.as_str())
        .collect();
    assert!(
        messages.contains(&"case `a plan with an override` decides a plan, which has no `set`"),
        "{messages:?}"
    );
    assert!(
        messages.contains(&"case `nodes of no plan` expects plan nodes but decides no plan"),
        "{messages:?}"
    );
    assert!(suite
        .diagnostics
        .iter()
        .all(|d| d.help_text().contains("plan")));
}
