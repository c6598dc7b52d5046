//! The decision server: `actpol serve`. Agents in other processes, hosts
//! and languages send an action envelope over HTTP and get the decision,
//! recorded in a store, with its id and reservations.
//!
//! This crate owns the HTTP side: the versioned JSON API ([`router`]), the
//! queue that groups concurrent decisions into one store transaction
//! ([`batch`]), caller identity ([`auth`]), the policy being served and its
//! hot reload ([`policy`]), a candidate policy deciding in shadow
//! ([`shadow`]), TLS through rustls ([`tls`]), the limits on requests,
//! metrics, and graceful shutdown ([`run`]).
//!
//! It must not know how a decision is made or how the store keeps what it
//! keeps: it decides only through the `actpol` facade
//! (`Policy::decide_stored_batch`) over an `Arc<dyn Store>`, so any backend
//! of the store serves the same way. It knows no SQL, no parser, no VM.

pub mod auth;
pub mod batch;
pub mod client;
mod error;
mod handlers;
pub mod load;
mod metrics;
pub mod policy;
mod serve;
pub mod shadow;
pub mod tls;

pub use error::ApiError;
pub use handlers::{router, AppState, Parts, ROUTES};
pub use metrics::Metrics;
pub use serve::{run, serve_blocking, terminated, Limits, ServeConfig, ServeError};
