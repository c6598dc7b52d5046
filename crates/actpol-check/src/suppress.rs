//! Suppressions: a lint the author accepts, with the reason written down.
//!
//! A comment line `// allow(<lint>): <reason>` right above a declaration
//! (among its other comments, with nothing else between) silences that
//! lint on that declaration only. The reason is mandatory: a suppression
//! without one, or naming no lint, is itself reported and silences
//! nothing, so an accepted risk always says why it was accepted.

use actpol_core::suggest::did_you_mean;
use actpol_syntax::ast::{Comment, Item, Span};

use crate::db::{FileId, SourceDb};
use crate::diag::Lint;
use crate::report::Diagnostic;

/// The lints a suppression may name: every code of the `actpol::lint`
/// family but its own.
pub(crate) const SUPPRESSIBLE: [&str; 8] = [
    "unmatched_pattern",
    "never_fires",
    "shadowed",
    "unused_budget",
    "unused_agent",
    "has_required",
    "allow_irreversible",
    "guarded_by_has",
];

/// One `// allow(…): …` line and the declaration it stands above.
struct Suppression {
    lint: String,
    /// The declaration it applies to.
    target: Span,
}

/// Drops the lints of `diags` that a valid suppression silences, and adds
/// a diagnostic for each suppression that is not valid.
pub(crate) fn apply(db: &SourceDb, files: &[FileId], diags: &mut Vec<Diagnostic>) {
    let mut found: Vec<(FileId, Suppression)> = Vec::new();
    let mut problems = Vec::new();
    for &id in files {
        let entry = db.file(id);
        let Ok(parsed) = &entry.parsed else {
            continue;
        };
        for comment in &parsed.comments {
            let Some(written) = Written::read(comment) else {
                continue;
            };
            match written.check(comment, &parsed.items, &entry.text) {
                Ok(s) => found.push((id, s)),
                Err(lint) => problems.push(Diagnostic::new(id, lint)),
            }
        }
    }
    if !found.is_empty() {
        diags.retain(|d| !found.iter().any(|(file, s)| silences(s, *file, d)));
    }
    diags.extend(problems);
}

/// Whether `s`, in `file`, silences the lint `d`.
fn silences(s: &Suppression, file: FileId, d: &Diagnostic) -> bool {
    d.file == file
        && d.code().strip_prefix("actpol::lint::") == Some(s.lint.as_str())
        && d.span()
            .is_some_and(|(start, _)| s.target.range().contains(&start))
}

/// A suppression as written: the lint's name and the reason, if any.
struct Written {
    lint: String,
    reason: String,
}

impl Written {
    /// `// allow(name): reason`, or `None` for any other comment (a doc
    /// comment included: documentation shows in explanations).
    fn read(comment: &Comment) -> Option<Written> {
        if comment.is_doc() {
            return None;
        }
        let body = comment.text.strip_prefix("//")?.trim_start();
        let rest = body.strip_prefix("allow(")?;
        let (lint, after) = rest.split_once(')')?;
        let reason = after.trim_start().strip_prefix(':').unwrap_or("").trim();
        Some(Written {
            lint: lint.trim().to_string(),
            reason: reason.to_string(),
        })
    }

    /// The suppression, or why it is not one.
    fn check(self, comment: &Comment, items: &[Item], text: &str) -> Result<Suppression, Lint> {
        let span = comment.span.into();
        if !SUPPRESSIBLE.contains(&self.lint.as_str()) {
            let help = match did_you_mean(&self.lint, SUPPRESSIBLE.iter().copied()) {
                Some(best) => format!("did you mean `{best}`?"),
                None => format!("name one of: {}", SUPPRESSIBLE.join(", ")),
            };
            return Err(Lint::InvalidSuppression {
                message: format!("`allow({})` names no lint", self.lint),
                span,
                help,
            });
        }
        if self.reason.is_empty() {
            return Err(Lint::InvalidSuppression {
                message: format!("`allow({})` gives no reason", self.lint),
                span,
                help: format!(
                    "say why the lint is accepted: `// allow({}): <why this is meant>`",
                    self.lint
                ),
            });
        }
        let Some(target) = declaration_below(comment, items, text) else {
            return Err(Lint::InvalidSuppression {
                message: format!("`allow({})` stands above no declaration", self.lint),
                span,
                help: "put the suppression on its own line right above the declaration it is for"
                    .into(),
            });
        };
        Ok(Suppression {
            lint: self.lint,
            target,
        })
    }
}

/// The declaration right below `comment`, with only comments and blank
/// lines between.
fn declaration_below(comment: &Comment, items: &[Item], text: &str) -> Option<Span> {
    let item = items.iter().find(|i| i.span.start >= comment.span.end)?;
    let between = text.get(comment.span.end as usize..item.span.start as usize)?;
    let only_comments = between
        .lines()
        .map(str::trim)
        .all(|line| line.is_empty() || line.starts_with("//"));
    only_comments.then_some(item.span)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every lint the language documents may be suppressed, but the
    /// suppression's own.
    #[test]
    fn every_documented_lint_is_suppressible() {
        let doc = include_str!("../../../docs/language.md");
        let mut documented: Vec<&str> = doc
            .split("`actpol::lint::")
            .skip(1)
            .filter_map(|rest| rest.split('`').next())
            .filter(|name| *name != "invalid_suppression")
            .collect();
        documented.sort_unstable();
        documented.dedup();
        let mut known = SUPPRESSIBLE.to_vec();
        known.sort_unstable();
        assert_eq!(documented, known);
    }
}
