//! What compiler and runtime share: the schema of business objects and the
//! policy's declarations ([`schema`]), values ([`value`]), the envelope and
//! decision contracts ([`envelope`], [`decision`]), how rule outcomes combine
//! into a decision, exception packets, and the state view budgets and
//! windows are read from ([`state`]).
//!
//! This crate knows nothing of policy text, expressions or bytecode: it must
//! stay small enough for the runtime to link without the compiler.

pub mod amount;
pub mod approval;
pub mod canonical;
pub mod clock;
pub mod collections;
pub mod decision;
pub mod envelope;
mod envelope_bytes;
mod envelope_errors;
mod envelope_screen;
pub mod error;
pub mod ids;
mod json_object;
pub mod nesting;
pub mod ops;
pub mod packet;
pub mod reads;
mod related;
pub mod schema;
pub mod state;
/// "Did you mean" suggestions, shared with the syntax crate.
pub use actpol_vocab::suggest;
pub mod text;
pub mod types;
pub mod value;
pub mod zones;

pub use decision::{Combiner, Decision, Hit, Level, Probe, Settle};
pub use envelope::{BoundEnvelope, Envelope, EnvelopeError};
pub use error::{ErrorCode, ErrorFamily, EvalError};
pub use ids::*;
pub use rust_decimal::Decimal;
pub use schema::{PolicyMeta, Schema};
pub use state::{MemoryState, StateView};
pub use types::{Currency, Type};
pub use value::Value;
