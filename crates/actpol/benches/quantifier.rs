//! What a quantifier costs per element: a rule that checks every element of
//! a list of records (`params.items.all(i, …)`) decided on envelopes whose
//! list holds 0, 10 and 100 elements. Criterion reports each size's time
//! and throughput in elements; the line printed first is the marginal cost
//! of one element, from the 0- and 100-element medians.
//!
//! `cargo bench -p actpol --bench quantifier`

use std::hint::black_box;
use std::time::Instant;

use actpol::{MemoryState, Policy};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

const POLICY: &str = r#"
policy bench { default deny "no rule matched" }
system shop
record Item {
  sku: String
  amount: Money<USD>
  quantity: Int
}
entity Cart { owner: String }
action shop.checkout {
  system shop
  object Cart
  params { items: List<Item> }
  reversible
}
agent buyer { owner "o@acme.example" workflow w }
rule every_item_small on shop.checkout {
  when params.items.all(i, i.amount <= 500 USD and i.quantity < 10 and i.sku != "")
  allow
}
"#;

fn envelope(len: usize) -> String {
    let items: Vec<serde_json::Value> = (0..len)
        .map(|n| serde_json::json!({"sku": format!("sku-{n}"), "amount": 20 + n % 7, "quantity": 1 + n % 3}))
        .collect();
    serde_json::json!({
        "agent": {"id": "buyer", "owner": "o@acme.example", "workflow": "w"},
        "action": {"name": "shop.checkout", "params": {"items": items}},
        "object": {"type": "Cart", "id": "c-1", "attrs": {"owner": "ana"}},
        "time": "2026-11-25T14:00:00Z"
    })
    .to_string()
}

/// Median nanoseconds of one decision on a bound envelope of `len` items.
fn median_ns(policy: &Policy, len: usize, state: &MemoryState) -> f64 {
    let bound = policy
        .bind(actpol::Envelope::from_json(envelope(len).as_bytes()).expect("parses"))
        .expect("binds");
    let mut samples: Vec<f64> = (0..31)
        .map(|_| {
            let reps = 2_000;
            let start = Instant::now();
            for _ in 0..reps {
                black_box(policy.decide(black_box(&bound), state));
            }
            start.elapsed().as_nanos() as f64 / f64::from(reps)
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn bench(c: &mut Criterion) {
    let state = MemoryState::default();
    let policy = Policy::from_sources([("bench.actpol", POLICY)]).expect("compiles");
    for len in [0, 100] {
        let d = policy.decide(envelope(len).as_bytes(), &state);
        assert_eq!(d.rules, ["every_item_small"], "{len} items: {d:?}");
    }
    let (empty, hundred) = (
        median_ns(&policy, 0, &state),
        median_ns(&policy, 100, &state),
    );
    eprintln!(
        "quantifier: {empty:.0} ns with no element, {hundred:.0} ns with 100: {:.1} ns per element",
        (hundred - empty) / 100.0
    );
    let mut group = c.benchmark_group("quantifier");
    for len in [0u64, 10, 100] {
        let bound = policy
            .bind(actpol::Envelope::from_json(envelope(len as usize).as_bytes()).expect("parses"))
            .expect("binds");
        group.throughput(Throughput::Elements(len.max(1)));
        group.bench_with_input(BenchmarkId::new("all", len), &len, |b, _| {
            b.iter(|| black_box(policy.decide(black_box(&bound), &state)))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
