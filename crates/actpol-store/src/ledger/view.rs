//! The state a decision reads, as its write transaction sees it: budget
//! counters (kept by the [`Ledger`]), the history windows count (through
//! the backend's count and sum), and approvals.

use actpol_core::approval::{ApprovalGrant, ApprovalStatus};
use actpol_core::schema::Window;
use actpol_core::state::{StateError, StateView, WindowKind, WindowQuery, BASELINE_SPAN_MS};
use actpol_core::Decimal;

use super::{Ledger, LedgerSql};
use crate::parse_id;

/// The state as one write transaction sees it.
#[derive(Debug)]
pub struct LedgerView<'w, T: LedgerSql> {
    pub ledger: &'w Ledger<T>,
}

fn state_error(e: impl std::error::Error + Send + Sync + 'static) -> StateError {
    StateError::backend("the store could not be read", e)
}

impl<T: LedgerSql> StateView for LedgerView<'_, T> {
    fn consumed(
        &self,
        budget: &str,
        key: &str,
        window: Window,
        now: i64,
    ) -> Result<Decimal, StateError> {
        self.ledger
            .counter(budget, key, window.bucket(now).0)
            .map_err(state_error)
    }

    fn window(&self, q: &WindowQuery<'_>) -> Result<Decimal, StateError> {
        let sql = self.ledger.sql();
        // An upstream window reads every earlier step of the plan: the
        // store keeps no plan's edges.
        let (from, to) = q.range();
        match q.kind {
            WindowKind::Count => Ok(Decimal::from(sql.window_count(q, from, to)?)),
            WindowKind::Sum => sql.window_sum(q, from, to),
            WindowKind::Baseline => {
                let Window::Span(span) = q.window else {
                    return Ok(Decimal::ZERO);
                };
                if span <= 0 {
                    return Ok(Decimal::ZERO);
                }
                let end = q.now.saturating_sub(span);
                let seen = sql.window_count(q, end.saturating_sub(BASELINE_SPAN_MS), end)?;
                Ok(Decimal::from(seen) * Decimal::from(span) / Decimal::from(BASELINE_SPAN_MS))
            }
        }
    }

    fn approval(&self, id: &str) -> Result<Option<ApprovalGrant>, StateError> {
        let Some(n) = parse_id(id, "apr") else {
            return Ok(None);
        };
        let Some(row) = self.ledger.sql().approval_grant(n).map_err(state_error)? else {
            return Ok(None);
        };
        Ok(Some(ApprovalGrant {
            id: id.to_string(),
            approver: row.approver,
            envelope_hash: row.envelope_hash,
            grounds: serde_json::from_str(&row.grounds).map_err(state_error)?,
            status: ApprovalStatus::parse(&row.status).unwrap_or(ApprovalStatus::Rejected),
            expires_at: row.expires_at,
        }))
    }
}
