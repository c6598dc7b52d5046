//! Deciding with a store: budgets that are really consumed, windows over
//! what really happened, approvals bound to the action, and a hash-chained
//! decision log (see `docs/store.md`).
//!
//! ```no_run
//! use actpol::store::{self, Durability};
//! use actpol::Request;
//!
//! let policy = actpol::Policy::from_paths(&["examples/growth"]).unwrap();
//! let store = store::open("sqlite:.actpol/store.db", Durability::Normal).unwrap();
//! let envelope = std::fs::read("examples/growth/envelopes/routine-send-allows.json").unwrap();
//! let decision = policy.decide_stored(&*store, &envelope).unwrap();
//! // The action ran: keep what it consumed.
//! for reservation in &decision.reservations {
//!     store.commit(reservation, store::system_now()).unwrap();
//! }
//!
//! // Several requests in one transaction (group commit), each with its
//! // own result.
//! let requests = vec![Request::new(&envelope), Request::new(&envelope).explained()];
//! for result in policy.decide_stored_batch(&*store, requests).unwrap() {
//!     let decision = result.unwrap();
//!     println!("{}", decision.decision);
//! }
//! ```

pub use actpol_core::approval::{ApprovalOut, ApprovalStatus, ApprovalUse, Grounds};
pub use actpol_store::{
    system_now, Approval, BudgetCount, Durability, Hold, LogEntry, LogFilter, PacketView, Pruned,
    Reservation, ReservationState, SqliteStore, Store, StoreError, Stored, Verification, GENESIS,
};
pub use actpol_store_pg::PgStore;

use std::borrow::Cow;

use actpol_core::schema::Window;
use actpol_core::state::{WindowKind, BASELINE_SPAN_MS};
use actpol_store::{Proposal, Proposed};

use crate::policy::{Input, Request};
use crate::{Decision, Policy};

/// Where the command line keeps its store unless told otherwise.
pub const DEFAULT_PATH: &str = ".actpol/store.db";

/// How many past decisions a packet lists unless told otherwise.
pub const DEFAULT_PRECEDENT: usize = 5;

/// Opens a store: `postgres://…` (or `postgresql://…`) for a database
/// server that several deciding processes share, `sqlite:PATH` or a plain
/// path for a file, or `:memory:`.
pub fn open(location: &str, durability: Durability) -> Result<Box<dyn Store>, StoreError> {
    if is_postgres(location) {
        return Ok(Box::new(PgStore::open(location, durability)?));
    }
    let path = location.strip_prefix("sqlite:").unwrap_or(location);
    if path == ":memory:" {
        return Ok(Box::new(SqliteStore::in_memory()?));
    }
    Ok(Box::new(SqliteStore::open(path, durability)?))
}

/// Whether a store location names a PostgreSQL database.
pub fn is_postgres(location: &str) -> bool {
    location.starts_with("postgres://") || location.starts_with("postgresql://")
}

/// A request made ready for the store: bound and admitted, or refused
/// before evaluation (its decision made), with the bytes to log.
struct Ready<'r> {
    outcome: Result<Cow<'r, crate::BoundEnvelope>, Box<Decision>>,
    /// What the log records when the envelope did not bind.
    unbound: Option<Cow<'r, [u8]>>,
    explain: bool,
    holds: crate::policy::Holds,
    /// The clock it is decided at.
    now: i64,
}

impl Policy {
    /// Decides against a store, in one transaction: the host's clock is
    /// `now` unless the request sets one ([`Request::at`]); the envelope's
    /// `time` must be within the maximum skew of it, or the decision is the
    /// policy's `on_error`. Budgets and windows are read from the store,
    /// what the decision consumes is reserved, a presented approval is
    /// used, an escalation waits on a new pending approval, and the
    /// decision is logged. The decision carries its `id`, `reservations`
    /// and `approval`.
    ///
    /// An error means nothing was reserved or logged.
    pub fn decide_stored<'a>(
        &self,
        store: &dyn Store,
        request: impl Into<Request<'a>>,
    ) -> Result<Stored, StoreError> {
        let mut results = self.decide_stored_batch(store, vec![request.into()])?;
        // INVARIANT: one result per request.
        results.pop().unwrap_or_else(|| {
            Err(StoreError::backend(
                "decide",
                std::io::Error::other("the store returned no decision"),
            ))
        })
    }

    /// Decides several requests in one store transaction, in order: each
    /// sees what the ones before it reserved, and one commit makes them all
    /// durable (none is before all are). Cheaper per decision than
    /// [`Policy::decide_stored`] one at a time, because the commit, where
    /// the disk is, is shared: a server groups concurrent requests this way.
    ///
    /// Each request has its own result: a request the store fails on is
    /// rolled back alone (`Err` in its place), and the others stand. The
    /// outer error means the transaction as a whole failed: none was
    /// recorded.
    pub fn decide_stored_batch(
        &self,
        store: &dyn Store,
        requests: Vec<Request<'_>>,
    ) -> Result<Vec<Result<Stored, StoreError>>, StoreError> {
        self.decide_stored_batch_beside(store, requests, &mut |_, _, _| {})
    }

    /// [`Policy::decide_stored_batch`], calling `beside(i, now, view)` for
    /// each request inside the transaction, with the clock it is decided at
    /// and the state its decision reads, before anything it reserves: what
    /// another policy decides against to be compared with this one (a
    /// shadow policy), writing nothing. A request the store fails on is
    /// decided again in a new transaction, so `beside` may be called more
    /// than once for the same `i`: the last call is the one that stands.
    pub fn decide_stored_batch_beside(
        &self,
        store: &dyn Store,
        requests: Vec<Request<'_>>,
        beside: &mut dyn FnMut(usize, i64, &dyn crate::StateView),
    ) -> Result<Vec<Result<Stored, StoreError>>, StoreError> {
        let now = requests
            .iter()
            .any(|r| r.now.is_none())
            .then(system_now)
            .unwrap_or_default();
        let ready: Vec<Ready<'_>> = requests
            .into_iter()
            .map(|request| {
                // Kept for the log in case the envelope does not bind: JSON
                // bytes as they are; an envelope built in Rust, written out.
                let unbound = match &request.input {
                    Input::Json(bytes) => Some(Cow::Borrowed(*bytes)),
                    Input::Envelope(envelope) => serde_json::to_vec(envelope).ok().map(Cow::Owned),
                    Input::Bound(_) => None,
                };
                let explain = request.explain;
                let holds = request.holds;
                let clock = request.now.unwrap_or(now);
                let outcome = self.admit(request, Some(clock));
                Ready {
                    unbound: match &outcome {
                        Ok(_) => None,
                        Err(_) => unbound,
                    },
                    outcome,
                    explain,
                    holds,
                    now: clock,
                }
            })
            .collect();
        let proposals: Vec<Proposal<'_>> = ready.iter().map(|r| self.proposal(r)).collect();
        store.decide_batch(&proposals, &mut |i, view| {
            beside(i, ready[i].now, view);
            match &ready[i].outcome {
                Ok(env) => self.run(env, ready[i].explain, view),
                Err(refused) => (**refused).clone(),
            }
        })
    }

    fn proposal<'p>(&'p self, ready: &'p Ready<'_>) -> Proposal<'p> {
        let program = self.runtime.program();
        let timing = &program.meta.timing;
        let envelope = match (&ready.outcome, &ready.unbound) {
            (Ok(env), _) => Proposed::Bound(env),
            (Err(_), Some(bytes)) => Proposed::Unbound(bytes),
            (Err(_), None) => Proposed::Unbound(&[]),
        };
        Proposal {
            envelope,
            schema: &program.schema,
            meta: &program.meta,
            now: ready.now,
            reservation_ttl: ready
                .holds
                .reservation_ttl
                .unwrap_or(timing.reservation_ttl_or_default()),
            approval_ttl: ready
                .holds
                .approval_ttl
                .unwrap_or(timing.approval_ttl_or_default()),
            precedent: ready.holds.precedent.unwrap_or(DEFAULT_PRECEDENT),
            window_keys: &self.window_keys,
        }
    }

    /// Each budget's consumption in its current window, from a store.
    pub fn budgets(&self, store: &dyn Store, now: i64) -> Result<Vec<BudgetCount>, StoreError> {
        store.budgets(now, Some(&self.runtime.program().meta))
    }

    /// A budget's limit as the policy writes it (`5000 USD`), if declared.
    pub fn budget_limit(&self, name: &str) -> Option<String> {
        let program = self.runtime.program();
        let def = program.meta.budgets.get(name)?;
        Some(def.limit.display(&def.ty, &program.schema))
    }

    /// How far back this policy reads the store's history, in
    /// milliseconds: its longest window expression (a `baseline` looks a
    /// further seven days back than its span). History older than this,
    /// and reservations that ended before it, can be pruned
    /// ([`Store::prune`]) without changing any of its decisions. `None`: a
    /// window over a whole plan (`over plan`, or `upstream.reads(pii)`
    /// without a span) reads all of its history.
    pub fn retention(&self) -> Option<i64> {
        let mut longest = 0i64;
        for spec in &self.runtime.program().windows {
            let (Window::Span(span) | Window::Upstream(Some(span))) = spec.window else {
                return None;
            };
            let reach = match spec.kind {
                WindowKind::Baseline => span.saturating_add(BASELINE_SPAN_MS),
                WindowKind::Count | WindowKind::Sum => span,
            };
            longest = longest.max(reach);
        }
        Some(longest)
    }
}
