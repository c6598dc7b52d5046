//! The state a decision reads, as its write transaction sees it: budget
//! counters, the history windows count, and approvals.
//!
//! Windows read the reservations of actions that proceeded (held or
//! committed, not released) through an index per key kind on `(key, at,
//! action)` over those reservations: a window reads one range of it, its
//! key's entries inside its span, bounded by what the key did in the
//! window, not by its history before.

use std::str::FromStr;

use actpol_core::approval::{ApprovalGrant, ApprovalStatus};
use actpol_core::schema::{KeyKind, Window};
use actpol_core::state::{StateError, StateView, WindowKind, WindowQuery, BASELINE_SPAN_MS};
use actpol_core::Decimal;
use actpol_store::parse_id;
use postgres::types::ToSql;

use crate::writer::Writer;

/// The state as one write transaction sees it.
pub(crate) struct TxView<'w, 'c> {
    pub(crate) writer: &'w Writer<'c>,
}

fn state_error(e: impl std::error::Error + Send + Sync + 'static) -> StateError {
    StateError::backend("the store could not be read", e)
}

impl StateView for TxView<'_, '_> {
    fn consumed(
        &self,
        budget: &str,
        key: &str,
        window: Window,
        now: i64,
    ) -> Result<Decimal, StateError> {
        self.writer
            .counter(budget, key, window.bucket(now).0)
            .map_err(state_error)
    }

    fn window(&self, q: &WindowQuery<'_>) -> Result<Decimal, StateError> {
        let (from, to) = match q.window {
            Window::Span(span) => (q.now.saturating_sub(span), q.now),
            Window::Plan => (i64::MIN, q.now),
        };
        match q.kind {
            WindowKind::Count => Ok(Decimal::from(self.count(q, from, to)?)),
            WindowKind::Sum => self.sum(q, from, to),
            WindowKind::Baseline => {
                let Window::Span(span) = q.window else {
                    return Ok(Decimal::ZERO);
                };
                if span <= 0 {
                    return Ok(Decimal::ZERO);
                }
                let end = q.now.saturating_sub(span);
                let seen = self.count(q, end.saturating_sub(BASELINE_SPAN_MS), end)?;
                Ok(Decimal::from(seen) * Decimal::from(span) / Decimal::from(BASELINE_SPAN_MS))
            }
        }
    }

    fn approval(&self, id: &str) -> Result<Option<ApprovalGrant>, StateError> {
        let Some(n) = parse_id(id, "apr") else {
            return Ok(None);
        };
        let row = self
            .writer
            .tx
            .query_opt(
                "SELECT approver, envelope_hash, grounds, status, expires_at FROM approvals WHERE id = $1",
                &[&n],
            )
            .map_err(state_error)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let status: &str = row.get(3);
        Ok(Some(ApprovalGrant {
            id: id.to_string(),
            approver: row.get(0),
            envelope_hash: row.get(1),
            grounds: serde_json::from_str(row.get(2)).map_err(state_error)?,
            status: ApprovalStatus::parse(status).unwrap_or(ApprovalStatus::Rejected),
            expires_at: row.get(4),
        }))
    }
}

impl TxView<'_, '_> {
    fn count(&self, q: &WindowQuery<'_>, from: i64, to: i64) -> Result<u64, StateError> {
        let pattern = Pattern::of(q.pattern);
        let sql = window_sql(q.key, "count(*)", &pattern);
        let mut params: Vec<&(dyn ToSql + Sync)> = vec![&q.key_value, &from, &to];
        pattern.bind(&mut params);
        let n: i64 = self
            .writer
            .tx
            .query_one(&sql, &params)
            .map_err(state_error)?
            .get(0);
        Ok(u64::try_from(n).unwrap_or(0))
    }

    fn sum(&self, q: &WindowQuery<'_>, from: i64, to: i64) -> Result<Decimal, StateError> {
        let pattern = Pattern::of(q.pattern);
        // The summed parameter's name is bound, never written into the SQL.
        let param = q.param.unwrap_or_default();
        let mut params: Vec<&(dyn ToSql + Sync)> = vec![&q.key_value, &from, &to];
        pattern.bind(&mut params);
        let name = format!("${}", params.len() + 1);
        params.push(&param);
        let sql = window_sql(q.key, &format!("amounts::jsonb ->> {name}"), &pattern);
        let rows = self.writer.tx.query(&sql, &params).map_err(state_error)?;
        let mut total = Decimal::ZERO;
        for row in rows {
            let Some(text) = row.get::<_, Option<&str>>(0) else {
                continue;
            };
            let amount = Decimal::from_str(text).map_err(state_error)?;
            total = total
                .checked_add(amount)
                .ok_or_else(|| StateError::unavailable("a window's sum overflows"))?;
        }
        Ok(total)
    }
}

/// The column a key kind is kept in.
fn key_column(kind: KeyKind) -> &'static str {
    match kind {
        KeyKind::Agent => "k_agent",
        KeyKind::Workflow => "k_workflow",
        KeyKind::Owner => "k_owner",
        KeyKind::Object => "k_object",
        KeyKind::Plan => "k_plan",
    }
}

/// How an action pattern reads as SQL over the `action` column: one name,
/// a namespace (`crm.*`: the names from `crm.` up to, not including,
/// `crm/`, `/` being the character after `.`; the column sorts by bytes),
/// or every action. A range is read straight off the window index.
enum Pattern {
    Exact(String),
    Range(String, String),
    Any,
}

impl Pattern {
    fn of(pattern: &str) -> Pattern {
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

    /// The condition on `action`, its parameters from `$4`.
    fn sql(&self) -> &'static str {
        match self {
            Pattern::Exact(_) => " AND action = $4",
            Pattern::Range(..) => " AND action >= $4 AND action < $5",
            Pattern::Any => "",
        }
    }

    fn bind<'p>(&'p self, params: &mut Vec<&'p (dyn ToSql + Sync)>) {
        match self {
            Pattern::Exact(name) => params.push(name),
            Pattern::Range(low, high) => {
                params.push(low);
                params.push(high);
            }
            Pattern::Any => {}
        }
    }
}

/// The statement reading a window's reservations: `select` over the ones
/// under the key `$1`, in `($2, $3]`, not released, matching the pattern.
fn window_sql(key: KeyKind, select: &str, pattern: &Pattern) -> String {
    format!(
        "SELECT {select} FROM reservations WHERE {column} = $1 AND at > $2 AND at <= $3 \
         AND state <> 'released'{on_action}",
        column = key_column(key),
        on_action = pattern.sql()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_namespace_is_the_range_of_names_it_prefixes() {
        match Pattern::of("crm.*") {
            Pattern::Range(low, high) => {
                assert_eq!((low.as_str(), high.as_str()), ("crm.", "crm/"));
            }
            _ => panic!("a namespace is a range"),
        }
        assert!(matches!(Pattern::of("*"), Pattern::Any));
        assert!(matches!(Pattern::of("crm.touch"), Pattern::Exact(_)));
    }
}
