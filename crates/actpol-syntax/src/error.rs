//! Syntax errors, each a miette diagnostic with a stable code.

use miette::{Diagnostic, SourceSpan};
use thiserror::Error;

pub use crate::habits::Habit;

#[derive(Clone, Debug, Error, Diagnostic, PartialEq, Eq)]
pub enum SyntaxError {
    /// The text leaves the grammar at `span`.
    #[error("unexpected {found}, expected {expected}")]
    #[diagnostic(code(actpol::syntax::unexpected), help("{help}"))]
    Unexpected {
        /// What stands at the error, as a phrase: "`foo`", "end of file".
        found: String,
        /// What the grammar allowed there, as a phrase.
        expected: String,
        help: String,
        #[label("expected {expected}")]
        span: SourceSpan,
    },

    /// A spelling from another language (`=` to compare, `&&`, `'text'`,
    /// `1,000`, `$50`, `7am`), under its own code.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Habit(Habit),

    /// A text-direction control (U+202A–U+202E, U+2066–U+2069) in the
    /// source: it makes the text read differently from what the parser
    /// sees (Trojan Source, CVE-2021-42574).
    #[error("source holds the invisible text-direction control `{code_point}`")]
    #[diagnostic(
        code(actpol::syntax::bidi_control),
        help("remove it: a text-direction control can make a policy read differently from what it does; a string that needs one writes it as `\\u{{{hex}}}`")
    )]
    BidiControl {
        /// As `U+202E`.
        code_point: String,
        /// As `202E`, for the escape the help suggests.
        hex: String,
        #[label("an invisible text-direction control")]
        span: SourceSpan,
    },

    #[error("string literal is not closed")]
    #[diagnostic(
        code(actpol::syntax::unclosed_string),
        help("end the string with `\"` on the same line; write `\\n` for a line break")
    )]
    UnclosedString {
        #[label("this string has no closing `\"`")]
        span: SourceSpan,
    },

    #[error("unknown escape `{text}` in string")]
    #[diagnostic(
        code(actpol::syntax::bad_escape),
        help("the escapes are `\\\"`, `\\\\`, `\\n`, `\\t`, `\\r` and `\\u{{hex}}`")
    )]
    BadEscape {
        text: String,
        #[label("not an escape")]
        span: SourceSpan,
    },

    #[error("expression nests deeper than {limit} levels")]
    #[diagnostic(
        code(actpol::syntax::too_deep),
        help("split the condition into named `risk` expressions")
    )]
    TooDeep {
        limit: usize,
        #[label("too deep here")]
        span: SourceSpan,
    },

    #[error("source is {size} bytes, more than a policy file may hold")]
    #[diagnostic(
        code(actpol::syntax::too_large),
        help("split the policy into files joined by `import`")
    )]
    TooLarge {
        size: usize,
        #[label("file starts here")]
        span: SourceSpan,
    },

    #[error("the parser gave up: {reason}")]
    #[diagnostic(
        code(actpol::syntax::limit),
        help("simplify the text near this point; it is far larger or deeper than a policy needs")
    )]
    Limit {
        reason: String,
        #[label("here")]
        span: SourceSpan,
    },
}

impl SyntaxError {
    pub fn span(&self) -> SourceSpan {
        match self {
            SyntaxError::Unexpected { span, .. }
            | SyntaxError::UnclosedString { span }
            | SyntaxError::BadEscape { span, .. }
            | SyntaxError::TooDeep { span, .. }
            | SyntaxError::TooLarge { span, .. }
            | SyntaxError::Limit { span, .. }
            | SyntaxError::BidiControl { span, .. } => *span,
            SyntaxError::Habit(habit) => habit.span(),
        }
    }
}
