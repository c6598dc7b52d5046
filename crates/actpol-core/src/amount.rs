//! Amounts: how a number read from JSON or text becomes a decimal, and how a
//! decimal is written back as a JSON number. Envelopes, state files and test
//! expectations all read amounts through here, so `12.50`, `1e3` and
//! `"75 USD"` mean the same thing wherever they appear.

use std::fmt;
use std::str::FromStr;

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A JSON number as a decimal: integers exactly, other numbers from the
/// text serde_json gives them (`0.1`, `1e21`), so no binary rounding shows.
pub fn from_number(n: &serde_json::Number) -> Option<Decimal> {
    if let Some(i) = n.as_i64() {
        return Some(Decimal::from(i));
    }
    let text = n.to_string();
    Decimal::from_str(&text)
        .ok()
        .or_else(|| Decimal::from_scientific(&text).ok())
}

/// A floating-point number as serde_json would write it, as a decimal.
/// Readers that see a number as `f64` use this to agree with
/// [`from_number`].
pub fn from_f64(f: f64) -> Option<Decimal> {
    serde_json::Number::from_f64(f).and_then(|n| from_number(&n))
}

/// A decimal written as text in decimal notation: `12.50`, `-3`.
pub fn from_text(text: &str) -> Option<Decimal> {
    Decimal::from_str(text).ok()
}

/// An amount written as text with an optional unit after one space:
/// `"75 USD"` is `("75", Some("USD"))`, `"75"` is `("75", None)`.
pub fn split_unit(text: &str) -> (&str, Option<&str>) {
    match text.split_once(' ') {
        Some((number, unit)) => (number, Some(unit)),
        None => (text, None),
    }
}

/// A JSON value as an amount: a number, or a string holding one with an
/// optional unit (`"75 USD"`), which is not checked.
pub fn from_json(value: &serde_json::Value) -> Option<Decimal> {
    match value {
        serde_json::Value::Number(n) => from_number(n),
        serde_json::Value::String(s) => from_text(split_unit(s).0),
        _ => None,
    }
}

/// A decimal amount as decisions write it: a JSON number, integral values
/// without a fraction (`120`, `12.5`). Two amounts are equal when their
/// values are (`12.50` equals `12.5`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Amount(pub Decimal);

impl Amount {
    /// The amount's value.
    pub fn value(self) -> Decimal {
        self.0
    }
}

impl From<Decimal> for Amount {
    fn from(d: Decimal) -> Self {
        Amount(d)
    }
}

impl From<i64> for Amount {
    fn from(i: i64) -> Self {
        Amount(Decimal::from(i))
    }
}

/// The amount as JSON text: `120`, `12.5`.
impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = serde_json::to_string(self).map_err(|_| fmt::Error)?;
        f.write_str(&text)
    }
}

impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let d = self.0.normalize();
        if d.scale() == 0 {
            if let Some(i) = d.to_i64() {
                return s.serialize_i64(i);
            }
        }
        match d.to_f64() {
            Some(f) if f.is_finite() => s.serialize_f64(f),
            _ => s.serialize_str(&d.to_string()),
        }
    }
}

/// Reads a JSON number (never a string: a string is text, not an amount).
impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Amount;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number")
            }
            fn visit_i64<E: serde::de::Error>(self, i: i64) -> Result<Amount, E> {
                Ok(Amount(Decimal::from(i)))
            }
            fn visit_u64<E: serde::de::Error>(self, u: u64) -> Result<Amount, E> {
                Ok(Amount(Decimal::from(u)))
            }
            fn visit_f64<E: serde::de::Error>(self, f: f64) -> Result<Amount, E> {
                from_f64(f)
                    .map(Amount)
                    .ok_or_else(|| E::custom(format!("{f} is not a decimal amount")))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn amounts_write_as_json_numbers() {
        let text = |d: &str| serde_json::to_string(&Amount(Decimal::from_str(d).unwrap())).unwrap();
        assert_eq!(text("120"), "120");
        assert_eq!(text("120.00"), "120");
        assert_eq!(text("12.50"), "12.5");
        assert_eq!(text("-0.1"), "-0.1");
        assert_eq!(Amount(Decimal::from(7)).to_string(), "7");
    }

    #[test]
    fn amounts_read_back_by_value() {
        for d in ["120", "12.5", "0.1", "-3.25", "0"] {
            let a = Amount(Decimal::from_str(d).unwrap());
            let back: Amount = serde_json::from_str(&serde_json::to_string(&a).unwrap()).unwrap();
            assert_eq!(back, a, "{d}");
        }
        assert!(serde_json::from_str::<Amount>("\"12\"").is_err());
    }

    #[test]
    fn json_reads_numbers_and_units() {
        assert_eq!(from_json(&json!(380)), Some(Decimal::from(380)));
        assert_eq!(from_json(&json!(0.1)), Decimal::from_str("0.1").ok());
        assert_eq!(
            from_json(&json!(1e21)),
            Decimal::from_scientific("1e21").ok()
        );
        assert_eq!(from_json(&json!("75 USD")), Some(Decimal::from(75)));
        assert_eq!(from_json(&json!("twelve")), None);
        assert_eq!(from_json(&json!(true)), None);
        assert_eq!(split_unit("75 USD"), ("75", Some("USD")));
        assert_eq!(split_unit("75"), ("75", None));
    }
}
