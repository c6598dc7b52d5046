//! The ledger's statements in PostgreSQL's dialect: what
//! [`LedgerSql`] asks of a backend, over one transaction.

use std::cell::Cell;

use actpol_core::state::{StateError, WindowQuery};
use actpol_core::Decimal;
use actpol_store::ledger::{
    ApprovalFields, CounterRow, GrantFields, LedgerSql, LogRow, NewApproval, NewReservation,
    PrecedentRow, ReservationFields, VerdictFields,
};
use actpol_store::record::{Columns, PastDecision};
use actpol_store::StoreError;
use postgres::Row;

use crate::tx::{db, Tx};
use crate::view;

/// A transaction on one pooled connection (a write transaction, once it
/// holds the head's lock, or a read snapshot), and the last ids it gave.
pub(crate) struct PgTx<'c> {
    pub(crate) tx: Tx<'c>,
    /// The last reservation and approval ids, once read.
    last_reservation: Cell<Option<i64>>,
    last_approval: Cell<Option<i64>>,
}

impl<'c> PgTx<'c> {
    pub(crate) fn new(tx: Tx<'c>) -> PgTx<'c> {
        PgTx {
            tx,
            last_reservation: Cell::new(None),
            last_approval: Cell::new(None),
        }
    }

    /// The id the next row takes: one past the highest, as SQLite numbers
    /// rows, so both stores number alike. Only the writer holding the
    /// head's lock inserts, so no other can take it.
    fn next_id(&self, last: &Cell<Option<i64>>, sql: &str) -> Result<i64, StoreError> {
        let prior = match last.get() {
            Some(id) => id,
            None => self.tx.query_one(sql, &[]).map_err(db)?.get(0),
        };
        let next = prior + 1;
        last.set(Some(next));
        Ok(next)
    }
}

const APPROVAL_COLUMNS: &str = "SELECT id, decision, approver, envelope_hash, status, created_at, expires_at, decided_by, note, used_by FROM approvals";

fn approval_fields(r: &Row) -> ApprovalFields {
    ApprovalFields {
        id: r.get(0),
        decision: r.get(1),
        approver: r.get(2),
        envelope_hash: r.get(3),
        status: r.get(4),
        created_at: r.get(5),
        expires_at: r.get(6),
        decided_by: r.get(7),
        note: r.get(8),
        used_by: r.get(9),
    }
}

impl LedgerSql for PgTx<'_> {
    /// Locks the head's row: writers take turns from here to their commit.
    fn read_head(&self) -> Result<(i64, String), StoreError> {
        let row = self
            .tx
            .query_one("SELECT seq, hash FROM head WHERE one = 1 FOR UPDATE", &[])
            .map_err(db)?;
        Ok((row.get(0), row.get(1)))
    }

    fn write_head(&self, seq: i64, hash: &str) -> Result<(), StoreError> {
        self.tx
            .execute(
                "UPDATE head SET seq = $1, hash = $2 WHERE one = 1",
                &[&seq, &hash],
            )
            .map_err(db)?;
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
            .execute(
                "INSERT INTO log (seq, kind, at, agent, action, level, rules, object, record, prev, hash)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                &[
                    &seq,
                    &columns.kind,
                    &columns.at,
                    &columns.agent,
                    &columns.action,
                    &columns.level,
                    &columns.rules,
                    &columns.object,
                    &text,
                    &prev,
                    &hash,
                ],
            )
            .map_err(db)?;
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
            .query_opt(
                "SELECT consumed FROM counters WHERE budget = $1 AND key = $2 AND window_start = $3",
                &[&budget, &key, &window_start],
            )
            .map_err(db)?
            .map(|row| row.get(0)))
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
            .execute(
                "INSERT INTO counters (budget, key, window_start, window_end, consumed) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (budget, key, window_start) DO UPDATE SET consumed = excluded.consumed",
                &[&budget, &key, &window_start, &window_end, &consumed],
            )
            .map_err(db)?;
        Ok(())
    }

    fn insert_reservation(&self, r: &NewReservation<'_>) -> Result<i64, StoreError> {
        let id = self.next_id(
            &self.last_reservation,
            "SELECT coalesce(max(id), 0) FROM reservations",
        )?;
        let [agent, workflow, owner, object, plan] = &r.keys;
        self.tx
            .execute(
                "INSERT INTO reservations (id, decision, state, at, expires_at, action, k_agent, k_workflow, k_owner, k_object, k_plan, amounts, holds)
                 VALUES ($1, $2, 'held', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                &[
                    &id,
                    &r.decision,
                    &r.at,
                    &r.expires_at,
                    &r.action,
                    agent,
                    workflow,
                    owner,
                    object,
                    plan,
                    &r.amounts,
                    &r.holds,
                ],
            )
            .map_err(db)?;
        Ok(id)
    }

    fn reservation(&self, id: i64) -> Result<Option<ReservationFields>, StoreError> {
        Ok(self
            .tx
            .query_opt(
                "SELECT decision, state, expires_at, ended, holds FROM reservations WHERE id = $1",
                &[&id],
            )
            .map_err(db)?
            .map(|row| ReservationFields {
                decision: row.get(0),
                state: row.get(1),
                expires_at: row.get(2),
                ended: row.get(3),
                holds: row.get(4),
            }))
    }

    fn set_reservation_state(&self, id: i64, state: &str, ended: &str) -> Result<(), StoreError> {
        self.tx
            .execute(
                "UPDATE reservations SET state = $2, ended = $3 WHERE id = $1",
                &[&id, &state, &ended],
            )
            .map_err(db)?;
        Ok(())
    }

    fn due_reservations(&self, now: i64) -> Result<Vec<i64>, StoreError> {
        Ok(self
            .tx
            .query(
                "SELECT id FROM reservations WHERE state = 'held' AND expires_at <= $1 ORDER BY expires_at, id",
                &[&now],
            )
            .map_err(db)?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }

    fn insert_approval(&self, a: &NewApproval<'_>) -> Result<i64, StoreError> {
        let id = self.next_id(
            &self.last_approval,
            "SELECT coalesce(max(id), 0) FROM approvals",
        )?;
        self.tx
            .execute(
                "INSERT INTO approvals (id, decision, approver, envelope_hash, grounds, status, created_at, expires_at)
                 VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7)",
                &[
                    &id,
                    &a.decision,
                    &a.approver,
                    &a.envelope_hash,
                    &a.grounds,
                    &a.created_at,
                    &a.expires_at,
                ],
            )
            .map_err(db)?;
        Ok(id)
    }

    fn approval(&self, id: i64) -> Result<Option<ApprovalFields>, StoreError> {
        Ok(self
            .tx
            .query_opt(&format!("{APPROVAL_COLUMNS} WHERE id = $1"), &[&id])
            .map_err(db)?
            .map(|r| approval_fields(&r)))
    }

    fn approvals(&self) -> Result<Vec<ApprovalFields>, StoreError> {
        Ok(self
            .tx
            .query(&format!("{APPROVAL_COLUMNS} ORDER BY id"), &[])
            .map_err(db)?
            .iter()
            .map(approval_fields)
            .collect())
    }

    fn approval_grant(&self, id: i64) -> Result<Option<GrantFields>, StoreError> {
        Ok(self
            .tx
            .query_opt(
                "SELECT approver, envelope_hash, grounds, status, expires_at FROM approvals WHERE id = $1",
                &[&id],
            )
            .map_err(db)?
            .map(|row| GrantFields {
                approver: row.get(0),
                envelope_hash: row.get(1),
                grounds: row.get(2),
                status: row.get(3),
                expires_at: row.get(4),
            }))
    }

    fn mark_approval_used(&self, id: i64, seq: i64, now: i64) -> Result<u64, StoreError> {
        self.tx
            .execute(
                "UPDATE approvals SET status = 'used', used_by = $2 WHERE id = $1 AND status = 'granted' AND expires_at > $3",
                &[&id, &seq, &now],
            )
            .map_err(db)
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
            .execute(
                "UPDATE approvals SET status = $2, decided_by = $3, decided_at = $4, note = $5 WHERE id = $1",
                &[&id, &status, &by, &now, &note],
            )
            .map_err(db)?;
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
        let cmp = if same_rules { "=" } else { "<>" };
        let sql = format!(
            "SELECT l.seq, l.at, l.agent, l.object, l.level, l.rules,
                    a.id, a.status, a.expires_at, a.decided_by, a.note,
                    u.id, u.status, u.expires_at, u.decided_by, u.note
             FROM log l
             LEFT JOIN approvals a ON a.decision = l.seq
             LEFT JOIN approvals u ON u.used_by = l.seq
             WHERE l.kind = 'decision' AND l.action = $1 AND l.rules {cmp} $2 AND l.seq < $3
             ORDER BY l.seq DESC LIMIT $4"
        );
        let rows = self
            .tx
            .query(&sql, &[&action, &rules, &before, &limit])
            .map_err(db)?;
        Ok(rows
            .iter()
            .map(|r| {
                let verdict = |base: usize| {
                    r.get::<_, Option<i64>>(base).map(|id| VerdictFields {
                        id,
                        status: r.get(base + 1),
                        expires_at: r.get(base + 2),
                        decided_by: r.get(base + 3),
                        note: r.get(base + 4),
                    })
                };
                PrecedentRow {
                    past: PastDecision {
                        seq: r.get(0),
                        at: r.get(1),
                        agent: r.get(2),
                        object: r.get(3),
                        level: r.get(4),
                        rules: r.get(5),
                    },
                    created: verdict(6),
                    used: verdict(11),
                }
            })
            .collect())
    }

    fn held_holds(&self) -> Result<Vec<String>, StoreError> {
        Ok(self
            .tx
            .query("SELECT holds FROM reservations WHERE state = 'held'", &[])
            .map_err(db)?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }

    fn counter_rows(&self) -> Result<Vec<CounterRow>, StoreError> {
        Ok(self
            .tx
            .query(
                "SELECT budget, key, window_start, consumed FROM counters ORDER BY budget, key, window_start",
                &[],
            )
            .map_err(db)?
            .iter()
            .map(|r| CounterRow {
                budget: r.get(0),
                key: r.get(1),
                window_start: r.get(2),
                consumed: r.get(3),
            })
            .collect())
    }

    fn decision_row(&self, seq: i64) -> Result<Option<LogRow>, StoreError> {
        Ok(self
            .tx
            .query_opt(
                "SELECT kind, at, hash, record FROM log WHERE seq = $1 AND kind = 'decision'",
                &[&seq],
            )
            .map_err(db)?
            .map(|r| LogRow {
                kind: r.get(0),
                at: r.get(1),
                hash: r.get(2),
                record: r.get(3),
            }))
    }

    fn approval_of_decision(&self, seq: i64) -> Result<Option<i64>, StoreError> {
        Ok(self
            .tx
            .query_opt("SELECT id FROM approvals WHERE decision = $1", &[&seq])
            .map_err(db)?
            .map(|r| r.get(0)))
    }

    fn window_count(&self, q: &WindowQuery<'_>, from: i64, to: i64) -> Result<u64, StateError> {
        view::count(&self.tx, q, from, to)
    }

    fn window_sum(&self, q: &WindowQuery<'_>, from: i64, to: i64) -> Result<Decimal, StateError> {
        view::sum(&self.tx, q, from, to)
    }

    fn commit(self) -> Result<(), StoreError> {
        self.tx.commit()
    }
}
