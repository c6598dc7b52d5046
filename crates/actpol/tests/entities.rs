//! Related entities through the whole pipeline: an envelope's `entities`
//! bound against the schema, attributes read through references in rules
//! and scope predicates, at depth, and a missing entity handled by `has`.

use actpol::{ErrorCode, MemoryState, Policy};
use serde_json::{json, Value};

const POLICY: &str = r#"
policy procurement {
  default deny "no rule covers this action"
  on_error deny "the policy could not be evaluated"
}
system erp "the ERP"
enum VendorStatus { active, suspended, "under review" }
entity Country {
  sanctioned: Bool
}
entity Vendor {
  status: VendorStatus
  country: Country
  parent?: Vendor
  rating?: Int
}
record Line {
  vendor: Vendor
  amount: Money<USD>
}
entity Invoice {
  vendor: Vendor
  lines: List<Line>
}
action erp.pay {
  system erp
  object Invoice
  params { amount: Money<USD> }
  reversible
}
agent pay-bot {
  owner "ap@example.com"
  workflow payables
  scope {
    records Invoice where not has object.vendor.status or object.vendor.status != VendorStatus.suspended
  }
}
approver controller { title "the controller" }

rule vendor_active on erp.pay {
  when not has object.vendor.status or object.vendor.status != VendorStatus.active
  deny "the vendor must be known and active"
}
rule sanctioned on erp.pay {
  when not has object.vendor.country.sanctioned or object.vendor.country.sanctioned
  deny "the vendor's country must be known and not sanctioned"
}
rule parent_suspended on erp.pay {
  when has object.vendor.parent.status and object.vendor.parent.status == VendorStatus.suspended
  escalate to controller "the vendor's parent company is suspended"
}
rule low_rating on erp.pay {
  when has object.vendor.rating and object.vendor.rating < 3 and object.vendor.status == VendorStatus.active
  escalate to controller "a low-rated vendor"
}
rule line_vendors on erp.pay {
  when object.lines.any(l, not has l.vendor.status or l.vendor.status != VendorStatus.active)
  deny "every line's vendor must be known and active"
}
rule ok on erp.pay { allow }
"#;

fn base() -> Value {
    json!({
        "agent": {"id": "pay-bot", "owner": "ap@example.com", "workflow": "payables"},
        "action": {"name": "erp.pay", "params": {"amount": 120}},
        "object": {"type": "Invoice", "id": "inv-1", "attrs": {
            "vendor": "v-1",
            "lines": [{"vendor": "v-1", "amount": 100}, {"vendor": "v-2", "amount": 20}]
        }},
        "entities": [
            {"type": "Vendor", "id": "v-1", "attrs": {"status": "active", "country": "nl", "parent": "v-9"}},
            {"type": "Vendor", "id": "v-2", "attrs": {"status": "active", "country": "nl", "rating": 4}},
            {"type": "Vendor", "id": "v-9", "attrs": {"status": "active", "country": "nl"}},
            {"type": "Country", "id": "nl", "attrs": {"sanctioned": false}}
        ],
        "time": "2026-11-25T14:00:00Z"
    })
}

fn policy() -> Policy {
    Policy::from_sources([("main.actpol", POLICY)]).expect("the policy compiles")
}

/// The decision's level, rules and errors for the base envelope changed by
/// `edit`.
fn decide(edit: impl FnOnce(&mut Value)) -> (String, Vec<String>, Value) {
    let mut env = base();
    edit(&mut env);
    let bytes = serde_json::to_vec(&env).unwrap();
    let decision = policy().decide(bytes.as_slice(), &MemoryState::default());
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

fn entity(env: &mut Value, at: usize) -> &mut Value {
    &mut env["entities"][at]["attrs"]
}

fn rules(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| n.to_string()).collect()
}

#[test]
fn reads_through_references_decide_a_good_invoice() {
    let (level, rules_hit, errors) = decide(|_| {});
    assert_eq!((level.as_str(), rules_hit), ("allow", rules(&["ok"])));
    assert_eq!(errors, json!([]));
}

#[test]
fn an_attribute_of_the_referenced_entity_decides() {
    let (level, hit, _) = decide(|e| entity(e, 0)["status"] = json!("under review"));
    assert_eq!(
        (level.as_str(), hit),
        ("deny", rules(&["vendor_active", "line_vendors"]))
    );
}

#[test]
fn two_references_deep_reads_the_country_of_the_vendor() {
    let (level, hit, _) = decide(|e| entity(e, 3)["sanctioned"] = json!(true));
    assert_eq!((level.as_str(), hit), ("deny", rules(&["sanctioned"])));
}

#[test]
fn a_missing_entity_is_an_absence_the_rule_handles_never_an_error() {
    // The object's vendor is not carried: `not has …` makes the rule deny.
    let (level, hit, errors) = decide(|e| e["object"]["attrs"]["vendor"] = json!("v-404"));
    assert_eq!(
        (level.as_str(), hit),
        ("deny", rules(&["vendor_active", "sanctioned"]))
    );
    assert_eq!(
        errors,
        json!([]),
        "an absent entity is handled, not an error"
    );
    // No entities at all: every read through a reference is absent.
    let (level, _, errors) = decide(|e| {
        e.as_object_mut().unwrap().remove("entities");
    });
    assert_eq!(level, "deny");
    assert_eq!(errors, json!([]));
}

#[test]
fn a_missing_entity_deeper_down_is_absent_too() {
    // The vendor is there, its country is not.
    let (level, hit, errors) = decide(|e| entity(e, 0)["country"] = json!("xx"));
    assert_eq!((level.as_str(), hit), ("deny", rules(&["sanctioned"])));
    assert_eq!(errors, json!([]));
}

#[test]
fn has_proves_every_step_of_a_path_and_an_optional_reference() {
    // `has object.vendor.parent.status` holds when the parent is carried.
    let (level, hit, _) = decide(|e| entity(e, 2)["status"] = json!("suspended"));
    assert_eq!(
        (level.as_str(), hit),
        ("escalate", rules(&["parent_suspended"]))
    );
    // No parent at all (an optional reference left out): the rule does not
    // fire and nothing fails.
    let (level, _, errors) = decide(|e| {
        entity(e, 0).as_object_mut().unwrap().remove("parent");
        entity(e, 2)["status"] = json!("suspended");
    });
    assert_eq!(level, "allow");
    assert_eq!(errors, json!([]));
}

#[test]
fn has_of_one_attribute_proves_the_entity_for_its_required_ones() {
    let (level, hit, _) = decide(|e| {
        e["object"]["attrs"]["vendor"] = json!("v-2");
        entity(e, 1)["rating"] = json!(2);
    });
    assert_eq!((level.as_str(), hit), ("escalate", rules(&["low_rating"])));
}

#[test]
fn references_inside_a_list_of_records_resolve_per_element() {
    let (level, hit, _) = decide(|e| entity(e, 1)["status"] = json!("suspended"));
    assert_eq!((level.as_str(), hit), ("deny", rules(&["line_vendors"])));
}

#[test]
fn a_scope_predicate_reads_through_a_reference() {
    let (level, hit, _) = decide(|e| entity(e, 0)["status"] = json!("suspended"));
    assert_eq!(level, "deny");
    assert!(hit.is_empty(), "refused by scope before any rule: {hit:?}");
}

/// The one error of an envelope changed by `edit`: its code and path.
fn envelope_error(edit: impl FnOnce(&mut Value)) -> (String, String, String) {
    let (level, _, errors) = decide(edit);
    assert_eq!(level, "deny", "an envelope error fails closed");
    let error = &errors[0];
    (
        error["code"].as_str().unwrap().to_string(),
        error["path"].as_str().unwrap().to_string(),
        error["help"].as_str().unwrap_or_default().to_string(),
    )
}

#[test]
fn an_entity_of_an_undeclared_type_is_an_envelope_error_with_a_suggestion() {
    let (code, path, help) = envelope_error(|e| e["entities"][3]["type"] = json!("Contry"));
    assert_eq!(code, ErrorCode::EnvelopeUnknownEntity.as_str());
    assert_eq!(path, "$.entities[3].type");
    assert!(help.contains("`Country`"), "{help}");
}

#[test]
fn an_entity_given_twice_is_an_envelope_error_naming_both() {
    let (code, path, _) = envelope_error(|e| {
        let again = e["entities"][1].clone();
        e["entities"].as_array_mut().unwrap().push(again);
    });
    assert_eq!(code, ErrorCode::EnvelopeDuplicateEntity.as_str());
    assert_eq!(path, "$.entities[4]");
}

#[test]
fn an_entitys_attributes_are_bound_against_its_declaration() {
    let (code, path, _) = envelope_error(|e| entity(e, 0)["status"] = json!("gone"));
    assert_eq!(code, ErrorCode::EnvelopeUnknownVariant.as_str());
    assert_eq!(path, "$.entities[0].attrs.status");
    let (code, path, help) = envelope_error(|e| entity(e, 0)["stauts"] = json!("active"));
    assert_eq!(code, ErrorCode::EnvelopeUnknownAttribute.as_str());
    assert_eq!(path, "$.entities[0].attrs.stauts");
    assert!(help.contains("`status`"), "{help}");
    let (code, path, _) = envelope_error(|e| {
        entity(e, 3).as_object_mut().unwrap().remove("sanctioned");
    });
    assert_eq!(code, ErrorCode::EnvelopeMissingField.as_str());
    assert_eq!(path, "$.entities[3].attrs.sanctioned");
    let (code, path, _) = envelope_error(|e| e["entities"][0]["kind"] = json!("x"));
    assert_eq!(code, ErrorCode::EnvelopeUnknownField.as_str());
    assert_eq!(path, "$.entities[0].kind");
}

#[test]
fn entities_are_screened_under_the_envelope_limits() {
    let (code, path, _) = envelope_error(|e| e["entities"][0]["id"] = json!("v-1\u{0}"));
    assert_eq!(code, ErrorCode::EnvelopeControlCharacter.as_str());
    assert_eq!(path, "$.entities[0].id");
    let many: Vec<Value> = (0..1025)
        .map(|i| json!({"type": "Country", "id": format!("c-{i}"), "attrs": {"sanctioned": false}}))
        .collect();
    let (code, path, _) = envelope_error(|e| e["entities"] = Value::Array(many));
    assert_eq!(code, ErrorCode::EnvelopeTooLong.as_str());
    assert_eq!(path, "$.entities");
}

#[test]
fn the_envelope_built_in_rust_binds_its_entities_alike() {
    let policy = policy();
    let mut env = base();
    entity(&mut env, 0)["status"] = json!("suspended");
    let parsed: actpol::envelope::Envelope = serde_json::from_value(env.clone()).unwrap();
    let from_rust = policy.decide(parsed, &MemoryState::default());
    let bytes = serde_json::to_vec(&env).unwrap();
    let from_bytes = policy.decide(bytes.as_slice(), &MemoryState::default());
    assert_eq!(from_rust.decision, from_bytes.decision);
    assert_eq!(from_rust.rules, from_bytes.rules);
}

/// A plan of two payments, one to the vendor `v-1` and one to `vendor`,
/// with the plan's related entities.
fn plan(vendor: &str, entities: Value) -> Vec<u8> {
    let base = base();
    let node = |id: &str, vendor: &str| {
        let mut object = base["object"].clone();
        object["attrs"]["vendor"] = json!(vendor);
        json!({"id": id, "action": base["action"], "object": object})
    };
    serde_json::to_vec(&json!({
        "id": "pay-run",
        "agent": base["agent"],
        "time": "2026-11-25T14:00:00Z",
        "entities": entities,
        "nodes": [node("first", "v-1"), node("second", vendor)],
        "edges": [{"from": "first", "to": "second"}],
    }))
    .unwrap()
}

#[test]
fn a_plans_entities_are_shared_by_every_node() {
    let policy = policy();
    let mut entities = base()["entities"].clone();
    entities[1]["attrs"]["status"] = json!("suspended");
    let read = policy
        .read_plan(&plan("v-2", entities.clone()))
        .unwrap_or_else(|e| panic!("{e:?}"));
    let decided = policy.decide_plan(&read, &MemoryState::default());
    let levels: Vec<(String, actpol::Level)> = decided
        .nodes
        .iter()
        .map(|n| (n.id.clone(), n.decision))
        .collect();
    assert_eq!(
        levels,
        vec![
            ("first".to_string(), actpol::Level::Deny),
            ("second".to_string(), actpol::Level::Deny),
        ],
        "the first node's line names the suspended `v-2`; the second node's vendor is `v-2`"
    );
    // A vendor no entity describes: absent, so the second node is denied
    // by its rules, with no error.
    entities[1]["attrs"]["status"] = json!("active");
    let read = policy.read_plan(&plan("v-404", entities)).unwrap();
    let decided = policy.decide_plan(&read, &MemoryState::default());
    assert_eq!(decided.nodes[0].decision, actpol::Level::Allow);
    assert_eq!(decided.nodes[1].decision, actpol::Level::Deny);
}

#[test]
fn a_plans_entity_errors_are_at_the_plans_path_and_nodes_do_not_give_their_own() {
    let policy = policy();
    let mut entities = base()["entities"].clone();
    entities[2]["type"] = json!("Vendr");
    let errors = policy
        .read_plan(&plan("v-2", entities))
        .expect_err("an entity of no declared type");
    let found: Vec<(ErrorCode, String)> = errors
        .errors
        .iter()
        .map(|e| (e.code, e.path.clone()))
        .collect();
    assert!(
        found.contains(&(
            ErrorCode::EnvelopeUnknownEntity,
            "$.entities[2].type".into()
        )),
        "{found:?}"
    );
    let mut doc: Value = serde_json::from_slice(&plan("v-2", base()["entities"].clone())).unwrap();
    doc["nodes"][1]["entities"] = json!([]);
    let errors = policy
        .read_plan(&serde_json::to_vec(&doc).unwrap())
        .expect_err("a node's own entities");
    assert_eq!(errors.errors[0].code, ErrorCode::PlanNodeField);
    assert_eq!(errors.errors[0].path, "$.nodes[1].entities");
}
