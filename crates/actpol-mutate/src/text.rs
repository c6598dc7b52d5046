//! Placing what this crate reports in the policy's text: a span as a file,
//! line and column, the exact token of an operator between two operands,
//! and a part of a condition quoted on one line.

use actpol_ir::{Policy, SrcSpan};
use serde::Serialize;

/// Where a mutant or a coverage site is in the policy's files.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Location {
    /// The file as the policy was loaded (`examples/growth/outbound.actpol`).
    pub file: String,
    /// The file relative to the policy's directory (`outbound.actpol`):
    /// what a mark in a test file names, so it survives moving the policy.
    pub relative: String,
    /// 1-based.
    pub line: usize,
    /// 1-based, in characters.
    pub column: usize,
    /// Byte offsets in the file.
    pub start: usize,
    pub end: usize,
}

impl Location {
    /// The location of `span`; `root` is the policy's directory as loaded
    /// (`examples/growth`, or empty).
    pub fn of(policy: &Policy, span: SrcSpan, root: &str) -> Location {
        let (file, text) = policy
            .files
            .get(span.file as usize)
            .map_or(("", ""), |f| (f.path.as_str(), &*f.text));
        let start = (span.start as usize).min(text.len());
        let before = text.get(..start).unwrap_or("");
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        let relative = match root {
            "" | "." => file.to_string(),
            dir => file
                .strip_prefix(dir)
                .and_then(|rest| rest.strip_prefix('/'))
                .unwrap_or(file)
                .to_string(),
        };
        Location {
            file: file.to_string(),
            relative,
            line,
            column,
            start,
            end: (span.end as usize).max(start),
        }
    }
}

/// The source of `span` on one line, whitespace runs collapsed, cut to a
/// length that reads in a report.
pub(crate) fn quote(policy: &Policy, span: SrcSpan) -> String {
    const MAX: usize = 80;
    let text = policy.text(span).unwrap_or("?");
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= MAX {
        return one_line;
    }
    let cut: String = one_line.chars().take(MAX - 1).collect();
    format!("{}…", cut.trim_end())
}

/// The span of `token` in the gap between `from` and `to` of one file
/// (between two operands), outside comments. Words match whole words.
pub(crate) fn token_between(
    policy: &Policy,
    from: SrcSpan,
    to: SrcSpan,
    token: &str,
) -> Option<SrcSpan> {
    if from.file != to.file || from.end > to.start {
        return None;
    }
    let gap = SrcSpan {
        file: from.file,
        start: from.end,
        end: to.start,
    };
    first_token(policy, gap, token)
}

/// The first `token` in `within`, outside comments.
pub(crate) fn first_token(policy: &Policy, within: SrcSpan, token: &str) -> Option<SrcSpan> {
    find_token(policy, within, token, false)
}

/// The last `token` in `within`, outside comments.
pub(crate) fn last_token(policy: &Policy, within: SrcSpan, token: &str) -> Option<SrcSpan> {
    find_token(policy, within, token, true)
}

fn find_token(policy: &Policy, within: SrcSpan, token: &str, last: bool) -> Option<SrcSpan> {
    let text = policy.text(within)?;
    let is_word = token.chars().all(|c| c.is_alphanumeric() || c == '_');
    let word_char = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    let mut found = None;
    let mut in_comment = false;
    let mut in_string = false;
    for (i, c) in text.char_indices() {
        if in_comment {
            in_comment = c != '\n';
            continue;
        }
        if in_string {
            in_string = c != '"';
            continue;
        }
        if text[i..].starts_with("//") {
            in_comment = true;
            continue;
        }
        if c == '"' {
            in_string = true;
            continue;
        }
        if !text[i..].starts_with(token) {
            continue;
        }
        let before = text[..i].chars().next_back();
        let after = text[i + token.len()..].chars().next();
        let whole = if is_word {
            !word_char(before) && !word_char(after)
        } else {
            // `<` must not be the start of `<=`, nor `=` the end of `<=`.
            !matches!(after, Some('=')) || token.ends_with('=')
        };
        if whole {
            found = Some(SrcSpan {
                file: within.file,
                start: within.start + i as u32,
                end: within.start + (i + token.len()) as u32,
            });
            if !last {
                break;
            }
        }
    }
    found
}
