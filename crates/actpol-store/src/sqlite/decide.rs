//! One decision inside a write transaction: decide against the
//! transaction's view, reserve what it consumes, use or await an approval,
//! and append its record to the log.

use actpol_core::approval::{ApprovalOut, ApprovalUse, Grounds};
use actpol_core::envelope::{BoundEnvelope, EnvelopeCopy};
use actpol_core::schema::{KeyKind, Window};
use actpol_core::state::StateView;
use actpol_core::value::format_timestamp;
use actpol_core::{Decimal, Decision, Level};
use rusqlite::params;

use super::rows::precedent;
use super::view::TxView;
use super::writer::Writer;
use crate::chain::Columns;
use crate::{parse_id, Hold, Proposal, Proposed, StoreError, Stored};

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

/// JSON text of a string.
fn quoted(text: &str, out: &mut String) {
    // INVARIANT: a string always serialises.
    out.push_str(&serde_json::to_string(text).unwrap_or_default());
}

/// A decision's log record, written out directly with its keys in order,
/// and the columns beside it: what [`Columns::of`] reads back from the
/// text. The envelope is the JSON text as received, not printed again.
fn decision_record(
    p: &Proposal<'_>,
    decision: &Decision,
    json: &str,
    seq: i64,
    reservation: Option<String>,
    envelope_hash: Option<String>,
) -> Result<(String, Columns), StoreError> {
    let mut text = String::with_capacity(json.len() + 1024);
    text.push_str("{\"at\":");
    quoted(&format_timestamp(p.now), &mut text);
    text.push_str(",\"decision\":");
    text.push_str(json);
    let mut columns = Columns {
        kind: "decision".to_string(),
        at: p.now,
        level: Some(decision.decision.as_str().to_string()),
        rules: Some(decision.rules.join(",")),
        ..Columns::default()
    };
    match p.envelope {
        Proposed::Bound(env) => {
            text.push_str(",\"envelope\":");
            match env.copy() {
                EnvelopeCopy::Json(raw) => text.push_str(raw.trim()),
                EnvelopeCopy::Parsed(parsed) => text.push_str(
                    &serde_json::to_string(&*parsed)
                        .map_err(|e| StoreError::backend("write an envelope", e))?,
                ),
            }
            if let Some(hash) = &envelope_hash {
                text.push_str(",\"envelope_hash\":");
                quoted(hash, &mut text);
            }
            let entity = p.schema.entity_name(p.schema.action(env.action).object);
            columns.agent = Some(env.agent_id.to_string());
            columns.action = Some(env.action_name.to_string());
            columns.object = Some(format!("{entity}/{}", env.object_id));
        }
        Proposed::Unbound(bytes) => {
            text.push_str(",\"envelope\":null,\"envelope_text\":");
            quoted(&String::from_utf8_lossy(bytes), &mut text);
        }
    }
    text.push_str(",\"id\":\"dec-");
    text.push_str(&seq.to_string());
    text.push_str("\",\"kind\":\"decision\"");
    if let Some(reservation) = reservation {
        text.push_str(",\"reservation\":");
        text.push_str(&reservation);
    }
    text.push_str(",\"seq\":");
    text.push_str(&seq.to_string());
    text.push('}');
    Ok((text, columns))
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
    let mut holds = Vec::new();
    for used in &decision.budgets {
        let amount = used.delta.value();
        if amount <= Decimal::ZERO {
            continue;
        }
        let window = p
            .meta
            .budgets
            .get(&used.name)
            .map_or(Window::Plan, |def| def.window);
        let (window_start, window_end) = window.bucket(p.now);
        holds.push(Hold {
            budget: used.name.clone(),
            key: used.key.clone(),
            window_start,
            window_end,
            amount,
        });
    }
    let key = |kind: KeyKind| env.key(kind, p.schema).ok();
    let expires_at = p.now.saturating_add(p.reservation_ttl);
    let holds_text =
        serde_json::to_string(&holds).map_err(|e| StoreError::backend("write a reservation", e))?;
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
    let mut out = String::with_capacity(holds_text.len() + 80);
    out.push_str("{\"budgets\":");
    out.push_str(&holds_text);
    out.push_str(",\"expires\":");
    quoted(&format_timestamp(expires_at), &mut out);
    out.push_str(",\"id\":\"res-");
    out.push_str(&id.to_string());
    out.push_str("\"}");
    Ok(out)
}

/// The envelope's numeric parameters as `{"name":"decimal",…}`, for `sum`
/// windows. Names are identifiers and decimals plain text: nothing needs
/// escaping.
fn param_amounts(p: &Proposal<'_>, env: &BoundEnvelope) -> String {
    let action = p.schema.action(env.action);
    let mut amounts = String::from("{");
    for (slot, def) in action.params.iter().enumerate() {
        let Some(Some(amount)) = env
            .params
            .get(slot)
            .map(|v| v.as_ref().and_then(|v| v.as_amount()))
        else {
            continue;
        };
        if amounts.len() > 1 {
            amounts.push(',');
        }
        amounts.push('"');
        amounts.push_str(p.schema.field_name(def.name));
        amounts.push_str("\":\"");
        amounts.push_str(&amount.to_string());
        amounts.push('"');
    }
    amounts.push('}');
    amounts
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
