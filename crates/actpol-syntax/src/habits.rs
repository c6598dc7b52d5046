//! Habits from other languages: where the text leaves the grammar at a
//! spelling another language would accept (`=` to compare, `&&`, single
//! quotes, `1,000`, `$50`, `7am`), the error names the habit and says how
//! this language writes it, in place of a list of what could follow.

use miette::{Diagnostic, LabeledSpan, SourceSpan};
use thiserror::Error;

use crate::ast::Span;

/// A spelling from another language, met where the grammar stops.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
#[error("{message}")]
pub struct Habit {
    code: &'static str,
    message: String,
    label: &'static str,
    help: String,
    span: SourceSpan,
}

impl Habit {
    pub(crate) fn span(&self) -> SourceSpan {
        self.span
    }
}

impl Diagnostic for Habit {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(&self.help))
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(std::iter::once(LabeledSpan::new_with_span(
            Some(self.label.to_string()),
            self.span,
        ))))
    }
}

/// The habit written at `pos`, where the grammar stopped, if one is.
/// `operator_expected`: an infix operator could stand at `pos`.
pub(crate) fn habit_at(source: &str, pos: usize, operator_expected: bool) -> Option<Habit> {
    let rest = source.get(pos..)?;
    clock_time(source, pos)
        .or_else(|| currency_symbol(rest, pos))
        .or_else(|| single_quote(source, pos))
        .or_else(|| symbol_operator(rest, pos))
        .or_else(|| {
            operator_expected
                .then(|| single_equals(rest, pos))
                .flatten()
        })
        .or_else(|| digit_group(source, pos))
}

fn habit(
    code: &'static str,
    message: String,
    label: &'static str,
    help: String,
    span: Span,
) -> Habit {
    Habit {
        code,
        message,
        label,
        help,
        span: span.into(),
    }
}

/// `=` where a comparison could stand: `params.count = 5`.
fn single_equals(rest: &str, pos: usize) -> Option<Habit> {
    (rest.starts_with('=') && !rest.starts_with("==") && !rest.starts_with("=>")).then(|| {
        habit(
            "actpol::syntax::single_equals",
            "`=` does not compare".into(),
            "write `==` here",
            "compare with `==` (and `!=` for not equal); `=` only names a risk, as in `risk heavy = params.count > 100`".into(),
            Span::new(pos, pos + 1),
        )
    })
}

/// `&&`, `||` and `!` for the operators written as words.
fn symbol_operator(rest: &str, pos: usize) -> Option<Habit> {
    let (written, word) = if rest.starts_with("&&") {
        ("&&", "and")
    } else if rest.starts_with("||") {
        ("||", "or")
    } else if rest.starts_with('&') {
        ("&", "and")
    } else if rest.starts_with('|') {
        ("|", "or")
    } else if rest.starts_with('!') && !rest.starts_with("!=") {
        ("!", "not")
    } else {
        return None;
    };
    Some(habit(
        "actpol::syntax::symbol_operator",
        format!("`{written}` is not an operator of this language"),
        "not an operator",
        format!("write `{word}`: the logical operators are the words `and`, `or` and `not`"),
        Span::new(pos, pos + written.len()),
    ))
}

/// `'text'`: strings are written in double quotes.
fn single_quote(source: &str, pos: usize) -> Option<Habit> {
    if !source[pos..].starts_with('\'') {
        return None;
    }
    let line_end = source[pos..].find('\n').map_or(source.len(), |i| pos + i);
    let end = source[pos + 1..line_end]
        .find('\'')
        .map_or(pos + 1, |i| pos + 1 + i + 1);
    let inner = &source[pos + 1..end.saturating_sub(1).max(pos + 1)];
    let suggestion = if end > pos + 1 && !inner.contains(['"', '\\']) {
        format!("write `\"{inner}\"`: strings are written in double quotes")
    } else {
        "strings are written in double quotes, as in `\"text\"`".to_string()
    };
    Some(habit(
        "actpol::syntax::single_quote",
        "strings are written in double quotes, not single quotes".into(),
        "a string in single quotes",
        suggestion,
        Span::new(pos, end),
    ))
}

/// `1,000` where a number ends: a comma does not group digits.
fn digit_group(source: &str, pos: usize) -> Option<Habit> {
    let rest = &source[pos..];
    let before = source[..pos].trim_end();
    let ends_in_digit = before.ends_with(|c: char| c.is_ascii_digit());
    let group = rest.strip_prefix(',')?;
    let digits = group.chars().take_while(char::is_ascii_digit).count();
    if !ends_in_digit || digits != 3 || before.len() != pos {
        return None;
    }
    let start = before
        .rfind(|c: char| !(c.is_ascii_digit() || c == ',' || c == '_'))
        .map_or(0, |i| i + 1);
    let mut end = pos + 4;
    while source[end..].starts_with(',')
        && source[end + 1..]
            .chars()
            .take_while(char::is_ascii_digit)
            .count()
            == 3
    {
        end += 4;
    }
    if let Some(fraction) = source[end..].strip_prefix('.') {
        let digits = fraction.chars().take_while(char::is_ascii_digit).count();
        if digits > 0 {
            end += 1 + digits;
        }
    }
    let written = &source[start..end];
    let fixed = written.replace(',', "_");
    Some(habit(
        "actpol::syntax::digit_group",
        format!("a comma does not group digits: `{written}`"),
        "a number with commas",
        format!(
            "write `{fixed}` (an underscore groups digits) or `{}`",
            fixed.replace('_', "")
        ),
        Span::new(start, end),
    ))
}

/// `$50`, `€12.50`: the amount comes first, then the currency code.
fn currency_symbol(rest: &str, pos: usize) -> Option<Habit> {
    let mut chars = rest.chars();
    let symbol = chars.next()?;
    let code = match symbol {
        '$' => "USD",
        '€' => "EUR",
        '£' => "GBP",
        '¥' => "JPY",
        _ => return None,
    };
    let amount: String = chars
        .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == ',' || *c == '_')
        .collect();
    let amount = amount.trim_end_matches(['.', ',']);
    if amount.is_empty() {
        return None;
    }
    let end = pos + symbol.len_utf8() + amount.len();
    let fixed = amount.replace(',', "_");
    Some(habit(
        "actpol::syntax::currency_symbol",
        format!("a currency symbol does not make an amount: `{symbol}{amount}`"),
        "an amount with a currency symbol",
        format!("write the amount, then the currency code: `{fixed} {code}`"),
        Span::new(pos, end),
    ))
}

/// `7am`, `7:30 pm`: a time of day is written on the 24-hour clock.
fn clock_time(source: &str, pos: usize) -> Option<Habit> {
    let line_start = source[..pos].rfind('\n').map_or(0, |i| i + 1);
    let line_end = source[pos..].find('\n').map_or(source.len(), |i| pos + i);
    let line = &source[line_start..line_end];
    let mut at = 0;
    while at < line.len() {
        let starts_number = line[at..].starts_with(|c: char| c.is_ascii_digit())
            && !line[..at].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':');
        if starts_number {
            if let Some((len, fixed)) = twelve_hour(&line[at..]) {
                let (start, end) = (line_start + at, line_start + at + len);
                if (start..end.max(start + 1)).contains(&pos) {
                    let written = &source[start..end];
                    return Some(habit(
                        "actpol::syntax::clock_time",
                        format!("`{written}` is not a time of day here"),
                        "a 12-hour time",
                        format!("write `{fixed}`: a time of day is `HH:MM` on the 24-hour clock"),
                        Span::new(start, end),
                    ));
                }
            }
        }
        at += line[at..].chars().next().map_or(1, char::len_utf8);
    }
    None
}

/// `7am`, `07:30 PM`, `12pm`: its length and the same time as `HH:MM`.
fn twelve_hour(text: &str) -> Option<(usize, String)> {
    let hour_len = text.chars().take_while(char::is_ascii_digit).count();
    if !(1..=2).contains(&hour_len) {
        return None;
    }
    let hour: u32 = text[..hour_len].parse().ok()?;
    let mut at = hour_len;
    let mut minute = 0;
    if let Some(rest) = text[at..].strip_prefix(':') {
        let digits = rest.chars().take_while(char::is_ascii_digit).count();
        if digits != 2 {
            return None;
        }
        minute = rest[..2].parse().ok()?;
        at += 3;
    }
    at += text[at..].len() - text[at..].trim_start_matches(' ').len();
    let suffix = text.get(at..at + 2)?.to_ascii_lowercase();
    let after = text[at + 2..].chars().next();
    if !(suffix == "am" || suffix == "pm")
        || after.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        || !(1..=12).contains(&hour)
        || minute > 59
    {
        return None;
    }
    let hour24 = match (suffix.as_str(), hour) {
        ("am", 12) => 0,
        ("am", h) => h,
        ("pm", 12) => 12,
        (_, h) => h + 12,
    };
    Some((at + 2, format!("{hour24:02}:{minute:02}")))
}
