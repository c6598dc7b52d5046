//! Parsing and checking a generated policy of 10,000 rules over 1,000
//! actions in 100 namespaces, with 100 agents.

use std::fmt::Write as _;

use actpol_check::{check, SourceDb};
use criterion::{criterion_group, criterion_main, Criterion};

const NAMESPACES: usize = 100;
const ACTIONS_PER_NAMESPACE: usize = 10;
const AGENTS: usize = 100;
const RULES: usize = 10_000;

/// A policy as source text: a schema, agents, a budget, and rules of
/// every shape (exact actions, namespaces, agent filters, conditions).
fn generate() -> String {
    let mut s = String::new();
    s.push_str("policy big {\n  default deny \"no rule matched\"\n}\n");
    s.push_str("system crm\nenum Tier { bronze, silver, gold }\napprover lead\n");
    s.push_str(
        "entity Account {\n  name: String\n  tier: Tier\n  arr: Money<USD>\n  region?: String\n}\n",
    );
    s.push_str("budget ops: Int { limit 100000 window 1d per agent }\n");
    for n in 0..NAMESPACES {
        for a in 0..ACTIONS_PER_NAMESPACE {
            let _ = writeln!(
                s,
                "action ns{n}.act{a} {{ system crm object Account params {{ count: Int  amount: Money<USD>  note?: String }} reversible }}"
            );
        }
    }
    for g in 0..AGENTS {
        let _ = writeln!(
            s,
            "agent bot-{g} {{ owner \"bot{g}@acme.example\" workflow flow-{} }}",
            g % 10
        );
    }
    for r in 0..RULES {
        let n = r % NAMESPACES;
        let a = (r / NAMESPACES) % ACTIONS_PER_NAMESPACE;
        let target = if r % 7 == 0 {
            format!("ns{n}.*")
        } else {
            format!("ns{n}.act{a}")
        };
        let filter = match r % 5 {
            0 => format!(" for agent bot-{}", r % AGENTS),
            1 => format!(" for workflow flow-{}", r % 10),
            _ => String::new(),
        };
        let outcome = match r % 4 {
            0 => "allow\n  consume ops by params.count".to_string(),
            1 => "deny \"too much\"".to_string(),
            2 => "escalate to lead \"needs review\"".to_string(),
            _ => "constrain { params.count <= 10 }".to_string(),
        };
        let _ = writeln!(
            s,
            "rule r{r} on {target}{filter} {{\n  when params.count > {r} and object.tier == Tier.gold and (has params.note and params.note != \"x\") and params.amount < {} USD and budget.ops.remaining > 0\n  {outcome}\n}}",
            r + 100
        );
    }
    s
}

fn bench(c: &mut Criterion) {
    let source = generate();
    c.bench_function("parse and check 10,000 rules", |b| {
        b.iter(|| {
            let db = SourceDb::from_sources([("big.actpol", source.as_str())]);
            let checked = check(&db, db.ids().next().expect("one file"));
            assert!(
                checked.policy.is_some(),
                "{:?}",
                checked.diagnostics.first()
            );
            checked
        })
    });
    let db = SourceDb::from_sources([("big.actpol", source.as_str())]);
    let entry = db.ids().next().expect("one file");
    c.bench_function("check 10,000 rules (parsed)", |b| {
        b.iter(|| check(&db, entry))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = bench
}
criterion_main!(benches);
