//! Local time in a named zone ("after 21:00 New York time"), from the IANA
//! database that `chrono-tz` compiles in, and durations built from numbers.
//!
//! An instant is milliseconds since the epoch, UTC. Its local reading in a
//! zone adds the zone's offset at that instant, so a rule about 21:00 New
//! York time means 21:00 in winter (UTC-5) and in summer (UTC-4) alike.

use std::str::FromStr;

use chrono::{DateTime, Datelike, Offset, TimeZone};
use chrono_tz::Tz;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use crate::value::{time_of_day, weekday, HOUR_MS};

/// The zone of an IANA name (`America/New_York`, `Europe/Paris`, `UTC`).
pub fn zone(name: &str) -> Option<Tz> {
    Tz::from_str(name).ok()
}

/// Every zone name, for "did you mean".
pub fn zone_names() -> impl Iterator<Item = &'static str> {
    chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name())
}

/// `ms` read on a wall clock in `tz`: the instant shifted by the zone's
/// offset at that instant. `None` outside the range chrono represents.
fn local_ms(ms: i64, tz: Tz) -> Option<i64> {
    let utc = DateTime::from_timestamp_millis(ms)?.naive_utc();
    let offset = tz.offset_from_utc_datetime(&utc).fix().local_minus_utc();
    ms.checked_add(i64::from(offset) * 1000)
}

/// The local hour, 0–23.
pub fn hour_in(ms: i64, tz: Tz) -> Option<i64> {
    Some(time_of_day(local_ms(ms, tz)?) / HOUR_MS)
}

/// Milliseconds since local midnight.
pub fn time_of_day_in(ms: i64, tz: Tz) -> Option<i64> {
    Some(time_of_day(local_ms(ms, tz)?))
}

/// The local weekday, Monday = 0 (the variants of `Weekday`).
pub fn weekday_in(ms: i64, tz: Tz) -> Option<u32> {
    Some(weekday(local_ms(ms, tz)?))
}

/// The local date as `YYYY-MM-DD`.
pub fn date_in(ms: i64, tz: Tz) -> Option<String> {
    let local = DateTime::from_timestamp_millis(ms)?.with_timezone(&tz);
    Some(format!(
        "{:04}-{:02}-{:02}",
        local.year(),
        local.month(),
        local.day()
    ))
}

/// `count` units of `unit_ms` milliseconds, truncated to a whole
/// millisecond; `None` past the range of a duration.
pub fn duration_of(count: Decimal, unit_ms: i64) -> Option<i64> {
    count.checked_mul(Decimal::from(unit_ms))?.trunc().to_i64()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::parse_timestamp;

    fn at(text: &str) -> i64 {
        parse_timestamp(text).expect("a valid timestamp")
    }

    #[test]
    fn new_york_local_hour_follows_daylight_saving() {
        let ny = zone("America/New_York").unwrap();
        // 2026-03-08 02:00 local: clocks spring forward (UTC-5 to UTC-4).
        assert_eq!(hour_in(at("2026-03-08T06:59:00Z"), ny), Some(1));
        assert_eq!(hour_in(at("2026-03-08T07:00:00Z"), ny), Some(3));
        // 2026-11-01 02:00 local: clocks fall back; 1 o'clock happens twice.
        assert_eq!(hour_in(at("2026-11-01T05:30:00Z"), ny), Some(1));
        assert_eq!(hour_in(at("2026-11-01T06:30:00Z"), ny), Some(1));
        assert_eq!(hour_in(at("2026-11-01T07:30:00Z"), ny), Some(2));
        // 21:00 New York is 02:00 UTC in winter, 01:00 UTC in summer.
        assert_eq!(hour_in(at("2026-01-15T02:00:00Z"), ny), Some(21));
        assert_eq!(hour_in(at("2026-07-15T01:00:00Z"), ny), Some(21));
    }

    #[test]
    fn local_weekday_and_date_cross_midnight() {
        let tokyo = zone("Asia/Tokyo").unwrap();
        // Sunday 20:00 UTC is Monday 05:00 in Tokyo.
        let t = at("2026-11-29T20:00:00Z");
        assert_eq!(weekday_in(t, tokyo), Some(0));
        assert_eq!(date_in(t, tokyo).as_deref(), Some("2026-11-30"));
        assert_eq!(time_of_day_in(t, tokyo), Some(5 * HOUR_MS));
        assert_eq!(weekday_in(t, zone("UTC").unwrap()), Some(6));
    }

    #[test]
    fn unknown_zones_and_durations() {
        assert!(zone("America/Gotham").is_none());
        assert!(zone_names().any(|z| z == "Europe/Paris"));
        assert_eq!(duration_of(Decimal::new(15, 1), HOUR_MS), Some(5_400_000));
        assert_eq!(duration_of(Decimal::new(-1, 0), HOUR_MS), Some(-HOUR_MS));
        assert_eq!(duration_of(Decimal::MAX, HOUR_MS), None);
    }
}
