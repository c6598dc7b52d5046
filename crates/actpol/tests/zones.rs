//! Local time in named zones, across daylight-saving changes, and
//! durations built from numbers.

use actpol::{Level, MemoryState, Policy};

const DESK: &str = r#"
policy desk { default deny "no rule matched" on_error deny "evaluation failed" }
system gds
entity Trip { traveller: String }
action gds.rebook { system gds object Trip params { departs: Timestamp delay_hours: Decimal } reversible }
agent bot { owner "o@acme.example" workflow w }
approver duty-manager { contact "duty@acme.example" }
rule rebooks on gds.rebook { allow }
rule after_hours on gds.rebook {
  when now.hour_in("America/New_York") >= 21 or now.weekday_in("America/New_York") == Weekday.sun
  escalate to duty-manager "rebooking out of New York desk hours"
}
rule too_close on gds.rebook {
  when params.departs - now < hours(params.delay_hours) + minutes(30)
  deny "the new flight leaves before the delay and a half-hour connection"
}
rule same_local_day on gds.rebook {
  when params.departs.date_in("Asia/Tokyo") == now.date_in("Asia/Tokyo")
    and params.departs.time_of_day_in("Asia/Tokyo") < hours(6)
  deny "no departures before 06:00 Tokyo time on the day of the change"
}
"#;

fn decide(time: &str, departs: &str, delay_hours: &str) -> actpol::Decision {
    let policy = Policy::from_sources([("desk.actpol", DESK)]).expect("the desk policy compiles");
    let envelope = serde_json::json!({
        "agent": {"id": "bot", "owner": "o@acme.example", "workflow": "w"},
        "action": {"name": "gds.rebook", "params": {"departs": departs, "delay_hours": delay_hours}},
        "object": {"type": "Trip", "id": "t-1", "attrs": {"traveller": "Ana"}},
        "time": time
    })
    .to_string();
    policy.decide(envelope.as_str(), &MemoryState::default())
}

/// The level of the decision `decide` makes.
fn level(time: &str, departs: &str, delay_hours: &str) -> Level {
    decide(time, departs, delay_hours).decision
}

const FAR: &str = "2026-12-30T12:00:00Z";

#[test]
fn new_york_evening_is_read_in_new_york_time_either_side_of_the_spring_change() {
    // Friday 2026-03-06, UTC-5: 21:30 local is 02:30 UTC the next day.
    assert_eq!(level("2026-03-07T02:30:00Z", FAR, "1"), Level::Escalate);
    assert_eq!(level("2026-03-07T01:30:00Z", FAR, "1"), Level::Allow);
    // Monday 2026-03-09, after the change, UTC-4: 21:30 local is 01:30 UTC.
    assert_eq!(level("2026-03-10T01:30:00Z", FAR, "1"), Level::Escalate);
    // 00:30 UTC is 20:30 local now; under the winter offset it would have been 19:30.
    assert_eq!(level("2026-03-10T00:30:00Z", FAR, "1"), Level::Allow);
}

#[test]
fn the_local_weekday_is_new_yorks_not_utcs() {
    // Sunday 01:00 UTC is still Saturday 20:00 in New York (UTC-5).
    assert_eq!(level("2026-11-29T01:00:00Z", FAR, "1"), Level::Allow);
    // Sunday 12:00 UTC is Sunday in New York.
    assert_eq!(level("2026-11-29T12:00:00Z", FAR, "1"), Level::Escalate);
}

#[test]
fn a_decimal_count_of_hours_is_a_duration() {
    let now = "2026-11-25T14:00:00Z";
    // 2.5 hours and 30 minutes: 3 hours.
    assert_eq!(level(now, "2026-11-25T16:59:00Z", "2.5"), Level::Deny);
    assert_eq!(level(now, "2026-11-25T17:00:00Z", "2.5"), Level::Allow);
    // A count too large for a duration is an overflow: the decision fails closed.
    let d = decide(now, FAR, "99999999999999999999");
    assert_eq!(d.decision, Level::Deny, "{d:?}");
    assert_eq!(d.errors[0].code, actpol::ErrorCode::EvalOverflow, "{d:?}");
}

#[test]
fn local_dates_and_times_of_day_in_another_zone() {
    // 2026-11-25T18:00Z is 03:00 on the 26th in Tokyo; now (14:00Z) is 23:00 on the 25th.
    let now = "2026-11-25T14:00:00Z";
    assert_eq!(level(now, "2026-11-25T18:00:00Z", "1"), Level::Allow);
    // 2026-11-25T16:00Z is 01:00 on the 26th; now at 16:00Z is also the 26th there.
    let later = "2026-11-25T15:30:00Z";
    assert_eq!(level(later, "2026-11-25T20:00:00Z", "1"), Level::Deny);
    assert_eq!(level(later, "2026-11-25T21:30:00Z", "1"), Level::Allow);
}
