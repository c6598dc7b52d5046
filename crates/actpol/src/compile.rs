//! Compiling: load → parse → check → compile, from paths or in-memory
//! sources, to a verified [`Artifact`].

use std::path::Path;

use actpol_bytecode::artifact::{Artifact, ArtifactError};
use actpol_check::{Diagnostic, FileId, SourceDb};
use sha2::{Digest, Sha256};

use crate::check::CheckReport;
use crate::load::{self, LoadError, LoadOptions};
use actpol_core::error::ErrorCode;

/// Why compiling failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CompileFailure {
    /// The policy's files cannot be read.
    #[error(transparent)]
    Load(#[from] LoadError),

    /// The policy has errors; the report holds them.
    #[error("the policy has {} error(s)", .0.error_count())]
    Invalid(Box<CheckReport>),

    /// No file has a `policy` header.
    #[error("no policy found: no file under the given paths has a `policy` header")]
    NoPolicy,

    /// Several files have one: their paths.
    #[error("several policies found: {}", .0.join(", "))]
    Ambiguous(Vec<String>),

    /// The compiler failed (a bug: a checked policy always compiles).
    #[error(transparent)]
    Compile(#[from] actpol_compiler::CompileError),

    /// The one path given is a compiled artifact, and it does not load.
    #[error(transparent)]
    Artifact(#[from] ArtifactError),

    /// A signature is required, and the policy was given as sources,
    /// which carry none.
    #[error("the policy is given as source files, which carry no signature, and a signature is required")]
    Unsigned,
}

impl miette::Diagnostic for CompileFailure {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        match self {
            CompileFailure::Load(e) => miette::Diagnostic::code(e),
            CompileFailure::Compile(e) => miette::Diagnostic::code(e),
            CompileFailure::Artifact(e) => miette::Diagnostic::code(e),
            CompileFailure::Invalid(_) => Some(Box::new("actpol::compile::errors")),
            CompileFailure::NoPolicy => Some(Box::new("actpol::compile::no_policy")),
            CompileFailure::Ambiguous(_) => Some(Box::new("actpol::compile::ambiguous")),
            CompileFailure::Unsigned => Some(Box::new(ErrorCode::ArtifactUnsigned)),
        }
    }

    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        match self {
            CompileFailure::Load(e) => miette::Diagnostic::help(e),
            CompileFailure::Compile(e) => miette::Diagnostic::help(e),
            CompileFailure::Artifact(e) => miette::Diagnostic::help(e),
            CompileFailure::Invalid(_) => Some(Box::new("fix the errors `actpol check` reports")),
            CompileFailure::NoPolicy => Some(Box::new(
                "add `policy <name> { default deny \"…\" }` to the policy's main file",
            )),
            CompileFailure::Ambiguous(_) => {
                Some(Box::new("pass the directory or main file of one policy"))
            }
            CompileFailure::Unsigned => Some(Box::new(
                "compile and sign the policy (`actpol compile --sign KEY`) and pass the artifact",
            )),
        }
    }
}

/// Loads, checks and compiles the one policy under `paths`.
pub fn compile_paths<P: AsRef<Path>>(paths: &[P]) -> Result<Artifact, CompileFailure> {
    compile_paths_with(paths, &LoadOptions::default())
}

/// [`compile_paths`], with imports reaching as far as `options` say.
pub fn compile_paths_with<P: AsRef<Path>>(
    paths: &[P],
    options: &LoadOptions,
) -> Result<Artifact, CompileFailure> {
    compile_db(load::load(paths, options)?)
}

/// Checks and compiles a policy given as in-memory files `(path, text)`.
/// Imports resolve between the given paths.
pub fn compile_sources<'a>(
    sources: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<Artifact, CompileFailure> {
    compile_db(SourceDb::from_sources(sources))
}

fn compile_db(db: SourceDb) -> Result<Artifact, CompileFailure> {
    let checked = check_db(db)?;
    let mut artifact = actpol_compiler::compile(&checked.policy, checked.hash)?;
    artifact.compiled_at = compile_time();
    Ok(artifact)
}

/// When an artifact is compiled, in milliseconds since the epoch:
/// `SOURCE_DATE_EPOCH` (seconds) when set, so a build that pins it writes
/// the same bytes every time; else the system clock.
fn compile_time() -> i64 {
    std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .and_then(|secs| secs.checked_mul(1000))
        .unwrap_or_else(crate::store::system_now)
}

/// A policy checked and ready to compile.
pub(crate) struct CheckedDb {
    pub(crate) policy: actpol_ir::Policy,
    pub(crate) hash: [u8; 32],
    /// The directory of the main file, as loaded (`examples/growth`).
    pub(crate) root: String,
}

/// Checks the one policy in `db`.
pub(crate) fn check_db(db: SourceDb) -> Result<CheckedDb, CompileFailure> {
    let entries: Vec<FileId> = db.ids().filter(|id| db.is_entry(*id)).collect();
    let entry = match entries.as_slice() {
        [one] => *one,
        [] => {
            let diagnostics = actpol_check::check_all(&db);
            if diagnostics.iter().any(Diagnostic::is_error) {
                return Err(CompileFailure::Invalid(Box::new(CheckReport::new(
                    db,
                    diagnostics,
                ))));
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
        return Err(CompileFailure::Invalid(Box::new(CheckReport::new(
            db,
            checked.diagnostics,
        ))));
    };
    let root = db
        .file(entry)
        .path
        .rsplit_once('/')
        .map_or(String::new(), |(dir, _)| dir.to_string());
    Ok(CheckedDb {
        hash: source_hash(&db, entry),
        policy,
        root,
    })
}

/// sha256 over the policy's files: each file's path relative to the entry's
/// directory and its text, in import order. Moving the policy's directory
/// keeps the hash; changing any byte of any file changes it.
fn source_hash(db: &SourceDb, entry: FileId) -> [u8; 32] {
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
