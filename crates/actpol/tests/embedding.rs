//! What an embedding program can get wrong with the library, and how the
//! runtime answers: never a panic, never `allow`.

use actpol::{ErrorCode, Level, MemoryState, Policy};

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
    let bound = small
        .runtime()
        .bind(envelope)
        .expect("binds to its own policy");
    assert_eq!(
        small
            .runtime()
            .decide(&bound, &MemoryState::default())
            .decision,
        Level::Allow
    );

    for decision in [
        growth.runtime().decide(&bound, &MemoryState::default()),
        growth.runtime().explain(&bound, &MemoryState::default()),
    ] {
        assert!(decision.decision >= Level::Escalate, "{decision:?}");
        assert_eq!(decision.errors[0].code, ErrorCode::EnvelopeForeign);
        assert!(decision.explanation.is_none());
    }
}
