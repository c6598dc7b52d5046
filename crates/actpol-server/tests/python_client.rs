//! The Python client in `examples/server/client.py` walks decide →
//! escalate → approve → resubmit → allow → commit against a server this
//! test starts, with and without tokens. It needs `python3` on the path.

mod common;

use std::path::Path;
use std::process::Command;

use actpol_server::auth::{token_hash, Tokens};
use common::{envelope, Options, TestServer};
use serde_json::json;

fn client_script() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/server/client.py")
}

async fn walk(options: Options, extra: &[&str]) {
    let server = TestServer::start(options).await;
    let file = server.dir.path().join("big-spend.json");
    std::fs::write(&file, envelope("bot-a", "ops.spend", json!({"units": 500}))).unwrap();
    let url = format!("http://{}", server.addr);
    let script = client_script();
    let file_arg = file.display().to_string();
    let mut args = vec![
        script.to_str().unwrap(),
        "--url",
        url.as_str(),
        "--envelope",
        file_arg.as_str(),
    ];
    args.extend_from_slice(extra);
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let output = tokio::task::spawn_blocking(move || Command::new("python3").args(&args).output())
        .await
        .unwrap()
        .expect("python3 runs (CI has Python 3)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the walkthrough failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("allowed and committed"), "{stdout}");
    // What the walkthrough did is in the store: two decisions, an approval
    // granted and used, a commit.
    let log = server.store.log(&Default::default()).unwrap();
    let kinds: Vec<&str> = log.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["decision", "approve", "decision", "commit"]);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_walkthrough_runs_against_an_open_server() {
    walk(Options::default(), &["--approver", "lead"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_walkthrough_runs_with_tokens() {
    let tokens = Tokens::from_toml(&format!(
        "[[token]]\nsha256 = \"{}\"\nagent = \"bot-a\"\n\n[[token]]\nsha256 = \"{}\"\napprover = \"lead\"\n",
        token_hash("agent-secret"),
        token_hash("lead-secret"),
    ))
    .unwrap();
    walk(
        Options {
            tokens,
            ..Options::default()
        },
        &[
            "--agent-token",
            "agent-secret",
            "--approver-token",
            "lead-secret",
        ],
    )
    .await;
}
