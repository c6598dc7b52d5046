//! Checking policies, and formatting them: the diagnostics, rendered as
//! text for people or JSON for tools.

use std::path::Path;

/// What a rendering of a diagnostic may quote: a line wider than
/// [`QUOTE_LIMIT`] bytes is named, not quoted.
pub use actpol_check::report::{line_too_long_to_quote, QUOTE_LIMIT};
use actpol_check::{Diagnostic, SourceDb};

use crate::load::{self, LoadError, LoadOptions};

/// The outcome of checking files: every diagnostic, with the files they
/// point into.
#[derive(Debug)]
pub struct CheckReport {
    db: SourceDb,
    diagnostics: Vec<Diagnostic>,
}

impl CheckReport {
    pub(crate) fn new(db: SourceDb, diagnostics: Vec<Diagnostic>) -> Self {
        CheckReport { db, diagnostics }
    }

    /// Whether any diagnostic is an error (not only a warning).
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// How many diagnostics are errors.
    pub fn error_count(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }

    /// How many diagnostics are warnings.
    pub fn warning_count(&self) -> usize {
        self.diagnostics.len() - self.error_count()
    }

    /// How many files were checked.
    pub fn files_checked(&self) -> usize {
        self.db.files.len()
    }

    /// The diagnostics' stable codes, in report order.
    pub fn codes(&self) -> impl Iterator<Item = String> + '_ {
        self.diagnostics.iter().map(Diagnostic::code)
    }

    /// Every diagnostic as miette text, no colour, `width` columns wide,
    /// one after another.
    pub fn render_text(&self, width: usize) -> String {
        self.diagnostics
            .iter()
            .map(|d| actpol_check::render_text(&self.db, d, width))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Every diagnostic as a JSON object: `code`, `severity`, `message`,
    /// `file`, `span`, `line`, `column`, `help`.
    pub fn render_json(&self) -> Vec<serde_json::Value> {
        self.diagnostics
            .iter()
            .map(|d| actpol_check::render_json(&self.db, d))
            .collect()
    }
}

/// Loads and checks every policy under `paths` (files or directories).
pub fn check_paths<P: AsRef<Path>>(paths: &[P]) -> Result<CheckReport, LoadError> {
    check_paths_with(paths, &LoadOptions::default())
}

/// [`check_paths`], with imports reaching as far as `options` say.
pub fn check_paths_with<P: AsRef<Path>>(
    paths: &[P],
    options: &LoadOptions,
) -> Result<CheckReport, LoadError> {
    let db = load::load(paths, options)?;
    let mut diagnostics = actpol_check::check_all(&db);
    diagnostics.extend(actpol_check::require_any_policy(&db));
    Ok(CheckReport::new(db, diagnostics))
}

/// Checks policies given as in-memory files `(path, text)`; imports
/// resolve between the given paths.
pub fn check_sources<'a>(sources: impl IntoIterator<Item = (&'a str, &'a str)>) -> CheckReport {
    let db = SourceDb::from_sources(sources);
    let diagnostics = actpol_check::check_all(&db);
    CheckReport::new(db, diagnostics)
}

/// `text` (the contents of the file at `path`) in the canonical layout,
/// comments kept; or the syntax error that stops it being read.
pub fn format_source(path: &str, text: &str) -> Result<String, Box<CheckReport>> {
    actpol_syntax::fmt::format_source(text).map_err(|err| {
        let mut db = SourceDb::default();
        let id = db.add(path.to_string(), text.to_string());
        Box::new(CheckReport::new(db, vec![Diagnostic::new(id, err)]))
    })
}
