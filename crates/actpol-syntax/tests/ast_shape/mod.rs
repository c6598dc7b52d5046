//! What formatting must preserve, in a form tests can compare: the syntax
//! tree without its spans, and the comment texts.
//!
//! The formatter drops trailing whitespace from comments, so both sides are
//! compared with trailing whitespace trimmed (in comments and in the `///`
//! documentation read from them).

#![allow(dead_code)] // each test binary uses part of this module

use actpol_syntax::ast::File;

/// The tree of `file` as text, spans and comments left out.
pub fn shape(file: &File) -> String {
    let mut file = file.clone();
    file.comments.clear();
    for item in &mut file.items {
        item.doc = item.doc.as_deref().map(trim_line_ends);
    }
    strip_spans(&format!("{file:?}"))
}

/// The comment texts of `file`, trailing whitespace trimmed, in sorted order:
/// formatting may move a comment past another but never adds or drops one.
pub fn comment_texts(file: &File) -> Vec<String> {
    let mut texts: Vec<String> = file
        .comments
        .iter()
        .map(|c| c.text.trim_end().to_string())
        .collect();
    texts.sort();
    texts
}

fn trim_line_ends(text: &str) -> String {
    text.split('\n')
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Replaces each span (`Debug`-printed as `12..20`) with `_`. Spans are the
/// only digits outside quoted strings in the tree's `Debug` text; digits
/// inside strings (literal text, names) are kept.
fn strip_spans(debug: &str) -> String {
    let mut out = String::with_capacity(debug.len());
    let mut chars = debug.chars().peekable();
    let mut in_string = false;
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            match c {
                '\\' => out.extend(chars.next()),
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        if c == '"' {
            in_string = true;
            out.push(c);
        } else if c.is_ascii_digit() {
            while chars
                .peek()
                .is_some_and(|c| c.is_ascii_digit() || *c == '.')
            {
                chars.next();
            }
            out.push('_');
        } else {
            out.push(c);
        }
    }
    out
}
