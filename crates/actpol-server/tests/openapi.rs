//! `docs/openapi.json` cannot drift from the router: it documents exactly
//! the routes the server lists, and the server answers each of them (not
//! with "no endpoint" or "wrong method").

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use actpol::ErrorCode;
use actpol_server::ROUTES;
use axum::http::Method;
use common::{Options, TestServer};

fn documented() -> BTreeSet<(String, String)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["openapi"].as_str().map(|v| &v[..2]), Some("3."));
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            assert!(
                op["responses"]["200"].is_object(),
                "{method} {path}: no 200 answer documented"
            );
            out.insert((method.to_uppercase(), path.clone()));
        }
    }
    out
}

#[test]
fn the_document_lists_exactly_the_routes() {
    let served: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    let documented = documented();
    let undocumented: Vec<_> = served.difference(&documented).collect();
    let unserved: Vec<_> = documented.difference(&served).collect();
    assert!(
        undocumented.is_empty() && unserved.is_empty(),
        "served but not documented: {undocumented:?}; documented but not served: {unserved:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_answers_every_listed_route() {
    let server = TestServer::start(Options::default()).await;
    let mut c = server.client().await;
    for (method, path) in ROUTES {
        let concrete = path.replace("{id}", "x-1");
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let answer = c
            .send(method.clone(), &concrete, Default::default())
            .await
            .unwrap();
        let code = answer.json()["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(
            code != ErrorCode::ServerNotFound.as_str()
                && code != ErrorCode::ServerMethodNotAllowed.as_str(),
            "{method} {concrete}: {}",
            answer.text()
        );
    }
    server.stop().await;
}
