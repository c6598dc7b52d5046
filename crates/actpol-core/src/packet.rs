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
    /// How similar past actions were decided (from the decision log, with
    /// a store): the same action and rules first, then the same action,
    /// most recent first.
    pub precedent: Vec<Precedent>,
    pub recovery: Recovery,
    /// Errors that led to this escalation, if evaluation failed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<crate::decision::ErrorOut>,
}

/// A past decision like this one, and what came of it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Precedent {
    /// The decision's id in the log.
    pub decision: String,
    /// When it was decided (RFC 3339, the host's clock).
    pub time: String,
    /// The packet's one-line summary of that action.
    pub summary: String,
    /// How it was decided.
    pub outcome: Level,
    /// The rules that decided it.
    pub rules: Vec<String>,
    /// `true` when it matched on the rules as well as the action.
    pub same_rules: bool,
    /// The approver's verdict, for an escalation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<Verdict>,
}

/// What the approver did with an escalation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// The approval the escalation created (`apr-…`).
    pub approval: String,
    /// Where it stands: pending, granted, rejected, used or expired.
    pub status: crate::approval::ApprovalStatus,
    /// Who granted or rejected it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// The approver's note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
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

/// What a store knows about a packet besides the packet: the decision's id
/// and the approval waiting on it (as Markdown, such as `` `apr-4` ``), for
/// the heading.
#[derive(Clone, Copy, Debug, Default)]
pub struct PacketRefs<'a> {
    pub decision: Option<&'a str>,
    pub approval: Option<&'a str>,
}

impl Packet {
    /// The packet for people: Markdown with a section per concern.
    pub fn to_markdown(&self, refs: PacketRefs<'_>) -> String {
        let mut md = String::new();
        let approver = &self.approver;
        let mut who = format!("`{}`", approver.name);
        let extra: Vec<&str> = [approver.title.as_deref(), approver.contact.as_deref()]
            .into_iter()
            .flatten()
            .collect();
        if !extra.is_empty() {
            who.push_str(&format!(" ({})", extra.join(", ")));
        }
        md.push_str(&format!("# Approval needed from {who}\n\n"));
        md.push_str(&format!("**{}**\n\n", self.summary));
        let ids: Vec<String> = [
            refs.decision.map(|d| format!("decision `{d}`")),
            refs.approval.map(|a| format!("approval {a}")),
        ]
        .into_iter()
        .flatten()
        .collect();
        if !ids.is_empty() {
            md.push_str(&format!("{}\n\n", ids.join(" · ")));
        }

        md.push_str("## Why\n\n");
        for reason in &self.reasons {
            md.push_str(&format!("- {reason}\n"));
        }
        if !self.rules.is_empty() {
            md.push_str(&format!("\nRules: {}\n", code_list(&self.rules)));
        }
        if !self.raised_from.is_empty() {
            md.push_str(&format!(
                "\nRaised from what {} decided.\n",
                code_list(&self.raised_from)
            ));
        }

        md.push_str("\n## The action\n\n");
        self.action_table(&mut md);

        if !self.risk.is_empty() {
            md.push_str("\n## Risk\n\n| risk | value |\n| --- | --- |\n");
            for r in &self.risk {
                md.push_str(&format!(
                    "| `{}` | {} |\n",
                    r.name,
                    cell(&value_text(&r.value))
                ));
            }
        }

        if !self.budgets.is_empty() {
            md.push_str("\n## Budgets\n\n| budget | key | limit | consumed | remaining |\n| --- | --- | ---: | ---: | ---: |\n");
            for b in &self.budgets {
                md.push_str(&format!(
                    "| `{}` | {} | {} | {} | {} |\n",
                    b.name,
                    cell(&b.key),
                    b.limit,
                    b.consumed,
                    b.remaining
                ));
            }
        }

        md.push_str("\n## Precedent\n\n");
        if self.precedent.is_empty() {
            md.push_str("No similar action in the decision log.\n");
        } else {
            md.push_str("| decision | when | outcome | rules | verdict |\n| --- | --- | --- | --- | --- |\n");
            for p in &self.precedent {
                let verdict = match &p.verdict {
                    None => String::from("—"),
                    Some(v) => {
                        let mut text = v.status.as_str().to_string();
                        if let Some(by) = &v.by {
                            text.push_str(&format!(" by `{by}`"));
                        }
                        if let Some(note) = &v.note {
                            text.push_str(&format!(": “{note}”"));
                        }
                        cell(&text)
                    }
                };
                md.push_str(&format!(
                    "| `{}` | {} | {} | {} | {} |\n",
                    p.decision,
                    p.time,
                    p.outcome,
                    if p.rules.is_empty() {
                        String::from("—")
                    } else {
                        code_list(&p.rules)
                    },
                    verdict
                ));
            }
        }

        md.push_str("\n## Recovery\n\n");
        let mut any = false;
        if let Some(rb) = &self.recovery.rollback {
            let mut text = format!("- rollback plan: {}", rb.kind);
            if let Some(action) = &rb.action {
                text.push_str(&format!(" with `{action}`"));
            }
            if let Some(within) = &rb.within {
                text.push_str(&format!(" within {within}"));
            }
            md.push_str(&text);
            md.push('\n');
            any = true;
        }
        if let Some(action) = &self.recovery.compensating_action {
            let within = self
                .recovery
                .within
                .as_ref()
                .map_or(String::new(), |w| format!(" within {w}"));
            md.push_str(&format!("- compensating action: `{action}`{within}\n"));
            any = true;
        }
        if !any {
            md.push_str(&format!(
                "No rollback plan; the action is {}.\n",
                self.action.reversibility
            ));
        }

        if !self.errors.is_empty() {
            md.push_str("\n## Errors\n\n");
            for e in &self.errors {
                md.push_str(&format!("- `{}`: {}\n", e.code, e.message));
            }
        }
        md
    }

    fn action_table(&self, md: &mut String) {
        md.push_str("| | |\n| --- | --- |\n");
        let mut row = |k: &str, v: String| md.push_str(&format!("| {k} | {} |\n", cell(&v)));
        row("system", self.action.system.clone());
        row("reversibility", self.action.reversibility.clone());
        if !self.action.data_classes.is_empty() {
            row("data classes", self.action.data_classes.join(", "));
        }
        if !self.action.triggers.is_empty() {
            row("triggers", self.action.triggers.join(", "));
        }
        if let Some(env) = self.envelope.envelope() {
            row("action", format!("`{}`", env.action.name));
            for (name, value) in &env.action.params {
                row(&format!("params.{name}"), json_text(value));
            }
            row("object", format!("{} `{}`", env.object.ty, env.object.id));
            for (name, value) in &env.object.attrs {
                row(&format!("object.{name}"), json_text(value));
            }
            if let Some(intent) = &env.intent {
                row(
                    "intent",
                    format!("{} (confidence {})", intent.goal, intent.confidence),
                );
            }
            if let Some(plan) = &env.plan {
                row("plan", format!("`{}` step {}", plan.id, plan.step));
            }
            row("time (as sent)", env.time.clone());
        }
    }
}

/// A policy value as a table cell reads it: text without quotes.
fn value_text(value: &ValueOut) -> String {
    match value {
        ValueOut::Text(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A JSON value as a table cell reads it: strings without quotes.
fn json_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn code_list(items: &[String]) -> String {
    items
        .iter()
        .map(|i| format!("`{i}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Text safe inside a Markdown table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}
