//! Plans decided as a whole: what earlier steps consume, history over the
//! plan, triggers, blocking, the plan's packet, and every way a plan
//! document can fail to hold together.

use actpol::plan::{PlanDecision, PlanErrors};
use actpol::{ErrorCode, Level, MemoryState, Policy};
use serde_json::{json, Value};

const POLICY: &str = r#"
policy shop {
  default deny "no rule matched"
  on_error deny "evaluation failed"
}
system crm
system mail
system billing
system audit
data_class pii "people's details"
entity Customer { name: String data pii }
action crm.export { system crm object Customer params { rows: Int } reversible data pii triggers audit.record, system audit }
action audit.record { system audit object Customer reversible }
action mail.send { system mail object Customer params { recipients: Int } reversible }
action billing.charge { system billing object Customer params { amount: Money<USD> } irreversible }
agent bot { owner "o@acme.example" workflow w }
approver privacy { title "Privacy officer" contact "p@acme.example" }
approver finance { title "Finance lead" contact "f@acme.example" }
budget mails: Int { limit 100 window 1d per agent on_exhausted escalate to privacy "the daily mail budget is spent" }
budget spend: Money<USD> { limit 500 USD window plan per plan on_exhausted deny "the plan spends more than 500 USD" }
rule exports on crm.export { when params.rows <= 1000 allow "small export" }
rule audits on audit.record { allow "audit trail" }
rule mails on mail.send { allow "mail" consume mails by params.recipients }
rule leak on mail.send {
  when has plan and count(crm.* over plan by plan) > 0
  escalate to privacy "mail sent in a plan that exported customer data"
}
rule charges on billing.charge { allow "charge" consume spend by params.amount }
raise irreversible_needs_finance when action.reversibility == Reversibility.irreversible and not has rollback {
  allow -> escalate to finance "charges cannot be undone"
}
"#;

fn policy() -> Policy {
    Policy::from_sources([("shop.actpol", POLICY)]).expect("the test policy compiles")
}

const CUSTOMER: &str = r#"{"type": "Customer", "id": "c-1", "attrs": {"name": "Ada"}}"#;

fn node(id: &str, action: &str, params: Value) -> Value {
    json!({"id": id, "action": {"name": action, "params": params},
           "object": serde_json::from_str::<Value>(CUSTOMER).unwrap()})
}

fn plan_json(nodes: Vec<Value>, edges: &[(&str, &str)]) -> Vec<u8> {
    let edges: Vec<Value> = edges
        .iter()
        .map(|(f, t)| json!({"from": f, "to": t}))
        .collect();
    serde_json::to_vec(&json!({
        "id": "p-1",
        "agent": {"id": "bot", "owner": "o@acme.example", "workflow": "w"},
        "time": "2026-11-25T14:00:00Z",
        "nodes": nodes,
        "edges": edges,
    }))
    .unwrap()
}

fn decide(policy: &Policy, bytes: &[u8]) -> PlanDecision {
    let plan = policy.read_plan(bytes).unwrap_or_else(|e| panic!("{e:?}"));
    policy.decide_plan(&plan, &MemoryState::default())
}

fn errors(policy: &Policy, bytes: &[u8]) -> Vec<(ErrorCode, String)> {
    let PlanErrors { errors } = policy.read_plan(bytes).expect_err("the plan is refused");
    errors.into_iter().map(|e| (e.code, e.path)).collect()
}

fn level_of(decided: &PlanDecision, id: &str) -> Level {
    decided
        .nodes
        .iter()
        .find(|n| n.id == id)
        .unwrap_or_else(|| panic!("no node `{id}`"))
        .decision
}

/// The envelope a node stands for, decided alone against an empty state.
fn alone(policy: &Policy, action: &str, params: Value) -> Level {
    let env = json!({
        "agent": {"id": "bot", "owner": "o@acme.example", "workflow": "w"},
        "action": {"name": action, "params": params},
        "object": serde_json::from_str::<Value>(CUSTOMER).unwrap(),
        "time": "2026-11-25T14:00:00Z",
        "plan": {"id": "p-1", "step": 1},
    });
    policy
        .decide(&serde_json::to_vec(&env).unwrap(), &MemoryState::default())
        .decision
}

#[test]
fn consumption_accumulates_along_the_plan() {
    let policy = policy();
    for _ in 0..3 {
        assert_eq!(
            alone(&policy, "mail.send", json!({"recipients": 40})),
            Level::Allow
        );
    }
    let nodes = (1..=3)
        .map(|i| node(&format!("m{i}"), "mail.send", json!({"recipients": 40})))
        .collect();
    let decided = decide(&policy, &plan_json(nodes, &[("m1", "m2"), ("m2", "m3")]));
    assert_eq!(level_of(&decided, "m1"), Level::Allow);
    assert_eq!(level_of(&decided, "m2"), Level::Allow);
    assert_eq!(level_of(&decided, "m3"), Level::Escalate);
    let consumed: Vec<String> = decided
        .nodes
        .iter()
        .map(|n| n.budgets[0].consumed.value().to_string())
        .collect();
    assert_eq!(consumed, ["40", "80", "80"]);
    assert_eq!(decided.nodes[2].reasons, ["the daily mail budget is spent"]);
    assert_eq!(decided.decision, Level::Escalate);
}

#[test]
fn a_plan_keyed_budget_counts_the_whole_plan_so_far() {
    let policy = policy();
    let charge = |id: &str| {
        let mut n = node(id, "billing.charge", json!({"amount": 300}));
        n["rollback"] = json!({"kind": "refund"});
        n
    };
    let decided = decide(&policy, &plan_json(vec![charge("c1"), charge("c2")], &[]));
    assert_eq!(level_of(&decided, "c1"), Level::Allow);
    assert_eq!(level_of(&decided, "c2"), Level::Deny);
    assert_eq!(decided.nodes[1].budgets[0].key, "plan:p-1");
    assert_eq!(decided.decision, Level::Deny);
}

#[test]
fn history_over_the_plan_escalates_a_send_after_an_export_and_blocks_what_follows() {
    let policy = policy();
    assert_eq!(
        alone(&policy, "crm.export", json!({"rows": 10})),
        Level::Allow
    );
    assert_eq!(
        alone(&policy, "mail.send", json!({"recipients": 5})),
        Level::Allow
    );
    let nodes = vec![
        node("export", "crm.export", json!({"rows": 10})),
        node("send", "mail.send", json!({"recipients": 5})),
        node("charge", "billing.charge", json!({"amount": 10})),
        node("after", "mail.send", json!({"recipients": 1})),
    ];
    let decided = decide(
        &policy,
        &plan_json(
            nodes,
            &[("export", "send"), ("send", "charge"), ("charge", "after")],
        ),
    );
    assert_eq!(level_of(&decided, "export"), Level::Allow);
    assert_eq!(level_of(&decided, "send"), Level::Escalate);
    let charge = decided.nodes.iter().find(|n| n.id == "charge").unwrap();
    assert_eq!(charge.decision, Level::Escalate, "{charge:?}");
    assert_eq!(charge.blocked_by, ["send"]);
    let after = decided.nodes.iter().find(|n| n.id == "after").unwrap();
    assert_eq!(after.blocked_by, ["send", "charge"]);
    let packet = decided.packet.as_ref().expect("a packet for the plan");
    let escalated: Vec<&str> = packet.escalated.iter().map(|e| e.node.as_str()).collect();
    assert_eq!(escalated, ["send", "charge", "after"]);
    assert_eq!(packet.approvers, ["privacy", "finance"]);
    assert_eq!(packet.escalated[0].blocks, ["charge", "after"]);
    assert!(packet.escalated.iter().all(|e| e.packet.is_some()));
}

#[test]
fn triggers_become_implied_nodes_decided_after_their_trigger() {
    let policy = policy();
    let decided = decide(
        &policy,
        &plan_json(vec![node("export", "crm.export", json!({"rows": 10}))], &[]),
    );
    let ids: Vec<&str> = decided.nodes.iter().map(|n| n.id.as_str()).collect();
    assert_eq!(ids, ["export", "export~audit.record"]);
    let implied = &decided.nodes[1];
    assert_eq!(implied.implied_by.as_deref(), Some("export"));
    assert_eq!(implied.decision, Level::Allow);
    assert_eq!(implied.step, 2);
    assert_eq!(decided.nodes[0].effects, ["system audit"]);
    assert!(decided.edges[0].implied);
}

#[test]
fn a_denied_node_blocks_its_implied_nodes() {
    let policy = policy();
    let decided = decide(
        &policy,
        &plan_json(
            vec![node("export", "crm.export", json!({"rows": 5000}))],
            &[],
        ),
    );
    assert_eq!(decided.nodes[0].decision, Level::Deny);
    assert_eq!(decided.nodes[1].blocked_by, ["export"]);
    assert!(decided.packet.is_none());
}

#[test]
fn order_is_topological_with_ties_in_document_order() {
    let policy = policy();
    let nodes = vec![
        node("c", "mail.send", json!({"recipients": 1})),
        node("a", "mail.send", json!({"recipients": 1})),
        node("b", "mail.send", json!({"recipients": 1})),
    ];
    let decided = decide(&policy, &plan_json(nodes, &[("b", "c")]));
    let ids: Vec<&str> = decided.nodes.iter().map(|n| n.id.as_str()).collect();
    assert_eq!(ids, ["a", "b", "c"]);
    let steps: Vec<i64> = decided.nodes.iter().map(|n| n.step).collect();
    assert_eq!(steps, [1, 2, 3]);
}

#[test]
fn a_cycle_is_an_error_naming_its_nodes() {
    let policy = policy();
    let nodes = vec![
        node("a", "mail.send", json!({"recipients": 1})),
        node("b", "mail.send", json!({"recipients": 1})),
    ];
    let err = policy
        .read_plan(&plan_json(nodes, &[("a", "b"), ("b", "a")]))
        .unwrap_err();
    assert_eq!(err.errors.len(), 1);
    assert_eq!(err.errors[0].code, ErrorCode::PlanCycle);
    assert!(
        err.errors[0].path.starts_with("$.edges["),
        "{:?}",
        err.errors[0]
    );
    assert!(err.errors[0].message.contains("`a`") && err.errors[0].message.contains("`b`"));
    assert!(err.errors[0].help.is_some());
}

#[test]
fn dangling_edges_and_duplicate_ids_are_errors_with_paths() {
    let policy = policy();
    let nodes = vec![
        node("a", "mail.send", json!({"recipients": 1})),
        node("a", "mail.send", json!({"recipients": 2})),
    ];
    let found = errors(&policy, &plan_json(nodes, &[("a", "ab")]));
    assert_eq!(
        found,
        [
            (ErrorCode::PlanDuplicateNode, "$.nodes[1].id".to_string()),
            (ErrorCode::PlanDanglingEdge, "$.edges[0].to".to_string()),
        ]
    );
}

/// Implied nodes are named `<trigger>~<action>`: a written id holding `~`
/// could be one of theirs, so it is refused before anything is expanded.
#[test]
fn a_written_id_in_the_form_of_an_implied_one_is_an_error_with_its_path() {
    let policy = policy();
    let nodes = vec![
        node("export", "crm.export", json!({"rows": 10})),
        node("export~audit.record", "audit.record", json!({})),
        node("mail", "mail.send", json!({"recipients": 1})),
    ];
    let bytes = plan_json(nodes, &[("export", "export~audit.record")]);
    let PlanErrors { errors } = policy.read_plan(&bytes).expect_err("refused");
    assert_eq!(errors.len(), 1, "{errors:?}");
    let error = &errors[0];
    assert_eq!(error.code, ErrorCode::PlanImpliedId);
    assert_eq!(error.path, "$.nodes[1].id");
    assert!(
        error.message.contains("`export~audit.record`"),
        "{}",
        error.message
    );
    let help = error.help.as_deref().expect("a help line");
    assert!(help.contains("`export-audit.record`"), "{help}");
    // Without the written one, the implied node takes that id.
    let nodes = vec![node("export", "crm.export", json!({"rows": 10}))];
    let decided = decide(&policy, &plan_json(nodes, &[]));
    let ids: Vec<&str> = decided.nodes.iter().map(|n| n.id.as_str()).collect();
    assert_eq!(ids, ["export", "export~audit.record"]);
}

/// An action listed twice among a node's triggers is one implied step.
#[test]
fn a_trigger_listed_twice_is_one_implied_node() {
    let source = POLICY.replace(
        "triggers audit.record, system audit",
        "triggers audit.record, audit.record, system audit",
    );
    let policy = Policy::from_sources([("shop.actpol", source.as_str())]).expect("compiles");
    let nodes = vec![node("export", "crm.export", json!({"rows": 10}))];
    let decided = decide(&policy, &plan_json(nodes, &[]));
    let ids: Vec<&str> = decided.nodes.iter().map(|n| n.id.as_str()).collect();
    assert_eq!(ids, ["export", "export~audit.record"]);
}

#[test]
fn an_ill_typed_node_is_an_error_at_its_path_in_the_plan() {
    let policy = policy();
    let nodes = vec![
        node("ok", "mail.send", json!({"recipients": 1})),
        node("bad", "mail.send", json!({"recipients": "many"})),
        node("unknown", "mail.sned", json!({})),
    ];
    let found = errors(&policy, &plan_json(nodes, &[]));
    assert_eq!(
        found,
        [
            (
                ErrorCode::EnvelopeWrongType,
                "$.nodes[1].action.params.recipients".to_string()
            ),
            (
                ErrorCode::EnvelopeUnknownAction,
                "$.nodes[2].action.name".to_string()
            ),
        ]
    );
}

#[test]
fn a_node_does_not_give_what_the_plan_shares() {
    let policy = policy();
    let mut n = node("a", "mail.send", json!({"recipients": 1}));
    n["agent"] = json!({"id": "other"});
    n["colour"] = json!("red");
    let found = errors(&policy, &plan_json(vec![n], &[]));
    assert_eq!(
        found,
        [
            (ErrorCode::PlanNodeField, "$.nodes[0].agent".to_string()),
            (ErrorCode::PlanNodeField, "$.nodes[0].colour".to_string()),
        ]
    );
}

#[test]
fn documents_that_are_not_plans_are_refused() {
    let policy = policy();
    for (bytes, code, path) in [
        (&b"not json"[..], ErrorCode::PlanMalformed, "$"),
        (b"[]", ErrorCode::PlanMalformed, "$"),
        (
            br#"{"id": "p", "agent": {"id": "bot", "owner": "o@acme.example", "workflow": "w"}, "time": "2026-11-25T14:00:00Z", "nodes": []}"#,
            ErrorCode::PlanEmpty,
            "$.nodes",
        ),
        (
            br#"{"agent": {}, "time": "x", "nodes": [{"id": "a"}]}"#,
            ErrorCode::PlanMalformed,
            "$.id",
        ),
    ] {
        let found = errors(&policy, bytes);
        assert_eq!(found[0], (code, path.to_string()), "{}", String::from_utf8_lossy(bytes));
    }
}

#[test]
fn an_implied_node_that_cannot_be_built_fails_closed() {
    const POLICY: &str = r#"
policy p { default deny "no rule matched" on_error escalate to ops "evaluation failed" }
system crm
entity Account { name: String }
entity Lead { email: String }
action crm.update { system crm object Account reversible triggers crm.notify }
action crm.notify { system crm object Lead reversible }
agent bot { owner "o@acme.example" workflow w }
approver ops { title "Ops" contact "ops@acme.example" }
rule updates on crm.update { allow }
rule notifies on crm.notify { allow }
"#;
    let policy = Policy::from_sources([("p.actpol", POLICY)]).unwrap();
    let account = json!({"id": "u", "action": {"name": "crm.update"},
                         "object": {"type": "Account", "id": "a", "attrs": {"name": "A"}}});
    let decided = decide(&policy, &plan_json(vec![account.clone()], &[]));
    assert_eq!(decided.nodes[1].decision, Level::Escalate);
    assert_eq!(
        decided.nodes[1].errors[0].code,
        ErrorCode::EnvelopeObjectType
    );

    let mut described = account;
    described["triggers"] =
        json!({"crm.notify": {"object": {"type": "Lead", "id": "l", "attrs": {"email": "x@y"}}}});
    let decided = decide(&policy, &plan_json(vec![described], &[]));
    assert_eq!(
        decided.nodes[1].decision,
        Level::Allow,
        "{:?}",
        decided.nodes[1]
    );
    assert_eq!(decided.decision, Level::Allow);
}

#[test]
fn windows_count_the_base_state_and_the_plan_together() {
    let policy = policy();
    let state = MemoryState::from_json(
        br#"{"budgets": [{"name": "mails", "key": "agent:bot", "consumed": 70, "time": "2026-11-25T09:00:00Z"}]}"#,
    )
    .unwrap();
    let nodes = vec![
        node("m1", "mail.send", json!({"recipients": 20})),
        node("m2", "mail.send", json!({"recipients": 20})),
    ];
    let plan = policy.read_plan(&plan_json(nodes, &[])).unwrap();
    let decided = policy.decide_plan(&plan, &state);
    assert_eq!(level_of(&decided, "m1"), Level::Allow);
    assert_eq!(
        decided.nodes[0].budgets[0].consumed.value().to_string(),
        "90"
    );
    assert_eq!(level_of(&decided, "m2"), Level::Escalate);
}
