//! A load generator: N keep-alive clients on loopback, each sending one
//! decide request after another, bounded in count and in time, spread over
//! one server or several replicas. Reports decisions per second and
//! latency percentiles.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde::Serialize;

use crate::client::Client;

/// How hard and how long to drive.
#[derive(Clone, Debug)]
pub struct Load {
    pub clients: usize,
    /// Stop after this many requests in all…
    pub requests: usize,
    /// …or after this long, whichever comes first.
    pub duration: Duration,
    /// The decide request's body.
    pub envelope: Bytes,
}

/// What a run measured.
#[derive(Clone, Debug, Serialize)]
pub struct LoadReport {
    pub clients: usize,
    /// How many servers the clients were spread over.
    pub replicas: usize,
    pub requests: usize,
    /// Answers other than `200` (or no answer).
    pub failed: usize,
    pub seconds: f64,
    pub per_second: f64,
    pub p50_us: u64,
    pub p90_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
}

/// Drives the servers at `addrs` (the clients spread over them in turn)
/// and reports.
pub async fn drive(
    addrs: &[SocketAddr],
    load: &Load,
) -> Result<LoadReport, crate::client::ClientError> {
    let clients = load.clients.max(1);
    let per_client = load.requests.div_ceil(clients);
    let mut connected = Vec::with_capacity(clients);
    for n in 0..clients {
        connected.push(Client::connect(addrs[n % addrs.len()]).await?);
    }
    let started = Instant::now();
    let deadline = started + load.duration;
    let mut tasks = Vec::with_capacity(clients);
    for mut client in connected {
        let body = load.envelope.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(per_client);
            let mut failed = 0usize;
            for _ in 0..per_client {
                if Instant::now() >= deadline {
                    break;
                }
                let sent = Instant::now();
                match client.post("/v1/decide", body.clone()).await {
                    Ok(answer) if answer.status.is_success() => {}
                    _ => failed += 1,
                }
                latencies.push(u64::try_from(sent.elapsed().as_micros()).unwrap_or(u64::MAX));
            }
            (latencies, failed)
        }));
    }
    let mut all = Vec::with_capacity(load.requests);
    let mut failed = 0;
    for task in tasks {
        let (latencies, f) = task.await?;
        all.extend(latencies);
        failed += f;
    }
    let seconds = started.elapsed().as_secs_f64();
    all.sort_unstable();
    let at = |q: f64| -> u64 {
        if all.is_empty() {
            return 0;
        }
        let i = ((all.len() as f64 * q).ceil() as usize).clamp(1, all.len()) - 1;
        all[i]
    };
    Ok(LoadReport {
        clients,
        replicas: addrs.len(),
        requests: all.len(),
        failed,
        seconds,
        per_second: all.len() as f64 / seconds.max(1e-9),
        p50_us: at(0.50),
        p90_us: at(0.90),
        p99_us: at(0.99),
        max_us: all.last().copied().unwrap_or(0),
    })
}

/// Starts a server for each of `configs` (replicas: each with its own
/// store handle, on one store) on random loopback ports, drives them,
/// stops them (draining), and reports: what `actpol bench serve` runs.
pub fn against_new_servers(
    configs: Vec<crate::ServeConfig>,
    load: &Load,
) -> Result<LoadReport, crate::client::ClientError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let mut addrs = Vec::new();
        let mut stops = Vec::new();
        let mut servers = Vec::new();
        for config in configs {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            addrs.push(listener.local_addr()?);
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            servers.push(tokio::spawn(crate::run(config, listener, async move {
                let _ = stopped.await;
            })));
            stops.push(stop);
        }
        let report = drive(&addrs, load).await;
        for stop in stops {
            let _ = stop.send(());
        }
        for server in servers {
            server.await??;
        }
        report
    })
}

/// Drives servers already running at `addrs`.
pub fn against(
    addrs: &[SocketAddr],
    load: &Load,
) -> Result<LoadReport, crate::client::ClientError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(drive(addrs, load))
}
