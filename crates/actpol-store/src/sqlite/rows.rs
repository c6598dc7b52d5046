//! Reservations and approvals as rows: reading them, ending a reservation,
//! deciding an approval, and the precedent a packet lists.

use actpol_core::approval::ApprovalStatus;
use actpol_core::packet::{Precedent, Verdict};
use actpol_core::value::format_timestamp;
use rusqlite::{params, OptionalExtension, Transaction};

use super::writer::Writer;
use crate::record::{self, ended_record, verdict_record, PastDecision};
pub(super) use crate::record::{effective_status, log_entry, parse_holds};
use crate::{Approval, Hold, LogEntry, Reservation, ReservationState, StoreError};

/// A reservation row.
pub(super) struct ReservationRow {
    pub(super) id: i64,
    decision: i64,
    pub(super) state: ReservationState,
    pub(super) expires_at: i64,
    /// How it ended: `commit`, `release` or `expire`.
    pub(super) ended: Option<String>,
    holds: Vec<Hold>,
}

impl ReservationRow {
    pub(super) fn public(self) -> Reservation {
        Reservation {
            id: format!("res-{}", self.id),
            decision: format!("dec-{}", self.decision),
            state: self.state,
            expires: format_timestamp(self.expires_at),
            budgets: self.holds,
        }
    }
}

pub(super) fn load_reservation(
    tx: &Transaction<'_>,
    id: i64,
) -> Result<Option<ReservationRow>, StoreError> {
    let row = tx
        .prepare_cached(
            "SELECT decision, state, expires_at, ended, holds FROM reservations WHERE id = ?1",
        )?
        .query_row([id], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, String>(4)?,
            ))
        })
        .optional()?;
    let Some((decision, state, expires_at, ended, holds)) = row else {
        return Ok(None);
    };
    let state = match state.as_str() {
        "held" => ReservationState::Held,
        "committed" => ReservationState::Committed,
        _ => ReservationState::Released,
    };
    Ok(Some(ReservationRow {
        id,
        decision,
        state,
        expires_at,
        ended,
        holds: parse_holds(&holds)?,
    }))
}

/// Commits or releases a reservation, and logs it as `kind` (`commit`,
/// `release` or `expire`).
pub(super) fn end_reservation(
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
    w.tx.prepare_cached("UPDATE reservations SET state = ?2, ended = ?3 WHERE id = ?1")?
        .execute(params![row.id, to.as_str(), kind])?;
    let record = ended_record(kind, row.id, row.decision, &row.holds)?;
    w.append(record, now)
}

/// Releases every held reservation whose time is up; how many.
pub(super) fn expire_due(w: &mut Writer<'_>, now: i64) -> Result<usize, StoreError> {
    let due: Vec<i64> = {
        let mut stmt = w.tx.prepare_cached(
            "SELECT id FROM reservations INDEXED BY reservations_due WHERE state = 'held' AND expires_at <= ?1 ORDER BY expires_at",
        )?;
        let rows = stmt.query_map([now], |r| r.get(0))?;
        rows.collect::<Result<_, _>>()?
    };
    for id in &due {
        if let Some(row) = load_reservation(&w.tx, *id)? {
            end_reservation(w, &row, ReservationState::Released, "expire", now)?;
        }
    }
    Ok(due.len())
}

pub(super) const APPROVAL_COLUMNS: &str = "SELECT id, decision, approver, envelope_hash, status, created_at, expires_at, decided_by, note, used_by FROM approvals";

pub(super) fn approval_row(r: &rusqlite::Row<'_>, now: i64) -> rusqlite::Result<Approval> {
    let status: String = r.get(4)?;
    let expires_at: i64 = r.get(6)?;
    Ok(Approval {
        id: format!("apr-{}", r.get::<_, i64>(0)?),
        decision: format!("dec-{}", r.get::<_, i64>(1)?),
        approver: r.get(2)?,
        envelope_hash: r.get(3)?,
        status: effective_status(&status, expires_at, now),
        created: format_timestamp(r.get(5)?),
        expires: format_timestamp(expires_at),
        decided_by: r.get(7)?,
        note: r.get(8)?,
        used_by: r.get::<_, Option<i64>>(9)?.map(|d| format!("dec-{d}")),
    })
}

pub(super) fn load_approval(
    tx: &Transaction<'_>,
    id: i64,
    now: i64,
) -> Result<Option<Approval>, StoreError> {
    Ok(tx
        .prepare_cached(&format!("{APPROVAL_COLUMNS} WHERE id = ?1"))?
        .query_row([id], |r| approval_row(r, now))
        .optional()?)
}

/// The approver's verdict on a pending approval, logged.
pub(super) fn decide_approval(
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
    w.tx.prepare_cached(
        "UPDATE approvals SET status = ?2, decided_by = ?3, decided_at = ?4, note = ?5 WHERE id = ?1",
    )?
    .execute(params![id, verdict.as_str(), by, now, note])?;
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
pub(super) fn precedent(
    tx: &Transaction<'_>,
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
        let mut stmt = tx.prepare_cached(&sql)?;
        let rows = stmt.query_map(
            params![
                action,
                rules,
                before,
                i64::try_from(left).unwrap_or(i64::MAX)
            ],
            |r| {
                let verdict = |base: usize| -> rusqlite::Result<Option<Verdict>> {
                    let Some(id) = r.get::<_, Option<i64>>(base)? else {
                        return Ok(None);
                    };
                    Ok(Some(record::verdict(
                        id,
                        &r.get::<_, String>(base + 1)?,
                        r.get(base + 2)?,
                        r.get(base + 3)?,
                        r.get(base + 4)?,
                        now,
                    )))
                };
                let past = PastDecision {
                    seq: r.get(0)?,
                    at: r.get(1)?,
                    agent: r.get(2)?,
                    object: r.get(3)?,
                    level: r.get(4)?,
                    rules: r.get(5)?,
                };
                let verdict = match verdict(6)? {
                    Some(v) => Some(v),
                    None => verdict(11)?,
                };
                Ok(past.precedent(action, same_rules, verdict))
            },
        )?;
        for row in rows {
            out.push(row?);
        }
    }
    Ok(out)
}

pub(super) fn load_decision(
    tx: &Transaction<'_>,
    seq: i64,
) -> Result<Option<LogEntry>, StoreError> {
    let row = tx
        .prepare_cached(
            "SELECT kind, at, hash, record FROM log WHERE seq = ?1 AND kind = 'decision'",
        )?
        .query_row([seq], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
            ))
        })
        .optional()?;
    row.map(|(kind, at, hash, text)| log_entry(seq, kind, at, hash, &text))
        .transpose()
}
