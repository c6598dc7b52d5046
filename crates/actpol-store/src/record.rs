//! What a backend writes, whatever holds it: the text of every log record,
//! the holds a proceeding decision reserves, the amounts `sum` windows
//! read, and how stored rows read back (an approval's status against the
//! clock, a log entry, a precedent). Every backend builds its records here,
//! so the same decisions make the same records, byte for byte, and chain
//! to the same hashes, whichever database holds them.

use actpol_core::approval::ApprovalStatus;
use actpol_core::envelope::{BoundEnvelope, EnvelopeCopy};
use actpol_core::packet::{Precedent, Verdict};
use actpol_core::schema::Window;
use actpol_core::value::format_timestamp;
use actpol_core::{Decimal, Decision, Level};
use serde_json::{json, Map, Value as Json};

pub use crate::chain::{link, Columns, StoredRecord, Walk};
use crate::{Hold, LogEntry, Proposal, Proposed, StoreError};

/// JSON text of a string.
fn quoted(text: &str, out: &mut String) {
    // INVARIANT: a string always serialises.
    out.push_str(&serde_json::to_string(text).unwrap_or_default());
}
/// A decision's log record, written out directly with its keys in order,
/// and the columns beside it: what [`Columns::of`] reads back from the
/// text. The envelope is the JSON text as received, not printed again.
pub fn decision_record(
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
                EnvelopeCopy::Json(raw) => text.push_str(raw.text().trim()),
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

/// The envelope's numeric parameters as `{"name":"decimal",…}`, for `sum`
/// windows. Names are identifiers and decimals plain text: nothing needs
/// escaping.
pub fn param_amounts(p: &Proposal<'_>, env: &BoundEnvelope) -> String {
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

/// The budget amounts a proceeding decision holds: each positive amount
/// it consumes, in the window of its budget that holds `now`.
pub fn holds_of(p: &Proposal<'_>, decision: &Decision) -> Vec<Hold> {
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
    holds
}

/// Holds as stored beside a reservation, and as its record lists them.
pub fn holds_text(holds: &[Hold]) -> Result<String, StoreError> {
    serde_json::to_string(holds).map_err(|e| StoreError::backend("write a reservation", e))
}

/// Holds as stored, read back.
pub fn parse_holds(text: &str) -> Result<Vec<Hold>, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::backend("read a reservation", e))
}

/// A reservation as a decision's record holds it.
pub fn reservation_text(holds_text: &str, expires_at: i64, id: i64) -> String {
    let mut out = String::with_capacity(holds_text.len() + 80);
    out.push_str("{\"budgets\":");
    out.push_str(holds_text);
    out.push_str(",\"expires\":");
    quoted(&format_timestamp(expires_at), &mut out);
    out.push_str(",\"id\":\"res-");
    out.push_str(&id.to_string());
    out.push_str("\"}");
    out
}

/// A small record (a commit, a release, an expiry, an approver's verdict)
/// as canonical JSON text at position `seq`, with its columns.
pub fn small_record(
    mut record: Map<String, Json>,
    seq: i64,
    now: i64,
) -> Result<(String, Columns), StoreError> {
    record.insert("seq".into(), seq.into());
    record.insert("at".into(), format_timestamp(now).into());
    let record = Json::Object(record);
    let text = actpol_core::canonical::to_string(&record);
    let columns = Columns::of(&record)
        .ok_or_else(|| StoreError::corrupt(seq, "a record without kind or time"))?;
    Ok((text, columns))
}

/// The record of a reservation that ended: `commit`, `release` or `expire`.
pub fn ended_record(
    kind: &str,
    reservation: i64,
    decision: i64,
    holds: &[Hold],
) -> Result<Map<String, Json>, StoreError> {
    let mut record = Map::new();
    record.insert("kind".into(), json!(kind));
    record.insert("reservation".into(), json!(format!("res-{reservation}")));
    record.insert("decision".into(), json!(format!("dec-{decision}")));
    record.insert(
        "budgets".into(),
        serde_json::to_value(holds).map_err(|e| StoreError::backend("write a reservation", e))?,
    );
    Ok(record)
}

/// The record of an approver's verdict on an approval.
pub fn verdict_record(
    verdict: ApprovalStatus,
    approval: &str,
    decision: &str,
    by: &str,
    envelope_hash: &str,
    note: Option<&str>,
) -> Map<String, Json> {
    let mut record = Map::new();
    let kind = if verdict == ApprovalStatus::Granted {
        "approve"
    } else {
        "reject"
    };
    record.insert("kind".into(), json!(kind));
    record.insert("approval".into(), json!(approval));
    record.insert("decision".into(), json!(decision));
    record.insert("by".into(), json!(by));
    record.insert("envelope_hash".into(), json!(envelope_hash));
    if let Some(note) = note {
        record.insert("note".into(), json!(note));
    }
    record
}

/// A pending or granted approval past its expiry is expired.
pub fn effective_status(status: &str, expires_at: i64, now: i64) -> ApprovalStatus {
    let status = ApprovalStatus::parse(status).unwrap_or(ApprovalStatus::Rejected);
    match status {
        ApprovalStatus::Pending | ApprovalStatus::Granted if expires_at <= now => {
            ApprovalStatus::Expired
        }
        other => other,
    }
}

/// A stored log record, read back.
pub fn log_entry(
    seq: i64,
    kind: String,
    at: i64,
    hash: String,
    text: &str,
) -> Result<LogEntry, StoreError> {
    let record = serde_json::from_str(text).map_err(|e| StoreError::Corrupt {
        seq: u64::try_from(seq).unwrap_or(0),
        reason: "it is not JSON".into(),
        source: Some(Box::new(e)),
    })?;
    Ok(LogEntry {
        seq: u64::try_from(seq).unwrap_or(0),
        kind,
        at: format_timestamp(at),
        hash,
        record,
    })
}

/// An approval's verdict as a precedent shows it.
pub fn verdict(
    id: i64,
    status: &str,
    expires_at: i64,
    by: Option<String>,
    note: Option<String>,
    now: i64,
) -> Verdict {
    Verdict {
        approval: format!("apr-{id}"),
        status: effective_status(status, expires_at, now),
        by,
        note,
    }
}

/// A past decision's log columns as a precedent.
#[derive(Debug)]
pub struct PastDecision {
    pub seq: i64,
    pub at: i64,
    pub agent: Option<String>,
    pub object: Option<String>,
    pub level: Option<String>,
    pub rules: Option<String>,
}

impl PastDecision {
    /// The precedent, for a packet about `action`.
    pub fn precedent(self, action: &str, same_rules: bool, verdict: Option<Verdict>) -> Precedent {
        Precedent {
            decision: format!("dec-{}", self.seq),
            time: format_timestamp(self.at),
            summary: format!(
                "{} ran {action} on {}",
                self.agent.unwrap_or_default(),
                self.object.unwrap_or_default()
            ),
            outcome: self
                .level
                .as_deref()
                .and_then(|l| Level::ALL.into_iter().find(|x| x.as_str() == l))
                .unwrap_or(Level::Deny),
            rules: self
                .rules
                .unwrap_or_default()
                .split(',')
                .filter(|r| !r.is_empty())
                .map(str::to_string)
                .collect(),
            same_rules,
            verdict,
        }
    }
}
