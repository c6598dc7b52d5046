//! Enum variants written as strings: a data value such as `"on time"` is a
//! variant in the declaration, in comparisons and in sets, as the envelope
//! carries it.

use actpol::{Level, MemoryState, Policy};

const FLIGHTS: &str = r#"
policy flights { default deny "no rule matched" }
system gds
enum FlightStatus { "on time", delayed, "cancelled by airline" }
entity Flight { status: FlightStatus }
action gds.rebook { system gds object Flight params { wanted: FlightStatus } reversible }
agent desk { owner "o@travel.example" workflow w }
rule on_time on gds.rebook {
  when object.status == "on time" and "delayed" != params.wanted
  allow
}
rule disrupted on gds.rebook {
  when object.status in ["cancelled by airline", "delayed"]
  allow "the flight is disrupted"
}
"#;

fn decide(status: &str, wanted: &str) -> actpol::Decision {
    let policy = Policy::from_sources([("flights.actpol", FLIGHTS)]).expect("compiles");
    let envelope = serde_json::json!({
        "agent": {"id": "desk", "owner": "o@travel.example", "workflow": "w"},
        "action": {"name": "gds.rebook", "params": {"wanted": wanted}},
        "object": {"type": "Flight", "id": "f-1", "attrs": {"status": status}},
        "time": "2026-11-25T14:00:00Z"
    })
    .to_string();
    policy.decide(envelope.as_bytes(), &MemoryState::default())
}

#[test]
fn a_string_variant_compares_on_either_side_and_in_a_set() {
    let d = decide("on time", "on time");
    assert_eq!(
        (d.decision, d.rules.as_slice()),
        (Level::Allow, &["on_time".to_string()][..])
    );
    assert_eq!(decide("on time", "delayed").decision, Level::Deny);
    let d = decide("cancelled by airline", "on time");
    assert_eq!(d.rules, vec!["disrupted".to_string()]);
    assert_eq!(
        decide("delayed", "delayed").rules,
        vec!["disrupted".to_string()]
    );
}

#[test]
fn a_value_that_is_no_variant_is_an_envelope_error() {
    let d = decide("on-time", "on time");
    assert_eq!(d.decision, Level::Deny);
    assert!(!d.errors.is_empty(), "{d:?}");
}

#[test]
fn a_misspelt_string_variant_is_refused_with_a_suggestion() {
    let text = FLIGHTS.replace(
        r#"object.status == "on time""#,
        r#"object.status == "on tme""#,
    );
    let report = actpol::check_sources([("flights.actpol", text.as_str())]);
    let codes: Vec<String> = report.codes().collect();
    assert_eq!(codes, vec!["actpol::check::unknown_variant".to_string()]);
    let rendered = report.render_text(100);
    assert!(rendered.contains("did you mean `on time`?"), "{rendered}");
}

#[test]
fn the_formatter_keeps_string_variants_as_strings() {
    let formatted = actpol::format_source("flights.actpol", FLIGHTS).expect("formats");
    assert!(
        formatted.contains(r#"enum FlightStatus { "on time", delayed, "cancelled by airline" }"#),
        "{formatted}"
    );
    let again = actpol::format_source("flights.actpol", &formatted).expect("formats");
    assert_eq!(formatted, again);
}
