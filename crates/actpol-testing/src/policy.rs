//! Finding and compiling the policies that tests run against, each once per
//! run however many test files and snapshots name it.

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

use actpol::mutate::Source;
use actpol::{CompileFailure, EnvelopeLimits, LoadOptions, Policy};

use crate::diagnostic::{Kind, TestDiagnostic};

/// Why a policy could not be had, before it is placed in a file.
#[derive(Clone, Debug)]
pub struct PolicyError {
    pub kind: Kind,
    pub message: String,
    pub help: Option<String>,
    /// The checker's report, for people.
    pub detail: Option<String>,
}

impl PolicyError {
    fn new(kind: Kind, message: String) -> Self {
        PolicyError {
            kind,
            message,
            help: None,
            detail: None,
        }
    }

    /// The error as a diagnostic of `file`, pointing at `at` when the file
    /// names the policy there.
    pub fn diagnostic(&self, file: &str, at: Option<(&Arc<str>, Range<usize>)>) -> TestDiagnostic {
        let mut d = TestDiagnostic::new(self.kind, file, self.message.clone());
        if let Some((source, span)) = at {
            d = d.at(source, span, "this policy");
        }
        if let Some(help) = &self.help {
            d = d.with_help(help.clone());
        }
        if let Some(detail) = &self.detail {
            d = d.with_detail(detail.clone());
        }
        d
    }
}

/// A policy under test: compiled from its source, which mutants and
/// coverage probes are made from, or loaded from a compiled artifact.
#[derive(Debug)]
pub enum Compiled {
    Source(Box<Source>),
    Artifact(Box<Policy>),
}

impl Compiled {
    pub fn policy(&self) -> &Policy {
        match self {
            Compiled::Source(source) => source.policy(),
            Compiled::Artifact(policy) => policy,
        }
    }

    /// The source, when the policy was compiled from one.
    pub fn source(&self) -> Option<&Source> {
        match self {
            Compiled::Source(source) => Some(source),
            Compiled::Artifact(_) => None,
        }
    }
}

/// Compiles the policy at `path`: a directory, a main file, or a compiled
/// `.actpolc` artifact.
pub fn load(path: &Path) -> Result<Compiled, PolicyError> {
    load_with(path, &LoadOptions::default(), &EnvelopeLimits::DEFAULT)
}

/// [`load`], as `options` say (with a key required, only an artifact
/// signed by it loads), the policy screening envelopes under `limits`.
pub fn load_with(
    path: &Path,
    options: &LoadOptions,
    limits: &EnvelopeLimits,
) -> Result<Compiled, PolicyError> {
    let shown = path.display();
    if !path.exists() {
        return Err(PolicyError::new(
            Kind::NoPolicy,
            format!("policy `{shown}` does not exist"),
        ));
    }
    if path.is_file() && path.extension().is_some_and(|e| e == "actpolc") {
        let bytes = std::fs::read(path).map_err(|e| {
            PolicyError::new(Kind::Unreadable, format!("cannot read `{shown}`: {e}"))
        })?;
        return Policy::load_with(&bytes, options)
            .map(|p| Compiled::Artifact(Box::new(p.with_limits(*limits))))
            .map_err(|e| artifact_error(path, &e));
    }
    if options.required_key().is_some() {
        return Err(compile_error(path, CompileFailure::Unsigned));
    }
    Source::from_paths_with(&[path], options)
        .map(|source| Compiled::Source(Box::new(source.with_limits(*limits))))
        .map_err(|failure| compile_error(path, failure))
}

/// An artifact that does not load, with its code (`actpol::artifact::…`)
/// and its own help: a refused signature is not fixed by `actpol check`.
fn artifact_error(path: &Path, e: &actpol::ArtifactError) -> PolicyError {
    let mut error = PolicyError::new(
        Kind::InvalidPolicy,
        format!(
            "artifact `{}` is unusable (`{}`): {e}",
            path.display(),
            e.code().as_str()
        ),
    );
    error.help = miette::Diagnostic::help(e).map(|h| h.to_string());
    error
}

fn compile_error(path: &Path, failure: CompileFailure) -> PolicyError {
    let shown = path.display();
    match failure {
        CompileFailure::Invalid(report) => {
            let errors = report.error_count();
            let mut e = PolicyError::new(
                Kind::InvalidPolicy,
                format!("policy `{shown}` has {errors} error(s)"),
            );
            e.help = Some(format!(
                "run `actpol check {shown}` and fix what it reports"
            ));
            e.detail = Some(report.render_text(100));
            e
        }
        CompileFailure::NoPolicy => {
            let mut e = PolicyError::new(
                Kind::NoPolicy,
                format!("no policy under `{shown}`: no file there has a `policy` header"),
            );
            e.help = Some("point at a policy's directory or main file".to_string());
            e
        }
        CompileFailure::Ambiguous(entries) => {
            let mut e = PolicyError::new(
                Kind::NoPolicy,
                format!("several policies under `{shown}`: {}", entries.join(", ")),
            );
            e.help = Some("point at one policy's directory or main file".to_string());
            e
        }
        other => PolicyError::new(Kind::InvalidPolicy, format!("policy `{shown}`: {other}")),
    }
}

/// The nearest directory, from `start` upwards, holding an `.actpol` file
/// with a `policy` header: where a test file's policy is when it does not
/// say.
pub fn find_above(start: &Path) -> Option<PathBuf> {
    let absolute = std::path::absolute(start).ok()?;
    let found = absolute.ancestors().find(|dir| has_policy_header(dir))?;
    // Shown relative to the working directory when below it, as a user
    // would write it.
    let cwd = std::env::current_dir().ok();
    let relative = cwd.as_deref().and_then(|c| found.strip_prefix(c).ok());
    Some(match relative {
        Some(r) if r.as_os_str().is_empty() => PathBuf::from("."),
        Some(r) => r.to_path_buf(),
        None => found.to_path_buf(),
    })
}

fn has_policy_header(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    entries.flatten().any(|entry| {
        let path = entry.path();
        path.extension().is_some_and(|e| e == "actpol")
            && std::fs::read_to_string(&path).is_ok_and(|text| text.lines().any(is_policy_header))
    })
}

/// `policy growth {`: the header starts a line; a mention in a comment or
/// a string does not.
fn is_policy_header(line: &str) -> bool {
    line.trim_start()
        .strip_prefix("policy")
        .is_some_and(|rest| {
            rest.starts_with(char::is_whitespace)
                && rest
                    .trim_start()
                    .starts_with(|c: char| c.is_alphabetic() || c == '_')
        })
}

/// Policies compiled so far in this run, by canonical path.
#[derive(Debug, Default)]
pub struct PolicyCache {
    compiled: HashMap<PathBuf, Rc<Result<Compiled, PolicyError>>>,
    /// What the policies screen envelopes under.
    limits: EnvelopeLimits,
    /// How they load.
    options: LoadOptions,
}

impl PolicyCache {
    /// A cache whose policies load with `options` and screen envelopes
    /// under `limits`.
    pub fn new(options: LoadOptions, limits: EnvelopeLimits) -> PolicyCache {
        PolicyCache {
            compiled: HashMap::new(),
            limits,
            options,
        }
    }

    pub fn get(&mut self, path: &Path) -> Rc<Result<Compiled, PolicyError>> {
        let key = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        Rc::clone(
            self.compiled
                .entry(key)
                .or_insert_with(|| Rc::new(load_with(path, &self.options, &self.limits))),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_start_a_line() {
        assert!(is_policy_header("policy growth {"));
        assert!(is_policy_header("  policy _x{"));
        assert!(!is_policy_header("// policy growth {"));
        assert!(!is_policy_header("policyholder = 1"));
        assert!(!is_policy_header("policy"));
    }
}
