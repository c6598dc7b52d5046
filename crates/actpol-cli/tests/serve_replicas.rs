//! Two `actpol serve` processes on one PostgreSQL store, driven over HTTP:
//! one budget limit shared exactly, every decision logged once, one chain;
//! a replica killed under load loses no committed reservation while the
//! other keeps serving.
//!
//! The tests need a PostgreSQL server (`ACTPOL_TEST_PG`, as the store's
//! tests do: `source .ci/postgres.sh && actpol_pg_start`); without one they
//! say they were skipped and pass, unless `ACTPOL_TEST_PG_REQUIRED` is set.
//! `ACTPOL_TEST_REPLICA_DECISIONS` sets how many decisions the shared-limit
//! test makes (10,000 by default).

mod common;

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actpol::store::{self, Durability, LogFilter, ReservationState, Store, Verification};
use actpol_server::client::Client;
use serde_json::json;

/// The replicas' policy: one draw takes one unit of a pool of `limit`.
fn policy(limit: usize) -> String {
    format!(
        r#"
policy replicas {{
  default deny "no rule covers this action"
  on_error deny "the policy could not be evaluated"
}}
system ops
entity Account {{
  region?: String
}}
action ops.draw {{
  system ops
  object Account
  reversible
}}
agent bot {{
  owner "bot@acme.example"
  workflow w1
}}
budget pool: Int {{
  limit {limit}
  window 1d
  per workflow
  on_exhausted deny "the pool is spent"
}}
rule draw on ops.draw {{
  allow "a draw"
  consume pool by 1
}}
"#
    )
}

fn draw() -> Vec<u8> {
    serde_json::to_vec(&json!({
        "agent": {"id": "bot", "owner": "bot@acme.example", "workflow": "w1"},
        "action": {"name": "ops.draw", "params": {}},
        "object": {"type": "Account", "id": "acc-1"},
        "time": actpol::values::format_timestamp(store::system_now()),
    }))
    .unwrap()
}

/// A new, empty schema on the test server with the store's tables made, as
/// a store location; `None` (said loudly) without a server.
fn pg_location() -> Option<String> {
    let location = common::pg_location("replicas", "two `actpol serve` replicas on PostgreSQL")?;
    // Made once here, so the replicas do not race to make the tables.
    drop(store::open(&location, Durability::Normal).unwrap());
    Some(location)
}

/// A running `actpol serve` and the address it listens on.
struct Replica {
    child: Child,
    addr: SocketAddr,
}

impl Replica {
    fn start(policy_dir: &Path, location: &str) -> Replica {
        let mut child = Command::new(env!("CARGO_BIN_EXE_actpol"))
            .args(["serve", "--policy"])
            .arg(policy_dir)
            .args(["--store", location, "--listen", "127.0.0.1:0", "--no-watch"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary runs");
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let addr = loop {
            let line = lines
                .next()
                .expect("the server says where it listens")
                .unwrap();
            if let Some(rest) = line.split("listening on http://").nth(1) {
                break rest.split(',').next().unwrap().parse().unwrap();
            }
        };
        // Keep reading what it says, so it never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines.map_while(Result::ok) {});
        Replica { child, addr }
    }

    /// Stops it with SIGTERM and waits for it to drain.
    fn stop(mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let status = self.child.wait().unwrap();
        assert!(status.success(), "the replica stopped with {status}");
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn policy_dir(limit: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("replicas.actpol"), policy(limit)).unwrap();
    dir
}

fn decisions() -> usize {
    std::env::var("ACTPOL_TEST_REPLICA_DECISIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000)
}

/// What one client saw: the decision ids it was answered, the
/// reservations whose commit was answered `200`.
#[derive(Default)]
struct Seen {
    decisions: Vec<String>,
    committed: Vec<String>,
    granted: usize,
}

/// Decides once, and commits what it reserved; `None` when the server did
/// not answer.
async fn decide_and_commit(c: &mut Client, seen: &mut Seen) -> Option<()> {
    let answer = c.post("/v1/decide", draw()).await.ok()?;
    assert_eq!(answer.status.as_u16(), 200, "{}", answer.text());
    let decision = answer.json();
    seen.decisions
        .push(decision["id"].as_str().unwrap().to_string());
    let Some(reservation) = decision["reservations"][0].as_str() else {
        assert_eq!(decision["decision"], "deny", "{decision}");
        return Some(());
    };
    assert_eq!(decision["decision"], "allow", "{decision}");
    seen.granted += 1;
    let path = format!("/v1/reservations/{reservation}/commit");
    let committed = c.post(&path, "").await.ok()?;
    assert_eq!(committed.status.as_u16(), 200, "{}", committed.text());
    assert_eq!(committed.json()["state"], "committed");
    seen.committed.push(reservation.to_string());
    Some(())
}

fn decisions_logged(store: &dyn Store) -> Vec<String> {
    store
        .log(&LogFilter::default())
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "decision")
        .map(|e| e.record["id"].as_str().unwrap().to_string())
        .collect()
}

fn chain_records(store: &dyn Store) -> u64 {
    match store.verify().unwrap() {
        Verification::Intact { records, .. } => records,
        broken => panic!("the chain does not verify: {broken:?}"),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn two_server_replicas_share_one_limit_over_http() {
    let Some(location) = pg_location() else {
        return;
    };
    let total = decisions() / 16 * 16;
    let limit = total / 2;
    let dir = policy_dir(limit);
    let replicas = [
        Replica::start(dir.path(), &location),
        Replica::start(dir.path(), &location),
    ];
    let addrs: Vec<SocketAddr> = replicas.iter().map(|r| r.addr).collect();
    let seen: Vec<Seen> = runtime().block_on(async move {
        let mut clients = Vec::new();
        for n in 0..16 {
            let addr = addrs[n % 2];
            clients.push(tokio::spawn(async move {
                let mut c = Client::connect(addr).await.unwrap();
                let mut seen = Seen::default();
                for _ in 0..total / 16 {
                    decide_and_commit(&mut c, &mut seen)
                        .await
                        .expect("the replica answers");
                }
                seen
            }));
        }
        let mut all = Vec::new();
        for client in clients {
            all.push(client.await.unwrap());
        }
        all
    });
    for replica in replicas {
        replica.stop();
    }

    let granted: usize = seen.iter().map(|s| s.granted).sum();
    assert_eq!(granted, limit, "two replicas grant exactly the limit");
    let answered: HashSet<String> = seen
        .iter()
        .flat_map(|s| s.decisions.iter().cloned())
        .collect();
    assert_eq!(answered.len(), total, "every decision has an id of its own");
    let store = store::open(&location, Durability::Normal).unwrap();
    let logged = decisions_logged(&*store);
    let logged_once: HashSet<String> = logged.iter().cloned().collect();
    assert_eq!(logged.len(), total, "every decision is logged once");
    assert_eq!(logged_once, answered, "the log holds what was answered");
    assert_eq!(
        chain_records(&*store) as usize,
        total + limit,
        "one chain: a record per decision and per commit"
    );
}

#[test]
fn a_killed_replica_loses_no_committed_reservation_and_the_other_serves_on() {
    let Some(location) = pg_location() else {
        return;
    };
    let dir = policy_dir(1_000_000);
    let mut doomed = Replica::start(dir.path(), &location);
    let survivor = Replica::start(dir.path(), &location);
    let (doomed_addr, survivor_addr) = (doomed.addr, survivor.addr);
    let killed = Arc::new(AtomicBool::new(false));
    let doomed_done = Arc::new(AtomicUsize::new(0));
    let after_kill = 200;

    let rt = runtime();
    let clients: Vec<_> = (0..16)
        .map(|n| {
            let killed = Arc::clone(&killed);
            let doomed_done = Arc::clone(&doomed_done);
            let on_doomed = n % 2 == 0;
            let addr = if on_doomed {
                doomed_addr
            } else {
                survivor_addr
            };
            rt.spawn(async move {
                let mut c = Client::connect(addr).await.unwrap();
                let mut seen = Seen::default();
                let mut since_kill = 0;
                let deadline = Instant::now() + Duration::from_secs(120);
                loop {
                    assert!(Instant::now() < deadline, "the load did not finish");
                    let was_killed = killed.load(Ordering::SeqCst);
                    let answered = decide_and_commit(&mut c, &mut seen).await;
                    if on_doomed {
                        if answered.is_none() {
                            // Its server is gone: what it saw stands.
                            assert!(killed.load(Ordering::SeqCst), "a replica failed unkilled");
                            break;
                        }
                        doomed_done.fetch_add(1, Ordering::SeqCst);
                    } else {
                        answered.expect("the surviving replica answers every request");
                        if was_killed {
                            since_kill += 1;
                            if since_kill == after_kill {
                                break;
                            }
                        }
                    }
                }
                seen
            })
        })
        .collect();

    // Kill it under load, once its clients have committed a while.
    let deadline = Instant::now() + Duration::from_secs(60);
    while doomed_done.load(Ordering::SeqCst) < 400 {
        assert!(Instant::now() < deadline, "the doomed replica decides");
        std::thread::sleep(Duration::from_millis(10));
    }
    killed.store(true, Ordering::SeqCst);
    doomed.child.kill().unwrap(); // SIGKILL
    doomed.child.wait().unwrap();

    let seen: Vec<Seen> = rt.block_on(async {
        let mut all = Vec::new();
        for client in clients {
            all.push(client.await.unwrap());
        }
        all
    });
    survivor.stop();

    let store = store::open(&location, Durability::Normal).unwrap();
    let now = store::system_now();
    let mut committed = 0;
    for reservation in seen.iter().flat_map(|s| &s.committed) {
        let r = store.reservation(reservation, now).unwrap();
        assert_eq!(r.state, ReservationState::Committed, "{reservation}");
        committed += 1;
    }
    let survivors: usize = seen
        .iter()
        .skip(1)
        .step_by(2)
        .map(|s| s.decisions.len())
        .sum();
    assert!(survivors >= 8 * after_kill, "{survivors}");
    assert!(committed > 400, "{committed}");
    let logged: HashSet<String> = decisions_logged(&*store).into_iter().collect();
    for id in seen.iter().flat_map(|s| &s.decisions) {
        assert!(logged.contains(id), "{id} was answered but is not logged");
    }
    chain_records(&*store);
}
