//! [`PlanError`]: why a plan document does not hold together.

use std::fmt;

use actpol_core::ErrorCode;

/// One thing wrong with a plan document, at a JSON path into it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanError {
    /// `actpol::plan::*`, or an `actpol::envelope::*` code for a node whose
    /// envelope does not fit the schema.
    pub code: ErrorCode,
    /// Where: `$.edges[2].to`, `$.nodes[0].action.params.amount`.
    pub path: String,
    /// What is wrong, for people; user input in backticks.
    pub message: String,
    /// What to do about it.
    pub help: Option<String>,
}

impl PlanError {
    pub(crate) fn new(
        code: ErrorCode,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        PlanError {
            code,
            path: path.into(),
            message: message.into(),
            help: None,
        }
    }

    pub(crate) fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// The error's stable code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at `{}`", self.message, self.path)
    }
}

impl std::error::Error for PlanError {}

impl miette::Diagnostic for PlanError {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
}

/// Every error of a plan document that did not hold together, reported at
/// once.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the plan has {} error(s): {}", .errors.len(), first(.errors))]
pub struct PlanErrors {
    /// Each error, in the order the document was read.
    pub errors: Vec<PlanError>,
}

fn first(errors: &[PlanError]) -> String {
    errors.first().map(ToString::to_string).unwrap_or_default()
}

impl miette::Diagnostic for PlanErrors {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.errors
            .first()
            .map(|e| Box::new(e.code) as Box<dyn fmt::Display>)
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.errors.first().and_then(miette::Diagnostic::help)
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        Some(Box::new(
            self.errors
                .iter()
                .skip(1)
                .map(|e| e as &dyn miette::Diagnostic),
        ))
    }
}
