//! Raises (C7) through the whole pipeline: source to decision.

use actpol::{Level, MemoryState, Policy};

const POLICY: &str = r#"
policy p {
  default deny "no rule matched"
}
system billing
entity Account {
  tier: String
}
action billing.credit {
  system billing
  object Account
  params {
    amount: Int
  }
  compensable by billing.debit within 1d
}
action billing.debit {
  system billing
  object Account
  params {
    amount: Int
  }
  reversible
}
agent bot {
  owner "o@acme.example"
  workflow w
}
approver lead

rule small_credit on billing.credit {
  when params.amount <= 100
  allow
}

rule capped_credit on billing.credit {
  when params.amount > 100
  constrain "credits are capped" {
    params.amount <= 500
  }
}

/// A compensable credit without a rollback plan must bring one.
raise plan_required on billing.credit when not has rollback {
  allow -> constrain "attach a rollback plan" {
    require rollback
  }
  constrain -> constrain "attach a rollback plan" {
    require rollback
  }
}
"#;

fn decide(amount: i64, rollback: bool) -> actpol::Decision {
    let policy = Policy::from_sources([("p.actpol", POLICY)]).expect("the policy compiles");
    let rollback = if rollback {
        r#","rollback":{"kind":"compensate","action":"billing.debit"}"#
    } else {
        ""
    };
    let envelope = format!(
        r#"{{"agent":{{"id":"bot","owner":"o@acme.example","workflow":"w"}},
            "action":{{"name":"billing.credit","params":{{"amount":{amount}}}}},
            "object":{{"type":"Account","id":"a-1","attrs":{{"tier":"gold"}}}},
            "time":"2026-11-25T14:00:00Z"{rollback}}}"#
    );
    policy.decide(envelope.as_bytes(), &MemoryState::default())
}

fn constraints(d: &actpol::Decision) -> serde_json::Value {
    serde_json::to_value(&d.constraints).unwrap()
}

#[test]
fn a_raise_lifts_allow_to_constrain_with_its_requirement() {
    let d = decide(50, false);
    assert_eq!(d.decision, Level::Constrain, "{d:?}");
    assert_eq!(d.rules, ["plan_required"]);
    assert_eq!(d.reasons, ["attach a rollback plan"]);
    assert_eq!(
        constraints(&d),
        serde_json::json!([{"require": "rollback"}])
    );
}

#[test]
fn a_raise_adds_its_requirement_to_a_constrain() {
    let d = decide(300, false);
    assert_eq!(d.decision, Level::Constrain, "{d:?}");
    assert_eq!(d.rules, ["capped_credit", "plan_required"]);
    assert_eq!(
        constraints(&d),
        serde_json::json!([{"param": "amount", "op": "<=", "value": 500}, {"require": "rollback"}])
    );
}

#[test]
fn with_a_rollback_plan_the_raise_stays_out() {
    let d = decide(50, true);
    assert_eq!(d.decision, Level::Allow, "{d:?}");
    assert_eq!(d.rules, ["small_credit"]);
    let d = decide(300, true);
    assert_eq!(d.decision, Level::Constrain);
    assert_eq!(d.rules, ["capped_credit"]);
    assert_eq!(
        constraints(&d),
        serde_json::json!([{"param": "amount", "op": "<=", "value": 500}])
    );
}
