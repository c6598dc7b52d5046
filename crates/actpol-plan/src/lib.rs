//! Plans: an agent's proposed actions as a DAG, decided as a whole before
//! the first step runs.
//!
//! A plan document ([`document`]) names an id, the agent and the nodes
//! (each an envelope without the fields the plan shares) with the edges
//! between them. [`Plan::read`] checks it (duplicate ids, dangling edges,
//! cycles, nodes whose envelope does not bind are errors with JSON paths),
//! orders it (topologically, ties by document order) and expands each
//! node's declared downstream effects (`triggers`) into implied nodes.
//! [`Plan::decide`] decides every node in that order against a view of
//! the state that adds what the nodes before it consume ([`overlay`]),
//! marks what sits downstream of a node that does not proceed as blocked,
//! and gathers every escalation into one exception packet. [`render`]
//! writes the result as Graphviz DOT, Mermaid or text.
//!
//! This crate owns plan semantics only. It knows the core contracts
//! (envelopes, decisions, the state view, the schema), and decides through
//! a [`Decider`] the facade implements over the runtime; it must not know
//! the parser, the compiler, the VM, SQL or HTTP.

#![deny(missing_docs)]

pub mod document;
mod error;
mod evaluate;
mod graph;
pub mod overlay;
pub mod render;

pub use document::{Plan, PlanNode};
pub use error::{PlanError, PlanErrors};
pub use evaluate::{EdgeOut, EscalatedNode, NodeDecision, PlanDecision, PlanPacket};

use actpol_core::envelope::{BoundEnvelope, Envelope, EnvelopeError};
use actpol_core::{Decision, Schema, StateView};

/// What decides one node: the facade implements it over a compiled policy.
pub trait Decider {
    /// The policy's schema: actions, their triggers, entities.
    fn schema(&self) -> &Schema;
    /// Binds an envelope to the schema.
    fn bind(&self, envelope: Envelope) -> Result<BoundEnvelope, EnvelopeError>;
    /// Decides on a bound envelope against `state`.
    fn decide(&self, envelope: &BoundEnvelope, state: &dyn StateView) -> Decision;
    /// The decision for an envelope that could not be bound: the policy's
    /// `on_error`, never `allow`.
    fn refuse(&self, error: &EnvelopeError) -> Decision;
}
