//! Name resolution, type checking and lints: from syntax trees to the typed
//! IR ([`actpol_ir::Policy`]), or to every diagnostic at once.
//!
//! The checker does no IO: it reads a [`SourceDb`] a loader filled. It knows
//! nothing of bytecode or the runtime.
//!
//! ```
//! use actpol_check::{check, SourceDb};
//!
//! let db = SourceDb::from_sources([(
//!     "main.actpol",
//!     "policy p { default allow }\n\
//!      system crm\n\
//!      entity Account { name: String }\n\
//!      action crm.rename { system crm object Account reversible }\n\
//!      rule keep_names on crm.rename { when object.name == \"\" deny \"a name is required\" }",
//! )]);
//! let checked = check(&db, db.ids().next().unwrap());
//! assert!(checked.diagnostics.is_empty());
//! assert_eq!(checked.policy.unwrap().rules.len(), 1);
//! ```

pub mod db;
pub mod report;

mod builtins;
mod checker;
mod decls;
mod diag;
mod expr;
mod guards;
mod lints;
mod literal;
mod members;
mod operators;
mod outcome;
mod patterns;
mod policy;
mod precedence;
mod records;
mod schema;
mod suppress;
mod unit;
mod zoned;

#[cfg(test)]
mod tests;

use std::collections::HashSet;

pub use db::{FileId, ImportEdge, ImportRefusal, SourceDb, SourceEntry};
pub use diag::{CheckError, Lint};
pub use report::{render_json, render_text, Diagnostic};

use checker::Checker;
use unit::Unit;

/// The result of checking one policy.
#[derive(Debug)]
pub struct Checked {
    /// The IR, when there are no errors (warnings are fine) and the unit
    /// has a `policy` header.
    pub policy: Option<actpol_ir::Policy>,
    /// Errors and lints, sorted by [`Diagnostic::sort_key`].
    pub diagnostics: Vec<Diagnostic>,
    /// Whether one of the unit's files declares a `policy` header. A unit
    /// without one is checked in full but yields no IR; see
    /// [`require_policy`].
    pub has_header: bool,
}

impl Checked {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Checks the policy whose entry file is `entry` (with its transitive
/// imports).
pub fn check(db: &SourceDb, entry: FileId) -> Checked {
    let mut unit = Unit::new(db, entry);
    file_problems(&mut unit, entry);
    let mut checker = Checker::new(unit);
    let out = checker.run();
    let has_header = out.header.present;
    let mut diagnostics = std::mem::take(&mut checker.unit.diags);
    if let Some(missing) = Missing::of(db, &checker.unit.files) {
        diagnostics.retain(|d| !missing.explains(db, d));
    }
    suppress::apply(checker.unit.db, &checker.unit.files, &mut diagnostics);
    let clean = !diagnostics.iter().any(Diagnostic::is_error);
    diagnostics.sort_by_cached_key(Diagnostic::sort_key);
    let policy = (clean && has_header).then(|| checker.into_policy(out));
    Checked {
        policy,
        diagnostics,
        has_header,
    }
}

/// Checks every unit of the db ([`SourceDb::units`]); a diagnostic found
/// by several units (in a file they share) is reported once. Sorted by
/// [`Diagnostic::sort_key`].
pub fn check_all(db: &SourceDb) -> Vec<Diagnostic> {
    let mut seen = HashSet::new();
    let mut all = Vec::new();
    for unit in db.units() {
        for diag in check(db, unit).diagnostics {
            let key = (diag.file, diag.span(), diag.code(), diag.inner.to_string());
            if seen.insert(key) {
                all.push(diag);
            }
        }
    }
    all.sort_by_cached_key(Diagnostic::sort_key);
    all
}

/// The `no_policy` error, for a caller that must compile `entry` but whose
/// unit has no `policy` header; `None` when it has one, or when the entry
/// did not parse (its syntax error says what is wrong).
pub fn require_policy(db: &SourceDb, entry: FileId, checked: &Checked) -> Option<Diagnostic> {
    // A file that did not parse or an import that did not read may hold the
    // header: its own diagnostic says what is wrong.
    if checked.has_header || Missing::of(db, &db.closure(entry)).is_some() {
        return None;
    }
    let diag = CheckError::NoPolicy {
        path: db.file(entry).path.clone(),
        span: (0, 0).into(),
    };
    Some(Diagnostic::new(entry, diag))
}

/// What a unit lacks because one of its files did not parse or an import
/// could not be read: the declarations those would have made. A name that
/// is unknown only because of them is not reported again (the syntax or
/// import error is the one mistake), nor are lints, which reason about the
/// whole policy.
struct Missing {
    /// An import was not read: it could have declared any name.
    any_name: bool,
    /// Every word written in a file that did not parse: a name it mentions
    /// may be one it declares.
    words: HashSet<String>,
}

impl Missing {
    fn of(db: &SourceDb, files: &[FileId]) -> Option<Missing> {
        let mut missing = Missing {
            any_name: false,
            words: HashSet::new(),
        };
        let mut incomplete = false;
        for &id in files {
            let file = db.file(id);
            if file.parsed.is_err() {
                incomplete = true;
                missing.words.extend(words(&file.text).map(str::to_string));
            }
            if file.imports.iter().any(|e| e.target.is_none()) {
                incomplete = true;
                missing.any_name = true;
            }
        }
        incomplete.then_some(missing)
    }

    /// Whether `diag` may follow from what is missing rather than from a
    /// mistake of its own.
    fn explains(&self, db: &SourceDb, diag: &Diagnostic) -> bool {
        if !diag.is_error() {
            return true;
        }
        if !names_something_unknown(&diag.code()) {
            return false;
        }
        if self.any_name {
            return true;
        }
        let text = &db.file(diag.file).text;
        let written = diag
            .span()
            .and_then(|(start, end)| text.get(start..end))
            .unwrap_or("");
        words(written).any(|w| self.words.contains(w))
    }
}

/// The names, keywords and numbers of a text, split at everything else.
fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
        .filter(|w| !w.is_empty())
}

/// Codes that report a name as unknown: a declaration elsewhere could
/// answer them.
fn names_something_unknown(code: &str) -> bool {
    let unknown = code.starts_with("actpol::check::unknown_")
        && code != "actpol::check::unknown_import"
        && code != "actpol::check::unknown_zone";
    unknown || code == "actpol::check::constrain_unknown_param"
}

/// The `no_policy` error for a set of files none of which has a `policy`
/// header (`actpol check` given a directory of schema files alone), on the
/// first of them; `None` when one has a header, when there are no files,
/// or when one did not parse (its syntax error may hide the header).
pub fn require_any_policy(db: &SourceDb) -> Option<Diagnostic> {
    let first = db.ids().next()?;
    if db
        .ids()
        .any(|id| db.is_entry(id) || db.file(id).parsed.is_err())
    {
        return None;
    }
    let diag = CheckError::NoPolicy {
        path: db.file(first).path.clone(),
        span: (0, 0).into(),
    };
    Some(Diagnostic::new(first, diag))
}

/// Problems of the files themselves: syntax errors, imports that name no
/// file, import cycles.
fn file_problems(unit: &mut Unit<'_>, entry: FileId) {
    let db = unit.db;
    for &id in &unit.files {
        let file = db.file(id);
        if let Err(err) = &file.parsed {
            unit.diags.push(Diagnostic::new(id, err.clone()));
        }
        for edge in file.imports.iter().filter(|e| e.target.is_none()) {
            if let Some(refusal) = &edge.refusal {
                let diag = diag::ImportRefused::new(&edge.written, edge.span, refusal);
                unit.diags.push(Diagnostic::new(id, diag));
                continue;
            }
            let problem = edge
                .problem
                .clone()
                .unwrap_or_else(|| "the file could not be read".into());
            let diag = CheckError::UnknownImport {
                path: edge.written.clone(),
                span: edge.span.into(),
                problem,
            };
            unit.diags.push(Diagnostic::new(id, diag));
        }
    }
    for (file, span, cycle) in db.cycles(entry) {
        if cycle == [file] {
            let diag = CheckError::SelfImport {
                path: db.file(file).path.clone(),
                span: span.into(),
            };
            unit.diags.push(Diagnostic::new(file, diag));
            continue;
        }
        let mut names: Vec<String> = cycle
            .iter()
            .map(|f| format!("`{}`", db.file(*f).path))
            .collect();
        if let Some(first) = names.first().cloned() {
            names.push(first);
        }
        let diag = CheckError::ImportCycle {
            cycle: names.join(" → "),
            span: span.into(),
        };
        unit.diags.push(Diagnostic::new(file, diag));
    }
}
