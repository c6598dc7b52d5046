//! Embed actpol: compile `.actpol` policies (or load a compiled artifact)
//! and decide on action envelopes.
//!
//! ```no_run
//! use actpol::{MemoryState, Policy};
//!
//! let policy = Policy::from_paths(&["examples/growth"]).expect("policy compiles");
//! let envelope = std::fs::read("examples/growth/envelopes/bulk-send.json").unwrap();
//! let decision = policy.decide_json(&envelope, &MemoryState::default());
//! println!("{}", serde_json::to_string_pretty(&decision).unwrap());
//! ```
//!
//! This crate joins the pipeline (load → parse → check → compile → run) and
//! owns the only file IO of the compiler side ([`load`]). The runtime it
//! hands out ([`Runtime`]) links none of the compiler.

mod explain;
pub mod load;

use std::path::Path;

use actpol_bytecode::artifact::Artifact;
use actpol_check::{Diagnostic, FileId, SourceDb};
use sha2::{Digest, Sha256};

pub use actpol_bytecode::artifact::ArtifactError;
pub use actpol_core::decision::{ConstraintOut, Decision, Escalation, Level};
pub use actpol_core::envelope::{BoundEnvelope, Envelope, EnvelopeError};
pub use actpol_core::error::{ErrorCode, ErrorFamily, EvalError};
pub use actpol_core::state::{MemoryState, StateView};
pub use actpol_vm::Runtime;
pub use explain::explain_text;
pub use load::LoadError;

/// The outcome of checking files: the files, and every diagnostic.
#[derive(Debug)]
pub struct CheckReport {
    pub db: SourceDb,
    pub diagnostics: Vec<Diagnostic>,
}

impl CheckReport {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// Every diagnostic as miette text, no colour, `width` columns wide.
    pub fn render_text(&self, width: usize) -> String {
        self.diagnostics
            .iter()
            .map(|d| actpol_check::render_text(&self.db, d, width))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Loads and checks every policy under `paths` (files or directories).
pub fn check_paths<P: AsRef<Path>>(paths: &[P]) -> Result<CheckReport, LoadError> {
    let db = load::load(paths)?;
    let diagnostics = actpol_check::check_all(&db);
    Ok(CheckReport { db, diagnostics })
}

/// Checks policies given as in-memory files `(path, text)`; imports
/// resolve between the given paths.
pub fn check_sources<'a>(sources: impl IntoIterator<Item = (&'a str, &'a str)>) -> CheckReport {
    let db = SourceDb::from_sources(sources);
    let diagnostics = actpol_check::check_all(&db);
    CheckReport { db, diagnostics }
}

/// Why compiling failed.
#[derive(Debug, thiserror::Error)]
pub enum CompileFailure {
    #[error(transparent)]
    Load(#[from] LoadError),

    /// The policy has errors; the report holds them.
    #[error("the policy has {} error(s)", .0.diagnostics.iter().filter(|d| d.is_error()).count())]
    Invalid(Box<CheckReport>),

    #[error("no policy found: no file under the given paths has a `policy` header")]
    NoPolicy,

    #[error("several policies found: {}", .0.join(", "))]
    Ambiguous(Vec<String>),

    #[error(transparent)]
    Compile(#[from] actpol_compiler::CompileError),
}

impl miette::Diagnostic for CompileFailure {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        match self {
            CompileFailure::Load(e) => miette::Diagnostic::code(e),
            CompileFailure::Compile(e) => miette::Diagnostic::code(e),
            CompileFailure::Invalid(_) => Some(Box::new("actpol::compile::errors")),
            CompileFailure::NoPolicy => Some(Box::new("actpol::compile::no_policy")),
            CompileFailure::Ambiguous(_) => Some(Box::new("actpol::compile::ambiguous")),
        }
    }

    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        match self {
            CompileFailure::Load(e) => miette::Diagnostic::help(e),
            CompileFailure::Compile(e) => miette::Diagnostic::help(e),
            CompileFailure::Invalid(_) => Some(Box::new("fix the errors `actpol check` reports")),
            CompileFailure::NoPolicy => Some(Box::new(
                "add `policy <name> { default deny \"…\" }` to the policy's main file",
            )),
            CompileFailure::Ambiguous(_) => {
                Some(Box::new("pass the directory or main file of one policy"))
            }
        }
    }
}

/// Loads, checks and compiles the one policy under `paths`.
pub fn compile_paths<P: AsRef<Path>>(paths: &[P]) -> Result<Artifact, CompileFailure> {
    compile_db(load::load(paths)?)
}

/// Checks and compiles a policy given as in-memory files `(path, text)`.
/// Imports resolve between the given paths.
pub fn compile_sources<'a>(
    sources: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<Artifact, CompileFailure> {
    compile_db(SourceDb::from_sources(sources))
}

fn compile_db(db: SourceDb) -> Result<Artifact, CompileFailure> {
    let entries: Vec<FileId> = db.ids().filter(|id| db.is_entry(*id)).collect();
    let entry = match entries.as_slice() {
        [one] => *one,
        [] => {
            let diagnostics = actpol_check::check_all(&db);
            if diagnostics.iter().any(Diagnostic::is_error) {
                return Err(CompileFailure::Invalid(Box::new(CheckReport {
                    db,
                    diagnostics,
                })));
            }
            return Err(CompileFailure::NoPolicy);
        }
        many => {
            return Err(CompileFailure::Ambiguous(
                many.iter().map(|id| db.file(*id).path.clone()).collect(),
            ))
        }
    };
    let checked = actpol_check::check(&db, entry);
    let Some(policy) = checked
        .policy
        .filter(|_| !checked.diagnostics.iter().any(Diagnostic::is_error))
    else {
        return Err(CompileFailure::Invalid(Box::new(CheckReport {
            db,
            diagnostics: checked.diagnostics,
        })));
    };
    let hash = source_hash(&db, entry);
    Ok(actpol_compiler::compile(&policy, hash)?)
}

/// sha256 over the policy's files: each file's path relative to the entry's
/// directory and its text, in import order. Moving the policy's directory
/// keeps the hash; changing any byte of any file changes it.
pub fn source_hash(db: &SourceDb, entry: FileId) -> [u8; 32] {
    let entry_dir = db
        .file(entry)
        .path
        .rsplit_once('/')
        .map_or(String::new(), |(d, _)| format!("{d}/"));
    let mut hasher = Sha256::new();
    for id in db.closure(entry) {
        let file = db.file(id);
        let rel = file.path.strip_prefix(&entry_dir).unwrap_or(&file.path);
        hasher.update((rel.len() as u64).to_le_bytes());
        hasher.update(rel.as_bytes());
        hasher.update((file.text.len() as u64).to_le_bytes());
        hasher.update(file.text.as_bytes());
    }
    hasher.finalize().into()
}

/// A policy ready to decide: compiled from sources or loaded from an
/// artifact.
#[derive(Debug)]
pub struct Policy {
    runtime: Runtime,
}

impl Policy {
    /// Compiles the policy under `paths`.
    pub fn from_paths<P: AsRef<Path>>(paths: &[P]) -> Result<Policy, CompileFailure> {
        Policy::from_artifact(compile_paths(paths)?)
    }

    /// Compiles in-memory sources.
    pub fn from_sources<'a>(
        sources: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Policy, CompileFailure> {
        Policy::from_artifact(compile_sources(sources)?)
    }

    /// Loads an `.actpolc` artifact (verified on load).
    pub fn load(bytes: &[u8]) -> Result<Policy, ArtifactError> {
        Ok(Policy {
            runtime: Runtime::load(bytes)?,
        })
    }

    /// Runs a compiled artifact held in memory (verified again here).
    pub fn from_artifact(artifact: Artifact) -> Result<Policy, CompileFailure> {
        let runtime = Runtime::new(artifact).map_err(actpol_compiler::CompileError::from)?;
        Ok(Policy { runtime })
    }

    pub fn runtime(&self) -> &Runtime {
        &self.runtime
    }

    pub fn name(&self) -> &str {
        &self.runtime.program().meta.name
    }

    /// `sha256:<hex>` of the policy's sources.
    pub fn hash(&self) -> &str {
        self.runtime.hash()
    }

    pub fn decide(&self, envelope: Envelope, state: &dyn StateView) -> Decision {
        self.runtime.decide_envelope(envelope, state)
    }

    pub fn decide_json(&self, bytes: &[u8], state: &dyn StateView) -> Decision {
        self.runtime.decide_json(bytes, state)
    }

    /// Decides and explains: which rules matched, which did not and why.
    pub fn explain(&self, envelope: Envelope, state: &dyn StateView) -> Decision {
        self.runtime.explain_envelope(envelope, state)
    }

    /// Like [`Policy::decide_json`], with an explanation.
    pub fn explain_json(&self, bytes: &[u8], state: &dyn StateView) -> Decision {
        self.runtime.explain_json(bytes, state)
    }

    /// The artifact bytes (`.actpolc`).
    pub fn to_artifact_bytes(&self) -> Result<Vec<u8>, ArtifactError> {
        self.runtime.artifact().encode()
    }
}
