//! One decision inside a write transaction: decide against the
//! transaction's view, reserve what it consumes, use or await an approval,
//! and append its record to the log.

use actpol_core::approval::{ApprovalOut, ApprovalUse, Grounds};
use actpol_core::envelope::BoundEnvelope;
use actpol_core::schema::KeyKind;
use actpol_core::state::StateView;
use actpol_core::value::format_timestamp;
use actpol_core::{Decision, Level};
use rusqlite::params;

use super::rows::precedent;
use super::view::TxView;
use super::writer::Writer;
use crate::record::{decision_record, holds_of, holds_text, param_amounts, reservation_text};
use crate::{parse_id, Proposal, Proposed, StoreError, Stored};

/// Decides `p` and records it.
pub(super) fn decide_one(
    w: &mut Writer<'_>,
    p: &Proposal<'_>,
    decide: &mut dyn FnMut(&dyn StateView) -> Decision,
) -> Result<Stored, StoreError> {
    w.expire_until(p.now)?;
    let mut decision = decide(&TxView {
        writer: w,
        counted: w.window_kinds,
    });
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
fn reserve(
    w: &mut Writer<'_>,
    p: &Proposal<'_>,
    env: &BoundEnvelope,
    decision: &mut Decision,
    seq: i64,
) -> Result<String, StoreError> {
    let holds = holds_of(p, decision);
    let key = |kind: KeyKind| env.key(kind, p.schema).ok();
    let expires_at = p.now.saturating_add(p.reservation_ttl);
    let holds_text = holds_text(&holds)?;
    w.tx.prepare_cached(
        "INSERT INTO reservations (decision, state, at, expires_at, action, k_agent, k_workflow, k_owner, k_object, k_plan, amounts, holds)
         VALUES (?1, 'held', ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute(params![
        seq,
        p.now,
        expires_at,
        &*env.action_name,
        key(KeyKind::Agent),
        key(KeyKind::Workflow),
        key(KeyKind::Owner),
        key(KeyKind::Object),
        key(KeyKind::Plan),
        param_amounts(p, env),
        holds_text
    ])?;
    let id = w.tx.last_insert_rowid();
    for hold in &holds {
        w.add_to_counter(hold, 1)?;
    }
    decision.reservations = vec![format!("res-{id}")];
    Ok(reservation_text(&holds_text, expires_at, id))
}

fn mark_used(w: &Writer<'_>, approval: &str, seq: i64, now: i64) -> Result<(), StoreError> {
    let id = parse_id(approval, "apr")
        .ok_or_else(|| StoreError::UnknownApproval(approval.to_string()))?;
    let changed = w
        .tx
        .prepare_cached(
            "UPDATE approvals SET status = 'used', used_by = ?2 WHERE id = ?1 AND status = 'granted' AND expires_at > ?3",
        )?
        .execute(params![id, seq, now])?;
    if changed != 1 {
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
fn await_approval(
    w: &Writer<'_>,
    p: &Proposal<'_>,
    env: &BoundEnvelope,
    decision: &mut Decision,
    seq: i64,
) -> Result<Option<String>, StoreError> {
    let grounds = serde_json::to_string(&Grounds::of(decision))
        .map_err(|e| StoreError::backend("write an approval", e))?;
    let Some(escalation) = decision.escalation.as_mut() else {
        return Ok(None);
    };
    let hash = env.canonical_hash();
    let expires_at = p.now.saturating_add(p.approval_ttl);
    w.tx.prepare_cached(
        "INSERT INTO approvals (decision, approver, envelope_hash, grounds, status, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, 'pending', ?5, ?6)",
    )?
    .execute(params![
        seq,
        escalation.approver,
        hash,
        grounds,
        p.now,
        expires_at
    ])?;
    let id = w.tx.last_insert_rowid();
    if let Some(packet) = escalation.packet.as_mut() {
        packet.precedent = precedent(
            &w.tx,
            &env.action_name,
            &decision.rules.join(","),
            seq,
            p.precedent,
            p.now,
        )?;
    }
    decision.approval = Some(ApprovalOut {
        id: format!("apr-{id}"),
        status: ApprovalUse::Pending,
        approver: Some(escalation.approver.clone()),
        expires: Some(format_timestamp(expires_at)),
        reason: None,
    });
    Ok(Some(hash))
}
