//! Hot reload: under load no request fails, a broken policy is refused and
//! the old one keeps serving, each decision names the policy that made
//! it, and the metrics show the hash change.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actpol::ErrorCode;
use actpol_server::client::Client;
use axum::http::StatusCode;
use common::{envelope, metric, Options, TestServer, POLICY};
use serde_json::json;

/// The policy with another default reason: the same rules, another hash.
fn changed() -> String {
    POLICY.replace("no rule covers this action", "nothing covers this action")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_under_load_fails_no_request_and_a_broken_policy_is_refused() {
    let server = TestServer::start(Options::default()).await;
    let addr = server.addr;
    let mut admin = server.client().await;
    let old = admin.get("/v1/policy").await.unwrap().json()["hash"]
        .as_str()
        .unwrap()
        .to_string();

    let stop = Arc::new(AtomicBool::new(false));
    // Set once the reload has answered: requests sent after it decide on
    // the new policy.
    let swapped = Arc::new(AtomicBool::new(false));
    let mut load = Vec::new();
    for agent in ["bot-a", "bot-b", "bot-a", "bot-b"] {
        let stop = Arc::clone(&stop);
        let swapped = Arc::clone(&swapped);
        load.push(tokio::spawn(async move {
            let mut c = Client::connect(addr).await.unwrap();
            let mut seen = Vec::new();
            let deadline = Instant::now() + Duration::from_secs(30);
            while !stop.load(Ordering::SeqCst) && Instant::now() < deadline {
                let after_swap = swapped.load(Ordering::SeqCst);
                let sent = Instant::now();
                let answer = c
                    .post(
                        "/v1/decide",
                        envelope(agent, "ops.spend", json!({"units": 1})),
                    )
                    .await
                    .unwrap();
                assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
                let decision = answer.json();
                assert_eq!(decision["decision"], "allow", "{decision}");
                let hash = decision["policy"]["hash"].as_str().unwrap().to_string();
                assert_eq!(answer.policy_hash.as_deref(), Some(hash.as_str()));
                seen.push((after_swap, hash, (sent, Instant::now())));
            }
            seen
        }));
    }

    tokio::time::sleep(Duration::from_millis(300)).await;
    std::fs::write(server.policy_file(), changed()).unwrap();
    let reload_sent = Instant::now();
    let reloaded = admin.post("/v1/policy/reload", "").await.unwrap();
    let swap_window = (reload_sent, Instant::now());
    assert_eq!(reloaded.status, StatusCode::OK, "{}", reloaded.text());
    let reloaded = reloaded.json();
    assert_eq!(reloaded["result"], "swapped");
    assert_eq!(reloaded["from"], old.as_str());
    let new = reloaded["to"].as_str().unwrap().to_string();
    assert_ne!(new, old);
    swapped.store(true, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(300)).await;

    // A policy that does not compile: refused, the new one keeps serving.
    std::fs::write(server.policy_file(), "policy srv {\n  default deny\n").unwrap();
    let reload_sent = Instant::now();
    let refused = admin.post("/v1/policy/reload", "").await.unwrap();
    let refuse_window = (reload_sent, Instant::now());
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        refused.json()["error"]["code"],
        ErrorCode::ServerPolicyRefused.as_str()
    );
    assert_eq!(
        admin.get("/v1/policy").await.unwrap().json()["hash"],
        new.as_str()
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::SeqCst);

    let mut before = 0;
    let mut after = 0;
    // Requests in flight while each reload ran: the reloads happened under
    // load, and those requests were answered like any other.
    let mut during_swap = 0;
    let mut during_refusal = 0;
    let overlaps = |(sent, answered): (Instant, Instant), (from, to): (Instant, Instant)| {
        sent < to && answered > from
    };
    for task in load {
        for (after_swap, hash, timed) in task.await.unwrap() {
            during_swap += usize::from(overlaps(timed, swap_window));
            during_refusal += usize::from(overlaps(timed, refuse_window));
            if after_swap {
                assert_eq!(
                    hash, new,
                    "a request sent after the swap decided on the old policy"
                );
                after += 1;
            } else {
                assert!(hash == old || hash == new, "{hash}");
                before += usize::from(hash == old);
            }
        }
    }
    assert!(before > 0 && after > 0, "{before} before, {after} after");
    assert!(
        during_swap > 0 && during_refusal > 0,
        "{during_swap} requests in flight during the swap, {during_refusal} during the refusal"
    );

    let metrics = admin.get("/metrics").await.unwrap().text();
    assert!(
        metrics.contains(&format!(
            "actpol_policy_info{{name=\"srv\",hash=\"{new}\"}} 1"
        )),
        "{metrics}"
    );
    assert!(!metrics.contains(&old), "{metrics}");
    assert_eq!(
        metric(&metrics, "actpol_policy_reloads_total{result=\"swapped\"}"),
        Some(1.0)
    );
    assert_eq!(
        metric(&metrics, "actpol_policy_reloads_total{result=\"refused\"}"),
        Some(1.0)
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_to_the_policy_file_is_picked_up() {
    let server = TestServer::start(Options {
        watch: Some(Duration::from_millis(50)),
        ..Options::default()
    })
    .await;
    let mut c = server.client().await;
    let old = c.get("/v1/policy").await.unwrap().json()["hash"].clone();
    // Modification times can be coarse: the length changes too.
    std::fs::write(server.policy_file(), changed() + "\n// changed\n").unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let new = loop {
        let now = c.get("/v1/policy").await.unwrap().json()["hash"].clone();
        if now != old {
            break now;
        }
        assert!(
            Instant::now() < deadline,
            "the change was not picked up in 10s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let decided = c
        .post("/v1/decide", envelope("bot-a", "ops.tick", json!({})))
        .await
        .unwrap()
        .json();
    assert_eq!(decided["policy"]["hash"], new);
    server.stop().await;
}
