//! Timestamps written without an offset, in a field that declares the zone
//! they are local time in (`departs: Timestamp<"Europe/Paris">`): read in
//! that zone by both envelope readers, across daylight-saving changes; and
//! refused, with a help line that says how to fix it, in a field that
//! declares none.

use actpol::{Envelope, ErrorCode, Level, MemoryState, Policy};

const TRIPS: &str = r#"
policy trips { default deny "no rule matched" on_error deny "evaluation failed" }
system booking
approver lead { title "Lead" }
record Leg { departs: Timestamp<"America/New_York">  noted?: Timestamp }
entity Trip { starts: Timestamp<"Australia/Sydney">  legs?: List<Leg> }
action booking.change {
  system booking
  object Trip
  params {
    departs: Timestamp<"Europe/Paris">
    stops?: List<Timestamp<"Europe/Paris">>
    logged?: Timestamp
  }
  reversible
}
agent bot { owner "o@acme.example" workflow w }
rule by_day on booking.change {
  when params.departs.hour_in("Europe/Paris") >= 3
    and object.starts.hour_in("Australia/Sydney") >= 3
  allow "a departure by day in Paris, from a trip started by day in Sydney"
}
rule before_the_change on booking.change {
  when params.departs >= timestamp("2026-10-25T00:00:00Z")
    and params.departs < timestamp("2026-10-25T01:00:00Z")
  escalate to lead "a departure in the hour before Paris's clocks go back"
}
rule night_stop on booking.change {
  when has params.stops and params.stops.any(s, s.hour_in("Europe/Paris") < 3)
  deny "a stop at night in Paris"
}
rule early_leg on booking.change {
  when has object.legs and object.legs.any(l, l.departs.hour_in("America/New_York") < 3)
  deny "a leg leaves New York at night"
}
"#;

fn trips() -> Policy {
    Policy::from_sources([("trips.actpol", TRIPS)]).expect("the trips policy compiles")
}

/// A change departing at `departs`, with more parameters, on a trip that
/// started at `starts`, with more attributes.
fn change(departs: &str, params: &str, starts: &str, attrs: &str) -> String {
    format!(
        r#"{{"agent":{{"id":"bot","owner":"o@acme.example","workflow":"w"}},
            "action":{{"name":"booking.change","params":{{"departs":"{departs}"{params}}}}},
            "object":{{"type":"Trip","id":"t-1","attrs":{{"starts":"{starts}"{attrs}}}}},
            "time":"2026-11-25T14:00:00Z"}}"#
    )
}

/// Midday in Sydney, offset-less.
const SYDNEY_NOON: &str = "2026-07-14T12:00:00";

/// The decision on `text`, read by both readers: the one-pass reader of
/// JSON bytes, and an envelope built first and bound after; they agree.
fn decide(text: &str) -> actpol::Decision {
    let policy = trips();
    let state = MemoryState::default();
    let from_bytes = policy.decide(text, &state);
    let env = Envelope::from_json(text.as_bytes()).expect("an envelope");
    assert_eq!(from_bytes, policy.decide(env, &state), "the readers differ");
    from_bytes
}

fn level(departs: &str) -> Level {
    decide(&change(departs, "", SYDNEY_NOON, "")).decision
}

#[test]
fn a_local_time_the_clocks_skip_is_read_after_the_gap() {
    // Paris springs forward at 02:00 on 2026-03-29: 02:30 is read as 03:30
    // local (01:30Z), so `hour_in` is 3 and the rule allows.
    assert_eq!(level("2026-03-29T02:30:00"), Level::Allow);
    // An hour earlier is 01:30 local: no rule allows it.
    assert_eq!(level("2026-03-29T01:30:00"), Level::Deny);
    // With its offset, the same text is another instant, whatever the zone.
    assert_eq!(level("2026-03-29T02:30:00Z"), Level::Allow);
    assert_eq!(level("2026-03-29T02:30:00+02:00"), Level::Deny);
}

#[test]
fn a_local_time_the_clocks_pass_twice_is_the_earlier() {
    // Paris falls back at 03:00 on 2026-10-25: 02:30 is read as the first
    // 02:30 (CEST, 00:30Z), in the hour the escalation names.
    let d = decide(&change("2026-10-25T02:30:00", "", SYDNEY_NOON, ""));
    assert_eq!(d.decision, Level::Escalate, "{d:?}");
    // The second 02:30, written with its offset, is not.
    assert_eq!(level("2026-10-25T02:30:00+01:00"), Level::Deny);
}

#[test]
fn zones_hold_in_attributes_lists_and_records() {
    // 02:30 in Sydney on 2026-10-04 is skipped (read as 03:30): allowed;
    // 01:30 is not.
    let start = |starts: &str| decide(&change("2026-03-29T09:00:00", "", starts, "")).decision;
    assert_eq!(start("2026-10-04T02:30:00"), Level::Allow);
    assert_eq!(start("2026-10-04T01:30:00"), Level::Deny);
    // A list's elements are read in the list's zone: the skipped 02:30 is
    // 03:30, no stop at night; 01:00 is one.
    let stops = |stops: &str| {
        let params = format!(r#","stops":{stops}"#);
        decide(&change("2026-03-29T09:00:00", &params, SYDNEY_NOON, "")).decision
    };
    assert_eq!(stops(r#"["2026-03-29T02:30:00"]"#), Level::Allow);
    assert_eq!(
        stops(r#"["2026-03-29T09:00:00", "2026-03-29T01:00:00"]"#),
        Level::Deny
    );
    // A record's field in its own zone: New York springs forward at 02:00
    // on 2026-03-08, so 02:30 is 03:30 there.
    let legs = |departs: &str| {
        let attrs = format!(r#","legs":[{{"departs":"{departs}"}}]"#);
        decide(&change("2026-03-29T09:00:00", "", SYDNEY_NOON, &attrs)).decision
    };
    assert_eq!(legs("2026-03-08T02:30:00"), Level::Allow);
    assert_eq!(legs("2026-03-08T01:30:00"), Level::Deny);
}

#[test]
fn an_offset_less_timestamp_without_a_zone_is_refused_with_a_way_out() {
    let params = r#","logged":"2026-03-29T02:30:00""#;
    let d = decide(&change("2026-03-29T09:00:00", params, SYDNEY_NOON, ""));
    assert_eq!(d.decision, Level::Deny, "{d:?}");
    assert_eq!(d.errors.len(), 1, "{:?}", d.errors);
    let err = &d.errors[0];
    assert_eq!(err.code, ErrorCode::EnvelopeBadValue);
    assert_eq!(err.path.as_deref(), Some("$.action.params.logged"));
    assert!(err.message.contains("no UTC offset"), "{}", err.message);
    let help = err.help.as_deref().unwrap_or_default();
    assert!(
        help.contains("`2026-03-29T02:30:00Z`") && help.contains(r#"Timestamp<"Europe/Paris">"#),
        "{help}"
    );
    // In a record's field without a zone too, at its path.
    let attrs = r#","legs":[{"departs":"2026-03-08T09:00:00","noted":"2026-03-08T09:00:00"}]"#;
    let d = decide(&change("2026-03-29T09:00:00", "", SYDNEY_NOON, attrs));
    assert_eq!(
        d.errors[0].path.as_deref(),
        Some("$.object.attrs.legs[0].noted")
    );
    // Text that is no timestamp at all says so, as before.
    let d = decide(&change("soon", "", SYDNEY_NOON, ""));
    assert!(d.errors[0].message.contains("not an RFC 3339"), "{d:?}");
}

#[test]
fn a_declared_zone_survives_the_artifact_and_the_formatter() {
    let bytes = trips().to_artifact_bytes().expect("encodes");
    let loaded = Policy::load(&bytes).expect("loads");
    let d = loaded.decide(
        change("2026-03-29T02:30:00", "", SYDNEY_NOON, "").as_str(),
        &MemoryState::default(),
    );
    assert_eq!(d.decision, Level::Allow, "{d:?}");
    let formatted = actpol::format_source("trips.actpol", TRIPS).expect("formats");
    for written in [
        r#"departs: Timestamp<"America/New_York">"#,
        r#"stops?: List<Timestamp<"Europe/Paris">>"#,
        r#"starts: Timestamp<"Australia/Sydney">"#,
    ] {
        assert!(formatted.contains(written), "{formatted}");
    }
}
