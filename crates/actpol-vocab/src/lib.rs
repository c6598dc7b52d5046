//! The words a policy's text and a decision share: the four decision
//! levels, the operators a `constrain` outcome bounds a parameter with, and
//! what an outcome may require of the action. The parser reads them from
//! text and the runtime reports them in decisions; both use these types.
//! Both also suggest a near word for a misspelt one ([`suggest`]).
//!
//! Architecture invariant: this crate knows nothing else (no text, no
//! schema, no values), so that both the syntax crate and the runtime crates
//! can depend on it without depending on each other.

#![deny(missing_docs)]

pub mod suggest;

use serde::{Deserialize, Serialize};

/// The four decisions, ordered from the most permissive to the strictest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// The action may go ahead.
    Allow,
    /// The action may go ahead within the decision's constraints.
    Constrain,
    /// A named human decides.
    Escalate,
    /// The action must not go ahead.
    Deny,
}

impl Level {
    /// Every level, from the most permissive to the strictest.
    pub const ALL: [Level; 4] = [Level::Allow, Level::Constrain, Level::Escalate, Level::Deny];

    /// The level as policies and decisions write it: `allow`, `constrain`…
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Allow => "allow",
            Level::Constrain => "constrain",
            Level::Escalate => "escalate",
            Level::Deny => "deny",
        }
    }

    /// Whether the action may go ahead (and budgets are consumed).
    pub fn proceeds(self) -> bool {
        self <= Level::Constrain
    }
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a `constrain` outcome bounds a parameter.
///
/// Its serde form is the variant's index (the artifact's encoding); a
/// decision writes the operator as text with [`ConstraintOp::as_str`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ConstraintOp {
    /// `<=`
    Le,
    /// `<`
    Lt,
    /// `>=`
    Ge,
    /// `>`
    Gt,
    /// `in`: one of a set of values.
    In,
}

impl ConstraintOp {
    /// Every operator.
    pub const ALL: [ConstraintOp; 5] = [
        ConstraintOp::Le,
        ConstraintOp::Lt,
        ConstraintOp::Ge,
        ConstraintOp::Gt,
        ConstraintOp::In,
    ];

    /// The operator as policies and decisions write it.
    pub fn as_str(self) -> &'static str {
        match self {
            ConstraintOp::Le => "<=",
            ConstraintOp::Lt => "<",
            ConstraintOp::Ge => ">=",
            ConstraintOp::Gt => ">",
            ConstraintOp::In => "in",
        }
    }

    /// The operator written `text`, if it is one.
    pub fn from_text(text: &str) -> Option<ConstraintOp> {
        ConstraintOp::ALL.into_iter().find(|op| op.as_str() == text)
    }
}

impl std::fmt::Display for ConstraintOp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an outcome may require of the action: `require dry_run`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Requirement {
    /// The action runs as a dry run first.
    DryRun,
    /// The envelope carries a rollback plan.
    Rollback,
}

impl Requirement {
    /// Every requirement.
    pub const ALL: [Requirement; 2] = [Requirement::DryRun, Requirement::Rollback];

    /// The requirement as policies and decisions write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Requirement::DryRun => "dry_run",
            Requirement::Rollback => "rollback",
        }
    }

    /// The requirement written `text`, if it is one.
    pub fn from_text(text: &str) -> Option<Requirement> {
        Requirement::ALL.into_iter().find(|r| r.as_str() == text)
    }
}

impl std::fmt::Display for Requirement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_forms_read_back() {
        for op in ConstraintOp::ALL {
            assert_eq!(ConstraintOp::from_text(op.as_str()), Some(op));
        }
        for r in Requirement::ALL {
            assert_eq!(Requirement::from_text(r.as_str()), Some(r));
        }
        assert_eq!(ConstraintOp::from_text("=="), None);
    }

    #[test]
    fn levels_order_from_permissive_to_strict() {
        assert!(Level::ALL.windows(2).all(|w| w[0] < w[1]));
        assert!(Level::Constrain.proceeds());
        assert!(!Level::Escalate.proceeds());
    }
}
