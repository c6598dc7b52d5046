//! Caller identity: an agent's token decides for that agent only, and
//! cannot approve; approver endpoints need an approver's token, deciding
//! as that approver.

mod common;

use actpol::ErrorCode;
use actpol_server::auth::{token_hash, Tokens};
use axum::http::StatusCode;
use common::{code, envelope, metric, with_approval, Options, TestServer};
use serde_json::json;

fn tokens() -> Tokens {
    Tokens::from_toml(&format!(
        r#"
[[token]]
sha256 = "{}"
agent = "bot-a"

[[token]]
sha256 = "{}"
agent = "bot-b"

[[token]]
sha256 = "{}"
approver = "lead"

[[token]]
sha256 = "{}"
approver = "cfo"

[[token]]
sha256 = "{}"
admin = true

[[token]]
sha256 = "{}"
metrics = true
"#,
        token_hash("token-a"),
        token_hash("token-b"),
        token_hash("token-lead"),
        token_hash("token-cfo"),
        token_hash("token-admin"),
        token_hash("token-scraper"),
    ))
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_for_agent_a_cannot_decide_for_agent_b() {
    let server = TestServer::start(Options {
        tokens: tokens(),
        ..Options::default()
    })
    .await;
    let mut a = server.client().await.with_token("token-a");
    let mine = a
        .post(
            "/v1/decide",
            envelope("bot-a", "ops.spend", json!({"units": 1})),
        )
        .await
        .unwrap();
    assert_eq!(mine.status, StatusCode::OK, "{}", mine.text());
    assert_eq!(mine.json()["decision"], "allow");

    let theirs = a
        .post(
            "/v1/decide",
            envelope("bot-b", "ops.spend", json!({"units": 1})),
        )
        .await
        .unwrap();
    assert_eq!(theirs.status, StatusCode::FORBIDDEN);
    assert_eq!(code(&theirs), ErrorCode::ServerAgentMismatch.as_str());
    assert!(theirs.text().contains("`bot-b`"), "{}", theirs.text());

    // One foreign envelope refuses the whole batch: nothing is decided.
    let batch = format!(
        "[{}, {}]",
        String::from_utf8(envelope("bot-a", "ops.spend", json!({"units": 1}))).unwrap(),
        String::from_utf8(envelope("bot-b", "ops.spend", json!({"units": 1}))).unwrap()
    );
    let refused = a.post("/v1/decide/batch", batch).await.unwrap();
    assert_eq!(code(&refused), ErrorCode::ServerAgentMismatch.as_str());

    // No token, an unknown token, a token of another role.
    let mut anon = server.client().await;
    let none = anon
        .post(
            "/v1/decide",
            envelope("bot-a", "ops.spend", json!({"units": 1})),
        )
        .await
        .unwrap();
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
    assert_eq!(code(&none), ErrorCode::ServerUnauthenticated.as_str());
    let mut forged = server.client().await.with_token("token-x");
    let unknown = forged.get("/v1/policy").await.unwrap();
    assert_eq!(code(&unknown), ErrorCode::ServerUnauthenticated.as_str());
    let mut lead = server.client().await.with_token("token-lead");
    let approver_deciding = lead
        .post(
            "/v1/decide",
            envelope("bot-a", "ops.spend", json!({"units": 1})),
        )
        .await
        .unwrap();
    assert_eq!(
        code(&approver_deciding),
        ErrorCode::ServerForbidden.as_str()
    );

    // Only the one decision was made and logged.
    let mut admin = server.client().await.with_token("token-admin");
    let verified = admin.get("/v1/audit/verify").await.unwrap().json();
    assert_eq!(verified["records"], 1, "{verified}");
    let metrics = admin.get("/metrics").await.unwrap().text();
    assert_eq!(
        metric(
            &metrics,
            &format!(
                "actpol_errors_total{{code=\"{}\"}}",
                ErrorCode::ServerAgentMismatch
            )
        ),
        Some(2.0)
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_token_cannot_approve_and_an_approver_decides_as_itself() {
    let server = TestServer::start(Options {
        tokens: tokens(),
        ..Options::default()
    })
    .await;
    let mut a = server.client().await.with_token("token-a");
    let bytes = envelope("bot-a", "ops.spend", json!({"units": 500}));
    let escalated = a.post("/v1/decide", bytes.clone()).await.unwrap().json();
    assert_eq!(escalated["decision"], "escalate");
    let approval = escalated["approval"]["id"].as_str().unwrap().to_string();
    let path = format!("/v1/approvals/{approval}/approve");

    // The agent approving its own escalation, even naming the approver.
    let own = a.post(&path, r#"{"by": "lead"}"#).await.unwrap();
    assert_eq!(own.status, StatusCode::FORBIDDEN);
    assert_eq!(code(&own), ErrorCode::ServerForbidden.as_str());
    let listing = a.get("/v1/approvals").await.unwrap();
    assert_eq!(code(&listing), ErrorCode::ServerForbidden.as_str());
    // An admin reads, but does not decide, approvals.
    let mut admin = server.client().await.with_token("token-admin");
    let read = admin.get("/v1/approvals").await.unwrap();
    assert_eq!(read.json()[0]["id"], approval.as_str(), "{}", read.text());
    let by_admin = admin.post(&path, r#"{"by": "lead"}"#).await.unwrap();
    assert_eq!(code(&by_admin), ErrorCode::ServerForbidden.as_str());

    // Another approver, and an approver claiming to be another.
    let mut cfo = server.client().await.with_token("token-cfo");
    assert!(cfo
        .get("/v1/approvals?status=pending")
        .await
        .unwrap()
        .json()
        .as_array()
        .unwrap()
        .is_empty());
    let not_theirs = cfo.post(&path, "").await.unwrap();
    assert_eq!(code(&not_theirs), ErrorCode::StoreWrongApprover.as_str());
    let posing = cfo.post(&path, r#"{"by": "lead"}"#).await.unwrap();
    assert_eq!(code(&posing), ErrorCode::ServerForbidden.as_str());

    let mut lead = server.client().await.with_token("token-lead");
    let pending = lead
        .get("/v1/approvals?status=pending")
        .await
        .unwrap()
        .json();
    assert_eq!(pending[0]["id"], approval.as_str());
    let granted = lead
        .post(&path, r#"{"note": "checked with finance"}"#)
        .await
        .unwrap();
    assert_eq!(granted.status, StatusCode::OK, "{}", granted.text());
    assert_eq!(granted.json()["decided_by"], "lead");

    let allowed = a
        .post("/v1/decide", with_approval(&bytes, &approval))
        .await
        .unwrap()
        .json();
    assert_eq!(allowed["decision"], "allow", "{allowed}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_touches_only_what_its_own_decisions_hold() {
    let server = TestServer::start(Options {
        tokens: tokens(),
        ..Options::default()
    })
    .await;
    let mut a = server.client().await.with_token("token-a");
    let mut b = server.client().await.with_token("token-b");
    let held = b
        .post(
            "/v1/decide",
            envelope("bot-b", "ops.spend", json!({"units": 5})),
        )
        .await
        .unwrap()
        .json();
    let reservation = held["reservations"][0].as_str().unwrap().to_string();

    // Agent A names agent B's reservation: refused, with its own code, for
    // reading, committing and releasing alike; nothing changes.
    for (path, method) in [
        (format!("/v1/reservations/{reservation}"), "GET"),
        (format!("/v1/reservations/{reservation}/commit"), "POST"),
        (format!("/v1/reservations/{reservation}/release"), "POST"),
    ] {
        let answer = if method == "GET" {
            a.get(&path).await.unwrap()
        } else {
            a.post(&path, "").await.unwrap()
        };
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{path}");
        assert_eq!(code(&answer), ErrorCode::ServerNotOwner.as_str(), "{path}");
        assert!(answer.text().contains("`bot-b`"), "{}", answer.text());
    }
    let state = b
        .get(&format!("/v1/reservations/{reservation}"))
        .await
        .unwrap()
        .json();
    assert_eq!(state["state"], "held", "{state}");
    let committed = b
        .post(&format!("/v1/reservations/{reservation}/commit"), "")
        .await
        .unwrap();
    assert_eq!(committed.status, StatusCode::OK, "{}", committed.text());
    assert_eq!(committed.json()["state"], "committed");
    // An unknown reservation is still unknown, not someone else's.
    let unknown = a.post("/v1/reservations/res-999/commit", "").await.unwrap();
    assert_eq!(code(&unknown), ErrorCode::StoreUnknownReservation.as_str());

    // One approval: its agent reads it, another agent does not; approvers
    // and the admin read any.
    let escalated = b
        .post(
            "/v1/decide",
            envelope("bot-b", "ops.spend", json!({"units": 500})),
        )
        .await
        .unwrap()
        .json();
    let approval = escalated["approval"]["id"].as_str().unwrap().to_string();
    let path = format!("/v1/approvals/{approval}");
    let own = b.get(&path).await.unwrap();
    assert_eq!(own.status, StatusCode::OK, "{}", own.text());
    assert_eq!(own.json()["status"], "pending");
    let theirs = a.get(&path).await.unwrap();
    assert_eq!(theirs.status, StatusCode::FORBIDDEN);
    assert_eq!(code(&theirs), ErrorCode::ServerNotOwner.as_str());
    for token in ["token-lead", "token-cfo", "token-admin"] {
        let mut reader = server.client().await.with_token(token);
        let read = reader.get(&path).await.unwrap();
        assert_eq!(read.status, StatusCode::OK, "{token}: {}", read.text());
        assert_eq!(read.json()["id"], approval.as_str());
    }
    let mut scraper = server.client().await.with_token("token-scraper");
    assert_eq!(
        code(&scraper.get(&path).await.unwrap()),
        ErrorCode::ServerForbidden.as_str()
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_tokens_metrics_need_an_admin_or_metrics_token_and_health_stays_open() {
    let server = TestServer::start(Options {
        tokens: tokens(),
        ..Options::default()
    })
    .await;
    let mut anon = server.client().await;
    let health = anon.get("/healthz").await.unwrap();
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.json()["status"], "ok");
    let unscraped = anon.get("/metrics").await.unwrap();
    assert_eq!(unscraped.status, StatusCode::UNAUTHORIZED);
    assert_eq!(code(&unscraped), ErrorCode::ServerUnauthenticated.as_str());
    let mut a = server.client().await.with_token("token-a");
    assert_eq!(
        code(&a.get("/metrics").await.unwrap()),
        ErrorCode::ServerForbidden.as_str()
    );
    for token in ["token-scraper", "token-admin"] {
        let mut c = server.client().await.with_token(token);
        let scraped = c.get("/metrics").await.unwrap();
        assert_eq!(scraped.status, StatusCode::OK, "{token}");
        assert!(scraped.text().contains("actpol_decisions_total"));
    }
    // A scraper's token does nothing else.
    let mut scraper = server.client().await.with_token("token-scraper");
    let deciding = scraper
        .post(
            "/v1/decide",
            envelope("bot-a", "ops.spend", json!({"units": 1})),
        )
        .await
        .unwrap();
    assert_eq!(code(&deciding), ErrorCode::ServerForbidden.as_str());
    server.stop().await;
}
