//! `actpol serve`: the decision server over HTTP (see `docs/server.md`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use actpol::store;
use actpol_server::auth::Tokens;
use actpol_server::policy::{PolicySource, Served};
use actpol_server::{Limits, ServeConfig};
use clap::Args;

use crate::store_cmd::DurabilityArg;
use crate::{io, load_policy, CliResult};

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// The policy's files or directory (compiled at start and on reload).
    #[arg(long, num_args = 1.., required_unless_present = "artifact", conflicts_with = "artifact")]
    policy: Vec<PathBuf>,
    /// A compiled policy (`.actpolc`), loaded and verified at start and on reload.
    #[arg(long)]
    artifact: Option<PathBuf>,
    /// The store: `sqlite:PATH`, a file path, or `:memory:`.
    #[arg(long, default_value = store::DEFAULT_PATH)]
    store: String,
    /// What a commit waits for (see `docs/store.md`).
    #[arg(long, value_enum, default_value = "normal")]
    durability: DurabilityArg,
    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:8181")]
    listen: SocketAddr,
    /// Bearer tokens (TOML, SHA-256 hashes only): without it, every request
    /// is served.
    #[arg(long)]
    tokens: Option<PathBuf>,
    /// The largest request body, in bytes.
    #[arg(long, default_value_t = 1 << 20)]
    max_body: usize,
    /// How long a request may take (`10s`, `500ms`); then 503.
    #[arg(long, value_parser = duration, default_value = "10s")]
    timeout: Duration,
    /// How many requests are handled at once; one more is answered 503
    /// (with Retry-After) at once.
    #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..))]
    concurrency: u32,
    /// How often to look for a change to the policy's files (`2s`).
    #[arg(long, value_parser = duration, default_value = "2s")]
    watch: Duration,
    /// Reload only on SIGHUP or `POST /v1/policy/reload`.
    #[arg(long)]
    no_watch: bool,
    /// A candidate policy (a directory, files' directory or `.actpolc`)
    /// that decides every request beside the served one and acts on
    /// nothing: its flips are logged, counted and listed.
    #[arg(long)]
    shadow: Option<PathBuf>,
    /// Serve HTTPS: the certificate chain (PEM). Plain HTTP without it.
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM).
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    #[command(flatten)]
    load: crate::sign_cmd::LoadArgs,
}

fn duration(text: &str) -> Result<Duration, String> {
    let ms = actpol::values::parse_duration(text)
        .filter(|ms| *ms > 0)
        .ok_or_else(|| format!("`{text}` is not a duration such as 10s or 500ms"))?;
    Ok(Duration::from_millis(u64::try_from(ms).unwrap_or(u64::MAX)))
}

pub fn run(args: &ServeArgs) -> CliResult {
    let options = args.load.options()?;
    let (policy, source) = match &args.artifact {
        Some(path) => {
            let bytes = io::read(path)?;
            (
                actpol::Policy::load_with(&bytes, &options)?,
                PolicySource::Artifact(path.clone()),
            )
        }
        None => (
            load_policy(&args.policy, &args.load)?,
            PolicySource::Paths(args.policy.clone()),
        ),
    };
    let tokens = match &args.tokens {
        None => Tokens::open(),
        Some(path) => {
            let text = String::from_utf8_lossy(&io::read(path)?).into_owned();
            Tokens::from_toml(&text).map_err(|reason| {
                miette::miette!(
                    code = "actpol::serve::tokens",
                    help = "each `[[token]]` has `sha256 = \"<hex>\"` and one of `agent`, `approver`, `admin = true`",
                    "the tokens file `{}` does not read: {reason}",
                    path.display()
                )
            })?
        }
    };
    let shadow = match &args.shadow {
        None => None,
        Some(path) => Some(
            Served::load_with(PolicySource::of_path(path), options.clone()).map_err(|reason| {
                miette::miette!(
                code = "actpol::serve::shadow",
                help =
                    "check the candidate with `actpol check`, or compile it with `actpol compile`",
                "the shadow policy `{}` does not load: {reason}",
                path.display()
            )
            })?,
        ),
    };
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(actpol_server::tls::server_config(cert, key).map_err(
            |reason| {
                miette::miette!(
                    code = "actpol::serve::tls",
                    help = "give a PEM certificate chain and its PEM private key (PKCS#8, PKCS#1 or SEC1)",
                    "{reason}"
                )
            },
        )?),
        _ => None,
    };
    let store: Arc<dyn store::Store> = Arc::from(store::open(&args.store, args.durability.into())?);
    let config = ServeConfig {
        served: Arc::new(Served::with_options(policy, source, options)),
        store,
        tokens,
        limits: Limits {
            max_body: args.max_body,
            timeout: args.timeout,
            concurrency: usize::try_from(args.concurrency).unwrap_or(usize::MAX),
        },
        watch: (!args.no_watch).then_some(args.watch),
        shadow,
        tls,
    };
    actpol_server::serve_blocking(config, args.listen)
        .map_err(|e| miette::miette!(code = "actpol::serve::failed", "{}", error_chain(&e)))?;
    Ok(ExitCode::SUCCESS)
}

fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
