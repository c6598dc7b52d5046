//! Diagnostics for test files, snapshot files and corpora: what went wrong,
//! where (a span into the file when there is one), and what to do about it.
//! Rendered like the checker's diagnostics: miette text without colour, or
//! one JSON object with `code`, `severity`, `message`, `file`, `span`,
//! `line`, `column` and `help`, as `actpol check --format json` writes them.

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan};
use serde_json::json;

/// Every kind of failure, each with its stable code and a default help line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    TomlSyntax,
    UnknownKey,
    WrongType,
    MissingKey,
    UnknownDecision,
    InvalidValue,
    RowLength,
    DuplicateCase,
    Unreadable,
    InvalidEnvelope,
    BadOverride,
    InvalidState,
    NoPolicy,
    InvalidPolicy,
    InvalidSnapshot,
    NoTests,
    NoSuchPath,
    EmptyCorpus,
    WriteFailed,
    UnknownMutant,
    NotEquivalent,
}

impl Kind {
    /// The kind's code and its help when the diagnostic gives no better one.
    /// One table, so codes stay stable and unique at a glance.
    fn entry(self) -> (&'static str, &'static str) {
        match self {
            Kind::TomlSyntax => (
                "actpol::test::toml_syntax",
                "a test file is TOML: see docs/testing.md for its format",
            ),
            Kind::UnknownKey => (
                "actpol::test::unknown_key",
                "see docs/testing.md for the keys a test file may hold",
            ),
            Kind::WrongType => (
                "actpol::test::wrong_type",
                "see docs/testing.md for what each key holds",
            ),
            Kind::MissingKey => (
                "actpol::test::missing_key",
                "see docs/testing.md for the keys a test file requires",
            ),
            Kind::UnknownDecision => (
                "actpol::test::unknown_decision",
                "a decision is one of `allow`, `constrain`, `escalate`, `deny`",
            ),
            Kind::InvalidValue => (
                "actpol::test::invalid_value",
                "see docs/testing.md for the values this key admits",
            ),
            Kind::RowLength => (
                "actpol::test::row_length",
                "a row holds its name, then one value per column",
            ),
            Kind::DuplicateCase => (
                "actpol::test::duplicate_case",
                "give every case in a file its own name, so results and filters name one case",
            ),
            Kind::Unreadable => (
                "actpol::test::unreadable",
                "paths in a test file are relative to the test file",
            ),
            Kind::InvalidEnvelope => (
                "actpol::test::invalid_envelope",
                "an envelope is one JSON object (see \"The envelope\" in docs/language.md)",
            ),
            Kind::BadOverride => (
                "actpol::test::bad_override",
                "an override may add a key, but every object on its dotted path must exist in the envelope",
            ),
            Kind::InvalidState => (
                "actpol::test::invalid_state",
                "a state holds {\"budgets\": [{\"name\", \"key\", \"consumed\"}], \"events\": [...]}",
            ),
            Kind::NoPolicy => (
                "actpol::test::no_policy",
                "set `policy` to the policy's directory or main file, relative to this file",
            ),
            Kind::InvalidPolicy => (
                "actpol::test::invalid_policy",
                "run `actpol check` on the policy and fix what it reports",
            ),
            Kind::InvalidSnapshot => (
                "actpol::test::invalid_snapshot",
                "record the snapshot again with `actpol snapshot`",
            ),
            Kind::NoTests => (
                "actpol::test::no_tests",
                "name test files `*.test.toml` and snapshots `*.snapshot.json`",
            ),
            Kind::NoSuchPath => (
                "actpol::test::no_such_path",
                "pass files or directories that exist",
            ),
            Kind::EmptyCorpus => (
                "actpol::test::empty_corpus",
                "a corpus is a directory of envelope files named `*.json`",
            ),
            Kind::WriteFailed => (
                "actpol::test::write_failed",
                "check that the directory exists and is writable",
            ),
            Kind::UnknownMutant => (
                "actpol::test::unknown_mutant",
                "copy a survivor's id from `actpol test --mutants`",
            ),
            Kind::NotEquivalent => (
                "actpol::test::not_equivalent",
                "remove the mark: the suite already tells this mutant from the policy",
            ),
        }
    }

    pub fn code(self) -> &'static str {
        self.entry().0
    }
}

/// One failure, with the file it is about and, where known, a span into it.
/// Boxed, so results that carry one stay small.
#[derive(Clone, Debug)]
pub struct TestDiagnostic(Box<DiagnosticData>);

/// What a [`TestDiagnostic`] holds; read through it.
#[derive(Clone, Debug)]
pub struct DiagnosticData {
    pub kind: Kind,
    pub message: String,
    help: Option<String>,
    /// The file as the user named it.
    pub file: String,
    /// The file's text, kept when the diagnostic points into it.
    source: Option<Arc<str>>,
    pub span: Option<Range<usize>>,
    label: Option<String>,
    /// More text for people, such as the checker's report on a policy.
    pub detail: Option<String>,
}

impl std::ops::Deref for TestDiagnostic {
    type Target = DiagnosticData;

    fn deref(&self) -> &DiagnosticData {
        &self.0
    }
}

impl TestDiagnostic {
    pub fn new(kind: Kind, file: impl Into<String>, message: impl Into<String>) -> Self {
        TestDiagnostic(Box::new(DiagnosticData {
            kind,
            message: message.into(),
            help: None,
            file: file.into(),
            source: None,
            span: None,
            label: None,
            detail: None,
        }))
    }

    /// Points the diagnostic at `span` of `source`, the file's text.
    pub fn at(mut self, source: &Arc<str>, span: Range<usize>, label: impl Into<String>) -> Self {
        // A span is kept on character boundaries, so rendering can slice
        // the text wherever the span came from.
        let boundary = |mut at: usize| {
            at = at.min(source.len());
            while !source.is_char_boundary(at) {
                at -= 1;
            }
            at
        };
        let end = boundary(span.end);
        self.0.span = Some(boundary(span.start).min(end)..end);
        self.0.source = Some(Arc::clone(source));
        self.0.label = Some(label.into());
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.0.help = Some(help.into());
        self
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.0.detail = Some(detail.into());
        self
    }

    pub fn code(&self) -> &'static str {
        self.kind.code()
    }

    pub fn help_text(&self) -> &str {
        self.help.as_deref().unwrap_or(self.kind.entry().1)
    }

    /// 1-based line and column of the span's start, when there is a span.
    pub fn line_column(&self) -> Option<(usize, usize)> {
        let source = self.source.as_ref()?;
        Some(line_column(source, self.span.as_ref()?.start))
    }

    /// Whether the line the span starts on is wider than a rendering
    /// quotes ([`actpol::QUOTE_LIMIT`] bytes).
    fn line_too_long_to_quote(&self) -> bool {
        let (Some(text), Some(span)) = (self.source.as_deref(), self.span.as_ref()) else {
            return false;
        };
        actpol::line_too_long_to_quote(text, span.start)
    }

    /// miette text, no colour, `width` columns wide.
    pub fn render_text(&self, width: usize) -> String {
        let handler = GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor())
            .with_width(width)
            .with_links(false);
        let mut out = String::new();
        if self.line_too_long_to_quote() {
            // miette pads to a column with a formatting width, which cannot
            // pass 65,535; such a line is named, not quoted.
            let (line, column) = self.line_column().unwrap_or((1, 1));
            out = format!(
                "{}\n\n  × {}\n  at {}:{line}:{column} (the line is too long to quote)\n  help: {}\n",
                self.code(),
                self.message,
                self.file,
                self.help_text()
            );
        } else if handler.render_report(&mut out, self).is_err() {
            out = format!("{}: {}", self.code(), self.message);
        }
        if let Some(detail) = &self.detail {
            out.push('\n');
            out.push_str(detail);
        }
        out
    }

    /// The JSON object `actpol check --format json` writes.
    pub fn render_json(&self) -> serde_json::Value {
        let span = self.span.clone().unwrap_or(0..0);
        let (line, column) = self.line_column().unwrap_or((1, 1));
        json!({
            "code": self.code(),
            "severity": "error",
            "message": self.message,
            "file": self.file,
            "span": {"start": span.start, "end": span.end},
            "line": line,
            "column": column,
            "help": self.help_text(),
        })
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

impl fmt::Display for TestDiagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TestDiagnostic {}

impl miette::Diagnostic for TestDiagnostic {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code()))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.help_text()))
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let span = self.span.clone()?;
        self.source.as_ref()?;
        let label = LabeledSpan::new_with_span(self.label.clone(), span);
        Some(Box::new(std::iter::once(label)))
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        // miette asks for a named source to print `file:line:column`; the
        // text is shared, so this allocates only the name.
        self.source
            .as_ref()
            .map(|_| self as &dyn miette::SourceCode)
    }
}

impl miette::SourceCode for TestDiagnostic {
    fn read_span<'a>(
        &'a self,
        span: &miette::SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        let text: &'a str = self.source.as_deref().unwrap_or("");
        let contents = text.read_span(span, context_lines_before, context_lines_after)?;
        Ok(Box::new(miette::MietteSpanContents::new_named(
            self.file.clone(),
            contents.data(),
            *contents.span(),
            contents.line(),
            contents.column(),
            contents.line_count(),
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_namespaced() {
        let kinds = [
            Kind::TomlSyntax,
            Kind::UnknownKey,
            Kind::WrongType,
            Kind::MissingKey,
            Kind::UnknownDecision,
            Kind::InvalidValue,
            Kind::RowLength,
            Kind::DuplicateCase,
            Kind::Unreadable,
            Kind::InvalidEnvelope,
            Kind::BadOverride,
            Kind::InvalidState,
            Kind::NoPolicy,
            Kind::InvalidPolicy,
            Kind::InvalidSnapshot,
            Kind::NoTests,
            Kind::NoSuchPath,
            Kind::EmptyCorpus,
            Kind::WriteFailed,
        ];
        let mut codes: Vec<&str> = kinds.iter().map(|k| k.code()).collect();
        assert!(codes.iter().all(|c| c.starts_with("actpol::test::")));
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), kinds.len());
    }

    #[test]
    fn text_names_the_file_line_and_code() {
        let text: Arc<str> = Arc::from("policy = 3\n[[case]]\n");
        let d = TestDiagnostic::new(Kind::WrongType, "a.test.toml", "`policy` must be a string")
            .at(&text, 9..10, "an integer");
        let out = d.render_text(80);
        assert!(out.contains("actpol::test::wrong_type"), "{out}");
        assert!(out.contains("a.test.toml:1:10"), "{out}");
        assert!(out.contains("an integer"), "{out}");
        let j = d.render_json();
        assert_eq!(j["line"], 1);
        assert_eq!(j["column"], 10);
        assert_eq!(j["span"]["start"], 9);
    }

    #[test]
    fn spans_inside_a_character_move_to_its_start() {
        let text: Arc<str> = Arc::from("é = 1");
        let d = TestDiagnostic::new(Kind::UnknownKey, "a", "m").at(&text, 1..1, "here");
        assert_eq!(d.span, Some(0..0));
        assert!(d.render_text(80).contains("actpol::test::unknown_key"));
    }

    #[test]
    fn spans_past_the_end_are_clamped() {
        let text: Arc<str> = Arc::from("x");
        let d = TestDiagnostic::new(Kind::TomlSyntax, "a", "m").at(&text, 5..9, "here");
        assert_eq!(d.span, Some(1..1));
        assert!(d.render_text(80).contains("actpol::test::toml_syntax"));
        assert_eq!(line_column("é\nx", 1), (1, 1));
    }
}
