//! Runtime values, and their text and JSON forms.

use std::cmp::Ordering;
use std::sync::Arc;

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::amount::Amount;
use crate::decision::ValueOut;
use crate::schema::Schema;
use crate::types::Type;

/// A value of some [`Type`]. The type is known statically wherever a value
/// is used, so money carries no currency and enums are variant indices.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Value {
    Bool(bool),
    Int(i64),
    // Decimals travel as text: compact binary formats (the artifact's)
    // cannot carry the self-describing form `rust_decimal` reads by default.
    Decimal(#[serde(with = "rust_decimal::serde::str")] Decimal),
    Money(#[serde(with = "rust_decimal::serde::str")] Decimal),
    /// Milliseconds.
    Duration(i64),
    /// Milliseconds since the Unix epoch, UTC.
    Timestamp(i64),
    String(Arc<str>),
    /// A variant index of the value's enum.
    Enum(u32),
    /// An entity id.
    Ref(Arc<str>),
    /// Sorted, without duplicates (see [`Value::set`]).
    Set(Arc<[Value]>),
    /// In order, duplicates kept.
    List(Arc<[Value]>),
    /// A record's fields in declaration order; `None` is an absent
    /// optional field.
    Record(Arc<[Option<Value>]>),
}

/// The derived form of [`Value`], read through a depth guard (see
/// [`crate::types::Type`]'s reader).
#[derive(Deserialize)]
#[serde(rename = "Value")]
enum ValueRepr {
    Bool(bool),
    Int(i64),
    Decimal(#[serde(with = "rust_decimal::serde::str")] Decimal),
    Money(#[serde(with = "rust_decimal::serde::str")] Decimal),
    Duration(i64),
    Timestamp(i64),
    String(Arc<str>),
    Enum(u32),
    Ref(Arc<str>),
    Set(Arc<[Value]>),
    List(Arc<[Value]>),
    Record(Arc<[Option<Value>]>),
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let _depth = crate::nesting::enter::<D::Error>()?;
        Ok(match ValueRepr::deserialize(d)? {
            ValueRepr::Bool(b) => Value::Bool(b),
            ValueRepr::Int(i) => Value::Int(i),
            ValueRepr::Decimal(x) => Value::Decimal(x),
            ValueRepr::Money(x) => Value::Money(x),
            ValueRepr::Duration(x) => Value::Duration(x),
            ValueRepr::Timestamp(x) => Value::Timestamp(x),
            ValueRepr::String(s) => Value::String(s),
            ValueRepr::Enum(v) => Value::Enum(v),
            ValueRepr::Ref(s) => Value::Ref(s),
            ValueRepr::Set(items) => Value::Set(items),
            ValueRepr::List(items) => Value::List(items),
            ValueRepr::Record(fields) => Value::Record(fields),
        })
    }
}

impl Value {
    /// A set from any elements: sorts and removes duplicates.
    pub fn set(mut elems: Vec<Value>) -> Value {
        elems.sort_by(Value::total_cmp);
        elems.dedup();
        Value::Set(elems.into())
    }

    pub fn str(s: &str) -> Value {
        Value::String(Arc::from(s))
    }

    /// The order of ordered types of the same kind; `None` across kinds.
    pub fn compare(&self, other: &Value) -> Option<Ordering> {
        use Value::*;
        match (self, other) {
            (Int(a), Int(b)) | (Duration(a), Duration(b)) | (Timestamp(a), Timestamp(b)) => {
                Some(a.cmp(b))
            }
            (Decimal(a), Decimal(b)) | (Money(a), Money(b)) => Some(a.cmp(b)),
            _ => None,
        }
    }

    /// A total order over all values, used to keep sets canonical.
    pub fn total_cmp(&self, other: &Value) -> Ordering {
        use Value::*;
        match (self, other) {
            (Bool(a), Bool(b)) => a.cmp(b),
            (Int(a), Int(b)) | (Duration(a), Duration(b)) | (Timestamp(a), Timestamp(b)) => {
                a.cmp(b)
            }
            (Decimal(a), Decimal(b)) | (Money(a), Money(b)) => a.cmp(b),
            (String(a), String(b)) | (Ref(a), Ref(b)) => a.cmp(b),
            (Enum(a), Enum(b)) => a.cmp(b),
            (Set(a), Set(b)) | (List(a), List(b)) => {
                for (x, y) in a.iter().zip(b.iter()) {
                    match x.total_cmp(y) {
                        Ordering::Equal => continue,
                        other => return other,
                    }
                }
                a.len().cmp(&b.len())
            }
            (Record(a), Record(b)) => {
                for (x, y) in a.iter().zip(b.iter()) {
                    let order = match (x, y) {
                        (Some(x), Some(y)) => x.total_cmp(y),
                        (x, y) => x.is_some().cmp(&y.is_some()),
                    };
                    if order != Ordering::Equal {
                        return order;
                    }
                }
                a.len().cmp(&b.len())
            }
            _ => self.rank().cmp(&other.rank()),
        }
    }

    fn rank(&self) -> u8 {
        match self {
            Value::Bool(_) => 0,
            Value::Int(_) => 1,
            Value::Decimal(_) => 2,
            Value::Money(_) => 3,
            Value::Duration(_) => 4,
            Value::Timestamp(_) => 5,
            Value::String(_) => 6,
            Value::Enum(_) => 7,
            Value::Ref(_) => 8,
            Value::Set(_) => 9,
            Value::List(_) => 10,
            Value::Record(_) => 11,
        }
    }

    /// Whether `elem` is in this set (false when this is not a set).
    ///
    /// A few elements are compared one by one, which costs less than the
    /// ordering a binary search needs at each step; `==` and `total_cmp`
    /// agree on which values are equal.
    pub fn set_contains(&self, elem: &Value) -> bool {
        const SCAN: usize = 8;
        match self {
            Value::Set(items) if items.len() <= SCAN => items.contains(elem),
            Value::Set(items) => items
                .binary_search_by(|probe| probe.total_cmp(elem))
                .is_ok(),
            _ => false,
        }
    }

    /// The amount a budget counts: every budget type is a number of units.
    pub fn as_amount(&self) -> Option<Decimal> {
        match self {
            Value::Int(i) | Value::Duration(i) => Some(Decimal::from(*i)),
            Value::Decimal(d) | Value::Money(d) => Some(*d),
            _ => None,
        }
    }

    /// The value of type `ty` holding `amount` units (the inverse of
    /// [`Value::as_amount`]); `None` if it does not fit.
    pub fn from_amount(ty: &Type, amount: Decimal) -> Option<Value> {
        match ty {
            Type::Int => amount.trunc().to_i64().map(Value::Int),
            Type::Duration => amount.trunc().to_i64().map(Value::Duration),
            Type::Decimal => Some(Value::Decimal(amount)),
            Type::Money(_) => Some(Value::Money(amount)),
            _ => None,
        }
    }

    /// The form decisions and packets write: money as a number, durations
    /// and timestamps as text, enum variants by name.
    pub fn to_out(&self, ty: &Type, schema: &Schema) -> ValueOut {
        match self {
            Value::Bool(b) => ValueOut::Bool(*b),
            Value::Int(i) => ValueOut::Number(Amount::from(*i)),
            Value::Decimal(d) | Value::Money(d) => ValueOut::Number(Amount(*d)),
            Value::Duration(ms) => ValueOut::Text(format_duration(*ms)),
            Value::Timestamp(ms) => ValueOut::Text(format_timestamp(*ms)),
            Value::String(s) | Value::Ref(s) => ValueOut::Text(s.to_string()),
            Value::Enum(v) => match self.variant_name(ty, schema) {
                Some(name) => ValueOut::Text(name.to_string()),
                None => ValueOut::Number(Amount::from(i64::from(*v))),
            },
            Value::Set(items) | Value::List(items) => {
                let elem_ty = ty.element().unwrap_or(ty);
                ValueOut::List(items.iter().map(|v| v.to_out(elem_ty, schema)).collect())
            }
            // Records read as their fields' values in declaration order
            // (absent ones as `false`, which no present field of a record
            // type is confused with in an explanation).
            Value::Record(fields) => {
                let defs = match ty {
                    Type::Record(id) => schema.records.get_index(id.index()).map(|(_, d)| d),
                    _ => None,
                };
                ValueOut::List(
                    fields
                        .iter()
                        .enumerate()
                        .map(|(i, f)| match (f, defs.and_then(|d| d.fields.get(i))) {
                            (Some(v), Some(def)) => v.to_out(&def.ty, schema),
                            (Some(v), None) => v.to_out(&Type::Bool, schema),
                            (None, _) => ValueOut::Bool(false),
                        })
                        .collect(),
                )
            }
        }
    }

    /// An enum value's variant name, when `ty` says which enum.
    fn variant_name<'s>(&self, ty: &Type, schema: &'s Schema) -> Option<&'s str> {
        let (Value::Enum(v), Type::Enum(id)) = (self, ty) else {
            return None;
        };
        schema
            .enums
            .get_index(id.index())
            .and_then(|(_, e)| e.variants.get(*v as usize))
            .map(String::as_str)
    }

    /// How the value reads in explanations: `120`, `"q4"`, `15m`, `500 USD`.
    pub fn display(&self, ty: &Type, schema: &Schema) -> String {
        match (self, ty) {
            (Value::Money(d), Type::Money(c)) => format!("{} {c}", d.normalize()),
            (Value::String(s), _) | (Value::Ref(s), _) => format!("{s:?}"),
            (Value::Set(items) | Value::List(items), _) => {
                let elem_ty = ty.element().unwrap_or(ty);
                let parts: Vec<String> = items.iter().map(|v| v.display(elem_ty, schema)).collect();
                format!("[{}]", parts.join(", "))
            }
            (Value::Record(fields), Type::Record(id)) => {
                let Some((name, def)) = schema.records.get_index(id.index()) else {
                    return "{…}".to_string();
                };
                let parts: Vec<String> = def
                    .fields
                    .iter()
                    .zip(fields.iter())
                    .filter_map(|(f, v)| {
                        let v = v.as_ref()?;
                        Some(format!(
                            "{}: {}",
                            schema.field_name(f.name),
                            v.display(&f.ty, schema)
                        ))
                    })
                    .collect();
                format!("{name} {{{}}}", parts.join(", "))
            }
            (Value::Enum(_), Type::Enum(id)) => format!(
                "{}.{}",
                schema.enum_name(*id),
                self.variant_name(ty, schema).unwrap_or("?")
            ),
            (Value::Decimal(d), _) => d.normalize().to_string(),
            _ => match self.to_out(ty, schema) {
                ValueOut::Text(s) => s,
                other => other.to_string(),
            },
        }
    }
}

const UNITS: [(&str, i64); 6] = [
    ("w", 7 * DAY_MS),
    ("d", DAY_MS),
    ("h", HOUR_MS),
    ("m", 60_000),
    ("s", 1_000),
    ("ms", 1),
];

/// Parses `15m`, `1h30m`, `250ms`, `7d`, `2w` into milliseconds.
pub fn parse_duration(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    if bytes.is_empty() {
        return None;
    }
    let mut total: i64 = 0;
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return None;
        }
        let n: i64 = text[start..i].parse().ok()?;
        let unit_start = i;
        while i < bytes.len() && bytes[i].is_ascii_alphabetic() {
            i += 1;
        }
        let unit = &text[unit_start..i];
        let (_, scale) = UNITS.iter().find(|(u, _)| *u == unit)?;
        total = total.checked_add(n.checked_mul(*scale)?)?;
    }
    Some(total)
}

/// Milliseconds as the shortest duration text: `1h30m`, `250ms`, `0s`.
pub fn format_duration(ms: i64) -> String {
    if ms == 0 {
        return "0s".to_string();
    }
    let mut out = String::new();
    if ms < 0 {
        out.push('-');
    }
    let mut rest = ms.unsigned_abs();
    for (unit, scale) in UNITS {
        let scale = scale as u64;
        if rest >= scale {
            out.push_str(&format!("{}{unit}", rest / scale));
            rest %= scale;
        }
    }
    out
}

/// Parses an RFC 3339 timestamp into milliseconds since the epoch. An
/// instant whose year in UTC falls outside 0000–9999
/// (`9999-12-31T23:00:00-05:00`) is refused: it could not be written back
/// as RFC 3339 (in a decision, or in a state file that must read again).
pub fn parse_timestamp(text: &str) -> Option<i64> {
    let t =
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()?;
    writable_instant(i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()?)
}

/// What is wrong with `text`, which [`parse_timestamp`] refused: a lowercase
/// message for a diagnostic.
pub fn timestamp_problem(text: &str) -> String {
    let rfc_3339 = &time::format_description::well_known::Rfc3339;
    if time::OffsetDateTime::parse(text, rfc_3339).is_ok() {
        format!("`{text}` falls outside the years 0000 to 9999 in UTC")
    } else {
        format!("`{text}` is not an RFC 3339 timestamp")
    }
}

/// The first and last instants RFC 3339 writes in UTC: `0000-01-01T00:00:00Z`
/// and `9999-12-31T23:59:59.999Z`.
const FIRST_WRITABLE_MS: i64 = -62_167_219_200_000;
const LAST_WRITABLE_MS: i64 = 253_402_300_799_999;

/// `ms`, if [`format_timestamp`] writes it as RFC 3339 (and so
/// [`parse_timestamp`] reads it back).
pub fn writable_instant(ms: i64) -> Option<i64> {
    (FIRST_WRITABLE_MS..=LAST_WRITABLE_MS)
        .contains(&ms)
        .then_some(ms)
}

/// Milliseconds since the epoch as RFC 3339, UTC.
pub fn format_timestamp(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| format!("@{ms}ms"))
}

pub const DAY_MS: i64 = 86_400_000;

/// Milliseconds in an hour.
pub const HOUR_MS: i64 = 3_600_000;

/// Milliseconds since midnight UTC.
pub fn time_of_day(ms: i64) -> i64 {
    ms.rem_euclid(DAY_MS)
}

/// Monday = 0 … Sunday = 6 (the variants of `Weekday`).
pub fn weekday(ms: i64) -> u32 {
    // 1970-01-01 was a Thursday.
    ((ms.div_euclid(DAY_MS) + 3).rem_euclid(7)) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_instants_rfc_3339_writes_in_utc_are_read() {
        for text in [
            "0000-01-01T00:00:00Z",
            "9999-12-31T23:59:59.999Z",
            "9999-12-31T23:00:00+01:00",
        ] {
            let ms = parse_timestamp(text).unwrap_or_else(|| panic!("`{text}` reads"));
            assert_eq!(parse_timestamp(&format_timestamp(ms)), Some(ms), "{text}");
        }
        // Local years in range, UTC years out of it: writing them back
        // would give `@…ms`, which no reader takes.
        for text in ["9999-12-31T23:00:00-05:00", "0000-01-01T00:30:00+01:00"] {
            assert_eq!(parse_timestamp(text), None, "{text}");
        }
        assert_eq!(writable_instant(LAST_WRITABLE_MS + 1), None);
        assert_eq!(writable_instant(FIRST_WRITABLE_MS - 1), None);
        assert_eq!(
            timestamp_problem("9999-12-31T23:00:00-05:00"),
            "`9999-12-31T23:00:00-05:00` falls outside the years 0000 to 9999 in UTC"
        );
        assert_eq!(
            timestamp_problem("yesterday"),
            "`yesterday` is not an RFC 3339 timestamp"
        );
    }

    #[test]
    fn a_small_set_scanned_answers_as_a_large_one_searched() {
        // Sets up to the scan's size are compared one by one, larger ones
        // searched: both must find exactly the members, whatever the kind
        // of value and however a decimal is written (1.5 is 1.50).
        let probes: Vec<Value> = (0..24)
            .flat_map(|i| {
                [
                    Value::Int(i),
                    Value::String(Arc::from(format!("s{i}").as_str())),
                    Value::Decimal(Decimal::new(i * 10, 1)),
                    Value::Decimal(Decimal::new(i * 100, 2)),
                ]
            })
            .collect();
        for size in 0..20usize {
            let members: Vec<Value> = probes.iter().step_by(3).take(size).cloned().collect();
            let set = Value::set(members.clone());
            let Value::Set(items) = &set else {
                unreachable!("`Value::set` makes a set")
            };
            for probe in &probes {
                let searched = items.binary_search_by(|p| p.total_cmp(probe)).is_ok();
                assert_eq!(set.set_contains(probe), searched, "{probe:?} in {size}");
                let listed = members.iter().any(|m| m.total_cmp(probe).is_eq());
                assert_eq!(searched, listed, "{probe:?} in {size}");
            }
        }
    }

    #[test]
    fn durations_read_and_print() {
        for (text, ms) in [
            ("15m", 900_000),
            ("1h30m", 5_400_000),
            ("250ms", 250),
            ("7d", 604_800_000),
            ("2w", 1_209_600_000),
            ("0s", 0),
        ] {
            assert_eq!(parse_duration(text), Some(ms), "{text}");
            assert_eq!(parse_duration(&format_duration(ms)), Some(ms));
        }
        assert_eq!(format_duration(5_400_000), "1h30m");
        assert_eq!(parse_duration("15"), None);
        assert_eq!(parse_duration("m"), None);
        assert_eq!(parse_duration("15x"), None);
        assert_eq!(parse_duration("99999999999999999999w"), None);
    }

    #[test]
    fn timestamps_read_and_print() {
        let ms = parse_timestamp("2026-11-25T14:00:00Z").unwrap();
        assert_eq!(format_timestamp(ms), "2026-11-25T14:00:00Z");
        assert_eq!(weekday(ms), 2, "2026-11-25 is a Wednesday");
        assert_eq!(time_of_day(ms), 14 * 3_600_000);
        assert_eq!(parse_timestamp("yesterday"), None);
    }

    #[test]
    fn sets_are_canonical() {
        let a = Value::set(vec![Value::str("b"), Value::str("a"), Value::str("b")]);
        let b = Value::set(vec![Value::str("a"), Value::str("b")]);
        assert_eq!(a, b);
        assert!(a.set_contains(&Value::str("a")));
        assert!(!a.set_contains(&Value::str("c")));
    }
}
