//! Literal text to values. The parser keeps literals as written; only here
//! do they become numbers, and only here can they be out of range.

use std::str::FromStr;

use actpol_core::value::parse_duration;
use rust_decimal::Decimal;

/// Why a literal has no value, for the `invalid_literal` message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Invalid {
    pub message: String,
    pub label: &'static str,
    pub help: &'static str,
}

fn digits(text: &str) -> String {
    text.chars().filter(|c| *c != '_').collect()
}

pub(crate) fn int(text: &str) -> Result<i64, Invalid> {
    digits(text).parse::<i64>().map_err(|_| Invalid {
        message: format!("integer `{text}` is out of range"),
        label: "does not fit in 64 bits",
        help: "integers lie between -9223372036854775808 and 9223372036854775807",
    })
}

pub(crate) fn decimal(text: &str) -> Result<Decimal, Invalid> {
    Decimal::from_str(&digits(text)).map_err(|_| Invalid {
        message: format!("decimal `{text}` is out of range"),
        label: "more digits than a decimal holds",
        help: "decimals hold 28 significant digits; write fewer",
    })
}

pub(crate) fn duration(text: &str) -> Result<i64, Invalid> {
    parse_duration(text).ok_or_else(|| Invalid {
        message: format!("duration `{text}` is out of range"),
        label: "too long to count in milliseconds",
        help: "write a shorter duration, such as `30d` or `52w`",
    })
}

/// `09:30` as milliseconds since midnight.
pub(crate) fn time_of_day(text: &str) -> Result<i64, Invalid> {
    let parsed = text
        .split_once(':')
        .and_then(|(h, m)| Some((h.parse::<i64>().ok()?, m.parse::<i64>().ok()?)));
    match parsed {
        Some((h, m)) if (0..24).contains(&h) && (0..60).contains(&m) => Ok((h * 60 + m) * 60_000),
        _ => Err(Invalid {
            message: format!("time of day `{text}` does not exist"),
            label: "hours run 00–23, minutes 00–59",
            help: "write a time between `00:00` and `23:59`",
        }),
    }
}

pub(crate) fn timestamp(text: &str) -> Result<i64, Invalid> {
    actpol_core::value::parse_timestamp(text).ok_or_else(|| Invalid {
        message: actpol_core::value::timestamp_problem(text),
        label: "not a timestamp",
        help: "write a date, time and offset, as in `timestamp(\"2026-11-25T14:00:00Z\")`",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_convert_or_say_why_not() {
        assert_eq!(int("1_000"), Ok(1000));
        assert!(int("9223372036854775808").is_err());
        assert_eq!(
            decimal("12.50").map(|d| d.to_string()),
            Ok("12.50".to_string())
        );
        assert!(decimal("1234567890123456789012345678901.5").is_err());
        assert_eq!(time_of_day("09:30"), Ok(34_200_000));
        assert!(time_of_day("24:00").is_err());
        assert!(time_of_day("12:60").is_err());
        assert_eq!(duration("1h30m"), Ok(5_400_000));
        assert!(timestamp("yesterday").is_err());
    }
}
