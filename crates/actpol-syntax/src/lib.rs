//! The `.actpol` language as text: the pest grammar (`grammar/actpol.pest`),
//! the syntax tree with byte spans ([`ast`]), the parser with readable
//! "expected …" errors, and the canonical formatter.
//!
//! This crate knows nothing of types, the schema or the runtime: a literal is
//! text here, a name is a string. It does no IO.

pub mod ast;
mod error;
mod expected;
pub mod fmt;
mod habits;
mod parser;

pub use error::{Habit, SyntaxError};
pub use fmt::{format_file, format_source};
pub use parser::{is_bidi_control, is_plain_name, parse_expr, parse_file, MAX_DEPTH, MAX_NESTING};
