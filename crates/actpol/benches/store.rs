//! Durable budgeted decisions per second against the embedded store, on
//! one thread, beside the same decision with no store; each store run
//! states its durability setting (what a power loss can lose).
//!
//! `cargo bench -p actpol --bench store [-- --seconds N] [--postgres URL]`
//!
//! With `--postgres URL` (or `ACTPOL_BENCH_PG`), the same runs against a
//! PostgreSQL store too, in a schema of its own created for the run and
//! dropped after, and with 16 clients deciding at once.
//!
//! Each stored decision is one SQLite transaction: read the budget's
//! counter, decide, reserve (reservation row, counter update), append the
//! hash-chained log record and move the head, commit. `decide + commit`
//! adds the second transaction that confirms the action ran. Batches decide
//! several envelopes in one transaction (`Policy::decide_stored_batch`, and
//! `actpol eval --batch --store`): each still sees the ones before it, and
//! one commit makes them all durable.

use std::hint::black_box;
use std::time::{Duration, Instant};

use actpol::store::{self, Durability};
use actpol::{Level, MemoryState, Policy, Request};

const POLICY: &str = r#"
policy bench {
  default deny "no rule covers this action"
  reservation_ttl 1d
}
system ops
entity Account {
  tier: String
}
action ops.send {
  system ops
  object Account
  params {
    recipients: Int
    template: String
  }
  reversible
}
agent bot {
  owner "ops@acme.example"
  workflow sends
}
approver lead
budget sends: Int {
  limit 1_000_000_000
  window 1d
  per agent
  on_exhausted escalate to lead "the daily send budget is spent"
}
rule big on ops.send {
  when params.recipients > 5_000
  escalate to lead "big send"
}
rule routine on ops.send {
  when params.recipients <= 5_000 and params.template.starts_with("lib/")
  allow "routine send"
  consume sends by params.recipients
}
"#;

/// Decisions per transaction when batching (group commit).
const BATCH: usize = 64;

/// 2026-11-25T14:00:00Z.
const NOW: i64 = 1_795_615_200_000;

const ENVELOPE: &str = r#"{"agent": {"id": "bot", "owner": "ops@acme.example", "workflow": "sends"},
 "action": {"name": "ops.send", "params": {"recipients": 40, "template": "lib/weekly"}},
 "object": {"type": "Account", "id": "acc-1", "attrs": {"tier": "pro"}},
 "time": "2026-11-25T14:00:00Z"}"#;

fn rate(label: &str, seconds: f64, mut one: impl FnMut()) -> f64 {
    // Warm up, then run for the time given.
    for _ in 0..200 {
        one();
    }
    let deadline = Duration::from_secs_f64(seconds);
    let start = Instant::now();
    let mut n: u64 = 0;
    while start.elapsed() < deadline {
        for _ in 0..100 {
            one();
        }
        n += 100;
    }
    let per = start.elapsed().as_secs_f64() / n as f64;
    println!(
        "{label:<44} {:>10.0} /s  {:>8.2} µs each",
        1.0 / per,
        per * 1e6
    );
    per
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let seconds = args
        .iter()
        .position(|a| a == "--seconds")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse::<f64>().ok())
        .unwrap_or(3.0);
    let policy =
        Policy::from_sources([("bench.actpol", POLICY)]).expect("the bench policy compiles");
    let bytes = ENVELOPE.as_bytes();
    let request = || Request::new(bytes).at(NOW);
    let group = |n: usize| (0..n).map(|_| request()).collect::<Vec<_>>();
    let batch = || group(BATCH);
    assert_eq!(
        policy.decide(bytes, &MemoryState::default()).decision,
        actpol::Level::Allow
    );

    if let Some(i) = args.iter().position(|a| a == "--callgrind") {
        // A fixed amount of work for `valgrind --tool=callgrind`: N
        // decisions into a fresh store, after 1,000 to warm it, `--batch B`
        // to a transaction (64 unless told).
        let n: usize = args.get(i + 1).and_then(|s| s.parse().ok()).unwrap_or(1280);
        let per: usize = args
            .iter()
            .position(|a| a == "--batch")
            .and_then(|i| args.get(i + 1))
            .and_then(|s| s.parse().ok())
            .unwrap_or(BATCH);
        let dir = std::env::temp_dir().join(format!("actpol-store-cg-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let store =
            store::open(dir.join("store.db").to_str().unwrap(), Durability::Normal).unwrap();
        for _ in 0..(1000 + n) / per {
            black_box(policy.decide_stored_batch(&*store, group(per)).unwrap());
        }
        let _ = std::fs::remove_dir_all(&dir);
        return;
    }
    if args.iter().any(|a| a == "--windows") {
        busy_key(seconds);
        return;
    }
    println!("one thread; the same envelope each time (allow, consumes `sends` by 40)\n");
    let state = MemoryState::default();
    let bare = rate("decision, no store (JSON bytes in)", seconds, || {
        black_box(policy.decide(black_box(bytes), &state));
    });

    let dir = std::env::temp_dir().join(format!("actpol-store-bench-{}", std::process::id()));
    for durability in [Durability::Normal, Durability::Full] {
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("store.db");
        let store = store::open(path.to_str().unwrap(), durability).expect("the store opens");
        println!("\n{}", durability.describe());
        let stored = rate("decision with the store (one transaction)", seconds, || {
            let d = policy.decide_stored(&*store, request()).unwrap();
            debug_assert!(d.decision.proceeds());
            black_box(d);
        });
        println!(
            "{:<44} {:>10.1}x the decision with no store",
            "",
            stored / bare
        );
        rate("decision + commit (two transactions)", seconds, || {
            let d = policy.decide_stored(&*store, request()).unwrap();
            store.commit(&d.reservations[0], NOW).unwrap();
        });
        let per_batch = rate(
            &format!("batches of {BATCH} (one transaction each), per batch"),
            seconds,
            || {
                black_box(policy.decide_stored_batch(&*store, batch()).unwrap());
            },
        );
        let per = per_batch / BATCH as f64;
        println!(
            "{:<44} {:>10.0} /s  {:>8.2} µs each, {:.1}x the decision with no store",
            "  per decision in a batch",
            1.0 / per,
            per * 1e6,
            per / bare
        );
        let records = match store.verify().unwrap() {
            actpol::store::Verification::Intact { records, .. } => records,
            broken => panic!("the chain broke: {broken:?}"),
        };
        println!("{:<44} {records} records, chain verified", "");
    }
    let _ = std::fs::remove_dir_all(&dir);
    let server = args
        .iter()
        .position(|a| a == "--postgres")
        .and_then(|i| args.get(i + 1).cloned())
        .or_else(|| std::env::var("ACTPOL_BENCH_PG").ok());
    if let Some(url) = server {
        postgres_runs(&policy, &url, seconds, bare);
    }
}

/// The same runs against a PostgreSQL store, in a schema made for the run.
fn postgres_runs(policy: &Policy, url: &str, seconds: f64, bare: f64) {
    let schema = format!("actpol_bench_{}", std::process::id());
    let mut admin = postgres::Client::connect(url, postgres::NoTls).expect("the server answers");
    admin
        .batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
        ))
        .unwrap();
    let join = if url.contains('?') { '&' } else { '?' };
    let location = format!("{url}{join}options=-c%20search_path%3D{schema}");
    let store = store::open(&location, Durability::Normal).expect("the store opens");
    let bytes = ENVELOPE.as_bytes();
    let request = || Request::new(bytes).at(NOW);
    println!("\n{}", store.durability());
    let stored = rate("decision with the store (one transaction)", seconds, || {
        black_box(policy.decide_stored(&*store, request()).unwrap());
    });
    println!(
        "{:<44} {:>10.1}x the decision with no store",
        "",
        stored / bare
    );
    rate("decision + commit (two transactions)", seconds, || {
        let d = policy.decide_stored(&*store, request()).unwrap();
        store.commit(&d.reservations[0], NOW).unwrap();
    });
    let per_batch = rate(
        &format!("batches of {BATCH} (one transaction each), per batch"),
        seconds,
        || {
            let requests = (0..BATCH).map(|_| request()).collect();
            black_box(policy.decide_stored_batch(&*store, requests).unwrap());
        },
    );
    let per = per_batch / BATCH as f64;
    println!(
        "{:<44} {:>10.0} /s  {:>8.2} µs each, {:.1}x the decision with no store",
        "  per decision in a batch",
        1.0 / per,
        per * 1e6,
        per / bare
    );
    // Clients deciding at once, each one transaction per decision: they
    // take turns on the head's lock, as replicas would.
    let clients = 16;
    let deadline = Duration::from_secs_f64(seconds);
    let start = Instant::now();
    let decided: usize = std::thread::scope(|s| {
        let workers: Vec<_> = (0..clients)
            .map(|_| {
                let store = &*store;
                s.spawn(move || {
                    let mut n = 0;
                    while start.elapsed() < deadline {
                        black_box(
                            policy
                                .decide_stored(store, Request::new(bytes).at(NOW))
                                .unwrap(),
                        );
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).sum()
    });
    let per = start.elapsed().as_secs_f64() / decided as f64;
    println!(
        "{:<44} {:>10.0} /s  {:>8.2} µs each, {:.1}x the decision with no store",
        format!("{clients} clients at once, one transaction each"),
        1.0 / per,
        per * 1e6,
        per / bare
    );
    let records = match store.verify().unwrap() {
        actpol::store::Verification::Intact { records, .. } => records,
        broken => panic!("the chain broke: {broken:?}"),
    };
    println!("{:<44} {records} records, chain verified", "");
    drop(store);
    admin
        .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .unwrap();
}

/// The bench policy with two windows over the agent's sends: a count over
/// the last hour and a baseline (the seven days before it).
const WINDOWED: &str = r#"
rule burst on ops.send {
  when count(ops.send over 1h) > 1_000_000
  deny "a burst of sends"
}
rule unusual on ops.send {
  when baseline(ops.send over 1h) > 1_000_000
  deny "more sends than usual"
}
"#;

/// What a decision costs when its windows read a busy key: the agent has
/// `n` sends spread evenly over the last seven days, all still counted, and
/// goes on sending ten a second.
/// `cargo bench -p actpol --bench store -- --windows`.
fn busy_key(seconds: f64) {
    let windowed = format!("{POLICY}{WINDOWED}");
    let policy = Policy::from_sources([("bench.actpol", windowed.as_str())])
        .expect("the windowed bench policy compiles");
    // The same policy, but one usual send an hour is already unusual.
    let watching = windowed.replace(
        "baseline(ops.send over 1h) > 1_000_000",
        "baseline(ops.send over 1h) >= 1",
    );
    let watch = Policy::from_sources([("bench.actpol", watching.as_str())])
        .expect("the watching bench policy compiles");
    let week: i64 = 7 * 86_400_000;
    println!(
        "one thread; windows `count(ops.send over 1h)` and `baseline(ops.send over 1h)` by agent\n"
    );
    for n in [0i64, 10_000, 100_000] {
        let dir =
            std::env::temp_dir().join(format!("actpol-store-busy-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let store =
            store::open(dir.join("store.db").to_str().unwrap(), Durability::Normal).unwrap();
        // History: `n` sends over the week before NOW, held long enough to
        // count throughout.
        let history: Vec<(i64, String)> = (0..n)
            .map(|i| {
                let t = NOW - week + (i * week) / n.max(1);
                let time = actpol::values::format_timestamp(t);
                (t, ENVELOPE.replace("2026-11-25T14:00:00Z", &time))
            })
            .collect();
        for chunk in history.chunks(512) {
            let requests = chunk
                .iter()
                .map(|(t, e)| {
                    Request::new(e.as_str())
                        .at(*t)
                        .reservation_ttl(30 * 86_400_000)
                })
                .collect();
            for d in policy.decide_stored_batch(&*store, requests).unwrap() {
                assert!(d.unwrap().decision.proceeds());
            }
        }
        let bytes = ENVELOPE.as_bytes();
        // The agent keeps sending ten times a second while it is measured.
        let clock = std::cell::Cell::new(NOW);
        let request = || {
            clock.set(clock.get() + 100);
            Request::new(bytes)
                .at(clock.get())
                .reservation_ttl(30 * 86_400_000)
        };
        // The windows read that history: an hour's usual share of a week.
        let d = watch
            .decide_stored(&*store, Request::new(bytes).at(NOW).explained())
            .unwrap();
        let expected = if n >= 168 { Level::Deny } else { Level::Allow };
        assert_eq!(d.decision, expected, "{}", actpol::explain_text(&d));
        // A fixed number of decisions, few beside the history they read
        // (each one that proceeds joins the next one's windows).
        let timed = |label: &str, rounds: usize, per: usize| {
            let start = Instant::now();
            for _ in 0..rounds {
                let requests = (0..per).map(|_| request()).collect();
                black_box(policy.decide_stored_batch(&*store, requests).unwrap());
            }
            let each = start.elapsed().as_secs_f64() / (rounds * per) as f64;
            println!(
                "{label:<56} {:>8.0} /s  {:>8.2} µs each",
                1.0 / each,
                each * 1e6
            );
        };
        let _ = seconds;
        timed(
            &format!("{n:>7} sends in the week, one per transaction"),
            500,
            1,
        );
        timed(
            &format!("{n:>7} sends in the week, {BATCH} per transaction"),
            16,
            BATCH,
        );
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
