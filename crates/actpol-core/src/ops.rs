//! Operations on values: arithmetic, comparison and the built-in functions.
//! The checker guarantees operand types; these still check them, so a
//! corrupted program meets an error, never a wrong answer or a panic.

use std::cmp::Ordering;
use std::sync::Arc;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::decision::EvalError;
use crate::text;
use crate::value::Value;
use crate::value::{DAY_MS, HOUR_MS};
use crate::zones;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

impl ArithOp {
    pub fn as_str(self) -> &'static str {
        match self {
            ArithOp::Add => "+",
            ArithOp::Sub => "-",
            ArithOp::Mul => "*",
            ArithOp::Div => "/",
            ArithOp::Rem => "%",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    pub fn as_str(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
}

/// Functions and methods of the language, resolved by the checker.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Builtin {
    /// `s.starts_with(prefix)`
    StartsWith,
    /// `s.ends_with(suffix)`
    EndsWith,
    /// `s.contains(part)` on strings
    StrContains,
    /// `s.matches("q4-*")`: `*` any run of characters, `?` one character.
    Matches,
    /// `s.len()`: characters in a string
    StrLen,
    /// `set.len()`
    SetLen,
    /// `set.contains(x)`
    SetContains,
    /// `set.contains_any(other)`
    ContainsAny,
    /// `set.contains_all(other)`
    ContainsAll,
    Min,
    Max,
    Abs,
    // New variants go last: artifacts encode a builtin by its position.
    /// `s.lower()`
    Lower,
    /// `s.upper()`
    Upper,
    /// `s.email_domain()`: see [`crate::text::email_domain`].
    EmailDomain,
    /// `s.url_host()`: see [`crate::text::url_host`].
    UrlHost,
    /// `s.urls()`: the set of URLs written in a text.
    Urls,
    /// `s.url_hosts()`: the set of the hosts of those URLs.
    UrlHosts,
    /// `s.matches_regex("…")`. Compiled code matches through
    /// `Instr::Regex` with the pattern compiled once at load; this form
    /// compiles it on each call.
    RegexMatch,
    /// `t.hour_in("America/New_York")`: the local hour in a named zone.
    HourIn,
    /// `t.time_of_day_in(zone)`: time since local midnight.
    TimeOfDayIn,
    /// `t.weekday_in(zone)`: the local weekday.
    WeekdayIn,
    /// `t.date_in(zone)`: the local date, `YYYY-MM-DD`.
    DateIn,
    /// `hours(n)`: a duration of `n` hours (a `Decimal`).
    Hours,
    /// `minutes(n)`
    Minutes,
    /// `seconds(n)`
    Seconds,
    /// `days(n)`
    Days,
    /// `s.split(separator)`: see [`crate::text::split`].
    Split,
}

impl Builtin {
    pub fn name(self) -> &'static str {
        match self {
            Builtin::StartsWith => "starts_with",
            Builtin::EndsWith => "ends_with",
            Builtin::StrContains | Builtin::SetContains => "contains",
            Builtin::Matches => "matches",
            Builtin::StrLen | Builtin::SetLen => "len",
            Builtin::ContainsAny => "contains_any",
            Builtin::ContainsAll => "contains_all",
            Builtin::Min => "min",
            Builtin::Max => "max",
            Builtin::Abs => "abs",
            Builtin::Lower => "lower",
            Builtin::Upper => "upper",
            Builtin::EmailDomain => "email_domain",
            Builtin::UrlHost => "url_host",
            Builtin::Urls => "urls",
            Builtin::UrlHosts => "url_hosts",
            Builtin::RegexMatch => "matches_regex",
            Builtin::HourIn => "hour_in",
            Builtin::TimeOfDayIn => "time_of_day_in",
            Builtin::WeekdayIn => "weekday_in",
            Builtin::DateIn => "date_in",
            Builtin::Hours => "hours",
            Builtin::Minutes => "minutes",
            Builtin::Seconds => "seconds",
            Builtin::Days => "days",
            Builtin::Split => "split",
        }
    }

    pub fn arity(self) -> usize {
        match self {
            Builtin::StrLen
            | Builtin::SetLen
            | Builtin::Abs
            | Builtin::Lower
            | Builtin::Upper
            | Builtin::EmailDomain
            | Builtin::UrlHost
            | Builtin::Urls
            | Builtin::UrlHosts
            | Builtin::Hours
            | Builtin::Minutes
            | Builtin::Seconds
            | Builtin::Days => 1,
            _ => 2,
        }
    }

    /// Fuel the call costs beyond its instruction, for builtins whose work
    /// grows with the text they read (see [`crate::text::scan_cost`]).
    pub fn scan_cost(self, args: &[Value]) -> u64 {
        match (self, args.first()) {
            (
                Builtin::Lower
                | Builtin::Upper
                | Builtin::EmailDomain
                | Builtin::UrlHost
                | Builtin::Urls
                | Builtin::UrlHosts
                | Builtin::RegexMatch
                | Builtin::Split,
                Some(Value::String(s)),
            ) => crate::text::scan_cost(s),
            _ => 0,
        }
    }
}

fn overflow(op: &str) -> EvalError {
    EvalError::Overflow(format!("arithmetic overflow in `{op}`"))
}

fn type_error(what: &str) -> EvalError {
    EvalError::Type(format!("operands of `{what}` have the wrong types"))
}

fn div_zero() -> EvalError {
    EvalError::DivisionByZero
}

fn dec(op: ArithOp, a: Decimal, b: Decimal) -> Result<Decimal, EvalError> {
    let r = match op {
        ArithOp::Add => a.checked_add(b),
        ArithOp::Sub => a.checked_sub(b),
        ArithOp::Mul => a.checked_mul(b),
        ArithOp::Div => {
            if b.is_zero() {
                return Err(div_zero());
            }
            a.checked_div(b)
        }
        ArithOp::Rem => {
            if b.is_zero() {
                return Err(div_zero());
            }
            a.checked_rem(b)
        }
    };
    r.ok_or_else(|| overflow(op.as_str()))
}

fn int(op: ArithOp, a: i64, b: i64) -> Result<i64, EvalError> {
    let r = match op {
        ArithOp::Add => a.checked_add(b),
        ArithOp::Sub => a.checked_sub(b),
        ArithOp::Mul => a.checked_mul(b),
        ArithOp::Div | ArithOp::Rem if b == 0 => return Err(div_zero()),
        ArithOp::Div => a.checked_div(b),
        ArithOp::Rem => a.checked_rem(b),
    };
    r.ok_or_else(|| overflow(op.as_str()))
}

/// `a op b`. Ints divide only after the checker promoted them to decimals;
/// `Int / Int` here truncates (durations divided by counts).
pub fn arith(op: ArithOp, a: &Value, b: &Value) -> Result<Value, EvalError> {
    use ArithOp::*;
    use Value as V;
    Ok(match (op, a, b) {
        (_, V::Int(x), V::Int(y)) => V::Int(int(op, *x, *y)?),
        (_, V::Decimal(x), V::Decimal(y)) => V::Decimal(dec(op, *x, *y)?),
        (Add | Sub, V::Money(x), V::Money(y)) => V::Money(dec(op, *x, *y)?),
        (Div, V::Money(x), V::Money(y)) => V::Decimal(dec(op, *x, *y)?),
        (Mul | Div, V::Money(x), V::Decimal(y)) => V::Money(dec(op, *x, *y)?),
        (Mul, V::Decimal(x), V::Money(y)) => V::Money(dec(op, *x, *y)?),
        (Add | Sub, V::Duration(x), V::Duration(y)) => V::Duration(int(op, *x, *y)?),
        (Div, V::Duration(x), V::Duration(y)) => {
            V::Decimal(dec(op, Decimal::from(*x), Decimal::from(*y))?)
        }
        (Mul | Div, V::Duration(x), V::Int(y)) => V::Duration(int(op, *x, *y)?),
        (Mul, V::Int(x), V::Duration(y)) => V::Duration(int(op, *x, *y)?),
        (Sub, V::Timestamp(x), V::Timestamp(y)) => V::Duration(int(op, *x, *y)?),
        (Add | Sub, V::Timestamp(x), V::Duration(y)) => V::Timestamp(int(op, *x, *y)?),
        (Add, V::Duration(x), V::Timestamp(y)) => V::Timestamp(int(op, *x, *y)?),
        _ => return Err(type_error(op.as_str())),
    })
}

pub fn negate(a: &Value) -> Result<Value, EvalError> {
    Ok(match a {
        Value::Int(x) => Value::Int(x.checked_neg().ok_or_else(|| overflow("-"))?),
        Value::Decimal(x) => Value::Decimal(-*x),
        Value::Money(x) => Value::Money(-*x),
        Value::Duration(x) => Value::Duration(x.checked_neg().ok_or_else(|| overflow("-"))?),
        _ => return Err(type_error("-")),
    })
}

pub fn compare(op: CmpOp, a: &Value, b: &Value) -> Result<bool, EvalError> {
    Ok(match op {
        CmpOp::Eq => a == b,
        CmpOp::Ne => a != b,
        _ => {
            let ord = a.compare(b).ok_or_else(|| type_error(op.as_str()))?;
            match op {
                CmpOp::Lt => ord == Ordering::Less,
                CmpOp::Le => ord != Ordering::Greater,
                CmpOp::Gt => ord == Ordering::Greater,
                _ => ord != Ordering::Less,
            }
        }
    })
}

pub fn to_decimal(a: &Value) -> Result<Value, EvalError> {
    match a {
        Value::Int(i) => Ok(Value::Decimal(Decimal::from(*i))),
        Value::Decimal(_) => Ok(a.clone()),
        _ => Err(type_error("to decimal")),
    }
}

/// `elem in set`.
pub fn member(elem: &Value, set: &Value) -> Result<bool, EvalError> {
    match set {
        Value::Set(_) => Ok(set.set_contains(elem)),
        Value::List(items) => Ok(items.contains(elem)),
        _ => Err(type_error("in")),
    }
}

pub fn call(builtin: Builtin, args: &[Value]) -> Result<Value, EvalError> {
    use Value as V;
    let bad = || type_error(builtin.name());
    if args.len() != builtin.arity() {
        return Err(bad());
    }
    Ok(match (builtin, args) {
        (Builtin::StartsWith, [V::String(s), V::String(p)]) => V::Bool(s.starts_with(&**p)),
        (Builtin::EndsWith, [V::String(s), V::String(p)]) => V::Bool(s.ends_with(&**p)),
        (Builtin::StrContains, [V::String(s), V::String(p)]) => V::Bool(s.contains(&**p)),
        (Builtin::Matches, [V::String(s), V::String(p)]) => V::Bool(glob_match(p, s)),
        (Builtin::Lower, [V::String(s)]) => V::String(Arc::from(s.to_lowercase())),
        (Builtin::Upper, [V::String(s)]) => V::String(Arc::from(s.to_uppercase())),
        (Builtin::EmailDomain, [V::String(s)]) => V::String(text::email_domain(s)),
        (Builtin::UrlHost, [V::String(s)]) => V::String(text::url_host(s)),
        (Builtin::Urls, [V::String(s)]) => string_set(text::urls(s)),
        (Builtin::UrlHosts, [V::String(s)]) => string_set(text::url_hosts(s)),
        (Builtin::Split, [V::String(s), V::String(sep)]) => V::List(
            text::split(s, sep)
                .into_iter()
                .map(V::String)
                .collect::<Vec<_>>()
                .into(),
        ),
        (Builtin::RegexMatch, [V::String(s), V::String(p)]) => {
            let re = text::compile_regex(p).map_err(|_| bad())?;
            V::Bool(re.is_match(s))
        }
        (Builtin::HourIn, [V::Timestamp(t), V::String(z)]) => {
            V::Int(zones::hour_in(*t, zone_of(z)?).ok_or_else(|| out_of_range("hour_in"))?)
        }
        (Builtin::TimeOfDayIn, [V::Timestamp(t), V::String(z)]) => V::Duration(
            zones::time_of_day_in(*t, zone_of(z)?).ok_or_else(|| out_of_range("time_of_day_in"))?,
        ),
        (Builtin::WeekdayIn, [V::Timestamp(t), V::String(z)]) => {
            V::Enum(zones::weekday_in(*t, zone_of(z)?).ok_or_else(|| out_of_range("weekday_in"))?)
        }
        (Builtin::DateIn, [V::Timestamp(t), V::String(z)]) => V::String(Arc::from(
            zones::date_in(*t, zone_of(z)?).ok_or_else(|| out_of_range("date_in"))?,
        )),
        (Builtin::Hours | Builtin::Minutes | Builtin::Seconds | Builtin::Days, [V::Decimal(n)]) => {
            let unit = match builtin {
                Builtin::Hours => HOUR_MS,
                Builtin::Minutes => 60_000,
                Builtin::Seconds => 1000,
                _ => DAY_MS,
            };
            V::Duration(zones::duration_of(*n, unit).ok_or_else(|| overflow(builtin.name()))?)
        }
        (Builtin::StrLen, [V::String(s)]) => V::Int(s.chars().count() as i64),
        (Builtin::SetLen, [V::Set(items)]) => V::Int(items.len() as i64),
        (Builtin::SetContains, [set, elem]) => V::Bool(member(elem, set)?),
        (Builtin::ContainsAny, [set @ V::Set(_), V::Set(other)]) => {
            V::Bool(other.iter().any(|x| set.set_contains(x)))
        }
        (Builtin::ContainsAll, [set @ V::Set(_), V::Set(other)]) => {
            V::Bool(other.iter().all(|x| set.set_contains(x)))
        }
        (Builtin::Min | Builtin::Max, [a, b]) => {
            let ord = a.compare(b).ok_or_else(bad)?;
            let take_a = (builtin == Builtin::Min) == (ord != Ordering::Greater);
            if take_a {
                a.clone()
            } else {
                b.clone()
            }
        }
        (Builtin::Abs, [a]) => match a {
            V::Int(x) => V::Int(x.checked_abs().ok_or_else(|| overflow("abs"))?),
            V::Decimal(x) => V::Decimal(x.abs()),
            V::Money(x) => V::Money(x.abs()),
            V::Duration(x) => V::Duration(x.checked_abs().ok_or_else(|| overflow("abs"))?),
            _ => return Err(bad()),
        },
        _ => return Err(bad()),
    })
}

/// A zone the checker resolved; a program naming another is corrupt.
fn zone_of(name: &str) -> Result<chrono_tz::Tz, EvalError> {
    zones::zone(name).ok_or_else(|| EvalError::Type(format!("unknown time zone `{name}`")))
}

fn out_of_range(what: &str) -> EvalError {
    EvalError::Overflow(format!("the instant is out of range for `{what}`"))
}

fn string_set(items: Vec<Arc<str>>) -> Value {
    Value::set(items.into_iter().map(Value::String).collect())
}

/// Glob match without backtracking blow-up: `*` any run, `?` one character.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    #[test]
    fn globs() {
        assert!(glob_match("q4-*", "q4-winback"));
        assert!(glob_match("*.acme.example", "mail.acme.example"));
        assert!(!glob_match("*.acme.example", "acme.example"));
        assert!(glob_match("a?c", "abc"));
        assert!(glob_match("*", ""));
        assert!(!glob_match("a", ""));
    }

    #[test]
    fn arithmetic_is_checked() {
        assert_eq!(
            arith(ArithOp::Add, &Value::Int(i64::MAX), &Value::Int(1))
                .unwrap_err()
                .code(),
            ErrorCode::EvalOverflow
        );
        assert_eq!(
            arith(ArithOp::Div, &Value::Int(1), &Value::Int(0))
                .unwrap_err()
                .code(),
            ErrorCode::EvalDivisionByZero
        );
        assert_eq!(
            arith(
                ArithOp::Sub,
                &Value::Timestamp(5000),
                &Value::Timestamp(2000)
            )
            .unwrap(),
            Value::Duration(3000)
        );
        assert!(arith(ArithOp::Add, &Value::Int(1), &Value::str("x")).is_err());
    }

    #[test]
    fn min_max_abs() {
        assert_eq!(
            call(Builtin::Min, &[Value::Int(3), Value::Int(2)]).unwrap(),
            Value::Int(2)
        );
        assert_eq!(
            call(Builtin::Max, &[Value::Int(3), Value::Int(2)]).unwrap(),
            Value::Int(3)
        );
        assert_eq!(
            call(Builtin::Abs, &[Value::Int(-3)]).unwrap(),
            Value::Int(3)
        );
    }
}
