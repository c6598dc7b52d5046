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
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if in_comment {
            in_comment = c != '\n';
            continue;
        }
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
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

#[cfg(test)]
mod tests {
    use super::*;
    use actpol_ir::SourceFile;
    use std::sync::Arc;

    fn policy(text: &str) -> Policy {
        Policy {
            schema: actpol_core::Schema::new(),
            meta: actpol_core::schema::PolicyMeta {
                name: "p".into(),
                agents: Default::default(),
                approvers: Default::default(),
                budgets: Default::default(),
                default: spec(),
                on_error: spec(),
                rules: Vec::new(),
                raises: Vec::new(),
                risks: Vec::new(),
                timing: Default::default(),
            },
            scopes: Vec::new(),
            rules: Vec::new(),
            raises: Vec::new(),
            risks: Vec::new(),
            files: vec![SourceFile {
                path: "dir/p.actpol".into(),
                text: Arc::from(text),
            }],
        }
    }

    fn spec() -> actpol_core::schema::OutcomeSpec {
        actpol_core::schema::OutcomeSpec {
            level: actpol_core::decision::Level::Deny,
            approver: None,
            reason: None,
            requires: Vec::new(),
        }
    }

    fn span(start: usize, end: usize) -> SrcSpan {
        SrcSpan {
            file: 0,
            start: start as u32,
            end: end as u32,
        }
    }

    #[test]
    fn operators_are_found_between_operands_outside_comments() {
        let text = "a // not <= this\n  <= b";
        let p = policy(text);
        let found = token_between(&p, span(0, 1), span(text.len() - 1, text.len()), "<=").unwrap();
        assert_eq!(&text[found.start as usize..found.end as usize], "<=");
        assert_eq!(found.start, 19);
        // `<` is not the start of `<=`.
        assert!(token_between(&p, span(0, 1), span(text.len() - 1, text.len()), "<").is_none());
    }

    #[test]
    fn words_match_whole_words_outside_strings() {
        let text = r#"x.starts_with("and") and android"#;
        let p = policy(text);
        let found = first_token(&p, span(0, text.len()), "and").unwrap();
        assert_eq!(found.start, 21);
        assert_eq!(
            last_token(&p, span(0, text.len()), "and").unwrap().start,
            21
        );
    }

    #[test]
    fn locations_count_lines_and_characters_from_one() {
        let text = "rule r {\n  when é < 3\n}";
        let p = policy(text);
        let at = text.find('<').unwrap();
        let loc = Location::of(&p, span(at, at + 1), "dir");
        assert_eq!((loc.line, loc.column), (2, 10));
        assert_eq!(loc.relative, "p.actpol");
        assert_eq!(Location::of(&p, span(0, 1), "").relative, "dir/p.actpol");
    }

    #[test]
    fn quotes_are_one_line_and_short() {
        let text = format!("a  and\n   b {}", "c".repeat(100));
        let p = policy(&text);
        let quoted = quote(&p, span(0, text.len()));
        assert!(quoted.starts_with("a and b ccc"));
        assert_eq!(quoted.chars().count(), 80);
        assert!(quoted.ends_with('…'));
    }
}
