//! The ledger's statements in SQLite's dialect: what
//! [`LedgerSql`] asks of a backend, over one transaction.

use actpol_core::state::{StateError, WindowQuery};
use actpol_core::Decimal;
use rusqlite::{params, OptionalExtension, Transaction};

use super::view;
use crate::chain::Columns;
use crate::ledger::{
    ApprovalFields, CounterRow, GrantFields, LedgerSql, LogRow, NewApproval, NewReservation,
    PrecedentRow, ReservationFields, VerdictFields,
};
use crate::record::PastDecision;
use crate::StoreError;

/// A transaction on the store's connection (a write transaction,
/// `BEGIN IMMEDIATE`, or a read snapshot).
pub(super) struct SqliteTx<'c> {
    pub(super) tx: Transaction<'c>,
    /// The key kinds whose window index and counts exist (a bit per kind).
    pub(super) window_kinds: u8,
}

const APPROVAL_COLUMNS: &str = "SELECT id, decision, approver, envelope_hash, status, created_at, expires_at, decided_by, note, used_by FROM approvals";

fn approval_fields(r: &rusqlite::Row<'_>) -> rusqlite::Result<ApprovalFields> {
    Ok(ApprovalFields {
        id: r.get(0)?,
        decision: r.get(1)?,
        approver: r.get(2)?,
        envelope_hash: r.get(3)?,
        status: r.get(4)?,
        created_at: r.get(5)?,
        expires_at: r.get(6)?,
        decided_by: r.get(7)?,
        note: r.get(8)?,
        used_by: r.get(9)?,
    })
}

impl LedgerSql for SqliteTx<'_> {
    fn read_head(&self) -> Result<(i64, String), StoreError> {
        Ok(self
            .tx
            .prepare_cached("SELECT seq, hash FROM head WHERE one = 1")?
            .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?)
    }

    fn write_head(&self, seq: i64, hash: &str) -> Result<(), StoreError> {
        self.tx
            .prepare_cached("UPDATE head SET seq = ?1, hash = ?2 WHERE one = 1")?
            .execute(params![seq, hash])?;
        Ok(())
    }

    fn insert_log(
        &self,
        seq: i64,
        columns: &Columns,
        text: &str,
        prev: &str,
        hash: &str,
    ) -> Result<(), StoreError> {
        self.tx
            .prepare_cached(
                "INSERT INTO log (seq, kind, at, agent, action, level, rules, object, record, prev, hash)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )?
            .execute(params![
                seq,
                columns.kind,
                columns.at,
                columns.agent,
                columns.action,
                columns.level,
                columns.rules,
                columns.object,
                text,
                prev,
                hash
            ])?;
        Ok(())
    }

    fn read_counter(
        &self,
        budget: &str,
        key: &str,
        window_start: i64,
    ) -> Result<Option<String>, StoreError> {
        Ok(self
            .tx
            .prepare_cached(
                "SELECT consumed FROM counters WHERE budget = ?1 AND key = ?2 AND window_start = ?3",
            )?
            .query_row(params![budget, key, window_start], |r| r.get(0))
            .optional()?)
    }

    fn write_counter(
        &self,
        budget: &str,
        key: &str,
        window_start: i64,
        window_end: i64,
        consumed: &str,
    ) -> Result<(), StoreError> {
        self.tx
            .prepare_cached(
                "INSERT INTO counters (budget, key, window_start, window_end, consumed) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (budget, key, window_start) DO UPDATE SET consumed = excluded.consumed",
            )?
            .execute(params![budget, key, window_start, window_end, consumed])?;
        Ok(())
    }

    fn insert_reservation(&self, r: &NewReservation<'_>) -> Result<i64, StoreError> {
        let [agent, workflow, owner, object, plan] = r.keys;
        self.tx
            .prepare_cached(
                "INSERT INTO reservations (decision, state, at, expires_at, action, k_agent, k_workflow, k_owner, k_object, k_plan, amounts, holds)
                 VALUES (?1, 'held', ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )?
            .execute(params![
                r.decision,
                r.at,
                r.expires_at,
                r.action,
                agent,
                workflow,
                owner,
                object,
                plan,
                r.amounts,
                r.holds
            ])?;
        Ok(self.tx.last_insert_rowid())
    }

    fn reservation(&self, id: i64) -> Result<Option<ReservationFields>, StoreError> {
        Ok(self
            .tx
            .prepare_cached(
                "SELECT decision, state, expires_at, ended, holds FROM reservations WHERE id = ?1",
            )?
            .query_row([id], |r| {
                Ok(ReservationFields {
                    decision: r.get(0)?,
                    state: r.get(1)?,
                    expires_at: r.get(2)?,
                    ended: r.get(3)?,
                    holds: r.get(4)?,
                })
            })
            .optional()?)
    }

    fn set_reservation_state(&self, id: i64, state: &str, ended: &str) -> Result<(), StoreError> {
        self.tx
            .prepare_cached("UPDATE reservations SET state = ?2, ended = ?3 WHERE id = ?1")?
            .execute(params![id, state, ended])?;
        Ok(())
    }

    fn due_reservations(&self, now: i64) -> Result<Vec<i64>, StoreError> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT id FROM reservations INDEXED BY reservations_due WHERE state = 'held' AND expires_at <= ?1 ORDER BY expires_at",
        )?;
        let rows = stmt.query_map([now], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn insert_approval(&self, a: &NewApproval<'_>) -> Result<i64, StoreError> {
        self.tx
            .prepare_cached(
                "INSERT INTO approvals (decision, approver, envelope_hash, grounds, status, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, 'pending', ?5, ?6)",
            )?
            .execute(params![
                a.decision,
                a.approver,
                a.envelope_hash,
                a.grounds,
                a.created_at,
                a.expires_at
            ])?;
        Ok(self.tx.last_insert_rowid())
    }

    fn approval(&self, id: i64) -> Result<Option<ApprovalFields>, StoreError> {
        Ok(self
            .tx
            .prepare_cached(&format!("{APPROVAL_COLUMNS} WHERE id = ?1"))?
            .query_row([id], approval_fields)
            .optional()?)
    }

    fn approvals(&self) -> Result<Vec<ApprovalFields>, StoreError> {
        let mut stmt = self
            .tx
            .prepare_cached(&format!("{APPROVAL_COLUMNS} ORDER BY id"))?;
        let rows = stmt.query_map([], approval_fields)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn approval_grant(&self, id: i64) -> Result<Option<GrantFields>, StoreError> {
        Ok(self
            .tx
            .prepare_cached(
                "SELECT approver, envelope_hash, grounds, status, expires_at FROM approvals WHERE id = ?1",
            )?
            .query_row([id], |r| {
                Ok(GrantFields {
                    approver: r.get(0)?,
                    envelope_hash: r.get(1)?,
                    grounds: r.get(2)?,
                    status: r.get(3)?,
                    expires_at: r.get(4)?,
                })
            })
            .optional()?)
    }

    fn mark_approval_used(&self, id: i64, seq: i64, now: i64) -> Result<u64, StoreError> {
        let changed = self
            .tx
            .prepare_cached(
                "UPDATE approvals SET status = 'used', used_by = ?2 WHERE id = ?1 AND status = 'granted' AND expires_at > ?3",
            )?
            .execute(params![id, seq, now])?;
        Ok(changed as u64)
    }

    fn set_verdict(
        &self,
        id: i64,
        status: &str,
        by: &str,
        now: i64,
        note: Option<&str>,
    ) -> Result<(), StoreError> {
        self.tx
            .prepare_cached(
                "UPDATE approvals SET status = ?2, decided_by = ?3, decided_at = ?4, note = ?5 WHERE id = ?1",
            )?
            .execute(params![id, status, by, now, note])?;
        Ok(())
    }

    fn precedent_rows(
        &self,
        action: &str,
        rules: &str,
        same_rules: bool,
        before: i64,
        limit: i64,
    ) -> Result<Vec<PrecedentRow>, StoreError> {
        let cmp = if same_rules { "=" } else { "!=" };
        let sql = format!(
            "SELECT l.seq, l.at, l.agent, l.object, l.level, l.rules,
                    a.id, a.status, a.expires_at, a.decided_by, a.note,
                    u.id, u.status, u.expires_at, u.decided_by, u.note
             FROM log l
             LEFT JOIN approvals a ON a.decision = l.seq
             LEFT JOIN approvals u ON u.used_by = l.seq
             WHERE l.kind = 'decision' AND l.action = ?1 AND l.rules {cmp} ?2 AND l.seq < ?3
             ORDER BY l.seq DESC LIMIT ?4"
        );
        let mut stmt = self.tx.prepare_cached(&sql)?;
        let rows = stmt.query_map(params![action, rules, before, limit], |r| {
            let verdict = |base: usize| -> rusqlite::Result<Option<VerdictFields>> {
                let Some(id) = r.get::<_, Option<i64>>(base)? else {
                    return Ok(None);
                };
                Ok(Some(VerdictFields {
                    id,
                    status: r.get(base + 1)?,
                    expires_at: r.get(base + 2)?,
                    decided_by: r.get(base + 3)?,
                    note: r.get(base + 4)?,
                }))
            };
            Ok(PrecedentRow {
                past: PastDecision {
                    seq: r.get(0)?,
                    at: r.get(1)?,
                    agent: r.get(2)?,
                    object: r.get(3)?,
                    level: r.get(4)?,
                    rules: r.get(5)?,
                },
                created: verdict(6)?,
                used: verdict(11)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn held_holds(&self) -> Result<Vec<String>, StoreError> {
        let mut stmt = self
            .tx
            .prepare_cached("SELECT holds FROM reservations WHERE state = 'held'")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn counter_rows(&self) -> Result<Vec<CounterRow>, StoreError> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT budget, key, window_start, consumed FROM counters ORDER BY budget, key, window_start",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(CounterRow {
                budget: r.get(0)?,
                key: r.get(1)?,
                window_start: r.get(2)?,
                consumed: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn decision_row(&self, seq: i64) -> Result<Option<LogRow>, StoreError> {
        Ok(self
            .tx
            .prepare_cached(
                "SELECT kind, at, hash, record FROM log WHERE seq = ?1 AND kind = 'decision'",
            )?
            .query_row([seq], |r| {
                Ok(LogRow {
                    kind: r.get(0)?,
                    at: r.get(1)?,
                    hash: r.get(2)?,
                    record: r.get(3)?,
                })
            })
            .optional()?)
    }

    fn approval_of_decision(&self, seq: i64) -> Result<Option<i64>, StoreError> {
        Ok(self
            .tx
            .prepare_cached("SELECT id FROM approvals WHERE decision = ?1")?
            .query_row([seq], |r| r.get(0))
            .optional()?)
    }

    fn window_count(&self, q: &WindowQuery<'_>, from: i64, to: i64) -> Result<u64, StateError> {
        view::window_count(&self.tx, self.window_kinds, q, from, to)
    }

    fn window_sum(&self, q: &WindowQuery<'_>, from: i64, to: i64) -> Result<Decimal, StateError> {
        view::window_sum(&self.tx, q, from, to)
    }

    fn commit(self) -> Result<(), StoreError> {
        self.tx.commit()?;
        Ok(())
    }
}
