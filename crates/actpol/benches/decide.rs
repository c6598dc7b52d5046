//! ns per decision at 10, 100, 1,000 and 10,000 rules, from a bound
//! envelope and from JSON bytes. The policy grows the way real ones do:
//! more actions and more agents. Every action has ten rules, pinned to its
//! agent, so a decision has ten candidate rules at every size while the
//! policy grows 1,000-fold.
//!
//! `cargo bench -p actpol --bench decide`

use std::fmt::Write as _;
use std::hint::black_box;

use actpol::{MemoryState, Policy};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};

/// A policy of `rules` rules over `rules / 10` actions and agents: rule `r`
/// is on action `r / 10`, for the agent of the same number.
fn policy_text(rules: usize) -> String {
    let width = (rules / 10).max(1);
    let mut s = String::new();
    s.push_str("policy bench {\n  default deny \"no rule matched\"\n}\n\n");
    s.push_str("system crm\nenum Tier { free, pro, enterprise }\n\n");
    s.push_str("entity Account {\n  tier: Tier\n  regions: Set<String>\n  arr: Money<USD>\n}\n\n");
    for a in 0..width {
        let _ = writeln!(
            s,
            "action ns{}.act{a} {{\n  system crm\n  object Account\n  params {{\n    amount: Int\n    note: String\n  }}\n  reversible\n}}\n",
            a % 10
        );
        let _ = writeln!(
            s,
            "agent agent-{a} {{\n  owner \"owner-{a}@acme.example\"\n  workflow flow-{}\n}}\n",
            a % 7
        );
    }
    let _ = writeln!(s, "approver reviewer {{\n  title \"Reviewer\"\n}}\n");
    for r in 0..rules {
        let a = r / 10;
        let agent = a;
        let threshold = 100 + (r % 13) * 50;
        let body = match r % 4 {
            0 => format!("when params.amount <= {threshold} and \"emea\" in object.regions\n  allow"),
            1 => format!("when params.amount > {} or object.tier == Tier.free\n  deny \"too large\"", threshold * 10),
            2 => format!(
                "when params.amount > {threshold} and object.arr >= 10000 USD\n  escalate to reviewer \"large account\""
            ),
            _ => format!(
                "when object.tier in [Tier.pro, Tier.enterprise]\n  constrain \"cap\" {{\n    params.amount <= {}\n  }}",
                threshold * 2
            ),
        };
        let _ = writeln!(
            s,
            "rule r{r} on ns{}.act{a} for agent agent-{agent} {{\n  {body}\n}}\n",
            a % 10
        );
    }
    s
}

/// An envelope for action 0 by agent 0: the ten rules of action 0 apply.
fn envelope() -> String {
    let (a, agent) = (0, 0);
    format!(
        r#"{{"id":"req-1","agent":{{"id":"agent-{agent}","owner":"owner-{agent}@acme.example","workflow":"flow-{}"}},
"action":{{"name":"ns{}.act{a}","params":{{"amount":250,"note":"renewal"}}}},
"object":{{"type":"Account","id":"acc-7","attrs":{{"tier":"pro","regions":["emea","na"],"arr":25000}}}},
"time":"2026-11-25T14:00:00Z"}}"#,
        agent % 7,
        a % 10
    )
}

fn bench(c: &mut Criterion) {
    let state = MemoryState::default();
    let mut group = c.benchmark_group("decide");
    for rules in [10usize, 100, 1_000, 10_000] {
        let text = policy_text(rules);
        let policy = Policy::from_sources([("bench.actpol", text.as_str())])
            .expect("the generated policy compiles");
        let json = envelope();
        let env = actpol::Envelope::from_json(json.as_bytes()).expect("envelope parses");
        let bound = policy.bind(env.clone()).expect("envelope binds");
        // Guard against measuring a refusal: the decision must run rules.
        let d = policy.decide(&bound, &state);
        assert!(!d.rules.is_empty(), "{rules} rules: no rule matched: {d:?}");
        group.bench_with_input(BenchmarkId::new("bound", rules), &rules, |b, _| {
            b.iter(|| black_box(policy.decide(black_box(&bound), &state)))
        });
        group.bench_with_input(BenchmarkId::new("json", rules), &rules, |b, _| {
            b.iter(|| black_box(policy.decide(black_box(json.as_bytes()), &state)))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
