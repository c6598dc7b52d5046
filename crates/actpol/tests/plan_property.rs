//! Deciding a plan as a whole agrees with running it step by step.
//!
//! For generated plans (random DAGs of reads, sends and payments over
//! budgets per agent and per plan and windows by plan), each node is
//! decided one at a time, in the plan's order, against a real store
//! (SQLite, in memory): a node that proceeds and is not blocked (nothing
//! upstream of it was denied or escalated) runs, so its reservation is
//! committed; any other node's reservation is released, as an executor
//! would, since it does not run. Every node's decision — level, rules,
//! reasons, budgets — must equal the plan evaluation's, but for the two
//! documented differences: the plan marks blocked nodes, which a store
//! deciding one envelope at a time cannot know; and data flows along the
//! plan's edges (`upstream.reads(pii)` holds below an ancestor that read
//! `pii` and ran), where a store, which knows no edges, sees every earlier
//! step of the plan. So a post after a read that ran on another branch
//! escalates step by step and is allowed in the plan — exactly that.

use actpol::plan::PlanDecision;
use actpol::store::{self, Durability};
use actpol::{Level, MemoryState, Policy, Request};
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
action app.read { system app object Item params { n: Int } reversible reads pii triggers app.log }
action app.log { system app object Item reversible }
action app.send { system app object Item params { n: Int } reversible }
action app.pay { system app object Item params { n: Int } irreversible }
action app.post { system app object Item params { n: Int } reversible sends external }
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
rule posts on app.post { allow "post" }
rule leak on * {
  when action.sends(external) and upstream.reads(pii)
  escalate to lead "people's details would leave"
}
rule many_pays on app.pay {
  when has plan and count(app.pay over 1d by plan) >= 3
  escalate to lead "a fourth payment in one plan"
}
"#;

const TIME: &str = "2026-11-25T14:00:00Z";

fn plan_bytes(nodes: &[(u8, i64)], edges: &[(usize, usize)]) -> Vec<u8> {
    let actions = ["app.read", "app.send", "app.pay", "app.post"];
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
        let nodes = proptest::collection::vec((0u8..4, 0i64..8), n);
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

/// Per node, in the plan's order: a post that no ancestor read that ran
/// flows into, while a read that ran earlier on another branch does. There
/// plan evaluation and a store, which knows no edges, differ.
fn reads_only_on_other_branches(decided: &PlanDecision) -> Vec<bool> {
    let ids: Vec<&str> = decided.nodes.iter().map(|n| n.id.as_str()).collect();
    let at = |id: &str| {
        ids.iter()
            .position(|&n| n == id)
            .expect("an edge names a node")
    };
    let mut parents = vec![Vec::new(); ids.len()];
    for e in &decided.edges {
        parents[at(&e.to)].push(at(&e.from));
    }
    let read_ran = |k: usize| decided.nodes[k].action == "app.read" && decided.nodes[k].runs();
    (0..ids.len())
        .map(|k| {
            if decided.nodes[k].action != "app.post" {
                return false;
            }
            let mut ancestors = vec![false; ids.len()];
            let mut stack = parents[k].clone();
            while let Some(p) = stack.pop() {
                if !std::mem::replace(&mut ancestors[p], true) {
                    stack.extend_from_slice(&parents[p]);
                }
            }
            let upstream = (0..k).any(|j| ancestors[j] && read_ran(j));
            let earlier = (0..k).any(read_ran);
            earlier && !upstream
        })
        .collect()
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
        let unrelated = reads_only_on_other_branches(&decided);
        for (k, (node, alone)) in decided.nodes.iter().zip(&stepped).enumerate() {
            if unrelated[k] {
                // The documented difference, and nothing else: the store
                // sees the read, the plan does not.
                prop_assert_eq!(node.decision, Level::Allow, "{}", node.id);
                prop_assert_eq!(alone.decision, Level::Escalate, "{}", node.id);
                prop_assert_eq!(&alone.rules, &vec!["leak".to_string()], "{}", node.id);
                prop_assert!(!node.rules.contains(&"leak".to_string()), "{}", node.id);
                continue;
            }
            prop_assert_eq!(node.decision, alone.decision, "{}", node.id);
            prop_assert_eq!(&node.rules, &alone.rules, "{}", node.id);
            prop_assert_eq!(&node.reasons, &alone.reasons, "{}", node.id);
            prop_assert_eq!(&node.budgets, &alone.budgets, "{}", node.id);
            prop_assert!(alone.errors.is_empty(), "{}: {:?}", node.id, alone.errors);
        }
        // The plan's decision is the strictest of its nodes', which are the
        // steps' but for the documented difference.
        let strictest = decided.nodes.iter().map(|n| n.decision).max().unwrap();
        prop_assert_eq!(decided.decision, strictest);
        let flows_differ = unrelated.iter().any(|&u| u);
        if !flows_differ {
            let stepped_strictest = stepped.iter().map(|d| d.decision).max().unwrap();
            prop_assert_eq!(decided.decision, stepped_strictest);
        }
    }
}
