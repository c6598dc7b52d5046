//! Embed actpol: compile `.actpol` policies (or load a compiled artifact)
//! and decide on action envelopes.
//!
//! ```no_run
//! use actpol::{MemoryState, Policy, Request};
//!
//! let policy = Policy::from_paths(&["examples/growth"]).expect("policy compiles");
//! let envelope = std::fs::read("examples/growth/envelopes/bulk-send-escalates.json").unwrap();
//! let state = MemoryState::default();
//!
//! let decision = policy.decide(&envelope, &state);
//! println!("{}", serde_json::to_string_pretty(&decision).unwrap());
//!
//! // The same decision, with an explanation of every candidate rule.
//! let explained = policy.decide(Request::new(&envelope).explained(), &state);
//! print!("{}", actpol::explain_text(&explained));
//! ```
//!
//! This crate is the one an embedding program, the `actpol` command and the
//! policy test runner use: everything they need is exported here. It joins
//! the pipeline (load → parse → check → compile → run), owns the only file
//! IO of the compiler side, and decides through [`Policy`]. The runtime
//! beneath it links none of the compiler.
//!
//! - Deciding: [`Policy`], [`Request`]; the contract types in [`decision`]
//!   and [`envelope`].
//! - Deciding with a [`store`]: budgets really consumed, windows over what
//!   really happened, approvals bound to the action, a hash-chained
//!   decision log ([`Policy::decide_stored`]).
//! - State: [`state`] holds everything needed to implement a state view
//!   ([`state::StateView`]) or a budget ledger ([`state::BudgetLedger`]).
//! - Errors: every runtime error has an [`ErrorCode`]; see [`error`].
//! - Authoring: [`check_paths`], [`check_sources`], [`format_source`].
//! - Loading: [`LoadOptions`] say where imports may reach and which key an
//!   artifact must be signed by ([`SecretKey`], [`PublicKey`]); [`walk`]
//!   lists a policy directory's files, bounded.
//! - Plans: a DAG of actions decided as a whole before it runs
//!   ([`Policy::read_plan`], [`Policy::decide_plan`], [`plan`]).
//! - Testing a policy's tests: [`mutate`] makes its mutants and the probes
//!   condition coverage reads.

#![deny(missing_docs)]

mod check;
mod compile;
mod explain;
mod keys;
mod load;
pub mod mutate;
pub mod plan;
mod policy;
pub mod store;
pub mod walk;

pub use check::{check_paths, check_paths_with, check_sources, format_source, CheckReport};
pub use check::{line_too_long_to_quote, QUOTE_LIMIT};
pub use compile::{compile_paths, compile_paths_with, compile_sources, CompileFailure};
pub use explain::explain_text;
pub use keys::{KeyError, PublicKey, SecretKey};
pub use load::{read_policy_file, LoadError, LoadOptions, ReadFailure, MAX_FILE_BYTES};
pub use policy::{Input, Policy, Request, RuleInfo};

pub use decision::{ConstraintOut, Decision, Escalation, Level};
pub use envelope::{BoundEnvelope, Envelope, EnvelopeError, EnvelopeLimits};
pub use error::{ArtifactError, ErrorCode, ErrorFamily, EvalError};
pub use state::{MemoryState, StateView};

/// The decision contract: a decision and everything in it, as Rust types
/// that serialise to the decision JSON.
pub mod decision {
    pub use actpol_core::decision::{
        Amount, BudgetUse, ConstraintOp, ConstraintOut, Decision, ErrorOut, Escalation,
        Explanation, FailedPart, Level, Operand, PolicyRef, Requirement, RuleTrace, Stage,
        ValueOut,
    };
    pub use actpol_core::packet::{
        ActionCard, ApproverCard, Packet, Precedent, Recovery, RiskFactor, Verdict,
    };
}

/// The envelope contract: what an agent proposes, as JSON and as Rust
/// types, and the envelope bound to a policy's schema.
pub mod envelope {
    pub use actpol_core::envelope::{
        ActionInfo, AgentInfo, BoundEnvelope, BoundRollback, Envelope, EnvelopeCopy, EnvelopeError,
        EnvelopeLimits, EnvelopeText, IntentInfo, ObjectInfo, PlanInfo, RollbackInfo, FREE_TEXT,
        MAX_ELEMENTS,
    };
}

/// What a decision reads besides the envelope: budgets and windows.
///
/// A host implements [`StateView`] to answer a decision's reads (how much
/// of a budget is consumed under a key, what a window counts), and
/// [`BudgetLedger`] to apply what decisions consume. [`MemoryState`] is
/// the in-memory view the command and tests use.
pub mod state {
    pub use actpol_core::amount::Amount;
    pub use actpol_core::decision::BudgetUse;
    pub use actpol_core::schema::{KeyKind, Window};
    pub use actpol_core::state::{
        pattern_matches, BudgetEntry, BudgetLedger, Event, MemoryState, StateError, StateView,
        WindowKind, WindowQuery, BASELINE_SPAN_MS,
    };
    pub use actpol_core::Decimal;
}

/// Runtime errors and their codes. Every error a host may meet after a
/// policy compiled has an [`ErrorCode`] whose text (`actpol::<family>::<kind>`)
/// decisions and diagnostics show, and a `source()` when it has a cause.
pub mod error {
    pub use crate::compile::CompileFailure;
    pub use crate::keys::KeyError;
    pub use crate::load::{LoadError, ReadFailure};
    pub use actpol_bytecode::artifact::ArtifactError;
    pub use actpol_bytecode::VerifyError;
    pub use actpol_core::envelope::EnvelopeError;
    pub use actpol_core::error::{ErrorCode, ErrorFamily, EvalError};
    pub use actpol_core::state::StateError;
}

/// How values are written in envelopes, decisions and test files: amounts,
/// durations, timestamps; and the "did you mean" of every diagnostic.
pub mod values {
    pub use actpol_core::amount;
    pub use actpol_core::canonical::{hex, hex32};
    pub use actpol_core::suggest::did_you_mean;
    pub use actpol_core::value::{
        format_duration, format_timestamp, parse_duration, parse_timestamp,
    };
}

/// The compiled form beneath [`Policy`], for tools that work on it: the
/// artifact format's own tests, benchmarks, disassembly. Its shape follows
/// the bytecode and may change with the artifact format version; programs
/// that embed actpol decide through [`Policy`].
pub mod advanced {
    pub use actpol_bytecode::artifact::{key_id, Artifact, Signature, FORMAT_VERSION, MAGIC};
    pub use actpol_bytecode::{disasm, Instr, Program};
    /// A constant of a program (`Program::consts`).
    pub use actpol_core::value::Value;
}
