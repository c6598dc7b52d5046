//! The state a decision reads, as its write transaction sees it: budget
//! counters, the history windows count, and approvals.
//!
//! Windows read the reservations of actions that proceeded (held or
//! committed, not released). Each key kind a policy's windows read gets an
//! index on `(key, at, action, state)` over those reservations, built the first
//! time a policy reading windows by that key decides: a window query then
//! reads only that key's index entries inside the window (no table rows for
//! `count` and `baseline`), so its cost is bounded by the window, not by
//! the history. Kinds no window reads cost nothing per reservation.

use std::str::FromStr;

use actpol_core::approval::{ApprovalGrant, ApprovalStatus};
use actpol_core::schema::{KeyKind, Window};
use actpol_core::state::{StateError, StateView, WindowKind, WindowQuery, BASELINE_SPAN_MS};
use actpol_core::Decimal;
use rusqlite::{params, OptionalExtension, Transaction};

use super::writer::Writer;
use crate::parse_id;

/// The state as one write transaction sees it.
pub(super) struct TxView<'w, 'c> {
    pub(super) writer: &'w Writer<'c>,
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
        let tx = &self.writer.tx;
        let (from, to) = match q.window {
            Window::Span(span) => (q.now.saturating_sub(span), q.now),
            Window::Plan => (i64::MIN, q.now),
        };
        match q.kind {
            WindowKind::Count => Ok(Decimal::from(count(tx, q, from, to)?)),
            WindowKind::Sum => sum(tx, q, from, to),
            WindowKind::Baseline => {
                let Window::Span(span) = q.window else {
                    return Ok(Decimal::ZERO);
                };
                if span <= 0 {
                    return Ok(Decimal::ZERO);
                }
                let end = q.now.saturating_sub(span);
                let seen = count(tx, q, end.saturating_sub(BASELINE_SPAN_MS), end)?;
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
            .prepare_cached(
                "SELECT approver, envelope_hash, grounds, status, expires_at FROM approvals WHERE id = ?1",
            )
            .and_then(|mut s| {
                s.query_row([n], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, i64>(4)?,
                    ))
                })
                .optional()
            })
            .map_err(state_error)?;
        let Some((approver, envelope_hash, grounds, status, expires_at)) = row else {
            return Ok(None);
        };
        Ok(Some(ApprovalGrant {
            id: id.to_string(),
            approver,
            envelope_hash,
            grounds: serde_json::from_str(&grounds).map_err(state_error)?,
            status: ApprovalStatus::parse(&status).unwrap_or(ApprovalStatus::Rejected),
            expires_at,
        }))
    }
}

/// The column a key kind is kept in.
pub(super) fn key_column(kind: KeyKind) -> &'static str {
    match kind {
        KeyKind::Agent => "k_agent",
        KeyKind::Workflow => "k_workflow",
        KeyKind::Owner => "k_owner",
        KeyKind::Object => "k_object",
        KeyKind::Plan => "k_plan",
    }
}

/// The bit of a key kind in a set of kinds.
pub(super) fn key_bit(kind: KeyKind) -> u8 {
    1 << kind.index()
}

const KINDS: [KeyKind; KeyKind::COUNT] = [
    KeyKind::Agent,
    KeyKind::Workflow,
    KeyKind::Owner,
    KeyKind::Object,
    KeyKind::Plan,
];

/// Builds the window index of every kind in `kinds` that lacks one.
pub(super) fn ensure_window_indexes(
    tx: &Transaction<'_>,
    kinds: u8,
) -> Result<(), rusqlite::Error> {
    for kind in KINDS.into_iter().filter(|k| kinds & key_bit(*k) != 0) {
        let column = key_column(kind);
        tx.execute_batch(&format!(
            "CREATE INDEX IF NOT EXISTS window_{kind} ON reservations ({column}, at, action, state) \
             WHERE state != 'released'",
            kind = kind.as_str()
        ))?;
    }
    Ok(())
}

/// How an action pattern reads as SQL over the `action` column: one name
/// (`= ?4`), a namespace (`crm.*`: the names from `crm.` up to, not
/// including, `crm/`, `/` being the character after `.`), or every action.
/// A range, unlike `GLOB`, is read straight off the window index.
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

    fn sql(&self) -> &'static str {
        match self {
            Pattern::Exact(_) => " AND action = ?4",
            Pattern::Range(..) => " AND action >= ?4 AND action < ?5",
            Pattern::Any => "",
        }
    }
}

/// The statement reading a window's reservations: `select` over the ones
/// under `q`'s key, in `(from, to]`, not released, matching its pattern.
/// `state != 'released'` is written as the window index's own condition,
/// so the index serves it.
fn window_sql(q: &WindowQuery<'_>, select: &str, pattern: &Pattern) -> String {
    format!(
        "SELECT {select} FROM reservations WHERE {column} = ?1 AND at > ?2 AND at <= ?3 \
         AND state != 'released'{rest}",
        column = key_column(q.key),
        rest = pattern.sql()
    )
}

fn count(tx: &Transaction<'_>, q: &WindowQuery<'_>, from: i64, to: i64) -> Result<u64, StateError> {
    let pattern = Pattern::of(q.pattern);
    let mut stmt = tx
        .prepare_cached(&window_sql(q, "count(*)", &pattern))
        .map_err(state_error)?;
    let n: i64 = match &pattern {
        Pattern::Exact(name) => stmt.query_row(params![q.key_value, from, to, name], |r| r.get(0)),
        Pattern::Range(low, high) => {
            stmt.query_row(params![q.key_value, from, to, low, high], |r| r.get(0))
        }
        Pattern::Any => stmt.query_row(params![q.key_value, from, to], |r| r.get(0)),
    }
    .map_err(state_error)?;
    Ok(u64::try_from(n).unwrap_or(0))
}

fn sum(
    tx: &Transaction<'_>,
    q: &WindowQuery<'_>,
    from: i64,
    to: i64,
) -> Result<Decimal, StateError> {
    let pattern = Pattern::of(q.pattern);
    // The summed parameter's path is bound, never written into the SQL.
    let path = format!("$.\"{}\"", q.param.unwrap_or_default().replace('"', ""));
    let mut stmt = tx
        .prepare_cached(&window_sql(q, "json_extract(amounts, ?6)", &pattern))
        .map_err(state_error)?;
    let (low, high) = match &pattern {
        Pattern::Exact(name) => (name.as_str(), ""),
        Pattern::Range(low, high) => (low.as_str(), high.as_str()),
        Pattern::Any => ("", ""),
    };
    let mut rows = stmt
        .query(params![q.key_value, from, to, low, high, path])
        .map_err(state_error)?;
    let mut total = Decimal::ZERO;
    while let Some(row) = rows.next().map_err(state_error)? {
        let Some(text) = row.get::<_, Option<String>>(0).map_err(state_error)? else {
            continue;
        };
        let amount = Decimal::from_str(&text).map_err(state_error)?;
        total = total
            .checked_add(amount)
            .ok_or_else(|| StateError::unavailable("a window's sum overflows"))?;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actpol_core::state::WindowKind;

    fn plan(tx: &Transaction<'_>, sql: &str) -> String {
        let mut stmt = tx.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let nulls = vec![rusqlite::types::Null; stmt.parameter_count()];
        let rows = stmt
            .query_map(rusqlite::params_from_iter(nulls), |r| r.get::<_, String>(3))
            .unwrap()
            .map(Result::unwrap)
            .collect::<Vec<_>>();
        rows.join("; ")
    }

    fn query(kind: WindowKind, pattern: &str) -> WindowQuery<'_> {
        WindowQuery {
            kind,
            pattern,
            param: Some("amount"),
            window: Window::Span(3_600_000),
            key: KeyKind::Agent,
            key_value: "agent:a",
            now: 0,
        }
    }

    /// A window reads only its key's index entries inside the window: a
    /// range on the window index, never a scan of the table, and for a
    /// count not a single table row.
    #[test]
    fn window_queries_read_a_range_of_the_window_index() {
        let mut conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch(include_str!("migrations/001_initial.sql"))
            .unwrap();
        let tx = conn.transaction().unwrap();
        ensure_window_indexes(&tx, key_bit(KeyKind::Agent)).unwrap();
        for pattern in ["ops.spend", "ops.*", "*"] {
            let q = query(WindowKind::Count, pattern);
            let p = Pattern::of(pattern);
            let text = plan(&tx, &window_sql(&q, "count(*)", &p));
            assert!(
                text.contains("USING COVERING INDEX window_agent (k_agent=? AND at>? AND at<?)"),
                "count over `{pattern}`: {text}"
            );
            let q = query(WindowKind::Sum, pattern);
            let text = plan(&tx, &window_sql(&q, "json_extract(amounts, ?6)", &p));
            assert!(
                text.contains("USING INDEX window_agent (k_agent=? AND at>? AND at<?)"),
                "sum over `{pattern}`: {text}"
            );
        }
    }

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
