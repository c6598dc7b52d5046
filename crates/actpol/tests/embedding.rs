//! What an embedding program can get wrong with the library, and how the
//! runtime answers: never a panic, never `allow`.

use actpol::{ErrorCode, Level, MemoryState, Policy, Request};

const ONE_ACTION: &str = r#"
policy small { default deny "no rule matched" }
system crm
entity Account { name: String }
action crm.rename { system crm object Account params { name: String } reversible }
agent bot { owner "o@acme.example" workflow w }
rule renames on crm.rename { allow }
"#;

const ENVELOPE: &str = r#"{"agent":{"id":"bot","owner":"o@acme.example","workflow":"w"},
  "action":{"name":"crm.rename","params":{"name":"Acme"}},
  "object":{"type":"Account","id":"a-1","attrs":{"name":"acme"}},
  "time":"2026-11-25T14:00:00Z"}"#;

#[test]
fn an_envelope_bound_against_another_policy_is_refused() {
    let growth = Policy::from_paths(&["../../examples/growth"]).expect("growth compiles");
    let small = Policy::from_sources([("small.actpol", ONE_ACTION)]).expect("compiles");
    let envelope = actpol::Envelope::from_json(ENVELOPE.as_bytes()).unwrap();
    let bound = small.bind(envelope).expect("binds to its own policy");
    assert_eq!(
        small.decide(&bound, &MemoryState::default()).decision,
        Level::Allow
    );

    for decision in [
        growth.decide(&bound, &MemoryState::default()),
        growth.decide(Request::new(&bound).explained(), &MemoryState::default()),
    ] {
        assert!(decision.decision >= Level::Escalate, "{decision:?}");
        assert_eq!(decision.errors[0].code, ErrorCode::EnvelopeForeign);
        assert!(decision.explanation.is_none());
    }
}

/// A program that asks `has` of a parameter its action does not declare
/// (possible only in an artifact the compiler did not write: the verifier
/// checks name indices, not which action declares them) fails closed: the
/// field is not quietly absent, which would make `not has …` hold.
#[test]
fn a_presence_test_of_an_undeclared_field_fails_closed() {
    const TWO_ACTIONS: &str = r#"
policy small { default deny "no rule matched" on_error deny "evaluation failed" }
system crm
entity Account { name: String }
action crm.rename { system crm object Account params { name: String note?: String } reversible }
action crm.close { system crm object Account params { reason: String } reversible }
agent bot { owner "o@acme.example" workflow w }
rule renames on crm.rename { when not has params.note allow }
"#;
    let mut artifact = actpol::compile_sources([("small.actpol", TWO_ACTIONS)]).expect("compiles");
    let names = &artifact.program.schema.field_names;
    let note = names.get_index_of("note").expect("`note` is a field name") as u32;
    let reason = names
        .get_index_of("reason")
        .expect("`reason` is a field name") as u32;
    let mut swapped = 0;
    for instr in &mut artifact.program.code {
        if let actpol::advanced::Instr::Has(kind, name) = instr {
            if *name == note {
                *instr = actpol::advanced::Instr::Has(*kind, reason);
                swapped += 1;
            }
        }
    }
    assert!(swapped >= 1, "the rule's `has` was found");
    let bytes = artifact.encode().expect("encodes");
    let policy = Policy::load(&bytes).expect("the verifier admits it");
    let decision = policy.decide(ENVELOPE, &MemoryState::default());
    assert_eq!(decision.decision, Level::Deny, "{decision:?}");
    assert_eq!(
        decision.errors[0].code,
        ErrorCode::EvalMalformed,
        "{decision:?}"
    );
}

/// A request with a clock checks the envelope's claimed time against it,
/// with or without a store: beyond the skew the decision is `on_error`
/// (never `allow`); within it, the policy reads the clock's `now`.
#[test]
fn a_request_with_a_clock_holds_the_envelopes_time_to_it() {
    let policy = Policy::from_sources([(
        "clock.actpol",
        &ONE_ACTION.replace(
            "rule renames on crm.rename { allow }",
            "rule renames on crm.rename { when now.hour == 14 allow }",
        ) as &str,
    )])
    .expect("compiles");
    let state = MemoryState::default();
    let at = |text: &str| actpol::values::parse_timestamp(text).unwrap();
    // As given, the envelope's 14:00 decides.
    assert_eq!(policy.decide(ENVELOPE, &state).decision, Level::Allow);
    // The host's clock says 14:59: within the default five minutes? No.
    let late = policy.decide(
        Request::new(ENVELOPE).at(at("2026-11-25T14:59:00Z")),
        &state,
    );
    assert_eq!(late.decision, Level::Deny);
    assert_eq!(late.errors[0].code, ErrorCode::EnvelopeClockSkew);
    assert_eq!(late.errors[0].path.as_deref(), Some("$.time"));
    // With two hours' skew allowed, the claim stands and the clock's time
    // is what the rule reads: 14:59 matches, 15:01 no longer does.
    let skew = 2 * 3_600_000;
    let within = Request::new(ENVELOPE)
        .at(at("2026-11-25T14:59:00Z"))
        .max_skew(skew);
    assert_eq!(policy.decide(within, &state).decision, Level::Allow);
    let past = Request::new(ENVELOPE)
        .at(at("2026-11-25T15:01:00Z"))
        .max_skew(skew);
    let d = policy.decide(past, &state);
    assert_eq!(d.decision, Level::Deny, "{d:?}");
    assert!(d.errors.is_empty());
}
