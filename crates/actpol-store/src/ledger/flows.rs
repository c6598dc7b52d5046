//! The ledger's rules, once for every backend: a decision inside a write
//! transaction (reserve, use or await an approval, log), ending a
//! reservation, an approver's verdict, and what the reading commands
//! assemble (approvals, budgets, precedent, packets).

use std::collections::HashMap;

use actpol_core::approval::{ApprovalOut, ApprovalStatus, ApprovalUse, Grounds};
use actpol_core::envelope::BoundEnvelope;
use actpol_core::packet::{Packet, Precedent};
use actpol_core::schema::{KeyKind, PolicyMeta};
use actpol_core::state::StateView;
use actpol_core::value::format_timestamp;
use actpol_core::{Decimal, Decision, Level};

use super::view::LedgerView;
use super::{Ledger, LedgerSql, NewApproval, NewReservation, ReservationRow};
use crate::chain::Columns;
use crate::record::{
    self, decision_record, ended_record, holds_of, holds_text, log_entry, param_amounts,
    parse_holds, reservation_text, verdict_record,
};
use crate::{
    parse_id, Approval, BudgetCount, LogEntry, PacketView, Proposal, Proposed, Reservation,
    ReservationState, StoreError, Stored,
};

/// Decides `p` and records it.
pub fn decide_one<T: LedgerSql>(
    w: &mut Ledger<T>,
    p: &Proposal<'_>,
    decide: &mut dyn FnMut(&dyn StateView) -> Decision,
) -> Result<Stored, StoreError> {
    w.expire_until(p.now)?;
    let mut decision = decide(&LedgerView { ledger: w });
    let seq = w.next_seq();
    decision.id = Some(format!("dec-{seq}"));
    let mut reservation = None;
    let mut envelope_hash = None;
    if let Proposed::Bound(env) = p.envelope {
        if decision.decision.proceeds() {
            reservation = Some(reserve(w, p, env, &mut decision, seq)?);
        }
        if let Some(used) = decision
            .approval
            .as_ref()
            .filter(|a| a.status == ApprovalUse::Used)
        {
            mark_used(w, &used.id, seq, p.now)?;
            envelope_hash = Some(env.canonical_hash());
        }
        if decision.decision == Level::Escalate && decision.errors.is_empty() {
            envelope_hash = await_approval(w, p, env, &mut decision, seq)?;
        }
    }
    // The decision is written out once: the log's record holds this text,
    // and the caller may hand it on as is.
    let json =
        serde_json::to_string(&decision).map_err(|e| StoreError::backend("write a decision", e))?;
    let (text, columns) = decision_record(p, &decision, &json, seq, reservation, envelope_hash)?;
    w.append_text(&text, &columns)?;
    Ok(Stored { decision, json })
}

/// Reserves what a proceeding decision consumes, and records the action
/// for windows. Returns the reservation as the log records it.
fn reserve<T: LedgerSql>(
    w: &mut Ledger<T>,
    p: &Proposal<'_>,
    env: &BoundEnvelope,
    decision: &mut Decision,
    seq: i64,
) -> Result<String, StoreError> {
    let holds = holds_of(p, decision);
    let key = |kind: KeyKind| env.key(kind, p.schema).ok();
    let expires_at = p.now.saturating_add(p.reservation_ttl);
    let holds_text = holds_text(&holds)?;
    let amounts = param_amounts(p, env);
    let id = w.sql().insert_reservation(&NewReservation {
        decision: seq,
        at: p.now,
        expires_at,
        action: &env.action_name,
        keys: [
            key(KeyKind::Agent),
            key(KeyKind::Workflow),
            key(KeyKind::Owner),
            key(KeyKind::Object),
            key(KeyKind::Plan),
        ],
        amounts: &amounts,
        holds: &holds_text,
    })?;
    for hold in &holds {
        w.add_to_counter(hold, 1)?;
    }
    decision.reservations = vec![format!("res-{id}")];
    Ok(reservation_text(&holds_text, expires_at, id))
}

fn mark_used<T: LedgerSql>(
    w: &Ledger<T>,
    approval: &str,
    seq: i64,
    now: i64,
) -> Result<(), StoreError> {
    let id = parse_id(approval, "apr")
        .ok_or_else(|| StoreError::UnknownApproval(approval.to_string()))?;
    if w.sql().mark_approval_used(id, seq, now)? != 1 {
        // The decision read this approval as granted in this transaction.
        return Err(StoreError::ApprovalClosed {
            id: approval.to_string(),
            status: "no longer granted".into(),
        });
    }
    Ok(())
}

/// Creates the pending approval an escalation waits on, bound to the
/// envelope's canonical hash and the escalation's grounds, and fills the
/// packet's precedent from the log. Returns the envelope's hash.
fn await_approval<T: LedgerSql>(
    w: &Ledger<T>,
    p: &Proposal<'_>,
    env: &BoundEnvelope,
    decision: &mut Decision,
    seq: i64,
) -> Result<Option<String>, StoreError> {
    let grounds = serde_json::to_string(&Grounds::of(decision))
        .map_err(|e| StoreError::backend("write an approval", e))?;
    let rules = decision.rules.join(",");
    let Some(escalation) = decision.escalation.as_mut() else {
        return Ok(None);
    };
    let hash = env.canonical_hash();
    let expires_at = p.now.saturating_add(p.approval_ttl);
    let id = w.sql().insert_approval(&NewApproval {
        decision: seq,
        approver: &escalation.approver,
        envelope_hash: &hash,
        grounds: &grounds,
        created_at: p.now,
        expires_at,
    })?;
    if let Some(packet) = escalation.packet.as_mut() {
        packet.precedent = precedent(w.sql(), &env.action_name, &rules, seq, p.precedent, p.now)?;
    }
    decision.approval = Some(Box::new(ApprovalOut {
        id: format!("apr-{id}"),
        status: ApprovalUse::Pending,
        approver: Some(escalation.approver.clone()),
        expires: Some(format_timestamp(expires_at)),
        reason: None,
    }));
    Ok(Some(hash))
}

/// The reservation `id`, read.
pub fn load_reservation<T: LedgerSql>(
    sql: &T,
    id: i64,
) -> Result<Option<ReservationRow>, StoreError> {
    sql.reservation(id)?
        .map(|f| ReservationRow::of(id, f))
        .transpose()
}

/// Commits or releases a reservation, and logs it as `kind` (`commit`,
/// `release` or `expire`).
pub fn end_reservation<T: LedgerSql>(
    w: &mut Ledger<T>,
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
    w.sql().set_reservation_state(row.id, to.as_str(), kind)?;
    let record = ended_record(kind, row.id, row.decision, &row.holds)?;
    w.append(record, now)
}

/// Releases every held reservation whose time is up; how many.
pub fn expire_due<T: LedgerSql>(w: &mut Ledger<T>, now: i64) -> Result<usize, StoreError> {
    let due = w.sql().due_reservations(now)?;
    for id in &due {
        if let Some(row) = load_reservation(w.sql(), *id)? {
            end_reservation(w, &row, ReservationState::Released, "expire", now)?;
        }
    }
    Ok(due.len())
}

fn reservation_id(reservation: &str) -> Result<i64, StoreError> {
    parse_id(reservation, "res")
        .ok_or_else(|| StoreError::UnknownReservation(reservation.to_string()))
}

fn reload<T: LedgerSql>(
    w: &Ledger<T>,
    reservation: &str,
    id: i64,
) -> Result<Reservation, StoreError> {
    Ok(load_reservation(w.sql(), id)?
        .ok_or_else(|| StoreError::UnknownReservation(reservation.to_string()))?
        .public())
}

/// The host ran the action: its reservation is committed. Committing a
/// committed reservation is a no-op; a released or expired one is an error.
pub fn commit<T: LedgerSql>(
    w: &mut Ledger<T>,
    reservation: &str,
    now: i64,
) -> Result<Reservation, StoreError> {
    let id = reservation_id(reservation)?;
    w.expire_until(now)?;
    let row = load_reservation(w.sql(), id)?
        .ok_or_else(|| StoreError::UnknownReservation(reservation.to_string()))?;
    match (row.state, row.ended.as_deref()) {
        (ReservationState::Committed, _) => Ok(row.public()),
        (ReservationState::Released, Some("expire")) => Err(StoreError::ReservationExpired {
            id: reservation.to_string(),
            expires: format_timestamp(row.expires_at),
        }),
        (ReservationState::Released, _) => {
            Err(StoreError::ReservationReleased(reservation.to_string()))
        }
        (ReservationState::Held, _) => {
            end_reservation(w, &row, ReservationState::Committed, "commit", now)?;
            reload(w, reservation, id)
        }
    }
}

/// The action did not run: its reservation is released (once).
pub fn release<T: LedgerSql>(
    w: &mut Ledger<T>,
    reservation: &str,
    now: i64,
) -> Result<Reservation, StoreError> {
    let id = reservation_id(reservation)?;
    w.expire_until(now)?;
    let row = load_reservation(w.sql(), id)?
        .ok_or_else(|| StoreError::UnknownReservation(reservation.to_string()))?;
    if row.state != ReservationState::Released {
        end_reservation(w, &row, ReservationState::Released, "release", now)?;
    }
    reload(w, reservation, id)
}

/// A reservation as of `now` (expiring what is due first).
pub fn reservation<T: LedgerSql>(
    w: &mut Ledger<T>,
    reservation: &str,
    now: i64,
) -> Result<Reservation, StoreError> {
    let id = reservation_id(reservation)?;
    w.expire_until(now)?;
    reload(w, reservation, id)
}

/// The id an approval is named by, checked before any transaction.
pub fn approval_id(approval: &str) -> Result<i64, StoreError> {
    parse_id(approval, "apr").ok_or_else(|| StoreError::UnknownApproval(approval.to_string()))
}

/// An approval as of `now`.
pub fn load_approval<T: LedgerSql>(
    sql: &T,
    id: i64,
    now: i64,
) -> Result<Option<Approval>, StoreError> {
    Ok(sql.approval(id)?.map(|a| a.public(now)))
}

/// Every approval as of `now`, by id, those with `status` if given.
pub fn approvals<T: LedgerSql>(
    sql: &T,
    status: Option<ApprovalStatus>,
    now: i64,
) -> Result<Vec<Approval>, StoreError> {
    Ok(sql
        .approvals()?
        .into_iter()
        .map(|a| a.public(now))
        .filter(|a| status.is_none_or(|s| s == a.status))
        .collect())
}

/// The approver's verdict on a pending approval, logged.
pub fn decide_approval<T: LedgerSql>(
    w: &mut Ledger<T>,
    approval: &str,
    id: i64,
    by: &str,
    note: Option<&str>,
    now: i64,
    verdict: ApprovalStatus,
) -> Result<Approval, StoreError> {
    let current = load_approval(w.sql(), id, now)?
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
    w.sql().set_verdict(id, verdict.as_str(), by, now, note)?;
    let record = verdict_record(
        verdict,
        approval,
        &current.decision,
        by,
        &current.envelope_hash,
        note,
    );
    w.append(record, now)?;
    load_approval(w.sql(), id, now)?
        .ok_or_else(|| StoreError::UnknownApproval(approval.to_string()))
}

/// Past decisions like this one: the same action and rules first, then the
/// same action; the most recent first; at most `limit`.
pub fn precedent<T: LedgerSql>(
    sql: &T,
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
        let rows = sql.precedent_rows(
            action,
            rules,
            same_rules,
            before,
            i64::try_from(left).unwrap_or(i64::MAX),
        )?;
        for row in rows {
            let verdict = row
                .created
                .or(row.used)
                .map(|v| record::verdict(v.id, &v.status, v.expires_at, v.decided_by, v.note, now));
            out.push(row.past.precedent(action, same_rules, verdict));
        }
    }
    Ok(out)
}

/// Every budget counter, with what held reservations hold of it; only the
/// current windows of `meta`'s budgets when given.
pub fn budgets<T: LedgerSql>(
    sql: &T,
    now: i64,
    meta: Option<&PolicyMeta>,
) -> Result<Vec<BudgetCount>, StoreError> {
    let mut held: HashMap<(String, String, i64), Decimal> = HashMap::new();
    for text in sql.held_holds()? {
        for hold in parse_holds(&text)? {
            *held
                .entry((hold.budget, hold.key, hold.window_start))
                .or_default() += hold.amount;
        }
    }
    let mut out = Vec::new();
    for row in sql.counter_rows()? {
        let (budget, key, start) = (row.budget, row.key, row.window_start);
        if let Some(meta) = meta {
            let current = meta
                .budgets
                .get(&budget)
                .is_some_and(|def| def.window.bucket(now).0 == start);
            if !current {
                continue;
            }
        }
        let consumed = row
            .consumed
            .parse::<Decimal>()
            .map_err(|e| StoreError::backend("read a budget counter", e))?;
        let held = held
            .get(&(budget.clone(), key.clone(), start))
            .copied()
            .unwrap_or_default();
        out.push(BudgetCount {
            window: if start == i64::MIN {
                "plan".to_string()
            } else {
                format_timestamp(start)
            },
            budget,
            key,
            consumed,
            held,
        });
    }
    Ok(out)
}

/// The decision record `dec-<seq>`.
pub fn load_decision<T: LedgerSql>(sql: &T, seq: i64) -> Result<Option<LogEntry>, StoreError> {
    sql.decision_row(seq)?
        .map(|r| log_entry(seq, r.kind, r.at, r.hash, &r.record))
        .transpose()
}

/// The decision `id`.
pub fn decision<T: LedgerSql>(sql: &T, id: &str) -> Result<LogEntry, StoreError> {
    let seq = decision_seq(id)?;
    load_decision(sql, seq)?.ok_or_else(|| StoreError::UnknownDecision(id.to_string()))
}

/// The position a decision id names, checked before any transaction.
pub fn decision_seq(id: &str) -> Result<i64, StoreError> {
    parse_id(id, "dec").ok_or_else(|| StoreError::UnknownDecision(id.to_string()))
}

/// An escalation's packet, with precedent as of now and its approval.
pub fn packet<T: LedgerSql>(
    sql: &T,
    id: &str,
    precedent_count: usize,
    now: i64,
) -> Result<PacketView, StoreError> {
    let seq = decision_seq(id)?;
    let entry =
        load_decision(sql, seq)?.ok_or_else(|| StoreError::UnknownDecision(id.to_string()))?;
    let packet_json = entry
        .record
        .pointer("/decision/escalation/packet")
        .filter(|p| p.is_object())
        .ok_or_else(|| StoreError::NoPacket(id.to_string()))?;
    let mut packet: Packet =
        serde_json::from_value(packet_json.clone()).map_err(|e| StoreError::Corrupt {
            seq: entry.seq,
            reason: "its packet does not read".into(),
            source: Some(Box::new(e)),
        })?;
    let columns = Columns::of(&entry.record).unwrap_or_default();
    packet.precedent = precedent(
        sql,
        columns.action.as_deref().unwrap_or_default(),
        columns.rules.as_deref().unwrap_or_default(),
        seq,
        precedent_count,
        now,
    )?;
    let approval = match sql.approval_of_decision(seq)? {
        Some(a) => load_approval(sql, a, now)?,
        None => None,
    };
    Ok(PacketView {
        decision: id.to_string(),
        approval,
        packet,
    })
}
