//! `actpol bench serve`: load on the decision server over loopback HTTP,
//! beside the same decisions made in process, so the cost of HTTP and of
//! one transaction per request is seen.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actpol::store::{self, Durability, Store};
use actpol::{LoadOptions, Policy, Request};
use actpol_server::auth::Tokens;
use actpol_server::load::{self, Load, LoadReport};
use actpol_server::policy::{PolicySource, Served};
use actpol_server::{Limits, ServeConfig};
use clap::{Args, Subcommand};

use crate::sign_cmd::LoadArgs;
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
    #[arg(long, num_args = 1.., required_unless_present = "url", conflicts_with = "url")]
    policy: Vec<PathBuf>,
    /// The envelope every request sends (its `time` is set to now).
    #[arg(long)]
    envelope: PathBuf,
    /// Drive servers already running here instead (`127.0.0.1:8181`; give
    /// several replicas' addresses to spread the clients over them); no
    /// in-process comparison is made.
    #[arg(long, num_args = 1..)]
    url: Vec<SocketAddr>,
    /// How many replicas to start, each with its own handle on the one
    /// store (a SQLite file, or PostgreSQL with `--store postgres://…`).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=8))]
    replicas: u32,
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
    /// A shadow policy for the server started: its cost shows beside a run
    /// without one.
    #[arg(long)]
    shadow: Option<PathBuf>,
    /// A signature required of the policy and the shadow (`--verify-key`),
    /// and where their imports may reach (`--root`).
    #[command(flatten)]
    load: LoadArgs,
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
    if !args.url.is_empty() {
        let report = load::against(&args.url, &load).map_err(failed)?;
        print_http(&report);
        return Ok(exit(&report));
    }
    let dir = std::env::temp_dir().join(format!("actpol-bench-serve-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| miette::miette!("{e}"))?;
    let location = args
        .store
        .clone()
        .unwrap_or_else(|| format!("sqlite:{}", dir.join("http.db").display()));
    let mut configs = Vec::new();
    for _ in 0..args.replicas {
        configs.push(replica(args, &location)?);
    }
    let report = load::against_new_servers(configs, &load).map_err(failed)?;
    print_http(&report);
    let policy = load_policy(&args.policy, &args.load)?;
    in_process(&policy, &envelope, &dir, args.store.as_deref(), &report)?;
    if let Some(shadow) = &args.shadow {
        shadow_cost(shadow, &args.load.options()?, &envelope)?;
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(exit(&report))
}

fn exit(report: &LoadReport) -> ExitCode {
    if report.failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// One server of the run, with a store handle of its own on `location`.
fn replica(args: &ServeBench, location: &str) -> Result<ServeConfig, miette::Report> {
    let store: Arc<dyn Store> = Arc::from(store::open(location, Durability::Normal)?);
    let policy = load_policy(&args.policy, &args.load)?;
    let options = args.load.options()?;
    let shadow = args
        .shadow
        .as_deref()
        .map(|path| load_shadow(path, &options))
        .transpose()?;
    Ok(ServeConfig {
        served: Arc::new(Served::with_options(
            policy,
            PolicySource::Paths(args.policy.clone()),
            options,
        )),
        store,
        tokens: Tokens::open(),
        limits: Limits::default(),
        watch: None,
        shadow,
        tls: None,
    })
}

/// The shadow policy, loaded as the served one is.
fn load_shadow(path: &std::path::Path, options: &LoadOptions) -> Result<Served, miette::Report> {
    Served::load_with(PolicySource::of_path(path), options.clone())
        .map_err(|reason| miette::miette!("the shadow policy does not load: {reason}"))
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
        "http: {} replica(s), {} clients, {} decisions in {:.2}s: {:.0} decisions/s; p50 {} us, p90 {} us, p99 {} us, max {} us; {} failed",
        r.replicas, r.clients, r.requests, r.seconds, r.per_second, r.p50_us, r.p90_us, r.p99_us, r.max_us, r.failed
    );
}

/// What the shadow policy's decision of the envelope costs on its own, in
/// process and without a store: what shadow mode adds to each request.
fn shadow_cost(
    shadow: &std::path::Path,
    options: &LoadOptions,
    envelope: &[u8],
) -> Result<(), miette::Report> {
    let policy = load_shadow(shadow, options)?.current();
    let state = actpol::MemoryState::default();
    let now = store::system_now();
    let count = 20_000u32;
    let started = Instant::now();
    for _ in 0..count {
        std::hint::black_box(policy.policy.decide(Request::new(envelope).at(now), &state));
    }
    let each = started.elapsed() / count;
    println!(
        "shadow: its decision alone (JSON read, bound, decided) takes {:.1} us in process",
        each.as_secs_f64() * 1e6
    );
    Ok(())
}

/// The same decision in process, one transaction per decision and groups
/// of 256 per transaction: against `location` when given (the store the
/// servers used), else against fresh SQLite files in `dir`.
fn in_process(
    policy: &Policy,
    envelope: &[u8],
    dir: &std::path::Path,
    location: Option<&str>,
    http: &LoadReport,
) -> Result<(), miette::Report> {
    let open = |name: &str| -> Result<Box<dyn Store>, miette::Report> {
        let at = location.map_or_else(
            || format!("sqlite:{}", dir.join(name).display()),
            str::to_string,
        );
        Ok(store::open(&at, Durability::Normal)?)
    };
    let count = 5_000usize;
    let one = open("one.db")?;
    let started = Instant::now();
    for _ in 0..count {
        policy.decide_stored(&*one, envelope)?;
    }
    let single = count as f64 / started.elapsed().as_secs_f64();
    let grouped_store = open("grouped.db")?;
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
