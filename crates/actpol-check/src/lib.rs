//! Name resolution, type checking and lints: from syntax trees to the typed
//! IR ([`actpol_ir::Policy`]), or to every diagnostic at once.
//!
//! The checker does no IO: it reads a [`SourceDb`] a loader filled. It knows
//! nothing of bytecode or the runtime.

pub mod db;
pub mod report;

pub use db::{FileId, ImportEdge, SourceDb, SourceEntry};
pub use report::{render_json, render_text, Diagnostic};
