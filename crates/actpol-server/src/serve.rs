//! Running the server: the listener, the decision worker, reload triggers
//! (SIGHUP, a change to the policy's files, an admin request), and a
//! shutdown that drains: requests in flight are answered, queued decisions
//! are decided and committed, then the worker stops.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use actpol::store::Store;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::auth::Tokens;
use crate::batch::Batcher;
use crate::handlers::{router, AppState};
use crate::metrics::Metrics;
use crate::policy::{Reload, Served};

/// The limits every request is held to.
#[derive(Clone, Debug)]
pub struct Limits {
    /// The largest request body, in bytes.
    pub max_body: usize,
    /// How long a request may take, waiting for a slot included.
    pub timeout: Duration,
    /// How many requests are handled at once; the rest wait (within the
    /// timeout).
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

/// Reloads the policy off the async threads, logs the outcome and counts
/// it.
pub(crate) async fn reload(state: &AppState, trigger: &str) -> Reload {
    let served = Arc::clone(state.served());
    let outcome = tokio::task::spawn_blocking(move || served.reload())
        .await
        .unwrap_or_else(|_| Reload::Refused {
            hash: String::new(),
            reason: "the reload failed inside the server".into(),
        });
    state.metrics().reload(&outcome);
    match &outcome {
        Reload::Swapped { from, to } => {
            eprintln!("actpol serve: reload ({trigger}): now serving `{to}` (was `{from}`)")
        }
        Reload::Unchanged { hash } => {
            eprintln!("actpol serve: reload ({trigger}): unchanged, serving `{hash}`")
        }
        Reload::Refused { hash, reason } => {
            eprintln!("actpol serve: reload ({trigger}): refused, still serving `{hash}`: {reason}")
        }
    }
    outcome
}

/// Serves on `listener` until `shutdown` completes, then drains.
pub async fn run(
    config: ServeConfig,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let (batcher, worker) = Batcher::start(Arc::clone(&config.store)).map_err(ServeError::Start)?;
    let state = AppState::new(
        config.served,
        config.store,
        batcher,
        Arc::new(Metrics::default()),
        config.tokens,
    );
    let app = router(state.clone(), &config.limits);
    let mut background: Vec<JoinHandle<()>> = vec![];
    if let Some(every) = config.watch {
        background.push(tokio::spawn(watch(state.clone(), every)));
    }
    #[cfg(unix)]
    background.push(tokio::spawn(on_hangup(state.clone())));

    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
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

/// Reloads when the policy's files change.
async fn watch(state: AppState, every: Duration) {
    let mut seen = state.served().source().fingerprint();
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let source = state.served().source().clone();
        let now = tokio::task::spawn_blocking(move || source.fingerprint())
            .await
            .unwrap_or_default();
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
        eprintln!(
            "actpol serve: listening on http://{bound}, policy `{}` ({}), store: {}",
            info.name,
            info.hash,
            config.store.durability()
        );
        let result = run(config, listener, terminated()).await;
        eprintln!("actpol serve: stopped");
        result
    })
}
