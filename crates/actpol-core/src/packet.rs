//! Exception packets (C8): everything an approver needs in one place.

use serde_json::{json, Value as Json};

use crate::decision::{BudgetUse, Settle};
use crate::envelope::BoundEnvelope;
use crate::schema::{ReversibilityClass, TriggerDef};
use crate::value::format_duration;

/// What the decision settled, for the packet.
pub(crate) struct Settled<'a> {
    pub approver: &'a str,
    pub rules: &'a [String],
    pub reasons: &'a [String],
    pub budgets: &'a [BudgetUse],
    /// The rules whose decision a raise lifted.
    pub raised_from: &'a [String],
    pub risks: Vec<(String, Json)>,
}

/// Builds the packet of an escalated decision.
pub(crate) fn build(ctx: Settle<'_>, env: &BoundEnvelope, settled: Settled<'_>) -> Json {
    let Settled {
        approver,
        rules,
        reasons,
        budgets,
        raised_from,
        risks,
    } = settled;
    let schema = ctx.schema;
    let action = schema.action(env.action);
    let raw = &env.raw;
    let (reversibility, compensating_action, within) = match action.reversibility {
        ReversibilityClass::Reversible => ("reversible", None, None),
        ReversibilityClass::Compensable { by, within } => (
            "compensable",
            Some(schema.action_name(by).to_string()),
            within.map(format_duration),
        ),
        ReversibilityClass::Irreversible => ("irreversible", None, None),
    };
    let triggers: Vec<String> = action
        .triggers
        .iter()
        .map(|t| match t {
            TriggerDef::Action(a) => schema.action_name(*a).to_string(),
            TriggerDef::System(s) => format!("system {}", schema.system_name(*s)),
        })
        .collect();
    let data_classes: Vec<&str> = action
        .data_classes
        .iter()
        .chain(schema.entity(action.object).data_classes.iter())
        .map(|d| schema.data_class_name(*d))
        .collect();
    let approver_def = ctx.meta.approvers.get(approver);
    json!({
        "summary": format!(
            "{} ({}, workflow {}) asks to run {} on {} {}",
            raw.agent.id, raw.agent.owner, raw.agent.workflow, raw.action.name, raw.object.ty, raw.object.id
        ),
        "approver": {
            "name": approver,
            "title": approver_def.and_then(|a| a.title.clone()),
            "contact": approver_def.and_then(|a| a.contact.clone()),
        },
        "agent": raw.agent,
        "action": {
            "name": raw.action.name,
            "system": schema.system_name(action.system),
            "params": raw.action.params,
            "reversibility": reversibility,
            "data_classes": data_classes,
            "triggers": triggers,
        },
        "object": raw.object,
        "intent": raw.intent,
        "plan": raw.plan,
        "time": raw.time,
        "rules": rules,
        "reasons": reasons,
        "raised_from": raised_from,
        "risk": risks.into_iter().map(|(name, value)| json!({"name": name, "value": value})).collect::<Vec<_>>(),
        "budgets": budgets,
        // Filled from the decision log once one is kept (C10).
        "precedent": [],
        "recovery": {
            "rollback": raw.rollback,
            "compensating_action": compensating_action,
            "within": within,
        },
    })
}
