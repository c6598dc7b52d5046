//! Data flow in plans: actions declare the classes they read (`reads pii`)
//! and where they send (`sends external`); a class flows from a step to
//! every step downstream of it that it runs before, and `upstream.reads`
//! asks about it. At run time the same expression reads the store's record
//! of the envelope's plan, which knows no edges.

use actpol::plan::PlanDecision;
use actpol::store::{self, Durability};
use actpol::{Level, MemoryState, Policy, Request};
use serde_json::{json, Value};

const POLICY: &str = r#"
policy flows {
  default deny "no rule matched"
  on_error deny "evaluation failed"
}
system crm
system mail
data_class pii "people's details"
data_class financial "amounts and accounts"
entity Customer { name: String }
action crm.lookup { system crm object Customer params { rows: Int } reversible reads pii }
action crm.ledger { system crm object Customer reversible reads financial }
action crm.note { system crm object Customer reversible }
action mail.send { system mail object Customer reversible sends external }
action mail.memo { system mail object Customer reversible sends internal }
agent bot { owner "o@acme.example" workflow w }
approver privacy { title "Privacy officer" contact "p@acme.example" }
rule lookups on crm.lookup { when params.rows <= 100 allow "small lookup" }
rule ledgers on crm.ledger { allow "ledger" }
rule notes on crm.note { allow "note" }
rule sends on mail.send, mail.memo { allow "send" }
rule leak on * {
  when action.sends(external) and upstream.reads(pii)
  escalate to privacy "people's details would leave"
}
"#;

fn policy() -> Policy {
    Policy::from_sources([("flows.actpol", POLICY)]).expect("the flow policy compiles")
}

const TIME: &str = "2026-11-25T14:00:00Z";

fn customer() -> Value {
    json!({"type": "Customer", "id": "c-1", "attrs": {"name": "Ada"}})
}

fn node(id: &str, action: &str, params: Value) -> Value {
    json!({"id": id, "action": {"name": action, "params": params}, "object": customer()})
}

fn plan(nodes: Vec<Value>, edges: &[(&str, &str)]) -> Vec<u8> {
    let edges: Vec<Value> = edges
        .iter()
        .map(|(f, t)| json!({"from": f, "to": t}))
        .collect();
    serde_json::to_vec(&json!({
        "id": "p-1",
        "agent": {"id": "bot", "owner": "o@acme.example", "workflow": "w"},
        "time": TIME,
        "nodes": nodes,
        "edges": edges,
    }))
    .unwrap()
}

fn decide(policy: &Policy, bytes: &[u8]) -> PlanDecision {
    let plan = policy.read_plan(bytes).unwrap_or_else(|e| panic!("{e:?}"));
    policy.decide_plan(&plan, &MemoryState::default())
}

fn level(decided: &PlanDecision, id: &str) -> Level {
    decided
        .nodes
        .iter()
        .find(|n| n.id == id)
        .unwrap_or_else(|| panic!("no node `{id}`"))
        .decision
}

/// A step's envelope, sent alone (with `plan` when given).
fn envelope(action: &str, params: Value, plan: Option<&str>) -> Vec<u8> {
    let mut env = json!({
        "agent": {"id": "bot", "owner": "o@acme.example", "workflow": "w"},
        "action": {"name": action, "params": params},
        "object": customer(),
        "time": TIME,
    });
    if let Some(plan) = plan {
        env["plan"] = json!({"id": plan, "step": 1});
    }
    serde_json::to_vec(&env).unwrap()
}

fn alone(policy: &Policy, action: &str, params: Value) -> Level {
    policy
        .decide(
            &envelope(action, params, Some("p-1")),
            &MemoryState::default(),
        )
        .decision
}

#[test]
fn a_send_downstream_of_a_read_escalates_though_each_step_alone_is_allowed() {
    let policy = policy();
    assert_eq!(
        alone(&policy, "crm.lookup", json!({"rows": 10})),
        Level::Allow
    );
    assert_eq!(alone(&policy, "mail.send", json!({})), Level::Allow);
    let decided = decide(
        &policy,
        &plan(
            vec![
                node("lookup", "crm.lookup", json!({"rows": 10})),
                node("note", "crm.note", json!({})),
                node("send", "mail.send", json!({})),
            ],
            &[("lookup", "note"), ("note", "send")],
        ),
    );
    assert_eq!(level(&decided, "lookup"), Level::Allow);
    assert_eq!(
        level(&decided, "note"),
        Level::Allow,
        "a note sends nothing"
    );
    let send = decided.nodes.iter().find(|n| n.id == "send").unwrap();
    assert_eq!(send.decision, Level::Escalate, "pii flows through the note");
    assert_eq!(send.rules, ["leak"]);
    assert_eq!(send.reasons, ["people's details would leave"]);
    assert_eq!(decided.decision, Level::Escalate);
    let packet = decided.packet.as_ref().expect("the plan's packet");
    assert_eq!(packet.escalated[0].node, "send");
}

#[test]
fn a_read_on_another_branch_does_not_flow_into_the_send() {
    let policy = policy();
    // lookup and send are both roots: nothing the lookup read reaches the
    // send, though the lookup is decided first.
    let decided = decide(
        &policy,
        &plan(
            vec![
                node("lookup", "crm.lookup", json!({"rows": 10})),
                node("send", "mail.send", json!({})),
            ],
            &[],
        ),
    );
    assert_eq!(level(&decided, "lookup"), Level::Allow);
    assert_eq!(level(&decided, "send"), Level::Allow);
    assert_eq!(decided.decision, Level::Allow);
}

#[test]
fn only_the_declared_class_and_destination_count() {
    let policy = policy();
    let decided = decide(
        &policy,
        &plan(
            vec![
                node("ledger", "crm.ledger", json!({})),
                node("send", "mail.send", json!({})),
                node("lookup", "crm.lookup", json!({"rows": 10})),
                node("memo", "mail.memo", json!({})),
            ],
            &[("ledger", "send"), ("lookup", "memo")],
        ),
    );
    assert_eq!(
        level(&decided, "send"),
        Level::Allow,
        "financial is not pii"
    );
    assert_eq!(level(&decided, "memo"), Level::Allow, "a memo stays inside");
}

#[test]
fn a_read_that_does_not_run_flows_nowhere() {
    let policy = policy();
    // A lookup of 500 rows matches no rule: denied, it never runs, so
    // nothing flows from it; the send waits behind it.
    let decided = decide(
        &policy,
        &plan(
            vec![
                node("lookup", "crm.lookup", json!({"rows": 500})),
                node("send", "mail.send", json!({})),
            ],
            &[("lookup", "send")],
        ),
    );
    assert_eq!(level(&decided, "lookup"), Level::Deny);
    let send = decided.nodes.iter().find(|n| n.id == "send").unwrap();
    assert_eq!(send.decision, Level::Allow);
    assert_eq!(send.blocked_by, ["lookup"]);
}

#[test]
fn without_a_plan_nothing_is_upstream() {
    let policy = policy();
    let state: MemoryState = serde_json::from_value(json!({"events": [
        {"action": "crm.lookup", "agent": "bot", "plan": "p-1", "time": "2026-11-25T13:00:00Z"}
    ]}))
    .unwrap();
    let d = policy.decide(&envelope("mail.send", json!({}), None), &state);
    assert_eq!(d.decision, Level::Allow);
    // The same envelope in plan p-1 reads the state's record of that plan.
    let d = policy.decide(&envelope("mail.send", json!({}), Some("p-1")), &state);
    assert_eq!(d.decision, Level::Escalate);
    assert_eq!(d.rules, ["leak"]);
    // And another plan's reads are not its.
    let d = policy.decide(&envelope("mail.send", json!({}), Some("p-2")), &state);
    assert_eq!(d.decision, Level::Allow);
}

/// At run time a store sees every earlier step of the plan that ran: the
/// read on another branch is upstream there (the documented difference).
#[test]
fn a_store_reads_every_earlier_step_of_the_plan() {
    let policy = policy();
    let store = store::open(":memory:", Durability::Normal).expect("a store");
    let now = actpol::values::parse_timestamp(TIME).unwrap();
    let decide_stored = |action: &str, params: Value, plan: &str| {
        let bytes = envelope(action, params, Some(plan));
        let stored = policy
            .decide_stored(&*store, Request::new(&bytes[..]).at(now))
            .expect("the store decides");
        for reservation in &stored.decision().reservations {
            store.commit(reservation, now).expect("commit");
        }
        stored.into_decision()
    };
    assert_eq!(
        decide_stored("mail.send", json!({}), "p-9").decision,
        Level::Allow
    );
    let lookup = decide_stored("crm.lookup", json!({"rows": 10}), "p-9");
    assert_eq!(lookup.decision, Level::Allow);
    let send = decide_stored("mail.send", json!({}), "p-9");
    assert_eq!(send.decision, Level::Escalate);
    assert_eq!(send.rules, ["leak"]);
    assert_eq!(
        decide_stored("mail.send", json!({}), "p-10").decision,
        Level::Allow
    );
}

/// `upstream.reads(pii, 1h)` looks back an hour: a read the state holds
/// from two hours before is not upstream at run time, one from half an
/// hour before is; in a plan, an ancestor's time counts the same way.
#[test]
fn a_look_back_bounds_what_is_upstream() {
    let source = POLICY.replace("upstream.reads(pii)", "upstream.reads(pii, 1h)");
    let policy = Policy::from_sources([("flows.actpol", source.as_str())]).expect("compiles");
    let state = |time: &str| -> MemoryState {
        serde_json::from_value(json!({"events": [
            {"action": "crm.lookup", "agent": "bot", "plan": "p-1", "time": time}
        ]}))
        .unwrap()
    };
    let send = envelope("mail.send", json!({}), Some("p-1"));
    let old = policy.decide(&send, &state("2026-11-25T12:00:00Z"));
    assert_eq!(old.decision, Level::Allow);
    let recent = policy.decide(&send, &state("2026-11-25T13:30:00Z"));
    assert_eq!(recent.decision, Level::Escalate);
    let mut lookup = node("lookup", "crm.lookup", json!({"rows": 10}));
    lookup["time"] = json!("2026-11-25T12:00:00Z");
    let decided = decide(
        &policy,
        &plan(
            vec![lookup, node("send", "mail.send", json!({}))],
            &[("lookup", "send")],
        ),
    );
    assert_eq!(
        level(&decided, "send"),
        Level::Allow,
        "the lookup ran two hours before"
    );
}
