//! The API over loopback HTTP: deciding, reservations, approvals, packets,
//! the log, errors with codes, limits, metrics and draining.

mod common;

use std::time::Duration;

use actpol::ErrorCode;
use actpol_server::Limits;
use axum::http::{Method, StatusCode};
use common::{code, envelope, metric, with_approval, Options, TestServer};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_decision_reserves_and_its_reservation_commits() {
    let server = TestServer::start(Options::default()).await;
    let mut c = server.client().await;
    let answer = c
        .post(
            "/v1/decide",
            envelope("bot-a", "ops.spend", json!({"units": 5})),
        )
        .await
        .unwrap();
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    assert_eq!(answer.content_type, "application/json");
    let decision = answer.json();
    assert_eq!(decision["decision"], "allow");
    let id = decision["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("dec-"), "{id}");
    let reservation = decision["reservations"][0].as_str().unwrap().to_string();
    let hash = decision["policy"]["hash"].as_str().unwrap();
    assert_eq!(answer.policy_hash.as_deref(), Some(hash));

    let metrics = c.get("/metrics").await.unwrap().text();
    assert_eq!(
        metric(&metrics, "actpol_decisions_total{decision=\"allow\"}"),
        Some(1.0)
    );
    assert_eq!(metric(&metrics, "actpol_open_reservations"), Some(1.0));
    assert_eq!(metric(&metrics, "actpol_decision_seconds_count"), Some(1.0));
    assert!(metrics.contains(&format!("hash=\"{hash}\"")), "{metrics}");

    let committed = c
        .post(&format!("/v1/reservations/{reservation}/commit"), "")
        .await
        .unwrap();
    assert_eq!(committed.status, StatusCode::OK, "{}", committed.text());
    assert_eq!(committed.json()["state"], "committed");
    let again = c
        .get(&format!("/v1/reservations/{reservation}"))
        .await
        .unwrap();
    assert_eq!(again.json()["state"], "committed");
    let metrics = c.get("/metrics").await.unwrap().text();
    assert_eq!(metric(&metrics, "actpol_open_reservations"), Some(0.0));

    let record = c.get(&format!("/v1/decisions/{id}")).await.unwrap();
    assert_eq!(record.status, StatusCode::OK);
    assert_eq!(record.json()["kind"], "decision");
    let verified = c.get("/v1/audit/verify").await.unwrap().json();
    assert_eq!(verified["status"], "intact");
    // The decision and the commit.
    assert_eq!(verified["records"], 2);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_escalation_is_approved_and_the_resubmission_allowed() {
    let server = TestServer::start(Options::default()).await;
    let mut c = server.client().await;
    let bytes = envelope("bot-a", "ops.spend", json!({"units": 500}));
    let escalated = c.post("/v1/decide", bytes.clone()).await.unwrap().json();
    assert_eq!(escalated["decision"], "escalate");
    let approval = escalated["approval"]["id"].as_str().unwrap().to_string();
    let decision = escalated["id"].as_str().unwrap().to_string();

    let pending = c.get("/v1/approvals?status=pending").await.unwrap().json();
    assert_eq!(pending.as_array().unwrap().len(), 1);
    assert_eq!(pending[0]["id"], approval.as_str());

    let packet = c
        .get(&format!("/v1/decisions/{decision}/packet?format=md"))
        .await
        .unwrap();
    assert_eq!(packet.status, StatusCode::OK);
    assert!(packet.content_type.starts_with("text/markdown"));
    assert!(packet.text().contains(&approval), "{}", packet.text());
    let packet = c
        .get(&format!("/v1/decisions/{decision}/packet"))
        .await
        .unwrap();
    assert_eq!(packet.json()["decision"], decision.as_str());

    // Someone other than the approver the escalation named.
    let wrong = c
        .post(
            &format!("/v1/approvals/{approval}/approve"),
            r#"{"by": "cfo"}"#,
        )
        .await
        .unwrap();
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    assert_eq!(code(&wrong), ErrorCode::StoreWrongApprover.as_str());
    let granted = c
        .post(
            &format!("/v1/approvals/{approval}/approve"),
            r#"{"by": "lead", "note": "quarter end"}"#,
        )
        .await
        .unwrap();
    assert_eq!(granted.status, StatusCode::OK, "{}", granted.text());
    assert_eq!(granted.json()["status"], "granted");

    let allowed = c
        .post("/v1/decide", with_approval(&bytes, &approval))
        .await
        .unwrap()
        .json();
    assert_eq!(allowed["decision"], "allow", "{allowed}");
    assert_eq!(allowed["approval"]["status"], "used");
    let reservation = allowed["reservations"][0].as_str().unwrap();
    let released = c
        .post(&format!("/v1/reservations/{reservation}/release"), "")
        .await
        .unwrap();
    assert_eq!(released.json()["state"], "released");
    // Used once.
    let twice = c
        .post(
            &format!("/v1/approvals/{approval}/reject"),
            r#"{"by": "lead"}"#,
        )
        .await
        .unwrap();
    assert_eq!(twice.status, StatusCode::CONFLICT);
    assert_eq!(code(&twice), ErrorCode::StoreApprovalClosed.as_str());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_decides_each_envelope_in_order() {
    let server = TestServer::start(Options::default()).await;
    let mut c = server.client().await;
    let body = format!(
        "[{}, {}, {}]",
        String::from_utf8(envelope("bot-a", "ops.spend", json!({"units": 1}))).unwrap(),
        String::from_utf8(envelope("bot-a", "ops.spend", json!({"units": 101}))).unwrap(),
        "{\"not\": \"an envelope\"}",
    );
    let answer = c.post("/v1/decide/batch", body).await.unwrap();
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let list = answer.json();
    let levels: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["decision"].as_str().unwrap())
        .collect();
    assert_eq!(levels, ["allow", "escalate", "deny"]);
    // The envelope that does not fit is decided (denied) and logged too.
    assert!(!list[2]["errors"].as_array().unwrap().is_empty());
    assert!(list[2]["id"].as_str().unwrap().starts_with("dec-"));
    let empty = c.post("/v1/decide/batch", "[]").await.unwrap();
    assert_eq!(empty.json(), json!([]));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_json_errors_with_codes() {
    let server = TestServer::start(Options {
        limits: Limits {
            max_body: 4096,
            ..Limits::default()
        },
        ..Options::default()
    })
    .await;
    let mut c = server.client().await;
    let cases: Vec<(Method, &str, Vec<u8>, StatusCode, ErrorCode)> = vec![
        (
            Method::POST,
            "/v1/decide/batch",
            b"{\"a\": 1}".to_vec(),
            StatusCode::BAD_REQUEST,
            ErrorCode::ServerBadRequest,
        ),
        (
            Method::POST,
            "/v1/decide",
            vec![b' '; 5000],
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::ServerBodyTooLarge,
        ),
        (
            Method::POST,
            "/v1/decide?explain=maybe",
            b"{}".to_vec(),
            StatusCode::BAD_REQUEST,
            ErrorCode::ServerBadRequest,
        ),
        (
            Method::GET,
            "/v1/reservations/res-999",
            vec![],
            StatusCode::NOT_FOUND,
            ErrorCode::StoreUnknownReservation,
        ),
        (
            Method::POST,
            "/v1/reservations/nonsense/commit",
            vec![],
            StatusCode::NOT_FOUND,
            ErrorCode::StoreUnknownReservation,
        ),
        (
            Method::GET,
            "/v1/approvals?status=bogus",
            vec![],
            StatusCode::BAD_REQUEST,
            ErrorCode::ServerBadRequest,
        ),
        (
            Method::POST,
            "/v1/approvals/apr-1/approve",
            b"{\"by\": 7}".to_vec(),
            StatusCode::BAD_REQUEST,
            ErrorCode::ServerBadRequest,
        ),
        (
            Method::POST,
            "/v1/approvals/apr-1/approve",
            vec![],
            StatusCode::BAD_REQUEST,
            ErrorCode::ServerBadRequest,
        ),
        (
            Method::POST,
            "/v1/approvals/apr-1/approve",
            b"{\"by\": \"lead\"}".to_vec(),
            StatusCode::NOT_FOUND,
            ErrorCode::StoreUnknownApproval,
        ),
        (
            Method::GET,
            "/v1/decisions/dec-77",
            vec![],
            StatusCode::NOT_FOUND,
            ErrorCode::StoreUnknownDecision,
        ),
        (
            Method::GET,
            "/v1/decisions/dec-1/packet?format=pdf",
            vec![],
            StatusCode::BAD_REQUEST,
            ErrorCode::ServerBadRequest,
        ),
        (
            Method::GET,
            "/v2/decide",
            vec![],
            StatusCode::NOT_FOUND,
            ErrorCode::ServerNotFound,
        ),
        (
            Method::PUT,
            "/v1/decide",
            vec![],
            StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::ServerMethodNotAllowed,
        ),
    ];
    for (method, path, body, status, expected) in cases {
        let answer = c.send(method.clone(), path, body.into()).await.unwrap();
        assert_eq!(answer.status, status, "{method} {path}: {}", answer.text());
        assert_eq!(answer.content_type, "application/json", "{method} {path}");
        assert_eq!(code(&answer), expected.as_str(), "{method} {path}");
        let error = &answer.json()["error"];
        assert!(!error["message"].as_str().unwrap().is_empty());
        assert!(!error["help"].as_str().unwrap().is_empty());
    }
    // A body that is not an envelope is decided, never allowed, and logged.
    let garbage = c.post("/v1/decide", "\u{1}not json").await.unwrap();
    assert_eq!(garbage.status, StatusCode::OK);
    assert_eq!(garbage.json()["decision"], "deny");
    let metrics = c.get("/metrics").await.unwrap().text();
    assert_eq!(
        metric(
            &metrics,
            &format!(
                "actpol_errors_total{{code=\"{}\"}}",
                ErrorCode::ServerBadRequest
            )
        ),
        Some(6.0),
        "{metrics}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_decisions_never_overspend_and_shutdown_drains() {
    let server = TestServer::start(Options::default()).await;
    let addr = server.addr;
    let mut tasks = Vec::new();
    for _ in 0..8 {
        tasks.push(tokio::spawn(async move {
            let mut c = actpol_server::client::Client::connect(addr).await.unwrap();
            let mut allowed = 0;
            for _ in 0..40 {
                let answer = c
                    .post("/v1/decide", envelope("bot-a", "ops.tick", json!({})))
                    .await
                    .unwrap();
                assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
                if answer.json()["decision"] == "allow" {
                    allowed += 1;
                }
            }
            allowed
        }));
    }
    let mut allowed = 0;
    for t in tasks {
        allowed += t.await.unwrap();
    }
    assert_eq!(allowed, 100, "the budget's limit, exactly");
    let store = std::sync::Arc::clone(&server.store);
    server.stop().await;
    match store.verify().unwrap() {
        actpol::store::Verification::Intact { records, .. } => assert_eq!(records, 320),
        broken => panic!("{broken:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_in_flight_are_answered_before_the_server_stops() {
    let server = TestServer::start(Options::default()).await;
    let addr = server.addr;
    let (started_tx, started_rx) = tokio::sync::oneshot::channel();
    let load = tokio::spawn(async move {
        let mut c = actpol_server::client::Client::connect(addr).await.unwrap();
        let mut answered = 0;
        let mut started = Some(started_tx);
        for _ in 0..200 {
            let Ok(answer) = c
                .post(
                    "/v1/decide",
                    envelope("bot-b", "ops.spend", json!({"units": 1})),
                )
                .await
            else {
                break;
            };
            // Every request the server took is answered with a decision.
            assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
            answered += 1;
            if let Some(tx) = started.take() {
                let _ = tx.send(());
            }
        }
        answered
    });
    started_rx.await.unwrap();
    let store = std::sync::Arc::clone(&server.store);
    tokio::time::timeout(Duration::from_secs(20), server.stop())
        .await
        .unwrap();
    let answered = load.await.unwrap();
    assert!(answered >= 1);
    // Everything answered was logged, and nothing else.
    match store.verify().unwrap() {
        actpol::store::Verification::Intact { records, .. } => {
            assert_eq!(records, answered as u64)
        }
        broken => panic!("{broken:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_the_concurrency_limit_a_request_is_shed_with_retry_after() {
    use tokio::io::AsyncWriteExt;
    let server = TestServer::start(Options {
        limits: Limits {
            concurrency: 1,
            ..Limits::default()
        },
        ..Options::default()
    })
    .await;
    // A request whose body has not all arrived holds the one slot: the
    // handler is reading it.
    let body = envelope("bot-a", "ops.spend", json!({"units": 1}));
    let head = format!(
        "POST /v1/decide HTTP/1.1\r\nhost: test\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    let mut c = server.client().await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let mut attempt = 0u64;
    let (shed, mut slow) = 'held: loop {
        assert!(std::time::Instant::now() < deadline, "no request was shed");
        let mut slow = tokio::net::TcpStream::connect(server.addr).await.unwrap();
        slow.write_all(head.as_bytes()).await.unwrap();
        slow.write_all(&body[..10]).await.unwrap();
        slow.flush().await.unwrap();
        // Give the server the time to take the slow request's slot before
        // asking for another, longer each time it lost the race.
        attempt += 1;
        tokio::time::sleep(Duration::from_millis(10 * attempt.min(20))).await;
        loop {
            let answer = c
                .send(Method::GET, "/v1/policy", Default::default())
                .await
                .unwrap();
            if answer.status == StatusCode::SERVICE_UNAVAILABLE {
                break 'held (answer, slow);
            }
            // The slow request may not have reached its handler yet.
            assert_eq!(answer.status, StatusCode::OK);
            assert!(std::time::Instant::now() < deadline, "no request was shed");
            tokio::time::sleep(Duration::from_millis(10)).await;
            // Or it came while this one held the slot, and was shed itself:
            // answered, it holds nothing, so send another.
            let mut peek = [0u8; 1];
            match slow.try_read(&mut peek) {
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                _ => break,
            }
        }
    };
    assert_eq!(code(&shed), ErrorCode::ServerOverloaded.as_str());
    assert_eq!(shed.retry_after.as_deref(), Some("1"));
    // Shed at once, not queued behind the slow request.
    let started = std::time::Instant::now();
    let again = c.post("/v1/decide", body.clone()).await.unwrap();
    assert_eq!(code(&again), ErrorCode::ServerOverloaded.as_str());
    assert!(started.elapsed() < Duration::from_secs(1));

    // The slow request finishes: the slot is free again, and only it and
    // nothing shed was decided.
    slow.write_all(&body[10..]).await.unwrap();
    let mut reply = vec![0u8; 4096];
    let n = tokio::io::AsyncReadExt::read(&mut slow, &mut reply)
        .await
        .unwrap();
    assert!(
        String::from_utf8_lossy(&reply[..n]).starts_with("HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&reply[..n])
    );
    drop(slow);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let answer = c.post("/v1/decide", body.clone()).await.unwrap();
        if answer.status == StatusCode::OK {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{}", answer.text());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let metrics = c.get("/metrics").await.unwrap().text();
    assert!(
        metric(
            &metrics,
            &format!(
                "actpol_errors_total{{code=\"{}\"}}",
                ErrorCode::ServerOverloaded
            )
        )
        .is_some_and(|n| n >= 2.0),
        "{metrics}"
    );
    let store = std::sync::Arc::clone(&server.store);
    server.stop().await;
    match store.verify().unwrap() {
        actpol::store::Verification::Intact { records, .. } => assert_eq!(records, 2),
        broken => panic!("{broken:?}"),
    }
}
