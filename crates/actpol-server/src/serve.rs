//! Running the server: the listener, the decision worker, reload triggers
//! (SIGHUP, a change to the policy's files, an admin request), and a
//! shutdown that drains: requests in flight are answered, queued decisions
//! are decided and committed, then the worker stops.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use actpol::store::Store;
use axum::serve::ListenerExt;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::auth::Tokens;
use crate::batch::Batcher;
use crate::handlers::{router, AppState, Parts};
use crate::metrics::Metrics;
use crate::policy::{Reload, Served};
use crate::shadow::Shadow;

/// The limits every request is held to.
#[derive(Clone, Debug)]
pub struct Limits {
    /// The largest request body, in bytes.
    pub max_body: usize,
    /// How long a request may take.
    pub timeout: Duration,
    /// How many requests are handled at once; one more is answered `503`
    /// (`overloaded`, with `Retry-After`) at once, not queued.
    pub concurrency: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_body: 1 << 20,
            timeout: Duration::from_secs(10),
            concurrency: 1024,
        }
    }
}

/// What the server serves, and how.
#[derive(Debug)]
pub struct ServeConfig {
    pub served: Arc<Served>,
    pub store: Arc<dyn Store>,
    pub tokens: Tokens,
    pub limits: Limits,
    /// How often to look at the policy's files for a change; `None`: only
    /// SIGHUP and the admin request reload.
    pub watch: Option<Duration>,
    /// A candidate policy that decides every request beside the serving
    /// one and acts on nothing ([`crate::shadow`]).
    pub shadow: Option<Served>,
    /// Serve HTTPS with these settings ([`crate::tls::server_config`]);
    /// `None`: plain HTTP.
    pub tls: Option<Arc<tokio_rustls::rustls::ServerConfig>>,
}

/// Why the server could not run.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on `{addr}`")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot start the server")]
    Start(#[source] std::io::Error),
    #[error("the server failed")]
    Serve(#[source] std::io::Error),
}

/// Reloads the policy, and the shadow policy if there is one, off the
/// async threads; logs the outcomes and counts them.
pub(crate) async fn reload(state: &AppState, trigger: &str) -> (Reload, Option<Reload>) {
    let served = Arc::clone(state.served());
    let shadow = state.shadow().cloned();
    let outcomes = tokio::task::spawn_blocking(move || {
        (
            served.reload(),
            shadow.map(|shadow| shadow.served().reload()),
        )
    })
    .await
    .unwrap_or_else(|_| {
        let failed = Reload::Refused {
            hash: String::new(),
            reason: "the reload failed inside the server".into(),
        };
        (failed.clone(), state.shadow().map(|_| failed))
    });
    state.metrics().reload(&outcomes.0);
    log_reload(trigger, "", &outcomes.0);
    if let Some(shadow) = &outcomes.1 {
        state.metrics().shadow_reload(shadow);
        log_reload(trigger, "shadow ", shadow);
    }
    outcomes
}

fn log_reload(trigger: &str, which: &str, outcome: &Reload) {
    match outcome {
        Reload::Swapped { from, to } => {
            eprintln!("actpol serve: {which}reload ({trigger}): now `{to}` (was `{from}`)")
        }
        Reload::Unchanged { hash } => {
            eprintln!("actpol serve: {which}reload ({trigger}): unchanged, `{hash}`")
        }
        Reload::Refused { hash, reason } => {
            eprintln!("actpol serve: {which}reload ({trigger}): refused, still `{hash}`: {reason}")
        }
    }
}

/// Serves on `listener` until `shutdown` completes, then drains.
pub async fn run(
    config: ServeConfig,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let metrics = Arc::new(Metrics::default());
    let shadow = config.shadow.map(|served| Arc::new(Shadow::new(served)));
    let (batcher, worker) = Batcher::start(
        Arc::clone(&config.store),
        shadow.clone(),
        Arc::clone(&metrics),
    )
    .map_err(ServeError::Start)?;
    let state = AppState::new(Parts {
        served: config.served,
        store: config.store,
        batcher,
        metrics,
        tokens: config.tokens,
        shadow,
    });
    let app = router(state.clone(), &config.limits);
    let mut background: Vec<JoinHandle<()>> = vec![];
    if let Some(every) = config.watch {
        background.push(tokio::spawn(watch(state.clone(), every)));
    }
    #[cfg(unix)]
    background.push(tokio::spawn(on_hangup(state.clone())));

    let served = match config.tls {
        Some(tls) => {
            let listener =
                crate::tls::TlsListener::new(listener, tls).map_err(ServeError::Start)?;
            axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await
        }
        None => {
            // Answers go out as written, not held back to fill a packet.
            let listener = listener.tap_io(|tcp| {
                let _ = tcp.set_nodelay(true);
            });
            axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await
        }
    };
    for task in &background {
        task.abort();
    }
    for task in background {
        let _ = task.await;
    }
    // The last sender goes with the state: the worker decides what is
    // queued, then stops.
    drop(state);
    let _ = tokio::task::spawn_blocking(move || worker.join()).await;
    served.map_err(ServeError::Serve)
}

/// Reloads when the policy's files (or the shadow policy's) change.
async fn watch(state: AppState, every: Duration) {
    let sources: Vec<_> = std::iter::once(state.served().source().clone())
        .chain(state.shadow().map(|s| s.served().source().clone()))
        .collect();
    let look = move || -> Vec<_> { sources.iter().map(|s| s.fingerprint()).collect() };
    let mut seen = look();
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let look = look.clone();
        let now = tokio::task::spawn_blocking(look).await.unwrap_or_default();
        if now != seen {
            seen = now;
            reload(&state, "file change").await;
        }
    }
}

#[cfg(unix)]
async fn on_hangup(state: AppState) {
    use tokio::signal::unix::{signal, SignalKind};
    let Ok(mut hangups) = signal(SignalKind::hangup()) else {
        eprintln!("actpol serve: cannot listen for SIGHUP; reload by request or file change");
        return;
    };
    while hangups.recv().await.is_some() {
        reload(&state, "SIGHUP").await;
    }
}

/// Completes on SIGINT or SIGTERM.
pub async fn terminated() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = term => {},
    }
}

/// Binds `addr` and serves until SIGINT or SIGTERM, on a runtime of its
/// own: what `actpol serve` runs.
pub fn serve_blocking(config: ServeConfig, addr: SocketAddr) -> Result<(), ServeError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("actpol-serve")
        .build()
        .map_err(ServeError::Start)?;
    runtime.block_on(async move {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| ServeError::Bind { addr, source })?;
        let bound = listener.local_addr().unwrap_or(addr);
        let info = config.served.info();
        let scheme = if config.tls.is_some() { "https" } else { "http" };
        if config.tls.is_none() && !bound.ip().is_loopback() {
            eprintln!(
                "actpol serve: warning: plain HTTP on `{bound}`, beyond loopback: tokens and decisions cross the network in the clear; give `--tls-cert` and `--tls-key`"
            );
        }
        eprintln!(
            "actpol serve: listening on {scheme}://{bound}, policy `{}` ({}), store: {}",
            info.name,
            info.hash,
            config.store.durability()
        );
        if let Some(shadow) = &config.shadow {
            let shadow = shadow.info();
            eprintln!(
                "actpol serve: shadow policy `{}` ({}) decides beside it and acts on nothing",
                shadow.name, shadow.hash
            );
        }
        let result = run(config, listener, terminated()).await;
        eprintln!("actpol serve: stopped");
        result
    })
}
