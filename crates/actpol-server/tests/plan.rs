//! `POST /v1/plan`: a plan decided as a whole against the store's state,
//! writing nothing; errors with JSON paths and codes; only the plan's own
//! agent may send it.

mod common;

use actpol::ErrorCode;
use actpol_server::auth::{token_hash, Tokens};
use axum::http::StatusCode;
use common::{code, envelope, Options, TestServer};
use serde_json::{json, Value};

fn plan(agent: &str, nodes: Value, edges: Value) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "id": "plan-1",
        "agent": {"id": agent, "owner": "a@acme.example", "workflow": "w1"},
        "time": actpol::values::format_timestamp(actpol::store::system_now()),
        "nodes": nodes,
        "edges": edges,
    }))
    .unwrap()
}

fn node(id: &str, action: &str, params: Value) -> Value {
    json!({
        "id": id,
        "action": {"name": action, "params": params},
        "object": {"type": "Account", "id": "acc-1"},
    })
}

fn records(answer: &actpol_server::client::Answer) -> u64 {
    answer.json()["records"].as_u64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_is_decided_on_the_stores_state_and_writes_nothing() {
    let server = TestServer::start(Options::default()).await;
    let mut c = server.client().await;
    // 98 of the agent's 100 daily ticks are taken already.
    let ticks: Vec<Value> = (0..98)
        .map(|_| serde_json::from_slice(&envelope("bot-a", "ops.tick", json!({}))).unwrap())
        .collect();
    let batch = c
        .post("/v1/decide/batch", serde_json::to_vec(&ticks).unwrap())
        .await
        .unwrap();
    assert_eq!(batch.status, StatusCode::OK, "{}", batch.text());
    let before = records(&c.get("/v1/audit/verify").await.unwrap());
    assert_eq!(before, 98);

    let three_ticks = plan(
        "bot-a",
        json!([
            node("t1", "ops.tick", json!({})),
            node("t2", "ops.tick", json!({})),
            node("t3", "ops.tick", json!({})),
            node("big", "ops.spend", json!({"units": 500})),
        ]),
        json!([{"from": "t1", "to": "t2"}, {"from": "t2", "to": "t3"}]),
    );
    let answer = c.post("/v1/plan", three_ticks).await.unwrap();
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    assert!(answer.policy_hash.is_some());
    let decided = answer.json();
    assert_eq!(decided["decision"], "deny", "{decided}");
    let by_id = |id: &str| {
        decided["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["id"] == id)
            .unwrap_or_else(|| panic!("no node {id}: {decided}"))
            .clone()
    };
    // The store's 98 and the plan's own steps count together.
    assert_eq!(by_id("t1")["decision"], "allow");
    assert_eq!(by_id("t2")["decision"], "allow");
    assert_eq!(by_id("t3")["decision"], "deny", "{decided}");
    assert_eq!(by_id("big")["decision"], "escalate");

    // Nothing was written: no record, no approval, no tick consumed.
    assert_eq!(records(&c.get("/v1/audit/verify").await.unwrap()), before);
    assert_eq!(c.get("/v1/approvals").await.unwrap().json(), json!([]));
    let tick = c
        .post("/v1/decide", envelope("bot-a", "ops.tick", json!({})))
        .await
        .unwrap()
        .json();
    assert_eq!(tick["decision"], "allow", "{tick}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_that_does_not_hold_together_is_a_400_with_paths() {
    let server = TestServer::start(Options::default()).await;
    let mut c = server.client().await;
    let cycle = plan(
        "bot-a",
        json!([
            node("a", "ops.tick", json!({})),
            node("b", "ops.tick", json!({}))
        ]),
        json!([{"from": "a", "to": "b"}, {"from": "b", "to": "a"}]),
    );
    let refused = c.post("/v1/plan", cycle).await.unwrap();
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(code(&refused), ErrorCode::PlanCycle.as_str());
    let body = refused.json();
    assert_eq!(body["errors"][0]["code"], ErrorCode::PlanCycle.as_str());
    assert!(body["errors"][0]["path"]
        .as_str()
        .unwrap()
        .starts_with("$."));

    let dangling = plan(
        "bot-a",
        json!([
            node("a", "ops.tick", json!({})),
            node("b", "ops.spend", json!({"units": "many"}))
        ]),
        json!([{"from": "a", "to": "c"}]),
    );
    let refused = c.post("/v1/plan", dangling).await.unwrap();
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    let errors = refused.json()["errors"].as_array().unwrap().clone();
    let paths: Vec<&str> = errors.iter().map(|e| e["path"].as_str().unwrap()).collect();
    assert!(paths.contains(&"$.edges[0].to"), "{paths:?}");
    assert!(
        paths
            .iter()
            .any(|p| p.starts_with("$.nodes[1].action.params.units")),
        "{paths:?}"
    );

    let garbage = c.post("/v1/plan", "{not json").await.unwrap();
    assert_eq!(garbage.status, StatusCode::BAD_REQUEST);
    assert_eq!(code(&garbage), ErrorCode::PlanMalformed.as_str());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_plans_own_agent_may_send_it() {
    let tokens = Tokens::from_toml(&format!(
        "[[token]]\nsha256 = \"{}\"\nagent = \"bot-a\"\n\n[[token]]\nsha256 = \"{}\"\napprover = \"lead\"\n",
        token_hash("token-a"),
        token_hash("token-lead"),
    ))
    .unwrap();
    let server = TestServer::start(Options {
        tokens,
        ..Options::default()
    })
    .await;
    let mine = plan(
        "bot-a",
        json!([node("a", "ops.tick", json!({}))]),
        json!([]),
    );
    let theirs = plan(
        "bot-b",
        json!([node("a", "ops.tick", json!({}))]),
        json!([]),
    );
    let mut a = server.client().await.with_token("token-a");
    let ok = a.post("/v1/plan", mine.clone()).await.unwrap();
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    assert_eq!(ok.json()["decision"], "allow");
    let refused = a.post("/v1/plan", theirs).await.unwrap();
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(code(&refused), ErrorCode::ServerAgentMismatch.as_str());
    let mut lead = server.client().await.with_token("token-lead");
    assert_eq!(
        code(&lead.post("/v1/plan", mine).await.unwrap()),
        ErrorCode::ServerForbidden.as_str()
    );
    server.stop().await;
}
