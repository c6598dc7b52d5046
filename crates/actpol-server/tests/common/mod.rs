//! A server on a random loopback port, over a policy written to a
//! temporary directory (so a test can change it and reload), with a SQLite
//! store in the same directory.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use actpol::store::{self, system_now, Durability, Store};
use actpol_server::auth::Tokens;
use actpol_server::client::Client;
use actpol_server::policy::{PolicySource, Served};
use actpol_server::{Limits, ServeConfig, ServeError};
use serde_json::{json, Value};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const POLICY: &str = r#"
policy srv {
  default deny "no rule covers this action"
  on_error deny "the policy could not be evaluated"
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
action ops.tick {
  system ops
  object Account
  reversible
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
budget units: Int {
  limit 1_000_000
  window 1d
  per agent
}
budget ticks: Int {
  limit 100
  window 1d
  per agent
  on_exhausted deny "the agent's daily ticks are spent"
}
rule spend on ops.spend {
  when params.units <= 100
  allow "routine spend"
  consume units by params.units
}
rule big_spend on ops.spend {
  when params.units > 100
  escalate to lead "big spend"
  consume units by params.units
}
rule tick on ops.tick {
  allow
  consume ticks by 1
}
"#;

pub struct TestServer {
    pub addr: SocketAddr,
    pub dir: tempfile::TempDir,
    pub store: Arc<dyn Store>,
    stop: Option<oneshot::Sender<()>>,
    handle: Option<JoinHandle<Result<(), ServeError>>>,
}

pub struct Options {
    pub tokens: Tokens,
    pub limits: Limits,
    pub watch: Option<Duration>,
    /// A shadow policy's text, written beside the policy.
    pub shadow: Option<String>,
    pub tls: Option<Arc<tokio_rustls::rustls::ServerConfig>>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            tokens: Tokens::open(),
            limits: Limits::default(),
            watch: None,
            shadow: None,
            tls: None,
        }
    }
}

impl TestServer {
    pub async fn start(options: Options) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("policy")).unwrap();
        std::fs::write(dir.path().join("policy/srv.actpol"), POLICY).unwrap();
        let location = format!("sqlite:{}", dir.path().join("store.db").display());
        let store: Arc<dyn Store> = Arc::from(store::open(&location, Durability::Normal).unwrap());
        let served = Served::load(PolicySource::Paths(vec![dir.path().join("policy")])).unwrap();
        let shadow = options.shadow.map(|text| {
            std::fs::create_dir(dir.path().join("shadow")).unwrap();
            std::fs::write(dir.path().join("shadow/srv.actpol"), text).unwrap();
            Served::load(PolicySource::Paths(vec![dir.path().join("shadow")])).unwrap()
        });
        let config = ServeConfig {
            served: Arc::new(served),
            store: Arc::clone(&store),
            tokens: options.tokens,
            limits: options.limits,
            watch: options.watch,
            shadow,
            tls: options.tls,
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let handle = tokio::spawn(actpol_server::run(config, listener, async move {
            let _ = stopped.await;
        }));
        TestServer {
            addr,
            dir,
            store,
            stop: Some(stop),
            handle: Some(handle),
        }
    }

    pub fn policy_file(&self) -> PathBuf {
        self.dir.path().join("policy/srv.actpol")
    }

    pub fn shadow_file(&self) -> PathBuf {
        self.dir.path().join("shadow/srv.actpol")
    }

    pub async fn client(&self) -> Client {
        Client::connect(self.addr).await.unwrap()
    }

    /// Stops the server and waits for it to drain.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(handle) = self.handle.take() {
            tokio::time::timeout(Duration::from_secs(20), handle)
                .await
                .expect("the server drains within 20s")
                .unwrap()
                .unwrap();
        }
    }
}

/// An envelope for `agent`, at the clock's time.
pub fn envelope(agent: &str, action: &str, params: Value) -> Vec<u8> {
    let owner = if agent == "bot-b" {
        "b@acme.example"
    } else {
        "a@acme.example"
    };
    serde_json::to_vec(&json!({
        "agent": {"id": agent, "owner": owner, "workflow": "w1"},
        "action": {"name": action, "params": params},
        "object": {"type": "Account", "id": "acc-1"},
        "time": actpol::values::format_timestamp(system_now()),
    }))
    .unwrap()
}

/// The stable code of an error answer; empty when the answer is no error.
pub fn code(answer: &actpol_server::client::Answer) -> String {
    answer.json()["error"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

pub fn with_approval(bytes: &[u8], approval: &str) -> Vec<u8> {
    let mut env: Value = serde_json::from_slice(bytes).unwrap();
    env["approval"] = json!(approval);
    serde_json::to_vec(&env).unwrap()
}

/// The value of a metric line `name` (with its labels) in `/metrics`.
pub fn metric(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}
