//! Exception packets (C8): everything an approver needs in one place.
//!
//! A packet shares the envelope it is about (an `Arc`), so building one
//! costs a few small vectors, not a copy of the envelope.

use serde::{Deserialize, Serialize};

use crate::decision::{BudgetUse, Level, Settle, ValueOut};
use crate::envelope::{BoundEnvelope, EnvelopeCopy, RollbackInfo};
use crate::schema::{ReversibilityClass, TriggerDef};
use crate::value::format_duration;

/// What an approver reads before deciding on an escalated action.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Packet {
    /// One line: who asks to do what to which object.
    pub summary: String,
    pub approver: ApproverCard,
    /// The action envelope as the agent sent it: agent, owner, workflow,
    /// action and parameters, object, intent, rollback plan, plan, time.
    pub envelope: EnvelopeCopy,
    /// What the schema says of the action.
    pub action: ActionCard,
    /// The rules that decided, and why.
    pub rules: Vec<String>,
    pub reasons: Vec<String>,
    /// Rules whose decision a raise lifted to this escalation (C7).
    pub raised_from: Vec<String>,
    /// The policy's named risks that apply to this action, evaluated.
    pub risk: Vec<RiskFactor>,
    /// Budget state after this decision.
    pub budgets: Vec<BudgetUse>,
    /// How similar past actions were decided (from a decision log, when
    /// the host keeps one).
    pub precedent: Vec<Precedent>,
    pub recovery: Recovery,
    /// Errors that led to this escalation, if evaluation failed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<crate::decision::ErrorOut>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApproverCard {
    pub name: String,
    pub title: Option<String>,
    pub contact: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActionCard {
    pub system: String,
    /// `reversible`, `compensable` or `irreversible`.
    pub reversibility: String,
    pub data_classes: Vec<String>,
    /// Declared downstream effects: action names, or `system <name>`.
    pub triggers: Vec<String>,
}

/// A named risk of the policy, evaluated for this envelope.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RiskFactor {
    /// The risk's declared name.
    pub name: String,
    /// Its value.
    pub value: ValueOut,
}

/// A past decision like this one, and how it ended.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Precedent {
    /// The past decision's id in the decision log.
    pub decision_id: String,
    /// When it was decided (RFC 3339).
    pub time: String,
    /// The action it was about.
    pub action: String,
    /// What was decided.
    pub decision: Level,
    /// The rules that decided it.
    pub rules: Vec<String>,
    /// What the approver answered, for an escalation that was answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<Verdict>,
}

/// An approver's answer to an escalation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// The action may go ahead.
    Approved,
    /// It may not.
    Rejected,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Recovery {
    /// The envelope's rollback plan, if it carries one.
    pub rollback: Option<RollbackInfo>,
    /// The schema's compensating action, for a compensable action.
    pub compensating_action: Option<String>,
    pub within: Option<String>,
}

/// What the decision settled, for the packet.
pub(crate) struct Settled<'a> {
    pub approver: &'a str,
    pub rules: &'a [String],
    pub reasons: &'a [String],
    pub budgets: &'a [BudgetUse],
    pub raised_from: &'a [String],
    pub risks: Vec<(String, ValueOut)>,
}

/// Builds the packet of an escalated decision.
pub(crate) fn build(ctx: Settle<'_>, env: &BoundEnvelope, settled: Settled<'_>) -> Packet {
    let schema = ctx.schema;
    let action = schema.action(env.action);
    let env_copy = env.copy();
    let (reversibility, compensating_action, within) = match action.reversibility {
        ReversibilityClass::Reversible => ("reversible", None, None),
        ReversibilityClass::Compensable { by, within } => (
            "compensable",
            Some(schema.action_name(by).to_string()),
            within.map(format_duration),
        ),
        ReversibilityClass::Irreversible => ("irreversible", None, None),
    };
    let triggers = action
        .triggers
        .iter()
        .map(|t| match t {
            TriggerDef::Action(a) => schema.action_name(*a).to_string(),
            TriggerDef::System(s) => format!("system {}", schema.system_name(*s)),
        })
        .collect();
    let mut data_classes: Vec<String> = Vec::new();
    for class in action
        .data_classes
        .iter()
        .chain(&schema.entity(action.object).data_classes)
    {
        let name = schema.data_class_name(*class);
        if !data_classes.iter().any(|d| d == name) {
            data_classes.push(name.to_string());
        }
    }
    let approver_def = ctx.meta.approvers.get(settled.approver);
    Packet {
        summary: format!(
            "{} ({}, workflow {}) asks to run {} on {} {}",
            env.agent_id,
            env.owner,
            env.workflow,
            schema.action_name(env.action),
            schema.entity_name(action.object),
            env.object_id
        ),
        approver: ApproverCard {
            name: settled.approver.to_string(),
            title: approver_def.and_then(|a| a.title.clone()),
            contact: approver_def.and_then(|a| a.contact.clone()),
        },
        envelope: env_copy,
        action: ActionCard {
            system: schema.system_name(action.system).to_string(),
            reversibility: reversibility.to_string(),
            data_classes,
            triggers,
        },
        rules: settled.rules.to_vec(),
        reasons: settled.reasons.to_vec(),
        raised_from: settled.raised_from.to_vec(),
        risk: settled
            .risks
            .into_iter()
            .map(|(name, value)| RiskFactor { name, value })
            .collect(),
        budgets: settled.budgets.to_vec(),
        precedent: Vec::new(),
        recovery: Recovery {
            rollback: env.rollback.as_ref().map(|r| RollbackInfo {
                kind: r.kind.to_string(),
                action: r.action.as_deref().map(str::to_string),
                within: r.within_text.as_deref().map(str::to_string),
            }),
            compensating_action,
            within,
        },
        errors: Vec::new(),
    }
}
