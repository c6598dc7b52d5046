//! The store conformance suite: what every store backend must do, written
//! once against [`actpol::store::Store`] and run against each backend (see
//! `tests/store_sqlite.rs`). A backend supplies fresh locations, opens
//! them, and can tamper with its log for the audit tests.
//!
//! Processes: the concurrency and crash tests run children that are this
//! same test binary, started with `ACTPOL_CONFORMANCE_CHILD` set; the
//! backend's `child_entry` test runs the child's part and exits.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use actpol::decision::Amount;
use actpol::store::{
    ApprovalStatus, ApprovalUse, ReservationState, Store, StoreError, Verification,
};
use actpol::{Decision, ErrorCode, Level, Policy, Request};
use serde_json::{json, Value as Json};

/// What a backend gives the suite.
pub trait Backend: Sync {
    /// A location no store exists at yet, that other processes can open.
    fn fresh(&self) -> String;
    fn open(&self, location: &str) -> Box<dyn Store>;
    /// Changes the stored log behind the store's back.
    fn tamper(&self, location: &str, tamper: Tamper);
    /// Whether the backend can run here: a database server the tests were
    /// not given is skipped, and says so.
    fn available(&self) -> bool {
        true
    }
}

/// Ways to tamper with a log.
#[derive(Clone, Copy, Debug)]
pub enum Tamper {
    /// Change what record `n` says.
    Edit(u64),
    /// Remove record `n`.
    Delete(u64),
    /// Swap records `a` and `b`.
    Swap(u64, u64),
    /// Remove every record after `n`.
    Truncate(u64),
}

pub const POLICY: &str = r#"
policy conformance {
  default deny "no rule covers this action"
  on_error deny "the policy could not be evaluated"
  max_skew 5m
  reservation_ttl 10m
  approval_ttl 1h
}
system ops
entity Account {
  region?: String
}
action ops.spend {
  system ops
  object Account
  params {
    units: Int
  }
  reversible
}
action ops.load {
  system ops
  object Account
  params {
    units: Int
  }
  reversible
}
action ops.ping {
  system ops
  object Account
  params {
    amount: Money<USD>
  }
  reversible
}
action ops.wire {
  system ops
  object Account
  params {
    amount: Money<USD>
  }
  reversible
}
action ops.draw {
  system ops
  object Account
  params {
    units: Int
  }
  reversible
}
action ops.tick {
  system ops
  object Account
  reversible
}
action ops.tock {
  system ops
  object Account
  reversible
}
action ops.grant {
  system ops
  object Account
  params {
    units: Int
  }
  reversible
}
action ops.credit {
  system ops
  object Account
  params {
    units: Int
  }
  reversible
}
action ops.erase {
  system ops
  object Account
  params {
    units: Int
  }
  irreversible
}
action ops.purge {
  system ops
  object Account
  params {
    units: Int
  }
  irreversible
}
agent bot-a {
  owner "a@acme.example"
  workflow w1
}
agent bot-b {
  owner "b@acme.example"
  workflow w1
}
approver lead {
  title "Operations lead"
}
approver cfo

budget units: Int {
  limit 500
  window 1d
  per workflow
  on_exhausted deny "the workflow's daily units are spent"
}
budget bulk: Int {
  limit 1_000_000_000
  window 1d
  per agent
}
budget daily: Int {
  limit 2
  window 1d
  per agent
}
budget hourly: Int {
  limit 1
  window 1h
  per agent
  on_exhausted escalate to lead "one tock an hour"
}
budget pool: Int {
  limit 5_000
  window 1d
  per workflow
  on_exhausted deny "the workflow's pool is spent"
}
budget credits: Int {
  limit 200
  window 1d
  per agent
  on_exhausted escalate to lead "the agent's daily credits are spent"
}

rule spend on ops.spend {
  allow "routine spend"
  consume units by params.units
}
rule big_spend on ops.spend {
  when params.units > 100
  escalate to lead "big spend"
}
rule load on ops.load {
  allow
  consume bulk by params.units
}
rule ping on ops.ping {
  allow
}
rule ping_rate on ops.ping {
  when count(ops.ping over 1h) >= 3
  deny "three pings an hour at most"
}
rule ping_exposure on ops.ping {
  when sum(ops.ping.amount over 1h) + params.amount > 100 USD
  escalate to lead "ping exposure above 100 USD an hour"
}
rule wire on ops.wire {
  when params.amount > 1000 USD
  escalate to cfo "large wire"
}
rule very_large_wire on ops.wire {
  when params.amount > 5000 USD
  escalate to lead "very large wire"
}
rule small_wire on ops.wire {
  when params.amount <= 1000 USD
  allow
}
rule draw on ops.draw {
  allow
  consume pool by params.units
}
rule tick on ops.tick {
  allow
  consume daily by 1
}
rule tock on ops.tock {
  allow
  consume hourly by 1
}

// An escalating rule that consumes: once approved, its `consume` applies.
rule grant on ops.grant {
  when params.units <= 100
  allow
  consume units by params.units
}
rule big_grant on ops.grant {
  when params.units > 100
  escalate to lead "big grant"
  consume units by params.units
}
rule credit on ops.credit {
  when params.units <= 50
  allow
  consume credits by params.units
}
rule big_credit on ops.credit {
  when params.units > 50
  escalate to lead "big credit"
  consume credits by params.units
}

// Raises apply again under an approval.
rule erase on ops.erase {
  allow
}
rule big_erase on ops.erase {
  when params.units > 10
  escalate to lead "big erase"
}
raise erase_needs_cfo on ops.erase when not has rollback {
  allow -> escalate to cfo "an erase without a rollback plan needs the CFO"
}
rule purge on ops.purge {
  allow
  consume units by params.units
}
raise purge_needs_lead on ops.purge when not has rollback {
  allow -> escalate to lead "a purge without a rollback plan needs the lead"
}
"#;

pub fn policy() -> Arc<Policy> {
    static POLICY_ONCE: std::sync::OnceLock<Arc<Policy>> = std::sync::OnceLock::new();
    Arc::clone(POLICY_ONCE.get_or_init(|| {
        Arc::new(
            Policy::from_sources([("conformance.actpol", POLICY)])
                .expect("the suite's policy compiles"),
        )
    }))
}

/// 2026-11-25T14:00:00Z, a Wednesday.
pub const T0: i64 = 1_795_615_200_000;
pub const MINUTE: i64 = 60_000;
pub const HOUR: i64 = 60 * MINUTE;

pub fn at(ms: i64) -> String {
    actpol_core_time(ms)
}

fn actpol_core_time(ms: i64) -> String {
    // RFC 3339 without pulling the core crate into the suite's imports.
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60,
        ms.rem_euclid(1000)
    )
}

/// Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

pub fn envelope(agent: &str, action: &str, params: Json, time: i64) -> Vec<u8> {
    let owner = if agent == "bot-b" {
        "b@acme.example"
    } else {
        "a@acme.example"
    };
    serde_json::to_vec(&json!({
        "agent": {"id": agent, "owner": owner, "workflow": "w1"},
        "action": {"name": action, "params": params},
        "object": {"type": "Account", "id": "acc-1"},
        "time": at(time),
    }))
    .unwrap()
}

pub fn with_approval(bytes: &[u8], approval: &str) -> Vec<u8> {
    let mut env: Json = serde_json::from_slice(bytes).unwrap();
    env["approval"] = json!(approval);
    serde_json::to_vec(&env).unwrap()
}

pub fn decide(store: &dyn Store, bytes: &[u8], now: i64) -> Decision {
    policy()
        .decide_stored(store, Request::new(bytes).at(now))
        .expect("the store decides")
        .into_decision()
}

fn intact(store: &dyn Store) -> u64 {
    match store.verify().expect("verify runs") {
        Verification::Intact { records, .. } => records,
        broken => panic!("the chain should verify: {broken:?}"),
    }
}

fn decisions_logged(store: &dyn Store) -> usize {
    store
        .log(&actpol::store::LogFilter::default())
        .unwrap()
        .iter()
        .filter(|e| e.kind == "decision")
        .count()
}

// ------------------------------------------------------------ budgets --

pub fn budgets_never_overspend_across_threads(backend: &dyn Backend) {
    let location = backend.fresh();
    let store: Arc<dyn Store> = Arc::from(backend.open(&location));
    let granted: usize = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|t| {
                let store = Arc::clone(&store);
                s.spawn(move || {
                    let agent = if t % 2 == 0 { "bot-a" } else { "bot-b" };
                    let bytes = envelope(agent, "ops.spend", json!({"units": 1}), T0);
                    (0..1000)
                        .filter(|_| decide(&*store, &bytes, T0).decision == Level::Allow)
                        .count()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    assert_eq!(
        granted, 500,
        "a limit of 500 units grants exactly 500 decisions of 1 unit"
    );
    assert_eq!(decisions_logged(&*store), 8000, "every decision is logged");
    intact(&*store);
    let budgets = policy().budgets(&*store, T0).unwrap();
    let units = budgets.iter().find(|b| b.budget == "units").unwrap();
    assert_eq!(units.consumed.to_string(), "500");
}

/// The child's part of the process tests. Returns whether it ran as one.
pub fn child_entry(backend: &dyn Backend) -> bool {
    let Ok(work) = std::env::var("ACTPOL_CONFORMANCE_CHILD") else {
        return false;
    };
    let mut parts = work.splitn(3, '|');
    let (mode, count, location) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    let store = backend.open(location);
    let mut out = std::io::stdout().lock();
    match mode {
        "spend" => {
            let n: usize = count.parse().unwrap();
            let bytes = envelope("bot-a", "ops.spend", json!({"units": 1}), T0);
            let granted = (0..n)
                .filter(|_| decide(&*store, &bytes, T0).decision == Level::Allow)
                .count();
            writeln!(out, "child: granted {granted}").unwrap();
        }
        "serve" => {
            // A replica: `threads` clients, each making `decisions`
            // decisions of `action` for `units` and committing what it
            // was granted; each commit is reported as it happens.
            let [threads, decisions, units, action] = count.split(',').collect::<Vec<_>>()[..]
            else {
                panic!("serve needs threads,decisions,units,action");
            };
            let (threads, decisions): (usize, usize) =
                (threads.parse().unwrap(), decisions.parse().unwrap());
            let units: u64 = units.parse().unwrap();
            let store: &dyn Store = &*store;
            drop(out);
            let granted: usize = std::thread::scope(|s| {
                let clients: Vec<_> = (0..threads)
                    .map(|_| {
                        s.spawn(move || {
                            let bytes = envelope("bot-a", action, json!({"units": units}), T0);
                            let mut granted = 0;
                            for _ in 0..decisions {
                                let d = decide(store, &bytes, T0);
                                if d.decision != Level::Allow {
                                    continue;
                                }
                                granted += 1;
                                let reservation = &d.reservations[0];
                                store.commit(reservation, T0).expect("commit");
                                let mut out = std::io::stdout().lock();
                                if writeln!(out, "child: {} {reservation} {units}", d.id.unwrap())
                                    .and_then(|()| out.flush())
                                    .is_err()
                                {
                                    break;
                                }
                            }
                            granted
                        })
                    })
                    .collect();
                clients.into_iter().map(|c| c.join().unwrap()).sum()
            });
            println!("child: granted {granted}");
        }
        "load" => {
            // Decide and commit until killed, saying what was committed.
            let mut i: u64 = 0;
            loop {
                i += 1;
                let units = 1 + i % 7;
                let bytes = envelope("bot-a", "ops.load", json!({"units": units}), T0);
                let d = decide(&*store, &bytes, T0);
                let reservation = d.reservations.first().expect("an allow reserves").clone();
                store.commit(&reservation, T0).expect("commit");
                // The parent may be gone already; nothing to report then.
                if writeln!(out, "child: {} {reservation} {units}", d.id.unwrap())
                    .and_then(|()| out.flush())
                    .is_err()
                {
                    return true;
                }
            }
        }
        other => panic!("unknown child work {other}"),
    }
    true
}

fn child(test: &str, work: &str) -> Command {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env("ACTPOL_CONFORMANCE_CHILD", work)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    cmd
}

pub fn budgets_never_overspend_across_processes(backend: &dyn Backend, child_test: &str) {
    let location = backend.fresh();
    drop(backend.open(&location));
    let children: Vec<_> = (0..4)
        .map(|_| {
            child(child_test, &format!("spend|1000|{location}"))
                .spawn()
                .unwrap()
        })
        .collect();
    let mut granted = 0;
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(out.status.success(), "a child failed");
        let text = String::from_utf8_lossy(&out.stdout);
        let line = text
            .lines()
            .find_map(|l| l.split("child: granted ").nth(1))
            .unwrap_or_else(|| panic!("the child reports: {text}"));
        granted += line.trim().parse::<usize>().unwrap();
    }
    assert_eq!(granted, 500, "four processes share one limit of 500");
    let store = backend.open(&location);
    assert_eq!(decisions_logged(&*store), 4000, "every decision is logged");
    intact(&*store);
}

/// A small deterministic generator for kill times.
struct Jitter(u64);

impl Jitter {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

pub fn a_killed_process_loses_nothing_committed(
    backend: &dyn Backend,
    child_test: &str,
    kills: usize,
) {
    let location = backend.fresh();
    drop(backend.open(&location));
    let mut jitter = Jitter(0x9e37_79b9_7f4a_7c15 ^ u64::from(std::process::id()));
    let mut reported: Vec<(String, String, u64)> = Vec::new();
    for _ in 0..kills {
        let mut c = child(child_test, &format!("load|0|{location}"))
            .spawn()
            .unwrap();
        let stdout = c.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut lines = Vec::new();
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                lines.push(line);
            }
            lines
        });
        // Kill at a random point once the child is under way.
        std::thread::sleep(Duration::from_millis(30 + jitter.below(250)));
        c.kill().unwrap(); // SIGKILL
        c.wait().unwrap();
        for line in reader.join().unwrap() {
            // The harness may have begun the line: "test child_entry ... ".
            let Some(line) = line.split("child: ").nth(1) else {
                continue;
            };
            let parts: Vec<&str> = line.split(' ').collect();
            if let [dec, res, units] = parts[..] {
                reported.push((dec.into(), res.into(), units.parse().unwrap()));
            }
        }
        // After each kill: the store opens and the chain verifies.
        let store = backend.open(&location);
        intact(&*store);
    }
    assert!(
        reported.len() > kills,
        "the children committed under load ({})",
        reported.len()
    );
    let store = backend.open(&location);
    let mut total = 0;
    for (dec, res, units) in &reported {
        let entry = store.decision(dec).expect("a reported decision is logged");
        let held = &entry.record["reservation"]["budgets"][0];
        assert_eq!(held["budget"], "bulk");
        assert_eq!(
            held["amount"],
            json!(units.to_string()),
            "{dec} logged with its consumption"
        );
        let r = store.reservation(res, T0).unwrap();
        assert_eq!(
            r.state,
            ReservationState::Committed,
            "{res} stays committed"
        );
        total += units;
    }
    let bulk = policy().budgets(&*store, T0).unwrap();
    let consumed: u64 = bulk
        .iter()
        .find(|b| b.budget == "bulk")
        .unwrap()
        .consumed
        .to_string()
        .parse()
        .unwrap();
    assert!(
        consumed >= total,
        "committed consumption {total} is all counted ({consumed})"
    );
}

/// How many decisions the replica tests make in all: 10,000 unless
/// `ACTPOL_TEST_REPLICA_DECISIONS` says otherwise (CI may run fewer).
pub fn replica_decisions() -> usize {
    std::env::var("ACTPOL_TEST_REPLICA_DECISIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000)
}

/// A replica's reported commits (decision, reservation, units) and, if it
/// finished, how many decisions it was granted.
fn replica_report(stdout: &[u8]) -> (Vec<(String, String, u64)>, Option<usize>) {
    let text = String::from_utf8_lossy(stdout);
    let mut commits = Vec::new();
    let mut granted = None;
    for line in text.lines() {
        // The harness may have begun the line: "test child_entry ... ".
        let Some(line) = line.split("child: ").nth(1) else {
            continue;
        };
        if let Some(n) = line.strip_prefix("granted ") {
            granted = Some(n.trim().parse().unwrap());
            continue;
        }
        if let [dec, res, units] = line.split(' ').collect::<Vec<_>>()[..] {
            commits.push((dec.into(), res.into(), units.parse().unwrap()));
        }
    }
    (commits, granted)
}

/// Two deciding processes (replicas) on one store, 8 clients each, make
/// `replica_decisions()` budgeted decisions in all against a limit of 5,000
/// units: exactly 5,000 units are granted, every decision is logged once,
/// and the chain verifies.
pub fn two_replicas_share_one_limit(backend: &dyn Backend, child_test: &str) {
    let location = backend.fresh();
    drop(backend.open(&location));
    let total = replica_decisions();
    // Each decision draws enough units that the decisions, together, ask
    // for twice the limit.
    let units = (10_000 / total).max(1);
    let per_client = total / 16;
    let replicas: Vec<_> = (0..2)
        .map(|_| {
            child(
                child_test,
                &format!("serve|8,{per_client},{units},ops.draw|{location}"),
            )
            .spawn()
            .unwrap()
        })
        .collect();
    let mut granted_units = 0;
    let mut committed = std::collections::HashSet::new();
    for replica in replicas {
        let out = replica.wait_with_output().unwrap();
        assert!(out.status.success(), "a replica failed");
        let (commits, granted) = replica_report(&out.stdout);
        let granted = granted.expect("the replica finished");
        assert_eq!(granted, commits.len());
        for (dec, _, n) in commits {
            granted_units += n as usize;
            assert!(committed.insert(dec.clone()), "{dec} granted twice");
        }
    }
    assert_eq!(
        granted_units, 5_000,
        "two replicas share one limit of 5,000 units"
    );
    let store = backend.open(&location);
    let decided = per_client * 16;
    assert_eq!(
        decisions_logged(&*store),
        decided,
        "every decision is logged once"
    );
    let records = intact(&*store);
    assert_eq!(
        records as usize,
        decided + committed.len(),
        "a record per decision and per commit"
    );
    let pool = policy().budgets(&*store, T0).unwrap();
    let pool = pool.iter().find(|b| b.budget == "pool").unwrap();
    assert_eq!(pool.consumed.to_string(), "5000");
    assert_eq!(pool.held.to_string(), "0", "every grant was committed");
}

/// A replica's report lines as they arrive, each with when it arrived.
fn follow(
    stdout: std::process::ChildStdout,
) -> std::sync::mpsc::Receiver<(std::time::Instant, String)> {
    let (send, receive) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if send.send((std::time::Instant::now(), line)).is_err() {
                break;
            }
        }
    });
    receive
}

/// A replica killed (SIGKILL) under load loses no committed reservation,
/// and the other replica, deciding on the same store all along, keeps
/// deciding after the kill.
pub fn a_killed_replica_loses_nothing_and_the_other_keeps_serving(
    backend: &dyn Backend,
    child_test: &str,
) {
    let location = backend.fresh();
    drop(backend.open(&location));
    let per_client = (replica_decisions() / 16).max(20);
    let spawn = |decisions: usize| {
        child(
            child_test,
            &format!("serve|8,{decisions},3,ops.load|{location}"),
        )
        .spawn()
        .unwrap()
    };
    // The replica to be killed would decide for long; the other a set count.
    // The other starts once the first is under way (its 20th commit), and
    // the first is killed once the other has committed too: so both decide
    // at the kill, and the other has its count still ahead of it. (Started
    // together, the other could finish its count before the first got
    // under way, and nothing would be left to decide after the kill.)
    let mut doomed = spawn(1_000_000);
    let doomed_lines = follow(doomed.stdout.take().unwrap());
    let mut lines: Vec<String> = Vec::new();
    while lines.len() < 20 {
        let (_, line) = doomed_lines
            .recv_timeout(Duration::from_secs(60))
            .expect("the replica commits");
        lines.push(line);
    }
    let mut survivor = spawn(per_client);
    let survivor_lines = follow(survivor.stdout.take().unwrap());
    let mut survived: Vec<(std::time::Instant, String)> = Vec::new();
    while !survived.iter().any(|(_, line)| line.contains("child: ")) {
        survived.push(
            survivor_lines
                .recv_timeout(Duration::from_secs(60))
                .expect("the other replica commits"),
        );
    }
    doomed.kill().unwrap(); // SIGKILL
    doomed.wait().unwrap();
    let killed = std::time::Instant::now();
    lines.extend(doomed_lines.iter().map(|(_, line)| line));
    let (doomed_commits, finished) = replica_report(lines.join("\n").as_bytes());
    assert!(
        finished.is_none(),
        "the replica was killed before it finished"
    );

    survived.extend(survivor_lines.iter());
    assert!(
        survivor.wait().unwrap().success(),
        "the surviving replica failed"
    );
    let after = survived.iter().filter(|(at, _)| *at > killed).count();
    assert!(after > 0, "the other replica kept deciding after the kill");
    let text: Vec<&str> = survived.iter().map(|(_, line)| line.as_str()).collect();
    let (survivor_commits, granted) = replica_report(text.join("\n").as_bytes());
    assert_eq!(
        granted,
        Some(8 * per_client),
        "the other replica finished, every decision granted"
    );

    let store = backend.open(&location);
    intact(&*store);
    let mut units = 0;
    for (dec, res, n) in doomed_commits.iter().chain(&survivor_commits) {
        let entry = store.decision(dec).expect("a reported decision is logged");
        assert_eq!(entry.record["reservation"]["budgets"][0]["budget"], "bulk");
        assert_eq!(
            store.reservation(res, T0).unwrap().state,
            ReservationState::Committed,
            "{res} stays committed"
        );
        units += n;
    }
    let bulk = policy().budgets(&*store, T0).unwrap();
    let consumed: u64 = bulk
        .iter()
        .find(|b| b.budget == "bulk")
        .unwrap()
        .consumed
        .to_string()
        .parse()
        .unwrap();
    assert!(
        consumed >= units,
        "committed consumption {units} is all counted ({consumed})"
    );
}

pub fn a_batch_is_one_transaction_in_which_each_decision_sees_the_last(backend: &dyn Backend) {
    let store = backend.open(&backend.fresh());
    let bytes = envelope("bot-a", "ops.spend", json!({"units": 100}), T0);
    let malformed: &[u8] = b"{";
    let mut batch: Vec<&[u8]> = vec![&bytes; 6];
    batch.insert(2, malformed);
    let requests = batch.iter().map(|b| Request::new(*b).at(T0)).collect();
    let decisions: Vec<Decision> = policy()
        .decide_stored_batch(&*store, requests)
        .unwrap()
        .into_iter()
        .map(|d| d.expect("each request is decided").into_decision())
        .collect();
    let levels: Vec<Level> = decisions.iter().map(|d| d.decision).collect();
    use Level::{Allow, Deny};
    assert_eq!(levels, [Allow, Allow, Deny, Allow, Allow, Allow, Deny]);
    assert_eq!(
        decisions[2].errors[0].code,
        ErrorCode::EnvelopeMalformedJson
    );
    let ids: Vec<&str> = decisions.iter().map(|d| d.id.as_deref().unwrap()).collect();
    assert_eq!(
        ids,
        ["dec-1", "dec-2", "dec-3", "dec-4", "dec-5", "dec-6", "dec-7"]
    );
    assert_eq!(intact(&*store), 7);
}

/// A reader sees the state a decision would read (what earlier decisions
/// hold), and writes nothing: what a plan is decided against.
pub fn read_state_sees_what_decisions_hold_and_writes_nothing(backend: &dyn Backend) {
    let store = backend.open(&backend.fresh());
    let spend = |units: i64| envelope("bot-a", "ops.spend", json!({"units": units}), T0);
    for _ in 0..4 {
        assert_eq!(decide(&*store, &spend(100), T0).decision, Level::Allow);
    }
    let mut seen = Vec::new();
    store
        .read_state(T0, &mut |view| {
            for units in [100, 200] {
                let bytes = spend(units);
                seen.push(policy().decide(Request::new(&bytes).at(T0), view).decision);
            }
        })
        .unwrap();
    // 400 of the 500 units are held: 100 more fit, 200 do not.
    assert_eq!(seen, [Level::Allow, Level::Deny]);
    assert_eq!(intact(&*store), 4, "reading wrote nothing to the log");
    // Nor reserved anything: the last 100 units are still there.
    assert_eq!(decide(&*store, &spend(100), T0).decision, Level::Allow);
    assert_eq!(decide(&*store, &spend(1), T0).decision, Level::Deny);
}

// ------------------------------------------------------------- audit --

fn some_history(store: &dyn Store) {
    for i in 0..4 {
        let d = decide(
            store,
            &envelope("bot-a", "ops.spend", json!({"units": 1 + i}), T0),
            T0,
        );
        store.commit(&d.reservations[0], T0).unwrap();
    }
}

pub fn an_untouched_log_verifies_and_every_tamper_names_its_position(backend: &dyn Backend) {
    let cases = [
        (Tamper::Edit(3), 3),
        (Tamper::Delete(5), 5),
        (Tamper::Swap(2, 6), 2),
        (Tamper::Truncate(6), 7),
    ];
    for (tamper, position) in cases {
        let location = backend.fresh();
        {
            let store = backend.open(&location);
            some_history(&*store);
            assert_eq!(intact(&*store), 8);
        }
        backend.tamper(&location, tamper);
        let store = backend.open(&location);
        match store.verify().unwrap() {
            Verification::Broken {
                position: p,
                reason,
            } => {
                assert_eq!(p, position, "{tamper:?}: {reason}");
            }
            intact => panic!("{tamper:?} went unnoticed: {intact:?}"),
        }
    }
}

// --------------------------------------------------------- approvals --

fn escalated(store: &dyn Store, bytes: &[u8], now: i64) -> (Decision, String) {
    let d = decide(store, bytes, now);
    assert_eq!(d.decision, Level::Escalate, "{:?}", d.reasons);
    let approval = d
        .approval
        .clone()
        .expect("an escalation waits on an approval");
    assert_eq!(approval.status, ApprovalUse::Pending);
    (d, approval.id)
}

pub fn an_approval_allows_its_action_once(backend: &dyn Backend) {
    let store = backend.open(&backend.fresh());
    let bytes = envelope("bot-a", "ops.spend", json!({"units": 150}), T0);
    let (first, id) = escalated(&*store, &bytes, T0);
    assert!(
        first.reservations.is_empty(),
        "an escalation reserves nothing"
    );

    // Before the approver decides: refused, escalated again.
    let early = decide(&*store, &with_approval(&bytes, &id), T0);
    assert_eq!(early.decision, Level::Escalate);
    assert!(
        early.reasons.iter().any(|r| r.contains("still waiting")),
        "{:?}",
        early.reasons
    );

    let granted = store
        .approve(&id, "lead", Some("quarter-end top-up"), T0 + MINUTE)
        .unwrap();
    assert_eq!(granted.status, ApprovalStatus::Granted);

    let resubmitted = with_approval(&bytes, &id);
    let approved = decide(&*store, &resubmitted, T0 + 2 * MINUTE);
    assert_eq!(approved.decision, Level::Allow, "{:?}", approved.reasons);
    let used = approved.approval.clone().unwrap();
    assert_eq!(
        (used.id.as_str(), used.status),
        (id.as_str(), ApprovalUse::Used)
    );
    assert_eq!(
        approved.reservations.len(),
        1,
        "an approved action consumes its budget"
    );
    assert_eq!(approved.budgets[0].delta, Amount::from(150));
    assert!(approved.rules.contains(&"big_spend".to_string()));
    assert_eq!(
        store.approval(&id, T0).unwrap().status,
        ApprovalStatus::Used
    );

    // Replay: refused, and the action is escalated anew.
    let replay = decide(&*store, &resubmitted, T0 + 3 * MINUTE);
    assert_eq!(replay.decision, Level::Escalate);
    assert!(
        replay.reasons.iter().any(|r| r.contains("already used")),
        "{:?}",
        replay.reasons
    );
    assert_ne!(replay.approval.unwrap().id, id, "a new approval waits");
    intact(&*store);
}

pub fn an_approval_is_refused_for_a_changed_action(backend: &dyn Backend) {
    let store = backend.open(&backend.fresh());
    let bytes = envelope("bot-a", "ops.spend", json!({"units": 150}), T0);
    let (_, id) = escalated(&*store, &bytes, T0);
    store.approve(&id, "lead", None, T0).unwrap();
    let changed = envelope("bot-a", "ops.spend", json!({"units": 400}), T0);
    let d = decide(&*store, &with_approval(&changed, &id), T0);
    assert_eq!(d.decision, Level::Escalate);
    assert!(
        d.reasons.iter().any(|r| r.contains("different action")),
        "{:?}",
        d.reasons
    );
    assert!(d.reservations.is_empty());
    // The approval is still unused: the unchanged action may use it.
    assert_eq!(
        store.approval(&id, T0).unwrap().status,
        ApprovalStatus::Granted
    );
    // A later `time` is not a change: the host's clock decides anyway.
    let later = envelope("bot-a", "ops.spend", json!({"units": 150}), T0 + MINUTE);
    assert_eq!(
        decide(&*store, &with_approval(&later, &id), T0 + MINUTE).decision,
        Level::Allow
    );
}

pub fn an_expired_approval_is_refused(backend: &dyn Backend) {
    let store = backend.open(&backend.fresh());
    let bytes = envelope("bot-a", "ops.spend", json!({"units": 150}), T0);
    let (_, id) = escalated(&*store, &bytes, T0);
    store.approve(&id, "lead", None, T0 + MINUTE).unwrap();
    // `approval_ttl 1h`: an hour after it was created, it is gone.
    let late = T0 + HOUR;
    let d = decide(
        &*store,
        &with_approval(
            &envelope("bot-a", "ops.spend", json!({"units": 150}), late),
            &id,
        ),
        late,
    );
    assert_eq!(d.decision, Level::Escalate);
    assert!(
        d.reasons.iter().any(|r| r.contains("expired")),
        "{:?}",
        d.reasons
    );
    assert_eq!(
        store.approval(&id, late).unwrap().status,
        ApprovalStatus::Expired
    );
    // Nor can an expired approval still be granted.
    let (_, other) = escalated(&*store, &bytes, T0);
    assert!(matches!(
        store.approve(&other, "lead", None, T0 + 2 * HOUR),
        Err(StoreError::ApprovalClosed { .. })
    ));
}

pub fn the_wrong_approver_is_refused(backend: &dyn Backend) {
    let store = backend.open(&backend.fresh());
    let bytes = envelope("bot-a", "ops.spend", json!({"units": 150}), T0);
    let (_, id) = escalated(&*store, &bytes, T0);
    let err = store.approve(&id, "cfo", None, T0).unwrap_err();
    assert!(matches!(err, StoreError::WrongApprover { .. }), "{err}");
    assert_eq!(err.code(), ErrorCode::StoreWrongApprover);
    assert_eq!(
        store.approval(&id, T0).unwrap().status,
        ApprovalStatus::Pending
    );

    // A wire above 5000 USD escalates to the CFO and the lead: the CFO's
    // approval alone is not enough.
    let wire = envelope("bot-a", "ops.wire", json!({"amount": "6000 USD"}), T0);
    let (d, wire_id) = escalated(&*store, &wire, T0);
    assert_eq!(d.escalation.unwrap().approver, "cfo");
    store.approve(&wire_id, "cfo", None, T0).unwrap();
    let again = decide(&*store, &with_approval(&wire, &wire_id), T0);
    assert_eq!(again.decision, Level::Escalate);
    assert!(
        again.reasons.iter().any(|r| r.contains("needs `lead`")),
        "{:?}",
        again.reasons
    );

    // A rejected approval never allows.
    let (_, rejected) = escalated(&*store, &bytes, T0);
    store
        .reject(&rejected, "lead", Some("not this week"), T0)
        .unwrap();
    let d = decide(&*store, &with_approval(&bytes, &rejected), T0);
    assert_eq!(d.decision, Level::Escalate);
    assert!(
        d.reasons.iter().any(|r| r.contains("rejected")),
        "{:?}",
        d.reasons
    );
    // An approval is decided once.
    assert!(matches!(
        store.approve(&rejected, "lead", None, T0),
        Err(StoreError::ApprovalClosed { .. })
    ));
    // An unknown approval is refused, not an error.
    let d = decide(&*store, &with_approval(&bytes, "apr-999"), T0);
    assert!(
        d.reasons.iter().any(|r| r.contains("does not exist")),
        "{:?}",
        d.reasons
    );
}

pub fn an_approval_never_overrides_a_denial(backend: &dyn Backend) {
    let store = backend.open(&backend.fresh());
    // Spend the day's units, then an escalated spend is approved: the
    // budget's `on_exhausted deny` still denies.
    let spend = envelope("bot-a", "ops.spend", json!({"units": 100}), T0);
    for _ in 0..4 {
        assert_eq!(decide(&*store, &spend, T0).decision, Level::Allow);
    }
    let big = envelope("bot-a", "ops.spend", json!({"units": 150}), T0);
    let d = decide(&*store, &big, T0);
    assert_eq!(d.decision, Level::Deny, "{:?}", d.reasons);
    assert!(d.approval.is_none(), "a denial creates no approval");
}

// ------------------------------------------- approvals and budgets --

fn consumed(store: &dyn Store, budget: &str, now: i64) -> String {
    policy()
        .budgets(store, now)
        .unwrap()
        .iter()
        .find(|b| b.budget == budget)
        .map_or("0".into(), |b| b.consumed.to_string())
}

fn approved(store: &dyn Store, bytes: &[u8], now: i64) -> String {
    let (_, id) = escalated(store, bytes, now);
    store.approve(&id, "lead", None, now).unwrap();
    id
}

pub fn an_approved_escalation_consumes_what_its_rules_consume(backend: &dyn Backend) {
    let store = backend.open(&backend.fresh());
    let big = envelope("bot-a", "ops.grant", json!({"units": 150}), T0);
    let (escalation, id) = escalated(&*store, &big, T0);
    assert_eq!(
        consumed(&*store, "units", T0),
        "0",
        "an escalation holds nothing"
    );
    // The escalation shows the budget the approved action would consume.
    assert_eq!(escalation.budgets[0].name, "units");
    store.approve(&id, "lead", None, T0).unwrap();
    let d = decide(&*store, &with_approval(&big, &id), T0);
    assert_eq!(d.decision, Level::Allow, "{:?}", d.reasons);
    assert_eq!(
        d.budgets[0].delta,
        Amount::from(150),
        "the escalating rule's own `consume` applies once approved"
    );
    assert_eq!(d.reservations.len(), 1);
    assert_eq!(consumed(&*store, "units", T0), "150");
    intact(&*store);
}

pub fn an_escalation_never_asks_to_pass_a_budget_that_denies(backend: &dyn Backend) {
    let store = backend.open(&backend.fresh());
    let spend = envelope("bot-a", "ops.spend", json!({"units": 100}), T0);
    for _ in 0..4 {
        assert_eq!(decide(&*store, &spend, T0).decision, Level::Allow);
    }
    // 400 spent; the big grant's 150 would pass the limit of 500, whose
    // `on_exhausted` denies: it is denied now, not escalated to an approver
    // who could not let it through.
    let big = envelope("bot-a", "ops.grant", json!({"units": 150}), T0);
    let d = decide(&*store, &big, T0);
    assert_eq!(d.decision, Level::Deny, "{:?}", d.reasons);
    assert_eq!(d.reasons, ["the workflow's daily units are spent"]);
    assert!(d.approval.is_none());
}

pub fn a_budget_spent_after_the_approval_still_stops_the_action(backend: &dyn Backend) {
    let store = backend.open(&backend.fresh());
    let big = envelope("bot-a", "ops.grant", json!({"units": 150}), T0);
    let id = approved(&*store, &big, T0);
    // Others spend meanwhile: 400 of 500.
    let spend = envelope("bot-a", "ops.spend", json!({"units": 100}), T0);
    for _ in 0..4 {
        assert_eq!(decide(&*store, &spend, T0).decision, Level::Allow);
    }
    // The limits are checked again with what the approved action consumes.
    let d = decide(&*store, &with_approval(&big, &id), T0 + MINUTE);
    assert_eq!(d.decision, Level::Deny, "{:?}", d.reasons);
    assert!(d.reasons.iter().any(|r| r.contains("units are spent")));
    assert!(
        d.reasons
            .iter()
            .any(|r| r.contains("never overrides a denial")),
        "{:?}",
        d.reasons
    );
    assert!(d.reservations.is_empty());
    assert_eq!(consumed(&*store, "units", T0), "400", "nothing overspent");
    assert_eq!(
        store.approval(&id, T0).unwrap().status,
        ApprovalStatus::Granted,
        "a refused approval is not spent"
    );
}

pub fn an_approval_of_a_rule_does_not_approve_a_budget_overrun(backend: &dyn Backend) {
    let store = backend.open(&backend.fresh());
    let big = envelope("bot-a", "ops.credit", json!({"units": 100}), T0);
    let (first, rule_only) = escalated(&*store, &big, T0);
    assert!(first.escalation.as_ref().unwrap().budgets.is_empty());
    store.approve(&rule_only, "lead", None, T0).unwrap();
    // Meanwhile 150 of the 200 credits are spent: with the approved 100,
    // `credits` would be passed. Its `on_exhausted` escalates to the same
    // approver, but the approval was given for `big_credit` alone.
    let small = envelope("bot-a", "ops.credit", json!({"units": 50}), T0);
    for _ in 0..3 {
        assert_eq!(decide(&*store, &small, T0).decision, Level::Allow);
    }
    let again = decide(&*store, &with_approval(&big, &rule_only), T0 + MINUTE);
    assert_eq!(again.decision, Level::Escalate, "{:?}", again.reasons);
    assert!(
        again
            .reasons
            .iter()
            .any(|r| r.contains("was not given for passing budget `credits`")),
        "{:?}",
        again.reasons
    );
    assert!(again.reservations.is_empty());
    assert_eq!(consumed(&*store, "credits", T0), "150");
    assert_eq!(
        store.approval(&rule_only, T0).unwrap().status,
        ApprovalStatus::Granted
    );
    // The new escalation names the budget it would pass; approving that
    // one lets the action pass it.
    let escalation = again.escalation.as_ref().unwrap();
    assert_eq!(escalation.budgets, ["credits"]);
    let overrun = again.approval.clone().unwrap();
    assert_eq!(overrun.status, ApprovalUse::Pending);
    store
        .approve(&overrun.id, "lead", Some("end of quarter"), T0 + MINUTE)
        .unwrap();
    let d = decide(&*store, &with_approval(&big, &overrun.id), T0 + 2 * MINUTE);
    assert_eq!(d.decision, Level::Allow, "{:?}", d.reasons);
    let credits = d.budgets.iter().find(|b| b.name == "credits").unwrap();
    assert_eq!(credits.consumed, Amount::from(250));
    assert_eq!(credits.delta, Amount::from(100));
    assert_eq!(
        consumed(&*store, "credits", T0),
        "250",
        "the approved overrun"
    );
}

pub fn an_escalation_that_already_passes_a_budget_is_approved_with_it(backend: &dyn Backend) {
    let store = backend.open(&backend.fresh());
    let small = envelope("bot-a", "ops.credit", json!({"units": 50}), T0);
    for _ in 0..3 {
        decide(&*store, &small, T0);
    }
    let big = envelope("bot-a", "ops.credit", json!({"units": 100}), T0);
    let (d, id) = escalated(&*store, &big, T0);
    let escalation = d.escalation.as_ref().unwrap();
    assert_eq!(escalation.budgets, ["credits"]);
    assert!(d.reasons.iter().any(|r| r.contains("credits are spent")));
    store.approve(&id, "lead", None, T0).unwrap();
    let d = decide(&*store, &with_approval(&big, &id), T0);
    assert_eq!(d.decision, Level::Allow, "{:?}", d.reasons);
    assert_eq!(consumed(&*store, "credits", T0), "250");
}

pub fn an_approval_never_skips_a_raise_it_was_not_given_for(backend: &dyn Backend) {
    let store = backend.open(&backend.fresh());
    // A big erase escalates to the lead; without a rollback plan, the raise
    // sends an allowed erase to the CFO. The lead's approval of the rule
    // leaves an erase the raise lifts again.
    let erase = envelope("bot-a", "ops.erase", json!({"units": 20}), T0);
    let id = approved(&*store, &erase, T0);
    let d = decide(&*store, &with_approval(&erase, &id), T0);
    assert_eq!(d.decision, Level::Escalate, "{:?}", d.reasons);
    assert!(
        d.reasons
            .iter()
            .any(|r| r.contains("`erase_needs_cfo` lifts the approved action to `escalate`")),
        "{:?}",
        d.reasons
    );
    assert_eq!(
        store.approval(&id, T0).unwrap().status,
        ApprovalStatus::Granted
    );
    // The new escalation asks for both; one approver's approval is not
    // enough for the other's part.
    assert_eq!(d.rules, ["big_erase", "erase_needs_cfo"]);
    let both = d.approval.unwrap().id;
    store.approve(&both, "lead", None, T0).unwrap();
    let d = decide(&*store, &with_approval(&erase, &both), T0);
    assert_eq!(d.decision, Level::Escalate);
    assert!(
        d.reasons.iter().any(|r| r.contains("needs `cfo`")),
        "{:?}",
        d.reasons
    );
    assert!(d.reservations.is_empty());
}

pub fn an_approval_of_a_raise_lets_it_through_once(backend: &dyn Backend) {
    let store = backend.open(&backend.fresh());
    let purge = envelope("bot-a", "ops.purge", json!({"units": 30}), T0);
    let (d, id) = escalated(&*store, &purge, T0);
    assert_eq!(d.rules, ["purge_needs_lead"]);
    store.approve(&id, "lead", None, T0).unwrap();
    let d = decide(&*store, &with_approval(&purge, &id), T0);
    assert_eq!(d.decision, Level::Allow, "{:?}", d.reasons);
    assert_eq!(d.rules, ["purge_needs_lead", "purge"]);
    assert_eq!(consumed(&*store, "units", T0), "30");
    let replay = decide(&*store, &with_approval(&purge, &id), T0);
    assert_eq!(replay.decision, Level::Escalate);
}

// ----------------------------------------------------- reservations --

pub fn reservations_commit_release_and_expire(backend: &dyn Backend) {
    let store = backend.open(&backend.fresh());
    let units = |store: &dyn Store, now: i64| -> String {
        policy()
            .budgets(store, now)
            .unwrap()
            .iter()
            .find(|b| b.budget == "units")
            .map_or("0".into(), |b| b.consumed.to_string())
    };
    let spend = envelope("bot-a", "ops.spend", json!({"units": 100}), T0);
    let a = decide(&*store, &spend, T0).reservations[0].clone();
    let b = decide(&*store, &spend, T0).reservations[0].clone();
    let c = decide(&*store, &spend, T0).reservations[0].clone();
    assert_eq!(units(&*store, T0), "300");

    store.release(&a, T0).unwrap();
    assert_eq!(units(&*store, T0), "200", "a release returns the amount");
    assert!(matches!(
        store.commit(&a, T0),
        Err(StoreError::ReservationReleased(_))
    ));

    store.commit(&b, T0).unwrap();
    store.commit(&b, T0).unwrap(); // harmless twice
    assert_eq!(
        store.reservation(&b, T0).unwrap().state,
        ReservationState::Committed
    );

    // `reservation_ttl 10m`: c was never committed and releases itself.
    let later = T0 + 11 * MINUTE;
    assert_eq!(units(&*store, later), "100");
    assert_eq!(
        store.reservation(&c, later).unwrap().state,
        ReservationState::Released
    );
    assert!(matches!(
        store.commit(&c, later),
        Err(StoreError::ReservationExpired { .. })
    ));

    // A committed action rolled back: released, amount returned.
    store.release(&b, later).unwrap();
    assert_eq!(units(&*store, later), "0");
    assert!(matches!(
        store.commit("res-999", T0),
        Err(StoreError::UnknownReservation(_))
    ));
    let kinds: Vec<String> = store
        .log(&actpol::store::LogFilter::default())
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        kinds,
        ["decision", "decision", "decision", "release", "commit", "expire", "release"]
    );
    intact(&*store);
}

// ------------------------------------------------------------ windows --

pub fn calendar_budget_windows_roll_over_at_their_boundaries(backend: &dyn Backend) {
    let store = backend.open(&backend.fresh());
    let midnight = T0 + 10 * HOUR; // 2026-11-26T00:00:00Z
    let tick = |t: i64| decide(&*store, &envelope("bot-a", "ops.tick", json!({}), t), t);
    assert_eq!(tick(midnight - 2 * MINUTE).decision, Level::Allow);
    assert_eq!(tick(midnight - MINUTE).decision, Level::Allow);
    assert_eq!(tick(midnight - 1).decision, Level::Deny, "two a day");
    assert_eq!(tick(midnight).decision, Level::Allow, "a new UTC day");

    // One tock per clock hour: 14:59:59.999 and 15:00 are different hours.
    let tock = |t: i64| decide(&*store, &envelope("bot-a", "ops.tock", json!({}), t), t);
    let three = T0 + HOUR;
    assert_eq!(tock(three - 1).decision, Level::Allow);
    assert_eq!(
        tock(three - 1).decision,
        Level::Escalate,
        "spent for 14:00-15:00"
    );
    assert_eq!(tock(three).decision, Level::Allow, "15:00 opens a new hour");
}

pub fn rolling_windows_count_what_proceeded_in_the_last_span(backend: &dyn Backend) {
    let store = backend.open(&backend.fresh());
    // Actions that ran are committed; a held one would expire after 10m.
    let ping = |t: i64| {
        let d = decide(
            &*store,
            &envelope("bot-a", "ops.ping", json!({"amount": "10 USD"}), t),
            t,
        );
        for r in &d.reservations {
            store.commit(r, t).unwrap();
        }
        d
    };
    for i in 0..3 {
        assert_eq!(ping(T0 + i * MINUTE).decision, Level::Allow);
    }
    assert_eq!(
        ping(T0 + 3 * MINUTE).decision,
        Level::Deny,
        "three in the last hour"
    );
    // The window is rolling: the first ping leaves it exactly an hour on.
    assert_eq!(ping(T0 + HOUR - 1).decision, Level::Deny);
    assert_eq!(ping(T0 + HOUR + 1).decision, Level::Allow);

    // Sums read the amounts of committed history, not facts from the agent.
    let store = backend.open(&backend.fresh());
    let ping = |amount: &str, t: i64| {
        decide(
            &*store,
            &envelope("bot-b", "ops.ping", json!({"amount": amount}), t),
            t,
        )
    };
    assert_eq!(ping("60 USD", T0).decision, Level::Allow);
    let second = ping("50 USD", T0 + MINUTE);
    assert_eq!(second.decision, Level::Escalate, "60 + 50 > 100 USD");
    // A released action no longer counts.
    let first = store
        .log(&actpol::store::LogFilter::default())
        .unwrap()
        .into_iter()
        .find_map(|e| e.record["reservation"]["id"].as_str().map(str::to_string))
        .unwrap();
    store.release(&first, T0 + 2 * MINUTE).unwrap();
    assert_eq!(ping("50 USD", T0 + 3 * MINUTE).decision, Level::Allow);
}

pub fn the_host_clock_decides_and_a_backdated_envelope_is_an_error(backend: &dyn Backend) {
    let store = backend.open(&backend.fresh());
    for i in 0..3 {
        let t = T0 + i * MINUTE;
        decide(
            &*store,
            &envelope("bot-a", "ops.ping", json!({"amount": "1 USD"}), t),
            t,
        );
    }
    // A day-old `time` cannot hide the last hour's pings: beyond the skew,
    // it is an error and `on_error deny` applies.
    let now = T0 + 4 * MINUTE;
    let backdated = envelope(
        "bot-a",
        "ops.ping",
        json!({"amount": "1 USD"}),
        T0 - 24 * HOUR,
    );
    let d = decide(&*store, &backdated, now);
    assert_eq!(d.decision, Level::Deny);
    assert_eq!(d.errors[0].code, ErrorCode::EnvelopeClockSkew);
    assert_eq!(d.errors[0].path.as_deref(), Some("$.time"));
    // Within the skew, the clock's `now` counts the pings all the same.
    let slightly = envelope(
        "bot-a",
        "ops.ping",
        json!({"amount": "1 USD"}),
        now - 4 * MINUTE,
    );
    let d = decide(&*store, &slightly, now);
    assert_eq!(d.decision, Level::Deny, "{:?}", d.reasons);
    assert!(d.errors.is_empty());
    assert_eq!(d.reasons, ["three pings an hour at most"]);
}

// ------------------------------------------------------------ pruning --

pub fn pruning_keeps_the_chain_and_what_windows_still_read(backend: &dyn Backend) {
    let store = backend.open(&backend.fresh());
    // The policy's windows look back an hour at most.
    assert_eq!(policy().retention(), Some(HOUR));
    let ping = |t: i64| {
        let d = decide(
            &*store,
            &envelope("bot-a", "ops.ping", json!({"amount": "1 USD"}), t),
            t,
        );
        for r in &d.reservations {
            store.commit(r, t).unwrap();
        }
        d
    };
    let old: Vec<Decision> = (0..3).map(|i| ping(T0 - 3 * HOUR + i * MINUTE)).collect();
    // A tick two days ago counts in a daily budget window long ended; a
    // load an hour and a half ago is still held (for three hours).
    let tick = decide(
        &*store,
        &envelope("bot-b", "ops.tick", json!({}), T0 - 48 * HOUR),
        T0 - 48 * HOUR,
    );
    store.commit(&tick.reservations[0], T0 - 48 * HOUR).unwrap();
    let load = envelope("bot-b", "ops.load", json!({"units": 1}), T0 - 90 * MINUTE);
    let held = policy()
        .decide_stored(
            &*store,
            Request::new(&load)
                .at(T0 - 90 * MINUTE)
                .reservation_ttl(3 * HOUR),
        )
        .unwrap();
    let records = intact(&*store);
    let windows_before = store.budgets(T0, None).unwrap().len();

    let pruned = store.prune(T0 - HOUR).unwrap();
    assert_eq!(pruned.reservations, 4, "three pings and the tick");
    assert!(pruned.counters >= 1, "{pruned:?}");
    assert!(store.budgets(T0, None).unwrap().len() < windows_before);
    // The log is whole: every record, the same chain.
    assert_eq!(intact(&*store), records);
    assert!(store.decision(old[0].id.as_deref().unwrap()).is_ok());
    assert!(matches!(
        store.reservation(&old[0].reservations[0], T0),
        Err(StoreError::UnknownReservation(_))
    ));
    assert_eq!(
        store
            .reservation(&held.reservations[0], T0 - MINUTE)
            .unwrap()
            .state,
        ReservationState::Held,
        "a held reservation is never pruned"
    );
    // Windows read what they read before: the pruned pings were outside
    // the hour anyway.
    for i in 0..3 {
        assert_eq!(ping(T0 + i * MINUTE).decision, Level::Allow);
    }
    assert_eq!(ping(T0 + 3 * MINUTE).decision, Level::Deny);
}

// ---------------------------------------------------------- the log --

pub fn every_decision_is_logged_and_filtered(backend: &dyn Backend) {
    let store = backend.open(&backend.fresh());
    decide(
        &*store,
        &envelope("bot-a", "ops.spend", json!({"units": 5}), T0),
        T0,
    );
    decide(
        &*store,
        &envelope("bot-b", "ops.spend", json!({"units": 150}), T0),
        T0,
    );
    decide(
        &*store,
        &envelope("bot-b", "ops.ping", json!({"amount": "1 USD"}), T0),
        T0,
    );
    let malformed = policy()
        .decide_stored(&*store, Request::new(b"{\"agent\": 12}").at(T0))
        .unwrap();
    assert_eq!(malformed.decision, Level::Deny);
    let entry = store.decision(malformed.id.as_deref().unwrap()).unwrap();
    assert_eq!(entry.record["envelope_text"], "{\"agent\": 12}");

    let log = |filter: actpol::store::LogFilter| -> Vec<u64> {
        store.log(&filter).unwrap().iter().map(|e| e.seq).collect()
    };
    assert_eq!(log(Default::default()), [1, 2, 3, 4]);
    let by_b = actpol::store::LogFilter {
        agent: Some("bot-b".into()),
        ..Default::default()
    };
    assert_eq!(log(by_b), [2, 3]);
    let spends = actpol::store::LogFilter {
        action: Some("ops.spend".into()),
        ..Default::default()
    };
    assert_eq!(log(spends), [1, 2]);
    let pattern = actpol::store::LogFilter {
        action: Some("ops.*".into()),
        limit: Some(2),
        ..Default::default()
    };
    assert_eq!(log(pattern), [2, 3]);
    let escalations = actpol::store::LogFilter {
        decision: Some(Level::Escalate),
        ..Default::default()
    };
    assert_eq!(log(escalations), [2]);
    let later = actpol::store::LogFilter {
        since: Some(T0 + 1),
        ..Default::default()
    };
    assert!(log(later).is_empty());
    let record = &store.decision("dec-2").unwrap().record;
    assert_eq!(record["decision"]["decision"], "escalate");
    assert_eq!(record["envelope"]["agent"]["id"], "bot-b");
    assert!(record["envelope_hash"]
        .as_str()
        .unwrap()
        .starts_with("sha256:"));
    assert!(matches!(
        store.decision("dec-99"),
        Err(StoreError::UnknownDecision(_))
    ));
}

pub fn packets_list_precedent_with_verdicts(backend: &dyn Backend) {
    let store = backend.open(&backend.fresh());
    let big = |units: i64| envelope("bot-a", "ops.spend", json!({"units": units}), T0);
    let (_, first) = escalated(&*store, &big(150), T0);
    store
        .approve(&first, "lead", Some("launch week"), T0)
        .unwrap();
    let (_, second) = escalated(&*store, &big(160), T0);
    store.reject(&second, "lead", Some("too much"), T0).unwrap();
    // The same action under other rules ranks after the same rules.
    decide(&*store, &big(5), T0);
    let (third, _) = escalated(&*store, &big(170), T0);

    let packet = third.escalation.unwrap().packet.unwrap();
    let precedent: Vec<(String, bool, Option<ApprovalStatus>)> = packet
        .precedent
        .iter()
        .map(|p| {
            (
                p.decision.clone(),
                p.same_rules,
                p.verdict.as_ref().map(|v| v.status),
            )
        })
        .collect();
    assert_eq!(
        precedent,
        [
            ("dec-3".to_string(), true, Some(ApprovalStatus::Rejected)),
            ("dec-1".to_string(), true, Some(ApprovalStatus::Granted)),
            ("dec-5".to_string(), false, None),
        ]
    );
    assert_eq!(
        packet.precedent[1]
            .verdict
            .as_ref()
            .unwrap()
            .note
            .as_deref(),
        Some("launch week")
    );

    // The packet read back later has today's verdicts, and at most N.
    let view = store.packet(third.id.as_deref().unwrap(), 2, T0).unwrap();
    assert_eq!(view.packet.precedent.len(), 2);
    let md = view.to_markdown();
    assert!(md.contains("## Precedent"), "{md}");
    assert!(md.contains("rejected by `lead`: “too much”"), "{md}");
    assert!(matches!(
        store.packet("dec-5", 5, T0),
        Err(StoreError::NoPacket(_))
    ));
}

/// Runs once for a backend: every behaviour in this suite.
#[macro_export]
macro_rules! conformance_suite {
    ($backend:expr, $child:literal) => {
        #[test]
        fn child_entry() {
            let _ = conformance::child_entry(&$backend);
        }
        #[test]
        fn budgets_never_overspend_across_threads() {
            if !$backend.available() {
                return;
            }
            conformance::budgets_never_overspend_across_threads(&$backend);
        }
        #[test]
        fn budgets_never_overspend_across_processes() {
            if !$backend.available() {
                return;
            }
            conformance::budgets_never_overspend_across_processes(&$backend, $child);
        }
        #[test]
        fn a_killed_process_loses_nothing_committed() {
            if !$backend.available() {
                return;
            }
            conformance::a_killed_process_loses_nothing_committed(&$backend, $child, 20);
        }
        #[test]
        fn two_replicas_share_one_limit() {
            if !$backend.available() {
                return;
            }
            conformance::two_replicas_share_one_limit(&$backend, $child);
        }
        #[test]
        fn a_killed_replica_loses_nothing_and_the_other_keeps_serving() {
            if !$backend.available() {
                return;
            }
            conformance::a_killed_replica_loses_nothing_and_the_other_keeps_serving(
                &$backend, $child,
            );
        }
        #[test]
        fn a_batch_is_one_transaction_in_which_each_decision_sees_the_last() {
            if !$backend.available() {
                return;
            }
            conformance::a_batch_is_one_transaction_in_which_each_decision_sees_the_last(&$backend);
        }
        #[test]
        fn read_state_sees_what_decisions_hold_and_writes_nothing() {
            if !$backend.available() {
                return;
            }
            conformance::read_state_sees_what_decisions_hold_and_writes_nothing(&$backend);
        }
        #[test]
        fn an_untouched_log_verifies_and_every_tamper_names_its_position() {
            if !$backend.available() {
                return;
            }
            conformance::an_untouched_log_verifies_and_every_tamper_names_its_position(&$backend);
        }
        #[test]
        fn an_approval_allows_its_action_once() {
            if !$backend.available() {
                return;
            }
            conformance::an_approval_allows_its_action_once(&$backend);
        }
        #[test]
        fn an_approval_is_refused_for_a_changed_action() {
            if !$backend.available() {
                return;
            }
            conformance::an_approval_is_refused_for_a_changed_action(&$backend);
        }
        #[test]
        fn an_expired_approval_is_refused() {
            if !$backend.available() {
                return;
            }
            conformance::an_expired_approval_is_refused(&$backend);
        }
        #[test]
        fn the_wrong_approver_is_refused() {
            if !$backend.available() {
                return;
            }
            conformance::the_wrong_approver_is_refused(&$backend);
        }
        #[test]
        fn an_approval_never_overrides_a_denial() {
            if !$backend.available() {
                return;
            }
            conformance::an_approval_never_overrides_a_denial(&$backend);
        }
        #[test]
        fn an_approved_escalation_consumes_what_its_rules_consume() {
            if !$backend.available() {
                return;
            }
            conformance::an_approved_escalation_consumes_what_its_rules_consume(&$backend);
        }
        #[test]
        fn an_escalation_never_asks_to_pass_a_budget_that_denies() {
            if !$backend.available() {
                return;
            }
            conformance::an_escalation_never_asks_to_pass_a_budget_that_denies(&$backend);
        }
        #[test]
        fn a_budget_spent_after_the_approval_still_stops_the_action() {
            if !$backend.available() {
                return;
            }
            conformance::a_budget_spent_after_the_approval_still_stops_the_action(&$backend);
        }
        #[test]
        fn an_approval_of_a_rule_does_not_approve_a_budget_overrun() {
            if !$backend.available() {
                return;
            }
            conformance::an_approval_of_a_rule_does_not_approve_a_budget_overrun(&$backend);
        }
        #[test]
        fn an_escalation_that_already_passes_a_budget_is_approved_with_it() {
            if !$backend.available() {
                return;
            }
            conformance::an_escalation_that_already_passes_a_budget_is_approved_with_it(&$backend);
        }
        #[test]
        fn an_approval_never_skips_a_raise_it_was_not_given_for() {
            if !$backend.available() {
                return;
            }
            conformance::an_approval_never_skips_a_raise_it_was_not_given_for(&$backend);
        }
        #[test]
        fn an_approval_of_a_raise_lets_it_through_once() {
            if !$backend.available() {
                return;
            }
            conformance::an_approval_of_a_raise_lets_it_through_once(&$backend);
        }
        #[test]
        fn reservations_commit_release_and_expire() {
            if !$backend.available() {
                return;
            }
            conformance::reservations_commit_release_and_expire(&$backend);
        }
        #[test]
        fn calendar_budget_windows_roll_over_at_their_boundaries() {
            if !$backend.available() {
                return;
            }
            conformance::calendar_budget_windows_roll_over_at_their_boundaries(&$backend);
        }
        #[test]
        fn rolling_windows_count_what_proceeded_in_the_last_span() {
            if !$backend.available() {
                return;
            }
            conformance::rolling_windows_count_what_proceeded_in_the_last_span(&$backend);
        }
        #[test]
        fn the_host_clock_decides_and_a_backdated_envelope_is_an_error() {
            if !$backend.available() {
                return;
            }
            conformance::the_host_clock_decides_and_a_backdated_envelope_is_an_error(&$backend);
        }
        #[test]
        fn pruning_keeps_the_chain_and_what_windows_still_read() {
            if !$backend.available() {
                return;
            }
            conformance::pruning_keeps_the_chain_and_what_windows_still_read(&$backend);
        }
        #[test]
        fn every_decision_is_logged_and_filtered() {
            if !$backend.available() {
                return;
            }
            conformance::every_decision_is_logged_and_filtered(&$backend);
        }
        #[test]
        fn packets_list_precedent_with_verdicts() {
            if !$backend.available() {
                return;
            }
            conformance::packets_list_precedent_with_verdicts(&$backend);
        }
    };
}
