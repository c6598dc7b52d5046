//! `actpol bench serve`: load on the decision server over loopback HTTP,
//! beside the same decisions made in process, so the cost of HTTP and of
//! one transaction per request is seen.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actpol::store::{self, Durability, Store};
use actpol::{Policy, Request};
use actpol_server::auth::Tokens;
use actpol_server::load::{self, Load, LoadReport};
use actpol_server::policy::{PolicySource, Served};
use actpol_server::{Limits, ServeConfig};
use clap::{Args, Subcommand};

use crate::{io, load_policy, CliResult};

#[derive(Subcommand, Debug)]
pub enum BenchCommand {
    /// Drive `actpol serve` with N keep-alive clients on loopback.
    Serve(ServeBench),
}

#[derive(Args, Debug)]
pub struct ServeBench {
    /// The policy (files, a directory or an artifact) of the server this
    /// command starts.
    #[arg(long, num_args = 1.., required_unless_present = "url")]
    policy: Vec<PathBuf>,
    /// The envelope every request sends (its `time` is set to now).
    #[arg(long)]
    envelope: PathBuf,
    /// Drive a server already running here instead (`127.0.0.1:8181`); no
    /// in-process comparison is made.
    #[arg(long)]
    url: Option<SocketAddr>,
    /// Keep-alive clients.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=4096))]
    clients: u32,
    /// Requests in all, at most.
    #[arg(long, default_value_t = 200_000)]
    requests: usize,
    /// Time, at most (`10s`).
    #[arg(long, default_value = "10s", value_parser = duration)]
    duration: Duration,
    /// The store of the server started (a fresh temporary SQLite file by default).
    #[arg(long)]
    store: Option<String>,
}

fn duration(text: &str) -> Result<Duration, String> {
    let ms = actpol::values::parse_duration(text)
        .filter(|ms| *ms > 0)
        .ok_or_else(|| format!("`{text}` is not a duration such as 10s"))?;
    Ok(Duration::from_millis(u64::try_from(ms).unwrap_or(u64::MAX)))
}

pub fn run(command: &BenchCommand) -> CliResult {
    let BenchCommand::Serve(args) = command;
    let envelope = with_time_now(&io::read(&args.envelope)?)?;
    let load = Load {
        clients: usize::try_from(args.clients).unwrap_or(1),
        requests: args.requests,
        duration: args.duration,
        envelope: envelope.clone().into(),
    };
    let report = match args.url {
        Some(addr) => {
            let report = load::against(addr, &load).map_err(failed)?;
            print_http(&report);
            return Ok(ExitCode::SUCCESS);
        }
        None => {
            let dir =
                std::env::temp_dir().join(format!("actpol-bench-serve-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).map_err(|e| miette::miette!("{e}"))?;
            let location = args
                .store
                .clone()
                .unwrap_or_else(|| format!("sqlite:{}", dir.join("http.db").display()));
            let store: Arc<dyn Store> = Arc::from(store::open(&location, Durability::Normal)?);
            let policy = load_policy(&args.policy)?;
            let config = ServeConfig {
                served: Arc::new(Served::with(
                    policy,
                    PolicySource::Paths(args.policy.clone()),
                )),
                store,
                tokens: Tokens::open(),
                limits: Limits::default(),
                watch: None,
            };
            let report = load::against_new_server(config, &load).map_err(failed)?;
            print_http(&report);
            let policy = load_policy(&args.policy)?;
            in_process(&policy, &envelope, &dir, &report)?;
            let _ = std::fs::remove_dir_all(&dir);
            report
        }
    };
    if report.failed > 0 {
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

fn failed(e: actpol_server::client::ClientError) -> miette::Report {
    miette::miette!(code = "actpol::bench::failed", "the load run failed: {e}")
}

/// The envelope with its `time` set to the clock's.
fn with_time_now(bytes: &[u8]) -> Result<Vec<u8>, miette::Report> {
    let mut value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| miette::miette!("the envelope is not JSON: {e}"))?;
    if let Some(object) = value.as_object_mut() {
        object.insert(
            "time".into(),
            actpol::values::format_timestamp(store::system_now()).into(),
        );
    }
    serde_json::to_vec(&value).map_err(|e| miette::miette!("{e}"))
}

fn print_http(r: &LoadReport) {
    println!(
        "http: {} clients, {} decisions in {:.2}s: {:.0} decisions/s; p50 {} us, p90 {} us, p99 {} us, max {} us; {} failed",
        r.clients, r.requests, r.seconds, r.per_second, r.p50_us, r.p90_us, r.p99_us, r.max_us, r.failed
    );
}

/// The same decision in process against a fresh store: one transaction per
/// decision, and groups of 256 per transaction.
fn in_process(
    policy: &Policy,
    envelope: &[u8],
    dir: &std::path::Path,
    http: &LoadReport,
) -> Result<(), miette::Report> {
    let count = 5_000usize;
    let one = store::open(
        &format!("sqlite:{}", dir.join("one.db").display()),
        Durability::Normal,
    )?;
    let started = Instant::now();
    for _ in 0..count {
        policy.decide_stored(&*one, envelope)?;
    }
    let single = count as f64 / started.elapsed().as_secs_f64();
    let grouped_store = store::open(
        &format!("sqlite:{}", dir.join("grouped.db").display()),
        Durability::Normal,
    )?;
    let started = Instant::now();
    for _ in 0..count / 256 + 1 {
        let requests: Vec<Request<'_>> = (0..256).map(|_| Request::new(envelope)).collect();
        for result in policy.decide_stored_batch(&*grouped_store, requests)? {
            result?;
        }
    }
    let grouped = ((count / 256 + 1) * 256) as f64 / started.elapsed().as_secs_f64();
    println!(
        "in process: {single:.0} decisions/s one transaction each (http is {:.2}x), {grouped:.0} decisions/s in groups of 256 (http is {:.2}x)",
        http.per_second / single,
        http.per_second / grouped
    );
    Ok(())
}
