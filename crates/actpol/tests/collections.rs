//! Lists, records, quantifiers and aggregates through the whole pipeline:
//! source to decision, each rule's condition met and not met.

use actpol::{ErrorCode, MemoryState, Policy};
use serde_json::{json, Value};

const POLICY: &str = r#"
policy travel {
  default deny "no rule covers this action"
  on_error deny "the policy could not be evaluated"
}
system booking "the booking system"
enum PaymentKind { card, voucher, gift_card }
record Traveller {
  name: String
  birth_date?: Timestamp
}
record Payment {
  kind: PaymentKind
  amount: Money<USD>
}
record Leg {
  origin: String
  destination: String
}
entity Trip {
  legs: List<Leg>
}
action booking.change {
  system booking
  object Trip
  params {
    travellers: List<Traveller>
    payments: List<Payment>
    legs: List<Leg>
    total: Money<USD>
    kept: Set<String>
    segments: Set<String>
    bookable: Set<String>
  }
  reversible
}
agent desk-bot { owner "ops@example.com" workflow travel }
approver travel-lead { title "travel lead" }

rule everyone_named on booking.change {
  when not params.travellers.all(t, t.name != "" and has t.birth_date)
  deny "every traveller needs a name and a birth date"
}
rule voucher_limit on booking.change {
  when params.payments.count(p, p.kind == PaymentKind.voucher) > 1
    or params.payments.count(p, p.kind == PaymentKind.gift_card) > 3
  deny "at most one voucher and three gift cards"
}
rule paid_in_full on booking.change {
  when params.payments.map(p, p.amount).sum() != params.total
  deny "the payments must add up to the total"
}
rule same_ends on booking.change {
  when not (has params.legs.first() and has object.legs.first()
    and has params.legs.last() and has object.legs.last()
    and params.legs.first().origin == object.legs.first().origin
    and params.legs.last().destination == object.legs.last().destination)
  escalate to travel-lead "origin or destination changed"
}
rule added_bookable on booking.change {
  when not params.segments.minus(params.kept).all(s, s in params.bookable)
  deny "an added segment is not bookable"
}
rule parallel on booking.change {
  when params.legs.any(i, l, has object.legs.at(i) and l.origin != object.legs.at(i).origin)
  escalate to travel-lead "a leg moved"
}
rule ok on booking.change { allow }
"#;

fn base() -> Value {
    json!({
        "agent": {"id": "desk-bot", "owner": "ops@example.com", "workflow": "travel"},
        "action": {"name": "booking.change", "params": {
            "travellers": [
                {"name": "Ann", "birth_date": "1990-01-01T00:00:00Z"},
                {"name": "Bo", "birth_date": "1991-01-01T00:00:00Z"}
            ],
            "payments": [{"kind": "card", "amount": 100}, {"kind": "voucher", "amount": 50}],
            "legs": [
                {"origin": "JFK", "destination": "LHR"},
                {"origin": "LHR", "destination": "CDG"}
            ],
            "total": 150, "kept": ["a"], "segments": ["a", "b"], "bookable": ["b"]
        }},
        "object": {"type": "Trip", "id": "t1", "attrs": {"legs": [
            {"origin": "JFK", "destination": "X"},
            {"origin": "LHR", "destination": "CDG"}
        ]}},
        "time": "2026-11-25T14:00:00Z"
    })
}

/// The decision's level and rules for the base envelope changed by `edit`.
fn decide(edit: impl FnOnce(&mut Value)) -> (String, Vec<String>, Value) {
    let policy = Policy::from_sources([("main.actpol", POLICY)]).expect("the policy compiles");
    let mut env = base();
    edit(&mut env);
    let bytes = serde_json::to_vec(&env).unwrap();
    let decision = policy.decide(bytes.as_slice(), &MemoryState::default());
    let out = serde_json::to_value(&decision).unwrap();
    let rules = out["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_string())
        .collect();
    (
        out["decision"].as_str().unwrap().to_string(),
        rules,
        out["errors"].clone(),
    )
}

fn params(env: &mut Value) -> &mut Value {
    &mut env["action"]["params"]
}

#[test]
fn every_rule_holds_on_a_good_change() {
    let (level, rules, errors) = decide(|_| {});
    assert_eq!((level.as_str(), rules), ("allow", vec!["ok".to_string()]));
    assert_eq!(errors, json!([]));
}

#[test]
fn all_needs_every_element_and_reads_optional_record_fields_under_has() {
    let (level, rules, _) = decide(|e| {
        params(e)["travellers"][1]
            .as_object_mut()
            .unwrap()
            .remove("birth_date");
    });
    assert_eq!(
        (level.as_str(), rules),
        ("deny", vec!["everyone_named".to_string()])
    );
    // No travellers: `all` holds of an empty list.
    let (level, _, _) = decide(|e| params(e)["travellers"] = json!([]));
    assert_eq!(level, "allow");
}

#[test]
fn count_counts_duplicates_a_set_would_drop() {
    let (level, rules, _) = decide(|e| {
        params(e)["payments"] = json!([
            {"kind": "voucher", "amount": 75},
            {"kind": "voucher", "amount": 75}
        ]);
    });
    assert_eq!(
        (level.as_str(), rules),
        ("deny", vec!["voucher_limit".to_string()])
    );
}

#[test]
fn sum_of_money_over_a_mapped_list() {
    let (level, rules, _) = decide(|e| params(e)["total"] = json!(149));
    assert_eq!(
        (level.as_str(), rules),
        ("deny", vec!["paid_in_full".to_string()])
    );
    // Two equal payments both count.
    let (level, _, _) = decide(|e| {
        params(e)["payments"] = json!([
            {"kind": "card", "amount": 75},
            {"kind": "card", "amount": 75}
        ]);
    });
    assert_eq!(level, "allow");
}

#[test]
fn first_last_and_index_are_absent_on_an_empty_list() {
    let (level, rules, errors) = decide(|e| params(e)["legs"] = json!([]));
    assert_eq!(
        (level.as_str(), rules),
        ("escalate", vec!["same_ends".to_string()])
    );
    assert_eq!(errors, json!([]), "an absent part is handled, not an error");
    let (level, rules, _) = decide(|e| params(e)["legs"][1]["destination"] = json!("ORY"));
    assert_eq!(
        (level.as_str(), rules),
        ("escalate", vec!["same_ends".to_string()])
    );
}

#[test]
fn parallel_lists_walk_together_by_index() {
    let (_, rules, _) = decide(|e| params(e)["legs"][1]["origin"] = json!("AMS"));
    assert_eq!(rules, vec!["parallel".to_string()]);
    // A longer new list: the extra leg has no counterpart, which `has`
    // handles.
    let (level, _, errors) = decide(|e| {
        let legs = params(e)["legs"].as_array_mut().unwrap();
        legs.insert(1, json!({"origin": "LHR", "destination": "LHR"}));
    });
    assert_eq!(level, "allow");
    assert_eq!(errors, json!([]));
}

#[test]
fn set_difference_checks_only_what_is_added() {
    let (level, rules, _) = decide(|e| params(e)["bookable"] = json!([]));
    assert_eq!(
        (level.as_str(), rules),
        ("deny", vec!["added_bookable".to_string()])
    );
    let (level, _, _) = decide(|e| params(e)["kept"] = json!(["a", "b"]));
    assert_eq!(level, "allow", "nothing is added");
}

#[test]
fn a_record_that_does_not_fit_is_an_envelope_error_with_its_path() {
    let (level, _, errors) = decide(|e| params(e)["travellers"][0]["age"] = json!(3));
    assert_eq!(level, "deny");
    let error = &errors[0];
    assert_eq!(error["code"], ErrorCode::EnvelopeUnknownField.as_str());
    assert_eq!(error["path"], "$.action.params.travellers[0].age");
    let (_, _, errors) = decide(|e| {
        params(e)["travellers"][0]
            .as_object_mut()
            .unwrap()
            .remove("name");
    });
    assert_eq!(errors[0]["code"], ErrorCode::EnvelopeMissingField.as_str());
    assert_eq!(errors[0]["path"], "$.action.params.travellers[0].name");
}

#[test]
fn a_list_longer_than_an_envelope_may_carry_fails_closed() {
    let (level, _, errors) = decide(|e| {
        let many: Vec<Value> = (0..1025).map(|_| json!({"name": "x"})).collect();
        params(e)["travellers"] = json!(many);
    });
    assert_eq!(level, "deny");
    assert_eq!(errors[0]["code"], ErrorCode::EnvelopeTooLong.as_str());
}

#[test]
fn a_long_list_is_walked_to_the_end() {
    // 1024 travellers, the last without a birth date: `all` must reach it.
    let (level, rules, _) = decide(|e| {
        let mut many: Vec<Value> = (0..1023)
            .map(|i| json!({"name": format!("t{i}"), "birth_date": "1990-01-01T00:00:00Z"}))
            .collect();
        many.push(json!({"name": "last"}));
        params(e)["travellers"] = json!(many);
    });
    assert_eq!(
        (level.as_str(), rules),
        ("deny", vec!["everyone_named".to_string()])
    );
}

/// Loops inside loops over long lists run out of fuel: the decision is the
/// policy's `on_error`, with the fuel error, never `allow`.
#[test]
fn nested_loops_that_run_out_of_fuel_fail_closed() {
    let policy = Policy::from_sources([(
        "fuel.actpol",
        r#"
policy fuel {
  default deny "no rule matched"
  on_error deny "the policy could not be evaluated"
}
system s
entity Thing { }
action s.go {
  system s
  object Thing
  params { names: List<String> }
  reversible
}
agent bot { owner "o@example.com" workflow w }
rule pairs on s.go {
  when params.names.count(a, params.names.count(b, params.names.any(c, c == a and c == b)) > 0) >= 0
  allow
}
"#,
    )])
    .expect("the policy compiles");
    let decide = |len: usize| {
        let names: Vec<String> = (0..len).map(|i| format!("n{i}")).collect();
        let env = json!({
            "agent": {"id": "bot", "owner": "o@example.com", "workflow": "w"},
            "action": {"name": "s.go", "params": {"names": names}},
            "object": {"type": "Thing", "id": "t"},
            "time": "2026-11-25T14:00:00Z"
        });
        let bytes = serde_json::to_vec(&env).unwrap();
        serde_json::to_value(policy.decide(bytes.as_slice(), &MemoryState::default())).unwrap()
    };
    let short = decide(10);
    assert_eq!(short["decision"], "allow");
    let long = decide(1024);
    assert_eq!(long["decision"], "deny");
    assert_eq!(long["errors"][0]["code"], ErrorCode::EvalFuel.as_str());
}
