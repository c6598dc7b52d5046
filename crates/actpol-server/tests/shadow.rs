//! Shadow mode: a candidate policy decides every request beside the
//! serving one, on the state the serving decision read, and acts on
//! nothing; its flips are logged, listed and counted, and it reloads with
//! the serving policy.

mod common;

use actpol::ErrorCode;
use axum::http::StatusCode;
use common::{code, envelope, metric, Options, TestServer, POLICY};
use serde_json::json;

/// The candidate: spends over 50 units escalate (over 100 serving), and an
/// agent has 3 ticks a day (100 serving).
fn candidate() -> String {
    POLICY
        .replace("params.units <= 100", "params.units <= 50")
        .replace("params.units > 100", "params.units > 50")
        .replace("limit 100\n", "limit 3\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shadow_decides_on_the_same_state_and_acts_on_nothing() {
    let server = TestServer::start(Options {
        shadow: Some(candidate()),
        ..Options::default()
    })
    .await;
    let mut c = server.client().await;
    let live_hash = c.get("/v1/policy").await.unwrap().json()["hash"]
        .as_str()
        .unwrap()
        .to_string();

    // Both allow: no flip.
    let same = c
        .post(
            "/v1/decide",
            envelope("bot-a", "ops.spend", json!({"units": 10})),
        )
        .await
        .unwrap()
        .json();
    assert_eq!(same["decision"], "allow");
    // The serving policy allows, the candidate would escalate: a flip, and
    // no approval is opened.
    let flipped = c
        .post(
            "/v1/decide",
            envelope("bot-a", "ops.spend", json!({"units": 75})),
        )
        .await
        .unwrap()
        .json();
    assert_eq!(flipped["decision"], "allow", "{flipped}");
    assert!(flipped["approval"].is_null(), "{flipped}");
    let flipped_id = flipped["id"].as_str().unwrap().to_string();

    // Five ticks: the candidate reads the ticks the serving decisions
    // reserved, so it denies the 4th and 5th; it reserves none itself.
    let mut ticks = Vec::new();
    for _ in 0..5 {
        let tick = c
            .post("/v1/decide", envelope("bot-a", "ops.tick", json!({})))
            .await
            .unwrap()
            .json();
        assert_eq!(tick["decision"], "allow", "{tick}");
        ticks.push(tick["id"].as_str().unwrap().to_string());
    }

    let listed = c.get("/v1/shadow/flips").await.unwrap();
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text());
    let listed = listed.json();
    let shadow_hash = listed["shadow"]["hash"].as_str().unwrap().to_string();
    assert_ne!(shadow_hash, live_hash);
    assert_eq!(listed["policy"]["hash"], live_hash.as_str());
    assert_eq!(listed["decisions"], 7);
    assert_eq!(listed["flips_total"], 3);
    let flips = listed["flips"].as_array().unwrap();
    let ids: Vec<&str> = flips.iter().map(|f| f["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [flipped_id.as_str(), ticks[3].as_str(), ticks[4].as_str()]
    );
    assert_eq!(flips[0]["live"]["decision"], "allow");
    assert_eq!(flips[0]["shadow"]["decision"], "escalate");
    assert_eq!(flips[0]["shadow"]["rules"], json!(["big_spend"]));
    assert_eq!(flips[1]["shadow"]["decision"], "deny");
    for flip in flips {
        assert_eq!(flip["live"]["policy"], live_hash.as_str());
        assert_eq!(flip["shadow"]["policy"], shadow_hash.as_str());
    }

    let metrics = c.get("/metrics").await.unwrap().text();
    let count = |live: &str, shadow: &str| {
        metric(
            &metrics,
            &format!("actpol_shadow_decisions_total{{live=\"{live}\",shadow=\"{shadow}\"}}"),
        )
    };
    assert_eq!(count("allow", "allow"), Some(4.0), "{metrics}");
    assert_eq!(count("allow", "escalate"), Some(1.0));
    assert_eq!(count("allow", "deny"), Some(2.0));
    assert_eq!(metric(&metrics, "actpol_shadow_flips_total"), Some(3.0));
    assert!(metrics.contains(&format!(
        "actpol_shadow_policy_info{{name=\"srv\",hash=\"{shadow_hash}\"}} 1"
    )));

    // Nothing the candidate decided was acted on: no approval, seven
    // decisions logged, the serving budgets hold only the serving
    // decisions' amounts.
    let approvals = c.get("/v1/approvals").await.unwrap().json();
    assert_eq!(approvals, json!([]));
    let verified = c.get("/v1/audit/verify").await.unwrap().json();
    assert_eq!(verified["records"], 7, "{verified}");
    let policy = actpol::Policy::from_sources([("srv.actpol", POLICY)]).unwrap();
    let budgets = policy
        .budgets(&*server.store, actpol::store::system_now())
        .unwrap();
    let of = |name: &str| {
        budgets
            .iter()
            .find(|b| b.budget == name)
            .map(|b| b.consumed.to_string())
    };
    assert_eq!(of("units").as_deref(), Some("85"));
    assert_eq!(of("ticks").as_deref(), Some("5"));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shadow_reloads_with_the_policy_and_a_broken_one_is_refused() {
    let server = TestServer::start(Options {
        shadow: Some(candidate()),
        ..Options::default()
    })
    .await;
    let mut c = server.client().await;
    let spend = || envelope("bot-a", "ops.spend", json!({"units": 75}));
    c.post("/v1/decide", spend()).await.unwrap();
    assert_eq!(
        c.get("/v1/shadow/flips").await.unwrap().json()["flips_total"],
        1
    );

    // The candidate becomes the serving policy's twin: no flip any more.
    std::fs::write(server.shadow_file(), POLICY).unwrap();
    let reloaded = c.post("/v1/policy/reload", "").await.unwrap();
    assert_eq!(reloaded.status, StatusCode::OK, "{}", reloaded.text());
    let reloaded = reloaded.json();
    assert_eq!(reloaded["result"], "unchanged", "{reloaded}");
    assert_eq!(reloaded["shadow"]["result"], "swapped", "{reloaded}");
    c.post("/v1/decide", spend()).await.unwrap();
    let listed = c.get("/v1/shadow/flips").await.unwrap().json();
    assert_eq!(listed["flips_total"], 1, "{listed}");
    assert_eq!(listed["decisions"], 2);
    let twin = listed["shadow"]["hash"].clone();
    assert_eq!(twin, listed["policy"]["hash"]);

    // A broken candidate is refused; the last one keeps deciding, and the
    // serving policy is untouched.
    std::fs::write(server.shadow_file(), "policy srv {\n").unwrap();
    let refused = c.post("/v1/policy/reload", "").await.unwrap();
    assert_eq!(refused.status, StatusCode::OK, "{}", refused.text());
    assert_eq!(refused.json()["shadow"]["result"], "refused");
    assert_eq!(
        c.get("/v1/shadow/flips").await.unwrap().json()["shadow"]["hash"],
        twin
    );
    let metrics = c.get("/metrics").await.unwrap().text();
    assert_eq!(
        metric(&metrics, "actpol_shadow_reloads_total{result=\"swapped\"}"),
        Some(1.0)
    );
    assert_eq!(
        metric(&metrics, "actpol_shadow_reloads_total{result=\"refused\"}"),
        Some(1.0)
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_shadow_there_are_no_flips_to_list() {
    let server = TestServer::start(Options::default()).await;
    let mut c = server.client().await;
    let answer = c.get("/v1/shadow/flips").await.unwrap();
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(code(&answer), ErrorCode::ServerNoShadow.as_str());
    let metrics = c.get("/metrics").await.unwrap().text();
    assert!(!metrics.contains("actpol_shadow"), "{metrics}");
    server.stop().await;
}
