//! Moving a threshold: by one unit of its last written digit, so that a
//! suite kills the move only if it pins the boundary from that side.
//!
//! `1_000` moves to `999` and `1_001`, `0.98` to `0.97` and `0.99`,
//! `50_000 USD` to `49_999 USD` and `50_001 USD`, `14d` to `13d` and `15d`,
//! `07:00` to `06:59` and `07:01`.

use actpol_core::ops::{self, ArithOp};
use actpol_core::types::Type;
use actpol_core::value::Value;
use actpol_core::Decimal;

const UNITS: [(&str, i64); 6] = [
    ("ms", 1),
    ("s", 1_000),
    ("m", 60_000),
    ("h", 3_600_000),
    ("d", 86_400_000),
    ("w", 7 * 86_400_000),
];

/// How a number was written, so a moved value can be written alike.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Written {
    /// A number (with its currency for money); `grouped` when it used `_`.
    Number { grouped: bool },
    /// A duration in one unit of this many milliseconds (`14d`).
    Duration { unit: i64, suffix: &'static str },
    /// A time of day, `HH:MM`.
    TimeOfDay,
}

/// The value one unit of `written` away from `value`: `up` or down. `None`
/// for values this does not move (or that would overflow).
pub(crate) fn moved(value: &Value, text: &str, up: bool) -> Option<(Value, Written)> {
    let written = written(value, text)?;
    let step = step(value, written)?;
    let op = if up { ArithOp::Add } else { ArithOp::Sub };
    let next = ops::arith(op, value, &step).ok()?;
    if matches!(written, Written::TimeOfDay) {
        // A time of day stays within the day.
        let Value::Duration(ms) = next else {
            return None;
        };
        if !(0..86_400_000).contains(&ms) {
            return None;
        }
    }
    Some((next, written))
}

/// One unit of how `value` is written.
pub(crate) fn step(value: &Value, written: Written) -> Option<Value> {
    Some(match (value, written) {
        (Value::Int(_), _) => Value::Int(1),
        (Value::Decimal(d), _) => Value::Decimal(Decimal::new(1, d.scale())),
        (Value::Money(d), _) => Value::Money(Decimal::new(1, d.scale())),
        (Value::Duration(_), Written::TimeOfDay) => Value::Duration(60_000),
        (Value::Duration(_), Written::Duration { unit, .. }) => Value::Duration(unit),
        _ => return None,
    })
}

/// How `value` was written in `text` (its source).
pub(crate) fn written(value: &Value, text: &str) -> Option<Written> {
    let text = text.trim();
    match value {
        Value::Int(_) | Value::Decimal(_) | Value::Money(_) => Some(Written::Number {
            grouped: text.contains('_'),
        }),
        Value::Duration(ms) => {
            if is_time_of_day(text) {
                return Some(Written::TimeOfDay);
            }
            // The smallest unit written (`1h30m`: minutes); a duration
            // not written as a literal moves by the largest unit dividing it.
            let written = UNITS
                .iter()
                .find(|(suffix, _)| has_unit(text, suffix))
                .copied();
            let (suffix, unit) = written.or_else(|| {
                UNITS
                    .iter()
                    .rev()
                    .find(|(_, unit)| *ms != 0 && ms % unit == 0)
                    .copied()
            })?;
            Some(Written::Duration { unit, suffix })
        }
        _ => None,
    }
}

fn is_time_of_day(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 5 && b[2] == b':' && [0, 1, 3, 4].iter().all(|i| b[*i].is_ascii_digit())
}

/// Whether the duration literal `text` has a number followed by exactly
/// `suffix` (so `m` is not found in `ms`).
fn has_unit(text: &str, suffix: &str) -> bool {
    let mut rest = text;
    while let Some(i) = rest.find(|c: char| c.is_ascii_alphabetic()) {
        let letters: String = rest[i..]
            .chars()
            .take_while(char::is_ascii_alphabetic)
            .collect();
        if letters == suffix && rest[..i].ends_with(|c: char| c.is_ascii_digit()) {
            return true;
        }
        rest = &rest[i + letters.len()..];
    }
    false
}

/// `value` written the way `written` says, in a value of type `ty`.
pub(crate) fn write(value: &Value, written: Written, ty: &Type) -> String {
    match (value, written) {
        (Value::Duration(ms), Written::TimeOfDay) => {
            let minutes = ms / 60_000;
            format!("{:02}:{:02}", minutes / 60, minutes % 60)
        }
        (Value::Duration(ms), Written::Duration { unit, suffix }) if ms % unit == 0 => {
            format!("{}{suffix}", ms / unit)
        }
        (Value::Duration(ms), _) => actpol_core::value::format_duration(*ms),
        (Value::Int(i), Written::Number { grouped }) => number(&i.to_string(), grouped),
        (Value::Decimal(d), Written::Number { grouped }) => number(&d.to_string(), grouped),
        (Value::Money(d), Written::Number { grouped }) => {
            let currency = match ty {
                Type::Money(c) => c.as_str().to_string(),
                _ => String::new(),
            };
            format!("{} {currency}", number(&d.to_string(), grouped))
                .trim_end()
                .to_string()
        }
        (other, _) => format!("{other:?}"),
    }
}

/// Digits grouped by thousands with `_` when the original was.
fn number(digits: &str, grouped: bool) -> String {
    if !grouped {
        return digits.to_string();
    }
    let (sign, rest) = match digits.strip_prefix('-') {
        Some(r) => ("-", r),
        None => ("", digits),
    };
    let (whole, fraction) = match rest.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (rest, None),
    };
    let mut out = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            out.push('_');
        }
        out.push(c);
    }
    match fraction {
        Some(f) => format!("{sign}{out}.{f}"),
        None => format!("{sign}{out}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actpol_core::types::Currency;

    fn show(value: Value, text: &str, ty: Type) -> (String, String) {
        let (down, w) = moved(&value, text, false).unwrap();
        let (up, _) = moved(&value, text, true).unwrap();
        (write(&down, w, &ty), write(&up, w, &ty))
    }

    #[test]
    fn thresholds_move_by_one_unit_of_what_is_written() {
        assert_eq!(
            show(Value::Int(1000), "1_000", Type::Int),
            ("999".into(), "1_001".into())
        );
        assert_eq!(
            show(Value::Decimal(Decimal::new(98, 2)), "0.98", Type::Decimal),
            ("0.97".into(), "0.99".into())
        );
        let usd = Type::Money(Currency::parse("USD").unwrap());
        assert_eq!(
            show(Value::Money(Decimal::new(50_000, 0)), "50_000 USD", usd),
            ("49_999 USD".into(), "50_001 USD".into())
        );
        assert_eq!(
            show(Value::Duration(14 * 86_400_000), "14d", Type::Duration),
            ("13d".into(), "15d".into())
        );
        assert_eq!(
            show(Value::Duration(90 * 60_000), "1h30m", Type::Duration),
            ("89m".into(), "91m".into())
        );
        assert_eq!(
            show(Value::Duration(250), "250ms", Type::Duration),
            ("249ms".into(), "251ms".into())
        );
        assert_eq!(
            show(Value::Duration(7 * 3_600_000), "07:00", Type::Duration),
            ("06:59".into(), "07:01".into())
        );
    }

    #[test]
    fn a_time_of_day_stays_within_the_day() {
        assert!(moved(&Value::Duration(0), "00:00", false).is_none());
        assert!(moved(&Value::Duration(0), "00:00", true).is_some());
    }

    #[test]
    fn only_numbers_move() {
        assert!(moved(&Value::str("x"), "\"x\"", true).is_none());
        assert!(moved(&Value::Bool(true), "true", true).is_none());
    }
}
