//! Mutants and coverage probes of a checked policy, for testing a policy's
//! tests.
//!
//! A **mutant** is the policy's typed IR ([`actpol_ir::Policy`]) with one
//! part changed the way a mistaken edit would change it: a comparison
//! flipped or its boundary moved, a threshold moved by one unit of how it
//! is written, `and` and `or` swapped, a part of a condition dropped, an
//! outcome weakened one level, a scope's record predicate removed, a
//! consumption changed. A suite that still passes against a mutant does not
//! hold that part of the policy in place ([`mutants`]).
//!
//! A **probe policy** turns every part of every condition (each comparison
//! and boolean operand of a rule's condition, a scope's record predicate or
//! a raise's condition) into a pair of rules that match when the part is
//! reached and true, or reached and false, so the runtime's own
//! explanations say which parts a suite saw both ways ([`probes`]).
//!
//! This crate knows the IR, and the source text the IR keeps (re-reading
//! its syntax trees only to place declarations the IR keeps no span for).
//! It does not compile, decide or read tests: the `actpol` facade compiles
//! mutants and probe policies, and `actpol-testing` runs suites on them.

mod edit;
mod landmarks;
mod literal;
mod mutant;
mod nudge;
mod probe;
mod text;

use std::fmt;

use serde::Serialize;

pub use mutant::{mutants, Mutant, MutantKind};
pub use nudge::{Nudge, NudgeValue};
pub use probe::{probes, Probes, Site, SiteKind};
pub use text::Location;

/// The declaration a mutant or a coverage site belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Owner {
    Rule {
        name: String,
    },
    /// An agent's record predicate on one entity.
    Scope {
        agent: String,
        entity: String,
    },
    Raise {
        name: String,
    },
    Risk {
        name: String,
    },
    Budget {
        name: String,
    },
    /// The policy's `default` or `on_error`.
    Policy,
}

impl fmt::Display for Owner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Owner::Rule { name } => write!(f, "rule {name}"),
            Owner::Scope { agent, entity } => write!(f, "scope of {agent} on {entity}"),
            Owner::Raise { name } => write!(f, "raise {name}"),
            Owner::Risk { name } => write!(f, "risk {name}"),
            Owner::Budget { name } => write!(f, "budget {name}"),
            Owner::Policy => f.write_str("policy"),
        }
    }
}
