//! Policy tests for actpol: test files that state the decision expected of
//! an envelope, rule and condition coverage, mutation testing (which parts
//! of a policy the tests hold in place), decision snapshots of an envelope
//! corpus, and the change-impact diff of two policy versions over a corpus.
//!
//! This crate owns the test file format (`*.test.toml`), the snapshot file
//! format (`*.snapshot.json`), running them, and rendering results as text,
//! JSON lines, JUnit XML and lcov. It decides only through the `actpol`
//! facade, as an embedding program would (mutants and coverage probes come
//! from `actpol::mutate`): it must not know how policies are parsed,
//! checked or compiled, nor how the runtime finds the rules that matched.

pub mod corpus;
pub mod coverage;
pub mod diagnostic;
pub mod diff;
pub mod discover;
pub mod expect;
pub mod mutation;
pub mod overrides;
pub mod policy;
pub mod record;
pub mod render;
pub mod resolve;
pub mod results;
pub mod run;
mod shape;
pub mod snapshot;
pub mod spec;
mod walk;

pub use coverage::Coverage;
pub use diagnostic::{Kind, TestDiagnostic};
pub use diff::DiffReport;
pub use expect::Expect;
pub use mutation::MutationReport;
pub use record::{Difference, Record};
pub use results::{CaseResult, Counts, RunReport, Status, Suite, SuiteKind};
pub use run::{run, Options};
