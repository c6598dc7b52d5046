//! The backend interface: the ledger's rules, written once, over the
//! primitive statements a backend supplies.
//!
//! A backend (SQLite here, PostgreSQL in `actpol-store-pg`) implements
//! [`LedgerSql`] for its transaction: each method is one statement (or a
//! few) in its SQL dialect, and knows nothing of the rules. Everything
//! else lives here, once: how a decision reserves, waits on or uses an
//! approval ([`flows::decide_one`]); how a reservation is committed,
//! released or expired; how an approver's verdict is checked and logged;
//! how a transaction keeps the log's head and the budget counters in
//! memory ([`Ledger`]); how a group is retried without a failing decision
//! ([`Group`]); how windows turn into count, sum and baseline
//! ([`view::LedgerView`]); how budgets merge counters and held amounts; and
//! how a packet is assembled with its precedent. So the same decisions, in
//! the same order, with the same clock, make the same records on every
//! backend.

pub mod flows;
mod group;
mod state;
pub mod view;

pub use group::Group;
pub use state::Ledger;

use actpol_core::state::{StateError, WindowQuery};
use actpol_core::value::format_timestamp;
use actpol_core::Decimal;

use crate::chain::Columns;
use crate::record::{effective_status, parse_holds, PastDecision};
use crate::{Approval, Hold, Reservation, ReservationState, StoreError};

/// A reservation to insert, held, for a decision at `decision`.
#[derive(Debug)]
pub struct NewReservation<'a> {
    pub decision: i64,
    pub at: i64,
    pub expires_at: i64,
    pub action: &'a str,
    /// The envelope's keys, by kind: agent, workflow, owner, object, plan.
    pub keys: [Option<&'a str>; 5],
    /// The typed parameters windows sum, as JSON.
    pub amounts: &'a str,
    /// The holds, as JSON.
    pub holds: &'a str,
}

/// A pending approval to insert, for the escalation at `decision`.
#[derive(Debug)]
pub struct NewApproval<'a> {
    pub decision: i64,
    pub approver: &'a str,
    pub envelope_hash: &'a str,
    pub grounds: &'a str,
    pub created_at: i64,
    pub expires_at: i64,
}

/// A reservation row, as stored.
#[derive(Debug)]
pub struct ReservationFields {
    pub decision: i64,
    pub state: String,
    pub expires_at: i64,
    /// How it ended: `commit`, `release` or `expire`.
    pub ended: Option<String>,
    /// The holds, as JSON.
    pub holds: String,
}

/// An approval row, as stored.
#[derive(Debug)]
pub struct ApprovalFields {
    pub id: i64,
    pub decision: i64,
    pub approver: String,
    pub envelope_hash: String,
    pub status: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub decided_by: Option<String>,
    pub note: Option<String>,
    pub used_by: Option<i64>,
}

impl ApprovalFields {
    /// The approval as the store's interface shows it at `now`.
    pub fn public(self, now: i64) -> Approval {
        Approval {
            id: format!("apr-{}", self.id),
            decision: format!("dec-{}", self.decision),
            approver: self.approver,
            envelope_hash: self.envelope_hash,
            status: effective_status(&self.status, self.expires_at, now),
            created: format_timestamp(self.created_at),
            expires: format_timestamp(self.expires_at),
            decided_by: self.decided_by,
            note: self.note,
            used_by: self.used_by.map(|d| format!("dec-{d}")),
        }
    }
}

/// What a decision reads of a presented approval.
#[derive(Debug)]
pub struct GrantFields {
    pub approver: String,
    pub envelope_hash: String,
    /// The escalation's grounds, as JSON.
    pub grounds: String,
    pub status: String,
    pub expires_at: i64,
}

/// An approval's verdict as a precedent shows it.
#[derive(Debug)]
pub struct VerdictFields {
    pub id: i64,
    pub status: String,
    pub expires_at: i64,
    pub decided_by: Option<String>,
    pub note: Option<String>,
}

/// A past decision, with the approval its escalation created and the one
/// it used (either may be absent).
#[derive(Debug)]
pub struct PrecedentRow {
    pub past: PastDecision,
    pub created: Option<VerdictFields>,
    pub used: Option<VerdictFields>,
}

/// A budget counter row.
#[derive(Debug)]
pub struct CounterRow {
    pub budget: String,
    pub key: String,
    pub window_start: i64,
    /// The consumed amount, as decimal text.
    pub consumed: String,
}

/// A log row, for reading a record back.
#[derive(Debug)]
pub struct LogRow {
    pub kind: String,
    pub at: i64,
    pub hash: String,
    pub record: String,
}

/// The statements a backend runs, in one transaction (a write transaction
/// under the backend's write lock, or a read snapshot for the reading
/// methods). Each method is one statement of the backend's dialect; the
/// rules that combine them are in this module.
pub trait LedgerSql {
    /// The log's last position and hash.
    fn read_head(&self) -> Result<(i64, String), StoreError>;
    fn write_head(&self, seq: i64, hash: &str) -> Result<(), StoreError>;
    /// Inserts a log row at `seq`, chained after `prev`.
    fn insert_log(
        &self,
        seq: i64,
        columns: &Columns,
        text: &str,
        prev: &str,
        hash: &str,
    ) -> Result<(), StoreError>;
    /// A budget counter's consumed amount, as decimal text.
    fn read_counter(
        &self,
        budget: &str,
        key: &str,
        window_start: i64,
    ) -> Result<Option<String>, StoreError>;
    /// Inserts or updates a budget counter.
    fn write_counter(
        &self,
        budget: &str,
        key: &str,
        window_start: i64,
        window_end: i64,
        consumed: &str,
    ) -> Result<(), StoreError>;
    /// Inserts a held reservation; its id.
    fn insert_reservation(&self, r: &NewReservation<'_>) -> Result<i64, StoreError>;
    fn reservation(&self, id: i64) -> Result<Option<ReservationFields>, StoreError>;
    fn set_reservation_state(&self, id: i64, state: &str, ended: &str) -> Result<(), StoreError>;
    /// The held reservations due by `now`, the soonest due first.
    fn due_reservations(&self, now: i64) -> Result<Vec<i64>, StoreError>;
    /// Inserts a pending approval; its id.
    fn insert_approval(&self, a: &NewApproval<'_>) -> Result<i64, StoreError>;
    fn approval(&self, id: i64) -> Result<Option<ApprovalFields>, StoreError>;
    /// Every approval, by id.
    fn approvals(&self) -> Result<Vec<ApprovalFields>, StoreError>;
    fn approval_grant(&self, id: i64) -> Result<Option<GrantFields>, StoreError>;
    /// Marks a granted approval, unexpired at `now`, used by the decision
    /// at `seq`; how many rows changed.
    fn mark_approval_used(&self, id: i64, seq: i64, now: i64) -> Result<u64, StoreError>;
    fn set_verdict(
        &self,
        id: i64,
        status: &str,
        by: &str,
        now: i64,
        note: Option<&str>,
    ) -> Result<(), StoreError>;
    /// Decisions on `action` before `before`, with the same `rules` (or
    /// other rules), the most recent first, at most `limit`.
    fn precedent_rows(
        &self,
        action: &str,
        rules: &str,
        same_rules: bool,
        before: i64,
        limit: i64,
    ) -> Result<Vec<PrecedentRow>, StoreError>;
    /// The holds of every held reservation, as JSON.
    fn held_holds(&self) -> Result<Vec<String>, StoreError>;
    /// Every budget counter, by budget, key and window.
    fn counter_rows(&self) -> Result<Vec<CounterRow>, StoreError>;
    /// The decision record at `seq`.
    fn decision_row(&self, seq: i64) -> Result<Option<LogRow>, StoreError>;
    /// The approval the escalation at `seq` created.
    fn approval_of_decision(&self, seq: i64) -> Result<Option<i64>, StoreError>;
    /// How many reservations not released under `q`'s key match its
    /// pattern in `(from, to]`.
    fn window_count(&self, q: &WindowQuery<'_>, from: i64, to: i64) -> Result<u64, StateError>;
    /// The sum of `q`'s parameter over the same reservations.
    fn window_sum(&self, q: &WindowQuery<'_>, from: i64, to: i64) -> Result<Decimal, StateError>;
    /// Commits the transaction.
    fn commit(self) -> Result<(), StoreError>
    where
        Self: Sized;
}

/// A reservation row, read.
#[derive(Debug)]
pub struct ReservationRow {
    pub id: i64,
    pub decision: i64,
    pub state: ReservationState,
    pub expires_at: i64,
    /// How it ended: `commit`, `release` or `expire`.
    pub ended: Option<String>,
    pub holds: Vec<Hold>,
}

impl ReservationRow {
    fn of(id: i64, f: ReservationFields) -> Result<ReservationRow, StoreError> {
        let state = match f.state.as_str() {
            "held" => ReservationState::Held,
            "committed" => ReservationState::Committed,
            _ => ReservationState::Released,
        };
        Ok(ReservationRow {
            id,
            decision: f.decision,
            state,
            expires_at: f.expires_at,
            ended: f.ended,
            holds: parse_holds(&f.holds)?,
        })
    }

    pub fn public(self) -> Reservation {
        Reservation {
            id: format!("res-{}", self.id),
            decision: format!("dec-{}", self.decision),
            state: self.state,
            expires: format_timestamp(self.expires_at),
            budgets: self.holds,
        }
    }
}

/// An amount as the ledger stores it (decimal text). Amounts are summed
/// with [`actpol_core::state::Summed`], as a state in memory sums them, so
/// a window reads the same from a store as from a state file.
pub fn parse_amount(text: &str) -> Result<Decimal, StateError> {
    text.parse()
        .map_err(|e| StateError::backend("the store could not be read", e))
}

/// How an action pattern reads over the `action` column: one name, a
/// namespace (`crm.*`: the names from `crm.` up to, not including, `crm/`,
/// `/` being the character after `.`; the column sorts by bytes), or every
/// action. A range, unlike a glob, is read straight off a window index.
#[derive(Debug)]
pub enum Pattern {
    Exact(String),
    Range(String, String),
    Any,
}

impl Pattern {
    pub fn of(pattern: &str) -> Pattern {
        if pattern == "*" {
            return Pattern::Any;
        }
        let Some(prefix) = pattern.strip_suffix('*') else {
            return Pattern::Exact(pattern.to_string());
        };
        // Action names are ASCII: the prefix's last byte, plus one, bounds
        // every name that starts with the prefix.
        let mut high = prefix.as_bytes().to_vec();
        match high.last_mut() {
            Some(last) if *last < 0x7f => *last += 1,
            _ => return Pattern::Any,
        }
        Pattern::Range(
            prefix.to_string(),
            String::from_utf8_lossy(&high).into_owned(),
        )
    }

    /// The bounds: the name (or the range's low end) and the range's high
    /// end, empty where unused.
    pub fn bounds(&self) -> (&str, &str) {
        match self {
            Pattern::Exact(name) => (name.as_str(), ""),
            Pattern::Range(low, high) => (low.as_str(), high.as_str()),
            Pattern::Any => ("", ""),
        }
    }
}

/// The column a key kind is kept in.
pub fn key_column(kind: actpol_core::schema::KeyKind) -> &'static str {
    use actpol_core::schema::KeyKind;
    match kind {
        KeyKind::Agent => "k_agent",
        KeyKind::Workflow => "k_workflow",
        KeyKind::Owner => "k_owner",
        KeyKind::Object => "k_object",
        KeyKind::Plan => "k_plan",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_namespace_is_the_range_of_names_it_prefixes() {
        match Pattern::of("crm.*") {
            Pattern::Range(low, high) => {
                assert_eq!((low.as_str(), high.as_str()), ("crm.", "crm/"));
                for name in ["crm.a", "crm.update_owner", "crm.z9"] {
                    assert!(name >= low.as_str() && name < high.as_str(), "{name}");
                }
                for name in ["crm", "crmx.a", "cr.a", "crm/"] {
                    assert!(!(name >= low.as_str() && name < high.as_str()), "{name}");
                }
            }
            _ => panic!("a namespace is a range"),
        }
        assert!(matches!(Pattern::of("*"), Pattern::Any));
        assert!(matches!(Pattern::of("crm.touch"), Pattern::Exact(_)));
    }
}
