//! Precedence through the whole pipeline: an escalating rule that
//! `overrides` named rules holds their denials behind its escalation, and
//! nothing else — not another rule's denial, not an error, not identity —
//! and an approval never lets the action through a held denial.

use actpol::store::{SqliteStore, Store};
use actpol::{Level, MemoryState, Policy, Request};

const POLICY: &str = r#"
policy p {
  default deny "no rule matched"
  on_error deny "the policy could not be evaluated"
}
system gds
entity Trip {
  departed: Bool
  legs: Int
}
action gds.refund {
  system gds
  object Trip
  params {
    amount: Int
    fare_class: String
  }
  reversible
}
agent desk {
  owner "o@travel.example"
  workflow refunds
}
approver duty-manager

rule after_departure on gds.refund {
  when object.departed
  deny "no refunds once the trip has begun"
}

rule basic_fare on gds.refund {
  when params.fare_class == "basic"
  deny "basic fares are not refundable"
}

rule too_large on gds.refund {
  when 100 / (params.amount - 13) > 50
  deny "the refund is too large"
}

/// A trip under way is always handed to a human.
rule under_way on gds.refund {
  when object.departed and object.legs > 1
  escalate to duty-manager "a trip under way goes to a human"
  overrides after_departure, too_large
}

rule small on gds.refund {
  when params.amount < 100
  allow
}
"#;

fn policy() -> Policy {
    Policy::from_sources([("p.actpol", POLICY)]).expect("the policy compiles")
}

fn envelope(departed: bool, legs: i64, amount: i64, fare: &str, agent: &str) -> String {
    format!(
        r#"{{"agent":{{"id":"{agent}","owner":"o@travel.example","workflow":"refunds"}},
            "action":{{"name":"gds.refund","params":{{"amount":{amount},"fare_class":"{fare}"}}}},
            "object":{{"type":"Trip","id":"t-1","attrs":{{"departed":{departed},"legs":{legs}}}}},
            "time":"2026-11-25T14:00:00Z"}}"#
    )
}

fn decide(bytes: &str) -> actpol::Decision {
    policy().decide(
        Request::new(bytes.as_bytes()).explained(),
        &MemoryState::default(),
    )
}

#[test]
fn the_escalation_stands_above_the_named_denial() {
    let d = decide(&envelope(true, 2, 50, "flex", "desk"));
    assert_eq!(d.decision, Level::Escalate, "{:?}", d.reasons);
    assert_eq!(d.rules, vec!["under_way".to_string()]);
    assert!(
        d.reasons.iter().any(|r| r
            == "`under_way` takes precedence over the denial of `after_departure`: no refunds once the trip has begun"),
        "{:?}",
        d.reasons
    );
    let explanation = d.explanation.expect("asked for");
    let held = explanation
        .rules
        .iter()
        .find(|t| t.rule == "after_departure")
        .expect("a candidate");
    assert!(held.matched);
    assert_eq!(held.overridden_by.as_deref(), Some("under_way"));
    let text = actpol::explain_text(&policy().decide(
        Request::new(envelope(true, 2, 50, "flex", "desk").as_bytes()).explained(),
        &MemoryState::default(),
    ));
    assert!(
        text.contains("held: `under_way` takes precedence"),
        "{text}"
    );
}

#[test]
fn without_the_escalation_the_denial_decides() {
    let d = decide(&envelope(true, 1, 50, "flex", "desk"));
    assert_eq!(d.decision, Level::Deny);
    assert_eq!(d.rules, vec!["after_departure".to_string()]);
    let explanation = d.explanation.expect("asked for");
    assert!(explanation.rules.iter().all(|t| t.overridden_by.is_none()));
}

#[test]
fn a_denial_not_named_still_decides() {
    let d = decide(&envelope(true, 2, 50, "basic", "desk"));
    assert_eq!(d.decision, Level::Deny, "{:?}", d.reasons);
    assert_eq!(d.rules, vec!["basic_fare".to_string()]);
}

#[test]
fn an_error_in_a_named_rule_is_never_held() {
    // 100 / (13 - 13): the named rule fails, and `on_error` denies.
    let d = decide(&envelope(true, 2, 13, "flex", "desk"));
    assert_eq!(d.decision, Level::Deny, "{:?}", d.reasons);
    assert_eq!(d.errors.len(), 1);
}

#[test]
fn identity_refuses_before_precedence() {
    let d = decide(&envelope(true, 2, 50, "flex", "stranger"));
    assert_eq!(d.decision, Level::Deny);
    assert!(d.rules.is_empty());
}

#[test]
fn an_approval_never_lets_the_action_through_a_held_denial() {
    let store = SqliteStore::in_memory().unwrap();
    let policy = policy();
    let now = 1_795_615_200_000;
    let bytes = envelope(true, 2, 50, "flex", "desk");
    let first = policy
        .decide_stored(&store, Request::new(bytes.as_bytes()).at(now))
        .expect("the store decides")
        .into_decision();
    assert_eq!(first.decision, Level::Escalate);
    let id = first.approval.expect("an approval waits").id;
    store
        .approve(&id, "duty-manager", None, now + 1_000)
        .expect("the approver grants it");
    let mut env: serde_json::Value = serde_json::from_str(&bytes).unwrap();
    env["approval"] = serde_json::json!(id);
    let again = serde_json::to_vec(&env).unwrap();
    let d = policy
        .decide_stored(&store, Request::new(&again).at(now + 2_000))
        .expect("the store decides")
        .into_decision();
    assert_ne!(d.decision, Level::Allow, "{:?}", d.reasons);
    assert_eq!(d.decision, Level::Escalate, "{:?}", d.reasons);
    assert!(
        d.reasons
            .iter()
            .any(|r| r.contains("never overrides a denial") && r.contains("`after_departure`")),
        "{:?}",
        d.reasons
    );
    assert!(d.reservations.is_empty(), "nothing proceeds");
}
