//! The store: what makes decisions stick. Budgets that are really consumed,
//! windows counted over what really happened, approvals that bind to one
//! action and are used once, and a decision log that proves what was
//! decided.
//!
//! Deciding with a store is one transaction for a group of decisions
//! ([`Store::decide_batch`]; a group of one is the plain case): expire
//! reservations past their time, read budgets, windows and the presented
//! approval through a [`StateView`] over the transaction, run the caller's
//! decision, reserve what it consumes (`allow` and `constrain` only), mark
//! a used approval, create a pending approval for an escalation, and append
//! the decision to the hash-chained log. Concurrent decisions are
//! serialised by the transaction, so they never overspend.
//!
//! This crate owns the storage and its guarantees. It knows the core
//! contracts (envelopes, decisions, the state view) and nothing of the
//! compiler or the VM: the caller hands it a closure that decides. The
//! runtime crates, in turn, never know SQL. [`Store`] is the interface a
//! backend implements; [`SqliteStore`] is the embedded one. This crate owns
//! the backend-neutral ledger rules, once: [`ledger`] (how a decision
//! reserves and uses approvals, how reservations end, windows, budgets,
//! precedent, packets, the transaction's in-memory head and counters),
//! over the statements a backend supplies ([`ledger::LedgerSql`]), and
//! [`record`], what every backend writes the same way (the log's records,
//! holds, the hash chain). So backends differ in their SQL and where they
//! keep things, never in their rules or what they record.

mod chain;
mod error;
pub mod ledger;
pub mod record;
mod sqlite;

use std::fmt::Debug;

use actpol_core::approval::ApprovalStatus;
use actpol_core::envelope::BoundEnvelope;
use actpol_core::packet::Packet;
use actpol_core::schema::{KeyKind, PolicyMeta, Schema};
use actpol_core::state::StateView;
use actpol_core::{Decimal, Decision};
use serde::Serialize;

pub use chain::{Verification, GENESIS};
pub use error::StoreError;
pub use sqlite::{Durability, SqliteStore, SCHEMA_VERSION};

/// One decision to make and record.
#[derive(Clone, Copy, Debug)]
pub struct Proposal<'a> {
    pub envelope: Proposed<'a>,
    /// The policy's schema and declarations: budgets' windows and keys.
    pub schema: &'a Schema,
    pub meta: &'a PolicyMeta,
    /// The host's clock, in milliseconds since the epoch.
    pub now: i64,
    /// How long a reservation holds before it releases itself.
    pub reservation_ttl: i64,
    /// How long a new approval stays usable.
    pub approval_ttl: i64,
    /// How many past decisions an escalation's packet lists.
    pub precedent: usize,
    /// The key kinds the policy's windows read history by: the store keeps
    /// that history indexed.
    pub window_keys: &'a [KeyKind],
}

/// A decision the store made and recorded, with its JSON text as the log
/// holds it (written once, for the log and for whoever passes it on).
#[derive(Clone, Debug)]
pub struct Stored {
    pub(crate) decision: Decision,
    pub(crate) json: String,
}

impl Stored {
    /// A decision a backend recorded, with the JSON text its log record
    /// holds.
    pub fn new(decision: Decision, json: String) -> Stored {
        Stored { decision, json }
    }

    /// The decision.
    pub fn decision(&self) -> &Decision {
        &self.decision
    }

    /// The decision, for keeping.
    pub fn into_decision(self) -> Decision {
        self.decision
    }

    /// The decision as compact JSON: the text the log's record holds.
    pub fn json(&self) -> &str {
        &self.json
    }
}

/// A stored decision reads as the decision it is.
impl std::ops::Deref for Stored {
    type Target = Decision;

    fn deref(&self) -> &Decision {
        &self.decision
    }
}

/// The envelope of a proposal.
#[derive(Clone, Copy, Debug)]
pub enum Proposed<'a> {
    /// Bound to the policy's schema, its time already the clock's.
    Bound(&'a BoundEnvelope),
    /// Bytes that did not bind: the decision is logged with them as text.
    Unbound(&'a [u8]),
}

/// Where a reservation stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ReservationState {
    /// Reserved by a decision; counts against budgets and in windows.
    Held,
    /// The action ran: consumption stays.
    Committed,
    /// The action did not run, was rolled back, or the hold expired.
    Released,
}

impl ReservationState {
    pub fn as_str(self) -> &'static str {
        match self {
            ReservationState::Held => "held",
            ReservationState::Committed => "committed",
            ReservationState::Released => "released",
        }
    }
}

/// One budget amount a reservation holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Hold {
    pub budget: String,
    pub key: String,
    /// The start of the budget's calendar window the amount counts in
    /// (milliseconds; `i64::MIN` for `window plan`).
    pub window_start: i64,
    /// Its end, exclusive (`i64::MAX` for `window plan`).
    pub window_end: i64,
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
}

/// A reservation as the store holds it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Reservation {
    pub id: String,
    pub decision: String,
    pub state: ReservationState,
    /// When a held reservation releases itself (RFC 3339).
    pub expires: String,
    pub budgets: Vec<Hold>,
}

/// An approval as the store holds it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Approval {
    pub id: String,
    /// The escalated decision it was created for.
    pub decision: String,
    pub approver: String,
    pub envelope_hash: String,
    /// `expired` once past its expiry while pending or granted.
    pub status: ApprovalStatus,
    pub created: String,
    pub expires: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The decision that used it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub used_by: Option<String>,
}

/// A budget's consumption in one window, as the store counts it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BudgetCount {
    pub budget: String,
    pub key: String,
    /// The window's start (RFC 3339), or `plan` for `window plan`.
    pub window: String,
    /// Held and committed together: what counts against the limit.
    #[serde(with = "rust_decimal::serde::str")]
    pub consumed: Decimal,
    /// Of which held by reservations not yet committed.
    #[serde(with = "rust_decimal::serde::str")]
    pub held: Decimal,
}

/// One record of the decision log.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LogEntry {
    /// Its position in the chain, from 1.
    pub seq: u64,
    /// `decision`, `commit`, `release`, `expire`, `approve` or `reject`.
    pub kind: String,
    /// When it was written (RFC 3339, the host's clock).
    pub at: String,
    /// `sha256:<hex>` over the previous hash and this record.
    pub hash: String,
    /// The record itself, as hashed.
    pub record: serde_json::Value,
}

/// Which log records to list.
#[derive(Clone, Debug, Default)]
pub struct LogFilter {
    /// Records written at or after this time (milliseconds).
    pub since: Option<i64>,
    pub agent: Option<String>,
    /// An action name or pattern (`crm.*`).
    pub action: Option<String>,
    /// Decisions of this level only (`allow`, `constrain`, …).
    pub decision: Option<actpol_core::Level>,
    /// At most this many, the most recent last.
    pub limit: Option<usize>,
}

/// What a store does. A backend (SQLite here; PostgreSQL in its own crate)
/// implements it, and one conformance suite holds every backend to the
/// same behaviour.
pub trait Store: Send + Sync + Debug {
    /// Decides proposals in one transaction, in order, each seeing what the
    /// ones before it reserved: `decide(i, view)` decides the `i`th, with a
    /// view of budgets, windows and approvals as the transaction sees them.
    /// Each decision comes back with its `id`, `reservations` and, for an
    /// escalation, the pending `approval`.
    ///
    /// One commit makes them all durable at once (group commit), so none is
    /// durable before all are. Each proposal has its own result: one the
    /// store fails on is rolled back alone and reported in its place. The
    /// outer error means the transaction failed as a whole: nothing was
    /// recorded.
    fn decide_batch(
        &self,
        proposals: &[Proposal<'_>],
        decide: &mut dyn FnMut(usize, &dyn StateView) -> Decision,
    ) -> Result<Vec<Result<Stored, StoreError>>, StoreError>;

    /// Runs `read` on the state a decision at `now` would read (budgets,
    /// windows, approvals, with reservations past their time released) in
    /// one transaction that is rolled back: nothing is written. What a
    /// plan is decided against.
    fn read_state(&self, now: i64, read: &mut dyn FnMut(&dyn StateView)) -> Result<(), StoreError>;

    /// The action ran: the reservation's amounts stay consumed. Committing
    /// twice is harmless; committing a released reservation is an error.
    fn commit(&self, reservation: &str, now: i64) -> Result<Reservation, StoreError>;

    /// The action did not run, or was rolled back: the amounts return.
    fn release(&self, reservation: &str, now: i64) -> Result<Reservation, StoreError>;

    fn reservation(&self, id: &str, now: i64) -> Result<Reservation, StoreError>;

    /// The named approver grants a pending approval.
    fn approve(
        &self,
        approval: &str,
        by: &str,
        note: Option<&str>,
        now: i64,
    ) -> Result<Approval, StoreError>;

    /// The named approver refuses a pending approval.
    fn reject(
        &self,
        approval: &str,
        by: &str,
        note: Option<&str>,
        now: i64,
    ) -> Result<Approval, StoreError>;

    fn approval(&self, id: &str, now: i64) -> Result<Approval, StoreError>;

    /// Approvals with this status (all when `None`), oldest first.
    fn approvals(
        &self,
        status: Option<ApprovalStatus>,
        now: i64,
    ) -> Result<Vec<Approval>, StoreError>;

    /// Budget consumption per budget, key and window: with the policy's
    /// declarations, only each budget's window that holds `now`; without,
    /// every window the store counts.
    fn budgets(&self, now: i64, meta: Option<&PolicyMeta>) -> Result<Vec<BudgetCount>, StoreError>;

    /// Releases every held reservation past its time; how many.
    fn expire(&self, now: i64) -> Result<usize, StoreError>;

    /// Forgets the history windows read from before `before`
    /// (milliseconds): reservations that ended (committed or released)
    /// and were made before it, and budget counters of windows that ended
    /// before it. Held reservations stay. The decision log is never
    /// touched: its chain verifies as before.
    fn prune(&self, before: i64) -> Result<Pruned, StoreError>;

    /// Log records matching `filter`, in chain order.
    fn log(&self, filter: &LogFilter) -> Result<Vec<LogEntry>, StoreError>;

    /// The log record of a decision.
    fn decision(&self, id: &str) -> Result<LogEntry, StoreError>;

    /// A decision's exception packet, with precedent read from the log as
    /// it stands now (the decisions before it, their verdicts today).
    fn packet(&self, id: &str, precedent: usize, now: i64) -> Result<PacketView, StoreError>;

    /// Walks the chain: every record's hash, order and position, and the
    /// head the store keeps against truncation.
    fn verify(&self) -> Result<Verification, StoreError>;

    /// What a power loss or a crash can lose with this store's settings.
    fn durability(&self) -> String;

    /// How many reservations are held at `now`: neither committed nor
    /// released, and not past their time (a server's gauge of actions in
    /// flight). `None`: this backend does not count them.
    fn held_reservations(&self, now: i64) -> Result<Option<u64>, StoreError> {
        let _ = now;
        Ok(None)
    }
}

/// What [`Store::prune`] removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Pruned {
    /// Ended reservations, with the actions windows counted.
    pub reservations: u64,
    /// Budget counters of windows that ended.
    pub counters: u64,
    /// Kept window counts of minutes and hours that ended.
    pub window_counts: u64,
}

/// A decision's packet, with the ids a reader needs.
#[derive(Clone, Debug, Serialize)]
pub struct PacketView {
    pub decision: String,
    /// The approval the escalation created, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approval: Option<Approval>,
    pub packet: Packet,
}

impl PacketView {
    /// The packet for people.
    pub fn to_markdown(&self) -> String {
        let approval = self
            .approval
            .as_ref()
            .map(|a| format!("`{}` ({}, expires {})", a.id, a.status, a.expires));
        self.packet.to_markdown(actpol_core::packet::PacketRefs {
            decision: Some(&self.decision),
            approval: approval.as_deref(),
        })
    }
}

/// Milliseconds since the epoch by the host's clock.
pub fn system_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Ids are a kind prefix and a number: `dec-12`, `res-3`, `apr-7`.
pub fn parse_id(id: &str, prefix: &str) -> Option<i64> {
    id.strip_prefix(prefix)?
        .strip_prefix('-')?
        .parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
}
