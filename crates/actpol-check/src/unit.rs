//! The files of one check and the diagnostics found in them.
//!
//! Inside the checker a file is named by its index in the unit (the entry
//! and its imports in discovery order): that index is what `SrcSpan::file`
//! holds in the IR. Diagnostics carry the database's [`FileId`].

use actpol_ir::SrcSpan;
use actpol_syntax::ast::Span;

use crate::db::{FileId, SourceDb};
use crate::report::{line_column, Diagnostic};

#[derive(Debug)]
pub(crate) struct Unit<'a> {
    pub db: &'a SourceDb,
    /// The unit's files, entry first.
    pub files: Vec<FileId>,
    pub diags: Vec<Diagnostic>,
    /// How many of `diags` are errors.
    pub errors: usize,
}

impl<'a> Unit<'a> {
    pub(crate) fn new(db: &'a SourceDb, entry: FileId) -> Self {
        Unit {
            db,
            files: db.closure(entry),
            diags: Vec::new(),
            errors: 0,
        }
    }

    pub(crate) fn report(
        &mut self,
        file: u32,
        diag: impl miette::Diagnostic + Send + Sync + 'static,
    ) {
        let diag = Diagnostic::new(self.file_id(file), diag);
        self.errors += usize::from(diag.is_error());
        self.diags.push(diag);
    }

    pub(crate) fn file_id(&self, file: u32) -> FileId {
        self.files[file as usize]
    }

    pub(crate) fn src(&self, file: u32, span: Span) -> SrcSpan {
        SrcSpan {
            file,
            start: span.start,
            end: span.end,
        }
    }

    /// The source text of `span`, for help lines that quote the policy.
    pub(crate) fn text(&self, file: u32, span: Span) -> &'a str {
        let db: &'a SourceDb = self.db;
        db.file(self.file_id(file))
            .text
            .get(span.range())
            .unwrap_or("")
    }

    /// `span` without trailing whitespace: a node that ends in an optional
    /// part (`escalate to lead` without a reason) spans the blank after it.
    pub(crate) fn tight(&self, file: u32, span: Span) -> Span {
        let text = self.text(file, span);
        let end = span.start as usize + text.trim_end().len();
        Span::new(span.start as usize, end.max(span.start as usize))
    }

    /// The source text of `span` without trailing whitespace.
    pub(crate) fn tight_text(&self, file: u32, span: Span) -> &'a str {
        self.text(file, span).trim_end()
    }

    /// `path:line:column`, to point at a place in another file.
    pub(crate) fn place(&self, file: u32, span: Span) -> String {
        let entry = self.db.file(self.file_id(file));
        let (line, column) = line_column(&entry.text, span.start as usize);
        format!("{}:{line}:{column}", entry.path)
    }
}
