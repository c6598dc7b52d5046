//! Reservations and approvals as rows: reading them, ending a reservation,
//! deciding an approval, and the precedent a packet lists.

use actpol_core::approval::ApprovalStatus;
use actpol_core::packet::Precedent;
use actpol_core::value::format_timestamp;
use actpol_store::record::{
    self, effective_status, ended_record, parse_holds, verdict_record, PastDecision,
};
use actpol_store::{Approval, Hold, LogEntry, Reservation, ReservationState, StoreError};
use postgres::Row;

use crate::tx::{db, Tx};
use crate::writer::Writer;

/// A reservation row.
pub(crate) struct ReservationRow {
    pub(crate) id: i64,
    decision: i64,
    pub(crate) state: ReservationState,
    pub(crate) expires_at: i64,
    /// How it ended: `commit`, `release` or `expire`.
    pub(crate) ended: Option<String>,
    holds: Vec<Hold>,
}

impl ReservationRow {
    pub(crate) fn public(self) -> Reservation {
        Reservation {
            id: format!("res-{}", self.id),
            decision: format!("dec-{}", self.decision),
            state: self.state,
            expires: format_timestamp(self.expires_at),
            budgets: self.holds,
        }
    }
}

pub(crate) fn load_reservation(tx: &Tx<'_>, id: i64) -> Result<Option<ReservationRow>, StoreError> {
    let Some(row) = tx
        .query_opt(
            "SELECT decision, state, expires_at, ended, holds FROM reservations WHERE id = $1",
            &[&id],
        )
        .map_err(db)?
    else {
        return Ok(None);
    };
    let state = match row.get::<_, &str>(1) {
        "held" => ReservationState::Held,
        "committed" => ReservationState::Committed,
        _ => ReservationState::Released,
    };
    Ok(Some(ReservationRow {
        id,
        decision: row.get(0),
        state,
        expires_at: row.get(2),
        ended: row.get(3),
        holds: parse_holds(row.get(4))?,
    }))
}

/// Commits or releases a reservation, and logs it as `kind` (`commit`,
/// `release` or `expire`).
pub(crate) fn end_reservation(
    w: &mut Writer<'_>,
    row: &ReservationRow,
    to: ReservationState,
    kind: &str,
    now: i64,
) -> Result<(), StoreError> {
    if to == ReservationState::Released {
        for hold in &row.holds {
            w.add_to_counter(hold, -1)?;
        }
    }
    w.tx.execute(
        "UPDATE reservations SET state = $2, ended = $3 WHERE id = $1",
        &[&row.id, &to.as_str(), &kind],
    )
    .map_err(db)?;
    let record = ended_record(kind, row.id, row.decision, &row.holds)?;
    w.append(record, now)
}

/// Releases every held reservation whose time is up; how many.
pub(crate) fn expire_due(w: &mut Writer<'_>, now: i64) -> Result<usize, StoreError> {
    let due: Vec<i64> = w
        .tx
        .query(
            "SELECT id FROM reservations WHERE state = 'held' AND expires_at <= $1 ORDER BY expires_at, id",
            &[&now],
        )
        .map_err(db)?
        .iter()
        .map(|r| r.get(0))
        .collect();
    for id in &due {
        if let Some(row) = load_reservation(&w.tx, *id)? {
            end_reservation(w, &row, ReservationState::Released, "expire", now)?;
        }
    }
    Ok(due.len())
}

pub(crate) const APPROVAL_COLUMNS: &str = "SELECT id, decision, approver, envelope_hash, status, created_at, expires_at, decided_by, note, used_by FROM approvals";

pub(crate) fn approval_row(r: &Row, now: i64) -> Approval {
    let expires_at: i64 = r.get(6);
    Approval {
        id: format!("apr-{}", r.get::<_, i64>(0)),
        decision: format!("dec-{}", r.get::<_, i64>(1)),
        approver: r.get(2),
        envelope_hash: r.get(3),
        status: effective_status(r.get(4), expires_at, now),
        created: format_timestamp(r.get(5)),
        expires: format_timestamp(expires_at),
        decided_by: r.get(7),
        note: r.get(8),
        used_by: r.get::<_, Option<i64>>(9).map(|d| format!("dec-{d}")),
    }
}

pub(crate) fn load_approval(
    tx: &Tx<'_>,
    id: i64,
    now: i64,
) -> Result<Option<Approval>, StoreError> {
    Ok(tx
        .query_opt(&format!("{APPROVAL_COLUMNS} WHERE id = $1"), &[&id])
        .map_err(db)?
        .map(|r| approval_row(&r, now)))
}

/// The approver's verdict on a pending approval, logged.
pub(crate) fn decide_approval(
    w: &mut Writer<'_>,
    approval: &str,
    id: i64,
    by: &str,
    note: Option<&str>,
    now: i64,
    verdict: ApprovalStatus,
) -> Result<Approval, StoreError> {
    let current = load_approval(&w.tx, id, now)?
        .ok_or_else(|| StoreError::UnknownApproval(approval.to_string()))?;
    if current.status != ApprovalStatus::Pending {
        return Err(StoreError::ApprovalClosed {
            id: approval.to_string(),
            status: current.status.to_string(),
        });
    }
    if current.approver != by {
        return Err(StoreError::WrongApprover {
            id: approval.to_string(),
            approver: current.approver,
            by: by.to_string(),
        });
    }
    w.tx.execute(
        "UPDATE approvals SET status = $2, decided_by = $3, decided_at = $4, note = $5 WHERE id = $1",
        &[&id, &verdict.as_str(), &by, &now, &note],
    )
    .map_err(db)?;
    let record = verdict_record(
        verdict,
        approval,
        &current.decision,
        by,
        &current.envelope_hash,
        note,
    );
    w.append(record, now)?;
    load_approval(&w.tx, id, now)?.ok_or_else(|| StoreError::UnknownApproval(approval.to_string()))
}

/// Past decisions like this one: the same action and rules first, then the
/// same action; the most recent first; at most `limit`.
pub(crate) fn precedent(
    tx: &Tx<'_>,
    action: &str,
    rules: &str,
    before: i64,
    limit: usize,
    now: i64,
) -> Result<Vec<Precedent>, StoreError> {
    let mut out = Vec::new();
    for same_rules in [true, false] {
        let left = limit - out.len();
        if left == 0 {
            break;
        }
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
        let left = i64::try_from(left).unwrap_or(i64::MAX);
        let rows = tx
            .query(&sql, &[&action, &rules, &before, &left])
            .map_err(db)?;
        for r in rows {
            let verdict = |base: usize| {
                let id: Option<i64> = r.get(base);
                id.map(|id| {
                    record::verdict(
                        id,
                        r.get(base + 1),
                        r.get(base + 2),
                        r.get(base + 3),
                        r.get(base + 4),
                        now,
                    )
                })
            };
            let past = PastDecision {
                seq: r.get(0),
                at: r.get(1),
                agent: r.get(2),
                object: r.get(3),
                level: r.get(4),
                rules: r.get(5),
            };
            let verdict = verdict(6).or_else(|| verdict(11));
            out.push(past.precedent(action, same_rules, verdict));
        }
    }
    Ok(out)
}

pub(crate) fn load_decision(tx: &Tx<'_>, seq: i64) -> Result<Option<LogEntry>, StoreError> {
    let row = tx
        .query_opt(
            "SELECT kind, at, hash, record FROM log WHERE seq = $1 AND kind = 'decision'",
            &[&seq],
        )
        .map_err(db)?;
    row.map(|r| record::log_entry(seq, r.get(0), r.get(1), r.get(2), r.get(3)))
        .transpose()
}

/// The holds of a row whose first column is a reservation's `holds`.
pub(crate) fn parse_holds_of(row: &Row) -> Result<Vec<Hold>, StoreError> {
    parse_holds(row.get(0))
}
