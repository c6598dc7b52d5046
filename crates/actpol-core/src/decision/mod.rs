//! The decision contract (see "The decision" in `docs/language.md`) as Rust
//! types that serialise to the decision JSON, and how rule outcomes combine
//! into one decision (C6).
//!
//! - [`combine`]: the strictest level wins, constraints merge to the
//!   tightest ([`limits`]), budgets are checked and consumed ([`budgets`]),
//!   raises (C7) lift the level, and the declared default applies when no
//!   rule matched;
//! - [`admission`]: identity (C2) and the part of scope (C3) known without
//!   evaluating;
//! - [`precedence`]: escalations declared to stand above named rules'
//!   denials;
//! - [`explanation`]: why, rule by rule (C11).
//!
//! Both the VM and the reference evaluator feed [`Combiner`]; what differs
//! between them is only how they find out which rules matched.

use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use crate::amount::Amount;
use crate::approval::ApprovalOut;
use crate::error::ErrorCode;
pub use crate::error::EvalError;
pub use actpol_vocab::{ConstraintOp, Level, Requirement};

pub mod admission;
mod budgets;
pub mod combine;
pub mod explanation;
mod limits;
pub mod precedence;

pub use admission::{identify, out_of_scope_record, scope_admits};
pub use combine::{failed, failed_bound, refused, Combiner, Hit, ParamLimit, Probe, Settle};
pub use explanation::{Explanation, FailedPart, Operand, RuleTrace, Stage};

/// The decision JSON. Field names and their order are part of the contract.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    /// `allow`, `constrain`, `escalate` or `deny`.
    pub decision: Level,
    /// Why, in the words of the rules (or budgets, raises, the default)
    /// that set the level.
    pub reasons: Vec<String>,
    /// The rules and raises that set the level.
    pub rules: Vec<String>,
    /// What a `constrain` decision binds the action to.
    pub constraints: Vec<ConstraintOut>,
    /// Who decides an `escalate` decision, with the exception packet.
    /// Boxed, as the approval is: most decisions have neither, and a
    /// decision is returned by value through every layer that makes it.
    pub escalation: Option<Box<Escalation>>,
    /// Every budget the matched rules consume, after this decision.
    pub budgets: Vec<BudgetUse>,
    /// The policy that decided.
    pub policy: PolicyRef,
    /// Errors met on the way; a decision with errors never allows.
    pub errors: Vec<ErrorOut>,
    /// Present when an explanation was asked for (C11). Boxed: most
    /// decisions have none, and a decision is moved by value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explanation: Option<Box<Explanation>>,
    /// With a store: the decision's id in the decision log (`dec-…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// With a store: the reservations this decision holds (`res-…`), to
    /// commit once the action ran or release if it did not.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reservations: Vec<String>,
    /// The approval this decision used or refused, or, with a store, the
    /// pending approval an escalation created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<Box<ApprovalOut>>,
}

// A decision is returned by value through every layer that makes it (the
// machine, the runtime, the policy, a store): its rare, large parts are
// boxed so that each move copies a few words, not a packet.
const _: () = assert!(std::mem::size_of::<Decision>() <= 240);

/// One constraint of a `constrain` decision.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ConstraintOut {
    /// A bound on a parameter: `params.recipients <= 50`.
    Param {
        /// The parameter's name.
        param: String,
        /// The operator.
        #[serde(with = "op_text")]
        op: ConstraintOp,
        /// The bound: a value, or for `in` a list of values.
        value: ValueOut,
    },
    /// Something the action must do: `require dry_run`.
    Require {
        /// What is required.
        #[serde(with = "requirement_text")]
        require: Requirement,
    },
}

/// A policy value as decisions and packets write it: `true`, `120`,
/// `"15m"`, `"gold"`, `["emea", "apac"]`. Money is a number (the policy's
/// types fix its currency), durations and timestamps are text, enum
/// variants are their names.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ValueOut {
    /// A boolean.
    Bool(bool),
    /// A number.
    Number(Amount),
    /// Text: a string, an id, a duration, a timestamp, an enum variant.
    Text(String),
    /// A set's members.
    List(Vec<ValueOut>),
}

/// Written as JSON text: `120`, `"15m"`, `["a","b"]`.
impl std::fmt::Display for ValueOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = serde_json::to_string(self).map_err(|_| std::fmt::Error)?;
        f.write_str(&text)
    }
}

/// Who decides an escalated action, and what they are shown.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Escalation {
    /// The approver's declared name.
    pub approver: String,
    /// The exception packet (C8). Absent only when evaluation failed before
    /// the envelope could be read.
    pub packet: Option<crate::packet::Packet>,
    /// Budgets the action would pass, whose `on_exhausted` escalated: an
    /// approval of this escalation lets the action pass them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub budgets: Vec<String>,
}

/// A budget the decision reads and, if it proceeds, consumes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BudgetUse {
    /// The budget's declared name.
    pub name: String,
    /// The key it is kept under: `agent:growth-bot`, `plan:p-7`…
    pub key: String,
    /// The budget's limit.
    pub limit: Amount,
    /// Consumed in the window after this decision.
    pub consumed: Amount,
    /// The limit less what is consumed.
    pub remaining: Amount,
    /// What this decision consumes (zero unless it proceeds).
    pub delta: Amount,
}

/// The policy that decided.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PolicyRef {
    // Shared: every decision names its policy, and none should allocate for it.
    /// The policy's declared name.
    pub name: Arc<str>,
    /// `sha256:<hex>` of its sources.
    pub hash: Arc<str>,
}

impl PolicyRef {
    /// A policy's name and hash, shared by the decisions that name it.
    pub fn new(name: &str, hash: &str) -> PolicyRef {
        PolicyRef {
            name: Arc::from(name),
            hash: Arc::from(hash),
        }
    }
}

/// An error a decision reports.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErrorOut {
    /// The error's stable code, written as its text.
    pub code: ErrorCode,
    /// What went wrong, for people.
    pub message: String,
    /// The JSON path of the offending envelope field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The rule whose evaluation failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// What to do about it, when the error says (an envelope's errors do).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

impl ErrorOut {
    /// An evaluation error as a decision reports it; `rule` names the rule
    /// or raise that failed, if one did.
    pub fn eval(err: &EvalError, rule: Option<String>) -> Self {
        ErrorOut {
            code: err.code(),
            message: err.to_string(),
            path: None,
            rule,
            help: None,
        }
    }
}

impl From<&crate::envelope::EnvelopeError> for ErrorOut {
    fn from(err: &crate::envelope::EnvelopeError) -> Self {
        ErrorOut {
            code: err.code,
            message: err.message.clone(),
            path: Some(err.path.clone()),
            rule: None,
            help: err.help.clone(),
        }
    }
}

/// A constraint operator as decisions write it: `<=`, `in`…
mod op_text {
    use super::*;

    pub fn serialize<S: Serializer>(op: &ConstraintOp, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(op.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<ConstraintOp, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        ConstraintOp::from_text(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("no constraint operator `{text}`")))
    }
}

/// A requirement as decisions write it: `dry_run`, `rollback`.
mod requirement_text {
    use super::*;

    pub fn serialize<S: Serializer>(r: &Requirement, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(r.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Requirement, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Requirement::from_text(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("no requirement `{text}`")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn constraints_read_back_as_they_are_written() {
        let written = json!([
            {"param": "recipients", "op": "<=", "value": 50},
            {"param": "region", "op": "in", "value": ["emea", "apac"]},
            {"param": "within", "op": ">", "value": "15m"},
            {"require": "dry_run"}
        ]);
        let read: Vec<ConstraintOut> = serde_json::from_value(written.clone()).unwrap();
        assert_eq!(
            read[0],
            ConstraintOut::Param {
                param: "recipients".into(),
                op: ConstraintOp::Le,
                value: ValueOut::Number(Amount::from(50)),
            }
        );
        assert_eq!(
            read[3],
            ConstraintOut::Require {
                require: Requirement::DryRun
            }
        );
        assert_eq!(serde_json::to_value(&read).unwrap(), written);
        let bad = json!([{"param": "x", "op": "==", "value": 1}]);
        assert!(serde_json::from_value::<Vec<ConstraintOut>>(bad).is_err());
    }

    #[test]
    fn values_print_as_json() {
        let v = ValueOut::List(vec![
            ValueOut::Text("a".into()),
            ValueOut::Number(Amount::from(2)),
            ValueOut::Bool(true),
        ]);
        assert_eq!(v.to_string(), r#"["a",2,true]"#);
    }
}
