//! TLS: with a certificate and key the server speaks HTTPS only; a client
//! that trusts the certificate decides over it, one that does not is
//! refused in the handshake, and plain HTTP gets no answer.

mod common;

use std::sync::Arc;

use actpol_server::client::Client;
use axum::http::StatusCode;
use common::{envelope, Options, TestServer};
use serde_json::json;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore};
use tokio_rustls::TlsConnector;

/// A self-signed certificate for `localhost` and 127.0.0.1, written as PEM
/// files; the server's settings from them, and the certificate.
fn identity(dir: &std::path::Path) -> (Arc<rustls::ServerConfig>, CertificateDer<'static>) {
    let names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
    let certified = rcgen::generate_simple_self_signed(names).unwrap();
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    std::fs::write(&cert, certified.cert.pem()).unwrap();
    std::fs::write(&key, certified.signing_key.serialize_pem()).unwrap();
    let config = actpol_server::tls::server_config(&cert, &key).unwrap();
    (config, certified.cert.der().clone())
}

fn connector(trusted: Option<CertificateDer<'static>>) -> TlsConnector {
    let mut roots = RootCertStore::empty();
    if let Some(cert) = trusted {
        roots.add(cert).unwrap();
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    TlsConnector::from(Arc::new(config))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_trusts_the_certificate_decides_over_https() {
    let dir = tempfile::tempdir().unwrap();
    let (config, cert) = identity(dir.path());
    let server = TestServer::start(Options {
        tls: Some(config),
        ..Options::default()
    })
    .await;

    let tcp = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let tls = connector(Some(cert))
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .unwrap();
    // The server speaks HTTP/1.1 only, and says so.
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"http/1.1"[..]));
    let mut c = Client::over(tls, server.addr).await.unwrap();
    for _ in 0..3 {
        let decided = c
            .post(
                "/v1/decide",
                envelope("bot-a", "ops.spend", json!({"units": 1})),
            )
            .await
            .unwrap();
        assert_eq!(decided.status, StatusCode::OK, "{}", decided.text());
        assert_eq!(decided.json()["decision"], "allow");
    }

    // A client that does not trust the certificate is refused in the
    // handshake: it sends nothing.
    let tcp = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let untrusted = connector(None)
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await;
    assert!(untrusted.is_err());

    // Plain HTTP to the TLS port gets no HTTP answer.
    let mut plain = Client::connect(server.addr).await.unwrap();
    let answer = tokio::time::timeout(std::time::Duration::from_secs(15), plain.get("/healthz"))
        .await
        .expect("the server closes a connection that is not TLS");
    assert!(answer.is_err(), "{answer:?}");

    let store = Arc::clone(&server.store);
    server.stop().await;
    match store.verify().unwrap() {
        actpol::store::Verification::Intact { records, .. } => assert_eq!(records, 3),
        broken => panic!("{broken:?}"),
    }
}

#[test]
fn a_certificate_or_key_that_does_not_read_is_refused_with_the_file_named() {
    let dir = tempfile::tempdir().unwrap();
    let (_, _) = identity(dir.path());
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "not a pem file\n").unwrap();
    let no_cert = actpol_server::tls::server_config(&empty, &key).unwrap_err();
    assert!(no_cert.contains("empty.pem"), "{no_cert}");
    let no_key = actpol_server::tls::server_config(&cert, &empty).unwrap_err();
    assert!(no_key.contains("empty.pem"), "{no_key}");
    let missing =
        actpol_server::tls::server_config(&dir.path().join("nope.pem"), &key).unwrap_err();
    assert!(missing.contains("nope.pem"), "{missing}");
    // A key that is not the certificate's.
    let other = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let other_key = dir.path().join("other-key.pem");
    std::fs::write(&other_key, other.signing_key.serialize_pem()).unwrap();
    let mismatched = actpol_server::tls::server_config(&cert, &other_key).unwrap_err();
    assert!(mismatched.contains("do not make"), "{mismatched}");
}
