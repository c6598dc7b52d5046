//! A 1,000-node plan on the growth policy: 500 campaign sends, each to its
//! own sequence, in chains of ten, each with the activity log its send
//! triggers (500 implied nodes). Every node reads the daily send budget as
//! the sends before it left it, windows by object and by agent (the CRM
//! write-spike risk counts every earlier activity log, and escalates the
//! logs past the fiftieth in the hour), and the plan's history. Reports the plan's median time, the per-node cost, and the
//! ratio to one decision of the same send alone.
//!
//! `cargo bench -p actpol --bench plan [-- --iterations N]`;
//! `valgrind --tool=callgrind target/release/deps/plan-… --callgrind N`
//! decides the plan N times, untimed, for instruction counts (subtract a
//! run with `--callgrind 0`, which reads the plan and stops).

use std::hint::black_box;
use std::time::{Duration, Instant};

use actpol::{MemoryState, Policy};
use serde_json::{json, Value};

const SENDS: usize = 500;

fn growth() -> Policy {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/growth");
    Policy::from_paths(&[dir]).expect("the growth example compiles")
}

fn send_envelope() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/growth/envelopes/routine-send-allows.json"
    );
    serde_json::from_slice(&std::fs::read(path).expect("the routine send")).expect("JSON")
}

/// The plan: sends of 8 recipients (so the daily budget of 5,000 lasts),
/// each to its own sequence, chained in tens.
fn plan_bytes() -> Vec<u8> {
    let send = send_envelope();
    let mut nodes = Vec::with_capacity(SENDS);
    let mut edges = Vec::new();
    for i in 0..SENDS {
        let mut object = send["object"].clone();
        object["id"] = json!(format!("seq-{i}"));
        let mut action = send["action"].clone();
        action["params"]["recipients"] = json!(8);
        nodes.push(
            json!({"id": format!("send-{i}"), "action": action, "object": object,
                          "intent": send["intent"], "rollback": send["rollback"]}),
        );
        if i % 10 != 0 {
            edges.push(json!({"from": format!("send-{}", i - 1), "to": format!("send-{i}")}));
        }
    }
    let lead = json!({"type": "Lead", "id": "lead-list", "attrs": {
        "email": "list@prospects.example", "lifecycle": "churned", "score": 40, "region": "na",
        "consent": "opted_in", "opted_out_channels": [], "source": "winback"}});
    serde_json::to_vec(&json!({
        "id": "plan-bench", "agent": send["agent"], "time": send["time"], "context": send["context"],
        "triggers": {"crm.log_activity": {"object": lead}},
        "nodes": nodes, "edges": edges,
    }))
    .expect("a plan")
}

/// A policy whose every rule reads what the plan did: a send budget per
/// agent, a per-plan budget, a window by plan and one by object.
const ALLOWING: &str = r#"
policy steps { default deny "no rule matched" }
system app
entity Item { name: String }
action app.read { system app object Item params { n: Int } reversible triggers app.log }
action app.log { system app object Item reversible }
action app.send { system app object Item params { n: Int } reversible }
agent bot { owner "o@acme.example" workflow w }
approver lead { title "Lead" }
budget sends: Int { limit 1_000_000 window 1d per agent on_exhausted escalate to lead "spent" }
budget plan_reads: Int { limit 1_000_000 window plan per plan }
rule reads on app.read { when count(app.read over 1d by object) < 1_000 allow "read" consume plan_reads by params.n }
rule logs on app.log { allow "log" }
rule sends on app.send { allow "send" consume sends by params.n }
rule many_reads on app.send {
  when has plan and count(app.read over 1d by plan) > 10_000
  escalate to lead "too many reads before a send"
}
"#;

/// 1,000 nodes that all run: 334 reads with the 334 logs they trigger,
/// and 332 sends, in chains of ten.
fn allowing_bytes() -> Vec<u8> {
    let mut nodes = Vec::new();
    let mut edges = Vec::new();
    for i in 0..666 {
        let action = if i % 2 == 0 { "app.read" } else { "app.send" };
        nodes.push(json!({"id": format!("n{i}"),
            "action": {"name": action, "params": {"n": 3}},
            "object": {"type": "Item", "id": format!("item-{}", i % 50), "attrs": {"name": "x"}}}));
        if i % 10 != 0 {
            edges.push(json!({"from": format!("n{}", i - 1), "to": format!("n{i}")}));
        }
    }
    serde_json::to_vec(&json!({
        "id": "plan-allowing", "agent": {"id": "bot", "owner": "o@acme.example", "workflow": "w"},
        "time": "2026-11-25T14:00:00Z", "nodes": nodes, "edges": edges,
    }))
    .expect("a plan")
}

/// The median time of `runs` calls of `f`.
fn median_of(runs: usize, mut f: impl FnMut()) -> Duration {
    median(
        (0..runs)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed()
            })
            .collect(),
    )
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let policy = growth();
    let bytes = plan_bytes();
    let started = Instant::now();
    let plan = policy.read_plan(&bytes).expect("the plan holds together");
    let read = started.elapsed();
    let state = MemoryState::default();
    if let Some(i) = args.iter().position(|a| a == "--callgrind") {
        let n: usize = args.get(i + 1).and_then(|n| n.parse().ok()).unwrap_or(1);
        let (policy, plan) = if args.iter().any(|a| a == "--allowing") {
            let policy = Policy::from_sources([("steps.actpol", ALLOWING)]).expect("compiles");
            let plan = policy
                .read_plan(&allowing_bytes())
                .expect("the plan holds together");
            (policy, plan)
        } else {
            (policy, plan)
        };
        for _ in 0..n {
            black_box(policy.decide_plan(&plan, &state));
        }
        return;
    }
    let iterations: usize = args
        .iter()
        .position(|a| a == "--iterations")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(30);

    let decided = policy.decide_plan(&plan, &state);
    let nodes = decided.nodes.len();
    assert_eq!(nodes, 2 * SENDS, "every send has its implied activity log");
    // Every send runs (so each adds to the state the next reads); past
    // fifty activity logs in the hour the CRM write-spike risk escalates
    // the rest of them, which wait on nothing downstream.
    for i in 0..SENDS {
        let send = &decided.nodes[2 * i];
        assert!(
            send.runs(),
            "`{}` is {:?}: {:?}",
            send.id,
            send.decision,
            send.reasons
        );
    }
    let escalated = decided
        .nodes
        .iter()
        .filter(|n| n.decision == actpol::Level::Escalate)
        .count();

    let plan_time = median_of(iterations, || {
        black_box(policy.decide_plan(black_box(&plan), &state));
    });
    // One decision: the first send alone, bound once, as a plan node is.
    let env = plan.nodes[0].envelope.as_ref().expect("bound");
    let one = median_of(iterations * 100, || {
        black_box(policy.decide(black_box(env), &state));
    });
    let per_node = plan_time / nodes as u32;
    println!("plan of {nodes} nodes ({SENDS} written, {SENDS} implied; {escalated} escalated)");
    println!(
        "  read and bind the plan: {:.2} ms",
        read.as_secs_f64() * 1e3
    );
    println!(
        "  decide the plan (median of {iterations}): {:.2} ms",
        plan_time.as_secs_f64() * 1e3
    );
    println!("  per node: {:.2} us", per_node.as_secs_f64() * 1e6);
    println!("  one decision alone: {:.2} us", one.as_secs_f64() * 1e6);
    println!(
        "  per node / one decision: {:.2}x",
        per_node.as_secs_f64() / one.as_secs_f64()
    );
    println!(
        "  target: a 1,000-node plan in under 10 ms: {}",
        if plan_time < Duration::from_millis(10) {
            "met"
        } else {
            "MISSED"
        }
    );

    let policy = Policy::from_sources([("steps.actpol", ALLOWING)]).expect("compiles");
    let exports = policy
        .read_plan(&allowing_bytes())
        .expect("the plan holds together");
    let decided = policy.decide_plan(&exports, &state);
    if let Some(n) = decided.nodes.iter().find(|n| !n.runs()) {
        panic!("`{}` does not run: {:?}", n.id, n.reasons);
    }
    let exports_time = median_of(iterations, || {
        black_box(policy.decide_plan(black_box(&exports), &state));
    });
    let env = exports.nodes[0].envelope.as_ref().expect("bound");
    let one = median_of(iterations * 100, || {
        black_box(policy.decide(black_box(env), &state));
    });
    let per_node = exports_time / decided.nodes.len() as u32;
    println!(
        "plan of {} nodes that all run (reads, their logs, sends)",
        decided.nodes.len()
    );
    println!(
        "  decide the plan (median of {iterations}): {:.2} ms",
        exports_time.as_secs_f64() * 1e3
    );
    println!(
        "  per node: {:.2} us; one decision alone: {:.2} us; {:.2}x",
        per_node.as_secs_f64() * 1e6,
        one.as_secs_f64() * 1e6,
        per_node.as_secs_f64() / one.as_secs_f64()
    );
    println!(
        "  target: a 1,000-node plan in under 10 ms: {}",
        if exports_time < Duration::from_millis(10) {
            "met"
        } else {
            "MISSED"
        }
    );
}
