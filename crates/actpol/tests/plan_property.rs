//! Deciding a plan as a whole agrees with running it step by step.
//!
//! For generated plans (random DAGs of reads, sends and payments over
//! budgets per agent and per plan and windows by plan), each node is
//! decided one at a time, in the plan's order, against a real store
//! (SQLite, in memory): a node that proceeds and is not blocked (nothing
//! upstream of it was denied or escalated) runs, so its reservation is
//! committed; any other node's reservation is released, as an executor
//! would, since it does not run. Every node's decision — level, rules,
//! reasons, budgets — must equal the plan evaluation's. The one documented
//! difference is none of a decision's own: the plan marks blocked nodes,
//! which a store deciding one envelope at a time cannot know.

use actpol::plan::PlanDecision;
use actpol::store::{self, Durability};
use actpol::{MemoryState, Policy, Request};
use proptest::prelude::*;
use serde_json::{json, Value};

const POLICY: &str = r#"
policy steps {
  default deny "no rule matched"
  on_error deny "evaluation failed"
}
system app
data_class pii "people's details"
entity Item { name: String }
action app.read { system app object Item params { n: Int } reversible data pii triggers app.log }
action app.log { system app object Item reversible }
action app.send { system app object Item params { n: Int } reversible }
action app.pay { system app object Item params { n: Int } irreversible }
agent bot { owner "o@acme.example" workflow w }
approver lead { title "Lead" contact "lead@acme.example" }
budget sends: Int { limit 10 window 1d per agent on_exhausted escalate to lead "the send budget is spent" }
budget spend: Int { limit 12 window plan per plan on_exhausted deny "the plan spends too much" }
rule reads on app.read { when params.n <= 6 allow "small read" }
rule logs on app.log { allow "log" }
rule sends on app.send { allow "send" consume sends by params.n }
rule send_after_read on app.send {
  when has plan and count(app.read over 1d by plan) > 0 and params.n > 3
  escalate to lead "a large send after a read"
}
rule pays on app.pay { allow "pay" consume spend by params.n }
rule many_pays on app.pay {
  when has plan and count(app.pay over 1d by plan) >= 3
  escalate to lead "a fourth payment in one plan"
}
"#;

const TIME: &str = "2026-11-25T14:00:00Z";

fn plan_bytes(nodes: &[(u8, i64)], edges: &[(usize, usize)]) -> Vec<u8> {
    let actions = ["app.read", "app.send", "app.pay"];
    let nodes: Vec<Value> = nodes
        .iter()
        .enumerate()
        .map(|(i, &(kind, n))| {
            json!({"id": format!("n{i}"),
                   "action": {"name": actions[kind as usize], "params": {"n": n}},
                   "object": {"type": "Item", "id": format!("item-{}", i % 3), "attrs": {"name": "x"}}})
        })
        .collect();
    let edges: Vec<Value> = edges
        .iter()
        .map(|&(f, t)| json!({"from": format!("n{f}"), "to": format!("n{t}")}))
        .collect();
    serde_json::to_vec(&json!({
        "id": "plan-prop",
        "agent": {"id": "bot", "owner": "o@acme.example", "workflow": "w"},
        "time": TIME,
        "nodes": nodes,
        "edges": edges,
    }))
    .unwrap()
}

/// Nodes (kind, amount) and forward edges (`from < to` in a random
/// relabelling, so document order is not always the order).
/// A generated plan: nodes (action kind, amount) and edges.
type Generated = (Vec<(u8, i64)>, Vec<(usize, usize)>);

fn plans() -> impl Strategy<Value = Generated> {
    (1usize..10).prop_flat_map(|n| {
        let nodes = proptest::collection::vec((0u8..3, 0i64..8), n);
        let pairs = proptest::collection::vec(any::<bool>(), n * n);
        let perm = Just((0..n).collect::<Vec<usize>>()).prop_shuffle();
        (nodes, pairs, perm).prop_map(move |(nodes, pairs, perm)| {
            let mut edges = Vec::new();
            for i in 0..n {
                for j in (i + 1)..n {
                    if pairs[i * n + j] && (i + j) % 3 == 0 {
                        edges.push((perm[i], perm[j]));
                    }
                }
            }
            (nodes, edges)
        })
    })
}

fn step_by_step(
    policy: &Policy,
    decided: &PlanDecision,
    plan: &actpol::plan::Plan,
) -> Vec<actpol::Decision> {
    let store = store::open(":memory:", Durability::Normal).expect("a store");
    let now = actpol::values::parse_timestamp(TIME).unwrap();
    let mut out = Vec::new();
    for (k, &i) in plan.order.iter().enumerate() {
        let node = &plan.nodes[i];
        let env = node.envelope.as_ref().expect("generated nodes bind");
        let stored = policy
            .decide_stored(&*store, Request::new(env).at(now))
            .expect("the store decides");
        let runs = decided.nodes[k].blocked_by.is_empty() && stored.decision().decision.proceeds();
        for reservation in &stored.decision().reservations {
            if runs {
                store.commit(reservation, now).expect("commit");
            } else {
                store.release(reservation, now).expect("release");
            }
        }
        out.push(stored.into_decision());
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn plan_evaluation_equals_step_by_step_against_a_store((nodes, edges) in plans()) {
        let policy = Policy::from_sources([("steps.actpol", POLICY)]).expect("compiles");
        let plan = policy.read_plan(&plan_bytes(&nodes, &edges)).expect("a generated plan holds together");
        let decided = policy.decide_plan(&plan, &MemoryState::default());
        let stepped = step_by_step(&policy, &decided, &plan);
        prop_assert_eq!(decided.nodes.len(), stepped.len());
        for (node, alone) in decided.nodes.iter().zip(&stepped) {
            prop_assert_eq!(node.decision, alone.decision, "{}", node.id);
            prop_assert_eq!(&node.rules, &alone.rules, "{}", node.id);
            prop_assert_eq!(&node.reasons, &alone.reasons, "{}", node.id);
            prop_assert_eq!(&node.budgets, &alone.budgets, "{}", node.id);
            prop_assert!(alone.errors.is_empty(), "{}: {:?}", node.id, alone.errors);
        }
        // The plan's decision is the strictest of the steps'.
        let strictest = stepped.iter().map(|d| d.decision).max().unwrap();
        prop_assert_eq!(decided.decision, strictest);
    }
}
