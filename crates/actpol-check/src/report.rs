//! Diagnostics of a check, and their two renderings: text for people (miette,
//! no colour, fixed width when asked) and JSON for tools (`--format json`).

use miette::{GraphicalReportHandler, GraphicalTheme, NamedSource, Severity};
use serde_json::json;

use crate::db::{FileId, SourceDb};

/// One diagnostic in one file.
#[derive(Debug)]
pub struct Diagnostic {
    pub file: FileId,
    pub inner: Box<dyn miette::Diagnostic + Send + Sync + 'static>,
}

impl Diagnostic {
    pub fn new(file: FileId, inner: impl miette::Diagnostic + Send + Sync + 'static) -> Self {
        Diagnostic {
            file,
            inner: Box::new(inner),
        }
    }

    pub fn severity(&self) -> Severity {
        self.inner.severity().unwrap_or(Severity::Error)
    }

    pub fn is_error(&self) -> bool {
        self.severity() == Severity::Error
    }

    pub fn code(&self) -> String {
        self.inner
            .code()
            .map(|c| c.to_string())
            .unwrap_or_else(|| "actpol::unknown".to_string())
    }

    /// The first label's byte range, if the diagnostic points anywhere.
    pub fn span(&self) -> Option<(usize, usize)> {
        let label = self.inner.labels()?.next()?;
        Some((label.offset(), label.offset() + label.len()))
    }

    /// Orders diagnostics by file, then position, then code.
    pub fn sort_key(&self) -> (FileId, usize, String) {
        (self.file, self.span().map_or(0, |s| s.0), self.code())
    }
}

/// Renders a diagnostic as miette text without colour. `width` fixes the
/// line width (snapshots use a fixed one).
pub fn render_text(db: &SourceDb, diag: &Diagnostic, width: usize) -> String {
    let entry = db.file(diag.file);
    let related = diag.inner.related().into_iter().flatten();
    let quotable = std::iter::once(&*diag.inner as &dyn miette::Diagnostic)
        .chain(related)
        .flat_map(|d| d.labels().into_iter().flatten())
        .all(|label| !line_too_long_to_quote(&entry.text, label.offset()));
    let shown = Shown {
        inner: &*diag.inner,
        source: quotable.then(|| NamedSource::new(entry.path.clone(), shown_text(&entry.text))),
    };
    let mut out = String::new();
    let handler = GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor())
        .with_width(width)
        .with_links(false);
    if handler.render_report(&mut out, &shown).is_err() {
        out = format!("{}: {}", diag.code(), diag.inner);
    }
    if !quotable {
        let (line, column) = line_column(&entry.text, diag.span().map_or(0, |s| s.0));
        out.push_str(&format!(
            "  at {}:{line}:{column} (the line is too long to quote)\n",
            entry.path
        ));
    }
    out
}

/// The text as a rendering quotes it: a text-direction control would
/// reorder the quoted line on the reader's terminal, so it is shown as `�`
/// (the same length in bytes, so every span still points where it did).
fn shown_text(text: &str) -> String {
    text.chars()
        .map(|c| {
            if actpol_syntax::is_bidi_control(c) {
                '\u{FFFD}'
            } else {
                c
            }
        })
        .collect()
}

/// The widest line a rendering quotes: miette pads to a column with a
/// formatting width, which cannot pass 65,535, and a line of thousands of
/// characters helps nobody read the mistake.
pub const QUOTE_LIMIT: usize = 1_000;

/// Whether the line holding `offset` is wider than [`QUOTE_LIMIT`] bytes.
pub fn line_too_long_to_quote(text: &str, offset: usize) -> bool {
    let offset = offset.min(text.len());
    let bytes = text.as_bytes();
    let start = bytes[..offset]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let end = bytes[offset..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(text.len(), |i| offset + i);
    end - start > QUOTE_LIMIT
}

/// One diagnostic as the JSON object of `--format json`: `code`,
/// `severity`, `message`, `file`, `span`, `line`, `column`, `help`, and
/// what the text form also shows: `labels` (each with its `span`, `line`,
/// `column`, `text` and whether it is the `primary` one) and `related`
/// diagnostics, each an object of the same shape.
pub fn render_json(db: &SourceDb, diag: &Diagnostic) -> serde_json::Value {
    let entry = db.file(diag.file);
    let (start, end) = diag.span().unwrap_or((0, 0));
    let (line, column) = line_column(&entry.text, start);
    let mut object = json_of(&entry.text, &*diag.inner);
    object["code"] = json!(diag.code());
    object["file"] = json!(entry.path);
    object["span"] = json!({"start": start, "end": end});
    object["line"] = json!(line);
    object["column"] = json!(column);
    object
}

/// The fields of one diagnostic that do not depend on where it is placed:
/// code, severity, message, help, labels and related diagnostics.
fn json_of(text: &str, diag: &dyn miette::Diagnostic) -> serde_json::Value {
    let labels: Vec<serde_json::Value> = diag
        .labels()
        .into_iter()
        .flatten()
        .enumerate()
        .map(|(i, label)| label_json(text, &label, i == 0))
        .collect();
    let related: Vec<serde_json::Value> = diag
        .related()
        .into_iter()
        .flatten()
        .map(|r| json_of(text, r))
        .collect();
    json!({
        "code": diag.code().map(|c| c.to_string()),
        "severity": match diag.severity().unwrap_or(Severity::Error) {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Advice => "advice",
        },
        "message": diag.to_string(),
        "help": diag.help().map(|h| h.to_string()),
        "labels": labels,
        "related": related,
    })
}

/// A label as JSON: the first label of a diagnostic is its primary span
/// (the one `span`, `line` and `column` name).
fn label_json(text: &str, label: &miette::LabeledSpan, primary: bool) -> serde_json::Value {
    let (line, column) = line_column(text, label.offset());
    json!({
        "span": {"start": label.offset(), "end": label.offset() + label.len()},
        "line": line,
        "column": column,
        "text": label.label(),
        "primary": primary,
    })
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// A borrowed diagnostic with its source attached, for miette's renderer.
struct Shown<'a> {
    inner: &'a (dyn miette::Diagnostic + Send + Sync),
    /// None when a label's line is too long to quote: then neither the
    /// source nor the labels are shown, and the caller names the place.
    source: Option<NamedSource<String>>,
}

impl std::fmt::Debug for Shown<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.inner, f)
    }
}

impl std::fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self.inner, f)
    }
}

impl std::error::Error for Shown<'_> {}

impl miette::Diagnostic for Shown<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn std::fmt::Display + 'b>> {
        self.inner.code()
    }
    fn severity(&self) -> Option<Severity> {
        self.inner.severity()
    }
    fn help<'b>(&'b self) -> Option<Box<dyn std::fmt::Display + 'b>> {
        self.inner.help()
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        self.source.as_ref()?;
        self.inner.labels()
    }
    fn related<'b>(&'b self) -> Option<Box<dyn Iterator<Item = &'b dyn miette::Diagnostic> + 'b>> {
        self.inner.related()
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns_are_one_based() {
        assert_eq!(line_column("ab\ncd", 0), (1, 1));
        assert_eq!(line_column("ab\ncd", 4), (2, 2));
        assert_eq!(line_column("é\nx", 3), (2, 1));
    }

    #[test]
    fn syntax_errors_render_as_text_and_json() {
        let db = SourceDb::from_sources([("bad.actpol", "rule x on a.b { when 1 > }")]);
        let err = db.file(FileId(0)).parsed.clone().unwrap_err();
        let diag = Diagnostic::new(FileId(0), err);
        let text = render_text(&db, &diag, 80);
        assert!(text.contains("actpol::syntax::unexpected"), "{text}");
        assert!(text.contains("bad.actpol:1:"), "{text}");
        let json = render_json(&db, &diag);
        assert_eq!(json["code"], "actpol::syntax::unexpected");
        assert_eq!(json["line"], 1);
        assert_eq!(json["file"], "bad.actpol");
        assert!(json["help"].is_string());
    }
}
