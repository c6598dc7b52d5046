//! Local time in a named zone ("after 21:00 New York time"), from the IANA
//! database that `chrono-tz` compiles in, and durations built from numbers.
//!
//! An instant is milliseconds since the epoch, UTC. Its local reading in a
//! zone adds the zone's offset at that instant, so a rule about 21:00 New
//! York time means 21:00 in winter (UTC-5) and in summer (UTC-4) alike.
//!
//! A field may declare the zone its offset-less timestamps are local time
//! in (`departs: Timestamp<"Europe/Paris">`): [`Zone`], and
//! [`parse_timestamp_in`], which binding reads such a field's text with.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, LocalResult, Offset, TimeZone};
use chrono_tz::Tz;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::value::{parse_timestamp, time_of_day, weekday, writable_instant, HOUR_MS};

/// The zone of an IANA name (`America/New_York`, `Europe/Paris`, `UTC`).
pub fn zone(name: &str) -> Option<Tz> {
    Tz::from_str(name).ok()
}

/// Every zone name, for "did you mean".
pub fn zone_names() -> impl Iterator<Item = &'static str> {
    chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name())
}

/// The zone a field declares for its offset-less timestamps. An artifact
/// holds it by its IANA name, so a name this build does not know refuses
/// the artifact rather than read its timestamps in another zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Zone(pub Tz);

impl Zone {
    /// The zone of an IANA name; `None` for a name the database lacks.
    pub fn named(name: &str) -> Option<Zone> {
        zone(name).map(Zone)
    }

    pub fn name(self) -> &'static str {
        self.0.name()
    }
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for Zone {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Zone {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        Zone::named(&name)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown time zone `{name}`")))
    }
}

/// An RFC 3339 timestamp, in milliseconds since the epoch; or, given a
/// zone, one written without an offset (`2026-03-29T02:30:00`), read as
/// local time in that zone ([`instant_of_local`]). A timestamp with an
/// offset or `Z` reads the same whatever the zone, and is tried first, so
/// only offset-less text takes the zone's path.
pub fn parse_timestamp_in(text: &str, zone: Option<Zone>) -> Option<i64> {
    parse_timestamp(text)
        .or_else(|| instant_of_local(local_reading(text)?, zone?.0).and_then(writable_instant))
}

/// A timestamp written without an offset, as its wall-clock reading in
/// milliseconds (the instant it would be were the wall clock UTC); `None`
/// for any other text. Read by the RFC 3339 reader with `Z` appended, so
/// the date and time are held to exactly the same form as a timestamp with
/// an offset (text that has one does not read with a second).
pub fn local_reading(text: &str) -> Option<i64> {
    let last = text.as_bytes().last()?;
    if !last.is_ascii_digit() {
        return None;
    }
    parse_timestamp(&format!("{text}Z"))
}

/// The instant a wall-clock reading names in `tz`. A reading the clocks
/// skip (spring forward: 02:30 on 2026-03-29 in Paris) moves forward by the
/// gap (03:30 local, 01:30Z), as the offset in force before the change
/// reads it; a reading the clocks pass twice (fall back) is the earlier
/// instant. `None` outside the range chrono represents.
pub fn instant_of_local(wall_ms: i64, tz: Tz) -> Option<i64> {
    let wall = DateTime::from_timestamp_millis(wall_ms)?.naive_utc();
    match tz.from_local_datetime(&wall) {
        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => Some(t.timestamp_millis()),
        LocalResult::None => wall_ms.checked_sub(offset_before_gap(wall_ms, tz)?),
    }
}

/// The offset in force just before the gap a wall-clock reading falls in,
/// in milliseconds. Either side of the gap, the instant the reading would
/// be under one side's offset lies on the other side: so two steps from
/// any offset find both, and the offset before a gap is the smaller.
fn offset_before_gap(wall_ms: i64, tz: Tz) -> Option<i64> {
    let first = offset_ms(wall_ms, tz)?;
    let one_side = offset_ms(wall_ms.checked_sub(first)?, tz)?;
    let other_side = offset_ms(wall_ms.checked_sub(one_side)?, tz)?;
    Some(one_side.min(other_side))
}

/// The zone's offset from UTC at the instant `ms`, in milliseconds. `None`
/// outside the range chrono represents.
fn offset_ms(ms: i64, tz: Tz) -> Option<i64> {
    let utc = DateTime::from_timestamp_millis(ms)?.naive_utc();
    Some(i64::from(tz.offset_from_utc_datetime(&utc).fix().local_minus_utc()) * 1000)
}

/// `ms` read on a wall clock in `tz`: the instant shifted by the zone's
/// offset at that instant. `None` outside the range chrono represents.
fn local_ms(ms: i64, tz: Tz) -> Option<i64> {
    ms.checked_add(offset_ms(ms, tz)?)
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
    fn a_local_reading_past_the_years_rfc_3339_writes_is_refused() {
        // 23:00 on the last day of 9999 in New York is in the year 10000
        // in UTC: no RFC 3339 text writes it back.
        let ny = Zone::named("America/New_York");
        assert_eq!(parse_timestamp_in("9999-12-31T23:00:00", ny), None);
        assert!(parse_timestamp_in("9999-12-31T18:59:59", ny).is_some());
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

    /// A local reading in `zone`, as binding reads an offset-less field.
    fn local(text: &str, zone: &str) -> String {
        let zone = Zone::named(zone).expect("a known zone");
        crate::value::format_timestamp(parse_timestamp_in(text, Some(zone)).expect("reads"))
    }

    #[test]
    fn a_local_time_in_a_gap_moves_forward_by_the_gap() {
        // Paris springs forward at 02:00 on 2026-03-29 (UTC+1 to UTC+2).
        assert_eq!(
            local("2026-03-29T02:30:00", "Europe/Paris"),
            "2026-03-29T01:30:00Z"
        );
        assert_eq!(
            local("2026-03-29T01:59:59", "Europe/Paris"),
            "2026-03-29T00:59:59Z"
        );
        assert_eq!(
            local("2026-03-29T03:00:00", "Europe/Paris"),
            "2026-03-29T01:00:00Z"
        );
        // New York springs forward at 02:00 on 2026-03-08 (UTC-5 to UTC-4).
        assert_eq!(
            local("2026-03-08T02:30:00", "America/New_York"),
            "2026-03-08T07:30:00Z"
        );
        assert_eq!(
            local("2026-03-08T02:00:00", "America/New_York"),
            "2026-03-08T07:00:00Z"
        );
        // Sydney springs forward at 02:00 on 2026-10-04 (UTC+10 to UTC+11).
        assert_eq!(
            local("2026-10-04T02:30:00", "Australia/Sydney"),
            "2026-10-03T16:30:00Z"
        );
        let sydney = zone("Australia/Sydney").unwrap();
        let moved = parse_timestamp_in("2026-10-04T02:30:00", Some(Zone(sydney))).unwrap();
        assert_eq!(hour_in(moved, sydney), Some(3));
    }

    #[test]
    fn a_local_time_in_an_overlap_is_the_earlier_instant() {
        // Paris falls back at 03:00 on 2026-10-25: 02:30 happens at UTC+2, then at UTC+1.
        assert_eq!(
            local("2026-10-25T02:30:00", "Europe/Paris"),
            "2026-10-25T00:30:00Z"
        );
        assert_eq!(
            local("2026-10-25T03:00:00", "Europe/Paris"),
            "2026-10-25T02:00:00Z"
        );
        // New York falls back at 02:00 on 2026-11-01: 01:30 EDT before 01:30 EST.
        assert_eq!(
            local("2026-11-01T01:30:00", "America/New_York"),
            "2026-11-01T05:30:00Z"
        );
        // Sydney falls back at 03:00 on 2026-04-05: 02:30 AEDT before 02:30 AEST.
        assert_eq!(
            local("2026-04-05T02:30:00", "Australia/Sydney"),
            "2026-04-04T15:30:00Z"
        );
        // Away from any change, a local time is read at the zone's offset.
        assert_eq!(
            local("2026-07-14T12:00:00.250", "Australia/Sydney"),
            "2026-07-14T02:00:00.25Z"
        );
        assert_eq!(
            local("2026-01-15T21:00:00", "America/New_York"),
            "2026-01-16T02:00:00Z"
        );
    }

    #[test]
    fn an_offset_wins_over_the_declared_zone() {
        let paris = Zone::named("Europe/Paris");
        for text in ["2026-03-29T02:30:00Z", "2026-03-29T02:30:00+05:00"] {
            assert_eq!(parse_timestamp_in(text, paris), parse_timestamp(text));
        }
        // Without a zone, an offset-less timestamp does not read; nor does
        // text that is no timestamp, with or without one.
        assert_eq!(parse_timestamp_in("2026-03-29T02:30:00", None), None);
        for text in [
            "2026-03-29T02:30",
            "2026-03-29",
            "yesterday",
            "2026-03-29T02:30:00+01",
            "",
        ] {
            assert_eq!(parse_timestamp_in(text, paris), None, "{text}");
        }
        assert!(local_reading("2026-03-29T02:30:00").is_some());
        assert!(local_reading("2026-03-29T02:30:00Z").is_none());
    }

    #[test]
    fn a_zone_is_held_by_its_name() {
        let paris = Zone::named("Europe/Paris").unwrap();
        let json = serde_json::to_string(&paris).unwrap();
        assert_eq!(json, "\"Europe/Paris\"");
        assert_eq!(serde_json::from_str::<Zone>(&json).unwrap(), paris);
        assert!(serde_json::from_str::<Zone>("\"Europe/Atlantis\"").is_err());
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
