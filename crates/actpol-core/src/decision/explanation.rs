//! Explanations (C11): for each candidate rule, whether it matched, and if
//! not, the first part of its condition that failed with the values seen.
//!
//! Fields are declared in the order of their names, which is the order the
//! JSON has always had.

use serde::{Deserialize, Serialize};

use super::{ErrorOut, Level};

/// Why a decision is what it is, rule by rule.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    /// At the admission stage: why the agent was refused before any rule ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub because: Option<Vec<String>>,
    /// At the rules stage: how many rules the index named for this action
    /// and agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub candidates: Option<usize>,
    /// The candidate rules, in rule order (none at the admission stage).
    pub rules: Vec<RuleTrace>,
    /// How many rules the policy has.
    pub rules_total: usize,
    /// How far the decision got.
    pub stage: Stage,
}

/// How far a decision got before it was settled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    /// Identity or scope refused the agent; no rule ran.
    Admission,
    /// The candidate rules ran.
    Rules,
}

/// What one candidate rule did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RuleTrace {
    /// The rule's condition as written, if it has one.
    pub condition: Option<String>,
    /// The rule's doc comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc: Option<String>,
    /// The error the rule failed with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorOut>,
    /// The first part of the condition that did not hold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed: Option<FailedPart>,
    /// Whether the rule's condition held.
    pub matched: bool,
    /// The level the rule decides when it matches.
    pub outcome: Level,
    /// The escalating rule whose precedence held this rule's denial.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overridden_by: Option<String>,
    /// The rule's name.
    pub rule: String,
}

impl RuleTrace {
    /// Whether the rule was considered and its condition was false (not
    /// matched, and no error).
    pub fn not_matched(&self) -> bool {
        !self.matched && self.error.is_none()
    }
}

/// The part of a condition that did not hold, and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FailedPart {
    /// The part, as written.
    pub condition: String,
    /// The error it failed with, if it failed rather than being false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Its operands' values, if it was false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<Operand>>,
}

/// One operand of a failed part, and the value it had.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Operand {
    /// The operand, as written.
    pub expr: String,
    /// Its value, as explanations show values (`2500`, `"q4"`, `500 USD`).
    pub value: String,
}
