//! What a test, a snapshot or a diff compares of a decision: the decision
//! contract less what changes with every edit of the policy (its hash) and
//! what is evidence rather than outcome (the exception packet). Two records
//! are equal exactly when an agent would be told the same thing.

use actpol::decision::BudgetUse;
use actpol::plan::PlanDecision;
use actpol::values::amount;
use actpol::{ConstraintOut, Decision, Level};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

/// A decision as tests, snapshots and diffs see it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    pub decision: Level,
    /// Who must decide, when the decision is `escalate`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approver: Option<String>,
    pub rules: Vec<String>,
    pub reasons: Vec<String>,
    #[serde(default)]
    pub constraints: Vec<ConstraintOut>,
    #[serde(default)]
    pub budgets: Vec<BudgetUse>,
    /// Error codes, in the decision's order.
    #[serde(default)]
    pub errors: Vec<String>,
    /// For a plan: each node, in the plan's order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nodes: Vec<NodeRecord>,
}

/// One node of a decided plan, as a plan case compares it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeRecord {
    pub id: String,
    pub decision: Level,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approver: Option<String>,
    pub rules: Vec<String>,
    pub reasons: Vec<String>,
    pub blocked_by: Vec<String>,
}

impl From<&Decision> for Record {
    fn from(d: &Decision) -> Self {
        Record {
            decision: d.decision,
            approver: d.escalation.as_ref().map(|e| e.approver.clone()),
            rules: d.rules.clone(),
            reasons: d.reasons.clone(),
            constraints: d.constraints.clone(),
            budgets: d.budgets.clone(),
            errors: d.errors.iter().map(|e| e.code.to_string()).collect(),
            nodes: Vec::new(),
        }
    }
}

/// A plan's decision: the strictest of its nodes', with the rules, reasons
/// and errors of every node (each once, in the plan's order), and each node.
impl From<&PlanDecision> for Record {
    fn from(plan: &PlanDecision) -> Self {
        let mut record = Record {
            decision: plan.decision,
            approver: None,
            rules: Vec::new(),
            reasons: Vec::new(),
            constraints: Vec::new(),
            budgets: Vec::new(),
            errors: Vec::new(),
            nodes: Vec::with_capacity(plan.nodes.len()),
        };
        for node in &plan.nodes {
            push_new(&mut record.rules, &node.rules);
            push_new(&mut record.reasons, &node.reasons);
            let codes: Vec<String> = node.errors.iter().map(|e| e.code.to_string()).collect();
            push_new(&mut record.errors, &codes);
            record.nodes.push(NodeRecord {
                id: node.id.clone(),
                decision: node.decision,
                approver: node.approver.clone(),
                rules: node.rules.clone(),
                reasons: node.reasons.clone(),
                blocked_by: node.blocked_by.clone(),
            });
        }
        record
    }
}

fn push_new(into: &mut Vec<String>, items: &[String]) {
    for item in items {
        if !into.contains(item) {
            into.push(item.clone());
        }
    }
}

impl Record {
    /// One line: `escalate to growth-lead, by bulk_send`.
    pub fn headline(&self) -> String {
        let mut out = self.decision.to_string();
        if let Some(approver) = &self.approver {
            out.push_str(" to ");
            out.push_str(approver);
        }
        out.push_str(&by_rules(&self.rules));
        out
    }
}

/// `, by a, b` or `, by no rule`: the rules responsible for a decision.
pub fn by_rules(rules: &[String]) -> String {
    if rules.is_empty() {
        ", by no rule (default, admission or error)".to_string()
    } else {
        format!(", by {}", rules.join(", "))
    }
}

/// One field on which two decisions differ, each side shown for people.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Difference {
    pub field: &'static str,
    /// The expected (or recorded, or old) side.
    pub expected: String,
    /// The actual (or current, or new) side.
    pub actual: String,
}

impl Difference {
    pub fn new(
        field: &'static str,
        expected: impl Into<String>,
        actual: impl Into<String>,
    ) -> Self {
        Difference {
            field,
            expected: expected.into(),
            actual: actual.into(),
        }
    }
}

/// Every field on which `old` and `new` differ, in contract order.
pub fn differences(old: &Record, new: &Record) -> Vec<Difference> {
    type Shown = fn(&Record) -> String;
    let fields: [(&'static str, Shown); 7] = [
        ("decision", |r| r.decision.to_string()),
        ("approver", |r| {
            r.approver.clone().unwrap_or_else(|| "none".to_string())
        }),
        ("rules", |r| list(&r.rules)),
        ("reasons", |r| quoted_list(&r.reasons)),
        ("constraints", |r| constraints_text(&r.constraints)),
        ("budgets", |r| budgets_text(&r.budgets)),
        ("errors", |r| list(&r.errors)),
    ];
    fields
        .iter()
        .filter_map(|(field, show)| {
            let (a, b) = (show(old), show(new));
            (a != b).then(|| Difference::new(field, a, b))
        })
        .collect()
}

pub fn list(items: &[String]) -> String {
    format!("[{}]", items.join(", "))
}

pub fn quoted_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| format!("{s:?}")).collect();
    format!("[{}]", quoted.join(", "))
}

pub fn constraint_text(c: &ConstraintOut) -> String {
    match c {
        ConstraintOut::Param { param, op, value } => format!("{param} {op} {value}"),
        ConstraintOut::Require { require } => format!("require {require}"),
    }
}

pub fn constraints_text(items: &[ConstraintOut]) -> String {
    let parts: Vec<String> = items.iter().map(constraint_text).collect();
    format!("[{}]", parts.join(", "))
}

pub fn budget_text(b: &BudgetUse) -> String {
    format!(
        "{} ({}): consumed {} of {}, this decision {}",
        b.name, b.key, b.consumed, b.limit, b.delta
    )
}

fn budgets_text(items: &[BudgetUse]) -> String {
    let parts: Vec<String> = items.iter().map(budget_text).collect();
    format!("[{}]", parts.join("; "))
}

/// Whether an expected JSON value matches an actual one. Numbers compare by
/// value (`380` matches `380.0`), money may be written with its currency
/// (`"75 USD"` matches `75`), and durations and timestamps by the span or
/// instant they stand for (`"7d"` matches `"1w"`), as the language reads
/// them.
pub fn values_match(expected: &Json, actual: &Json) -> bool {
    if expected == actual {
        return true;
    }
    match (expected, actual) {
        (Json::Array(a), Json::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| values_match(x, y))
        }
        (Json::String(a), Json::String(b)) if same_time(a, b) => true,
        _ => matches!(
            (amount::from_json(expected), amount::from_json(actual)),
            (Some(a), Some(b)) if a == b
        ),
    }
}

fn same_time(a: &str, b: &str) -> bool {
    use actpol::values::{parse_duration, parse_timestamp};
    let durations = parse_duration(a).zip(parse_duration(b));
    let instants = parse_timestamp(a).zip(parse_timestamp(b));
    durations.or(instants).is_some_and(|(x, y)| x == y)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record(decision: Level, rules: &[&str]) -> Record {
        Record {
            decision,
            approver: None,
            rules: rules.iter().map(|s| s.to_string()).collect(),
            reasons: vec![],
            constraints: vec![],
            budgets: vec![],
            errors: vec![],
            nodes: vec![],
        }
    }

    #[test]
    fn differences_name_each_changed_field() {
        let old = record(Level::Allow, &["a"]);
        let mut new = record(Level::Escalate, &["b"]);
        new.approver = Some("lead".into());
        let diffs = differences(&old, &new);
        let fields: Vec<&str> = diffs.iter().map(|d| d.field).collect();
        assert_eq!(fields, ["decision", "approver", "rules"]);
        assert_eq!(diffs[2].expected, "[a]");
        assert_eq!(diffs[2].actual, "[b]");
        assert!(differences(&old, &old).is_empty());
    }

    #[test]
    fn numbers_and_money_match_by_value() {
        assert!(values_match(&json!(380), &json!(380.0)));
        assert!(values_match(&json!("75 USD"), &json!(75)));
        assert!(values_match(&json!("12.50"), &json!(12.5)));
        assert!(!values_match(&json!(380), &json!(381)));
        assert!(!values_match(&json!("dry_run"), &json!("rollback")));
        assert!(values_match(&json!(["a", 1]), &json!(["a", 1.0])));
        assert!(values_match(&json!("7d"), &json!("1w")));
        assert!(!values_match(&json!("7d"), &json!("6d")));
        assert!(values_match(
            &json!("2026-11-25T14:00:00+01:00"),
            &json!("2026-11-25T13:00:00Z")
        ));
    }

    #[test]
    fn headlines_name_the_approver_and_rules() {
        let mut r = record(Level::Escalate, &["bulk_send"]);
        r.approver = Some("growth-lead".into());
        assert_eq!(r.headline(), "escalate to growth-lead, by bulk_send");
        assert!(record(Level::Deny, &[]).headline().contains("by no rule"));
    }
}
