//! Bounds declared on number fields: a negative amount where the schema
//! says `in 0 USD..` is refused when the envelope is bound, by both
//! readers, before any rule (such as an amount cap) can let it through.

use actpol::{Envelope, ErrorCode, Level, MemoryState, Policy};

const REFUNDS: &str = r#"
policy refunds { default deny "no rule matched" on_error deny "evaluation failed" }
system billing
record Line { qty: Int in 1..100  price: Money<USD> in 0 USD.. }
entity Invoice { total: Money<USD> in 0 USD..  lines?: List<Line> }
action billing.refund {
  system billing
  object Invoice
  params { amount: Money<USD> in 0.01 USD..  ratio?: Decimal in 0..1 }
  reversible
}
agent bot { owner "o@acme.example" workflow w }
rule small_refunds on billing.refund {
  when params.amount <= 5000 USD
  allow "a refund under the cap"
}
"#;

fn refunds() -> Policy {
    Policy::from_sources([("refunds.actpol", REFUNDS)]).expect("the refunds policy compiles")
}

/// A refund of `amount`, with more parameters and the invoice's attributes.
fn refund(amount: &str, extra_params: &str, attrs: &str) -> String {
    format!(
        r#"{{"agent":{{"id":"bot","owner":"o@acme.example","workflow":"w"}},
            "action":{{"name":"billing.refund","params":{{"amount":{amount}{extra_params}}}}},
            "object":{{"type":"Invoice","id":"inv-1","attrs":{{{attrs}}}}},
            "time":"2026-11-25T14:00:00Z"}}"#
    )
}

/// A refund of `amount` on an invoice of 100 USD, with `extra` attributes.
fn envelope(amount: &str, extra_params: &str, extra_attrs: &str) -> String {
    refund(
        amount,
        extra_params,
        &format!(r#""total":"100 USD"{extra_attrs}"#),
    )
}

fn decide(text: &str) -> actpol::Decision {
    refunds().decide(text, &MemoryState::default())
}

fn assert_out_of_range(d: &actpol::Decision, path: &str) {
    assert_ne!(d.decision, Level::Allow, "{d:?}");
    assert_eq!(d.errors.len(), 1, "{:?}", d.errors);
    assert_eq!(
        d.errors[0].code,
        ErrorCode::EnvelopeOutOfRange,
        "{:?}",
        d.errors
    );
    assert_eq!(d.errors[0].path.as_deref(), Some(path), "{:?}", d.errors);
    assert!(
        d.errors[0]
            .help
            .as_deref()
            .is_some_and(|h| h.contains(" in ")),
        "{:?}",
        d.errors
    );
}

#[test]
fn an_amount_within_its_bounds_is_decided() {
    assert_eq!(
        decide(&envelope(r#""120 USD""#, "", "")).decision,
        Level::Allow
    );
    assert_eq!(
        decide(&envelope("0.01", r#","ratio":1"#, "")).decision,
        Level::Allow
    );
}

#[test]
fn a_negative_amount_no_longer_passes_an_amount_cap() {
    // `-5000 USD <= 5000 USD`: allowed before the amount could be bounded.
    let d = decide(&envelope(r#""-5000 USD""#, "", ""));
    assert_out_of_range(&d, "$.action.params.amount");
    assert!(d.errors[0].message.contains("`-5000`"), "{:?}", d.errors);
    assert_out_of_range(&decide(&envelope("0", "", "")), "$.action.params.amount");
}

#[test]
fn bounds_hold_in_attributes_records_and_optional_fields() {
    assert_out_of_range(
        &decide(&refund("10", "", r#""total":-1"#)),
        "$.object.attrs.total",
    );
    assert_out_of_range(
        &decide(&envelope("10", r#","ratio":1.5"#, "")),
        "$.action.params.ratio",
    );
    let lines = r#","lines":[{"qty":1,"price":"5 USD"},{"qty":101,"price":"5 USD"}]"#;
    assert_out_of_range(
        &decide(&envelope("10", "", lines)),
        "$.object.attrs.lines[1].qty",
    );
    let lines = r#","lines":[{"qty":1,"price":"-5 USD"}]"#;
    assert_out_of_range(
        &decide(&envelope("10", "", lines)),
        "$.object.attrs.lines[0].price",
    );
}

#[test]
fn an_envelope_built_in_rust_is_held_to_the_bounds_too() {
    let env = Envelope::from_json(envelope(r#""-1 USD""#, "", "").as_bytes()).expect("reads");
    let err = refunds().bind(env).unwrap_err();
    assert_eq!(err.code(), ErrorCode::EnvelopeOutOfRange);
    assert_eq!(err.path, "$.action.params.amount");
}

#[test]
fn bounds_survive_the_artifact() {
    let policy = refunds();
    let bytes = policy.to_artifact_bytes().expect("encodes");
    let loaded = Policy::load(&bytes).expect("loads");
    let d = loaded.decide(
        envelope(r#""-5000 USD""#, "", "").as_str(),
        &MemoryState::default(),
    );
    assert_eq!(d.errors[0].code, ErrorCode::EnvelopeOutOfRange);
}

#[test]
fn bounds_are_kept_by_the_formatter() {
    let formatted = actpol::format_source("refunds.actpol", REFUNDS).expect("formats");
    assert!(
        formatted.contains("price: Money<USD> in 0 USD.."),
        "{formatted}"
    );
    assert!(formatted.contains("ratio?: Decimal in 0..1"), "{formatted}");
    assert!(formatted.contains("qty: Int in 1..100"), "{formatted}");
}
