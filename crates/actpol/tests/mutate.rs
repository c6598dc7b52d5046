//! The test tools' view of a policy (`actpol::mutate`): every mutant
//! compiles and changes what it says it changes, and the condition probes
//! report each part of a condition as evaluation reaches it.

use actpol::mutate::{MutantKind, Observation, Owner, SiteKind, Source};
use actpol::{Level, MemoryState};

const POLICY: &str = r#"
policy p {
  default deny "no rule covers this action"
  on_error deny "the policy could not be evaluated"
}

system outreach "Outreach"

entity Sequence {
  audience: Int
  system outreach
}

action outbound.send {
  system outreach
  object Sequence
  params {
    recipients: Int
    template: String
  }
  reversible
}

approver lead {
  title "Lead"
}

agent bot {
  owner "a@acme.example"
  workflow w
  scope {
    records Sequence where object.audience <= 5_000
  }
}

budget sends: Int {
  limit 1_000
  window 1d
  per agent
  on_exhausted escalate to lead "the send budget is spent"
}

rule routine on outbound.send {
  when params.recipients <= 100 and params.template.starts_with("lib/")
  allow "routine"
  consume sends by params.recipients
}

rule bulk on outbound.send {
  when params.recipients > 100 or not params.template.starts_with("lib/")
  escalate to lead "not routine"
}
"#;

fn source() -> Source {
    Source::from_sources([("p.actpol", POLICY)]).expect("the policy compiles")
}

fn envelope(recipients: i64, template: &str, audience: i64) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "agent": {"id": "bot", "owner": "a@acme.example", "workflow": "w"},
        "action": {"name": "outbound.send", "params": {"recipients": recipients, "template": template}},
        "object": {"type": "Sequence", "id": "s", "attrs": {"audience": audience}},
        "time": "2026-11-25T14:00:00Z"
    }))
    .unwrap()
}

#[test]
fn every_mutant_compiles_and_has_a_unique_id() {
    let source = source();
    let mutants = source.mutants();
    let mut ids: Vec<&str> = mutants.iter().map(|m| m.id.as_str()).collect();
    let total = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), total, "ids are unique");
    for m in &mutants {
        source
            .compile(m)
            .unwrap_or_else(|e| panic!("{} compiles: {e}", m.id));
        assert!(
            m.id.starts_with(&format!(
                "p.actpol:{}:{}: ",
                m.location.line, m.location.column
            )),
            "{}",
            m.id
        );
    }
    let kinds: std::collections::BTreeSet<MutantKind> = mutants.iter().map(|m| m.kind).collect();
    for kind in MutantKind::ALL {
        if kind != MutantKind::ConditionDropped {
            assert!(kinds.contains(&kind), "a {} mutant", kind.as_str());
        }
    }
}

#[test]
fn a_mutant_changes_what_its_id_says() {
    let source = source();
    let state = MemoryState::default();
    let at_boundary = envelope(100, "lib/a", 10);
    let decide = |id: &str| {
        let m = source
            .mutants()
            .into_iter()
            .find(|m| m.id == id)
            .unwrap_or_else(|| panic!("a mutant `{id}`"));
        source
            .compile(&m)
            .unwrap()
            .decide(&at_boundary, &state)
            .decision
    };
    assert_eq!(
        source.policy().decide(&at_boundary, &state).decision,
        Level::Allow
    );
    // 100 recipients stop being routine, and fall to the default...
    assert_eq!(decide("p.actpol:44:26: `<=` → `<`"), Level::Deny);
    assert_eq!(decide("p.actpol:44:29: `100` → `99`"), Level::Deny);
    // ...or become bulk.
    assert_eq!(decide("p.actpol:50:26: `>` → `>=`"), Level::Escalate);
    assert_eq!(decide("p.actpol:50:28: `100` → `99`"), Level::Escalate);
    let scope = source
        .mutants()
        .into_iter()
        .find(|m| m.kind == MutantKind::ScopePredicateRemoved)
        .unwrap();
    assert_eq!(
        scope.owner,
        Owner::Scope {
            agent: "bot".into(),
            entity: "Sequence".into()
        }
    );
    let outside = envelope(10, "lib/a", 6_000);
    assert_eq!(
        source.policy().decide(&outside, &state).decision,
        Level::Deny
    );
    assert_eq!(
        source
            .compile(&scope)
            .unwrap()
            .decide(&outside, &state)
            .decision,
        Level::Allow
    );
}

fn observe(source: &Source, bytes: &[u8], state: &MemoryState) -> (Observation, Vec<String>) {
    let conditions = source.conditions().unwrap();
    let decided = source
        .policy()
        .decide(actpol::Request::new(bytes).explained(), state);
    let seen = conditions.observe(&decided, bytes, state);
    let named = |(site, held): &(usize, bool)| format!("{} {held}", conditions.sites()[*site].text);
    let mut parts: Vec<String> = seen.parts.iter().map(named).collect();
    parts.sort();
    (seen, parts)
}

#[test]
fn parts_count_only_where_evaluation_reaches_them() {
    let source = source();
    let state = MemoryState::default();
    // 500 recipients: `routine` stops at its first part, `bulk` at its first.
    let (seen, parts) = observe(&source, &envelope(500, "lib/a", 10), &state);
    assert_eq!(
        parts,
        [
            "object.audience <= 5_000 true",
            "params.recipients <= 100 false",
            "params.recipients > 100 true",
        ]
    );
    assert!(seen.errors.is_empty() && seen.exhausted.is_empty() && !seen.on_error);
    // 10 recipients of new copy: every part is reached.
    let (_, parts) = observe(&source, &envelope(10, "new", 10), &state);
    assert_eq!(
        parts,
        [
            "object.audience <= 5_000 true",
            "params.recipients <= 100 true",
            "params.recipients > 100 false",
            "params.template.starts_with(\"lib/\") false",
            "params.template.starts_with(\"lib/\") false",
        ]
    );
}

#[test]
fn a_refused_record_shows_only_its_scope() {
    let source = source();
    let conditions = source.conditions().unwrap();
    let (_, parts) = observe(
        &source,
        &envelope(10, "lib/a", 6_000),
        &MemoryState::default(),
    );
    assert_eq!(parts, ["object.audience <= 5_000 false"]);
    let kinds: Vec<SiteKind> = conditions
        .sites()
        .iter()
        .filter(|s| matches!(s.owner, Owner::Scope { .. }))
        .map(|s| s.kind)
        .collect();
    // A predicate of one part is one site: admitted, or refused.
    assert_eq!(kinds, [SiteKind::Scope]);
}

#[test]
fn exhaustion_and_errors_are_observed() {
    let source = source();
    let conditions = source.conditions().unwrap();
    assert_eq!(conditions.budgets(), ["sends"]);
    let spent = MemoryState::from_json(
        br#"{"budgets": [{"name": "sends", "key": "agent:bot", "consumed": 995}]}"#,
    )
    .unwrap();
    let (seen, _) = observe(&source, &envelope(10, "lib/a", 10), &spent);
    assert_eq!(seen.exhausted, [0]);
    let broken = br#"{"agent": {"id": "bot"}}"#;
    let (seen, parts) = observe(&source, broken, &MemoryState::default());
    assert!(seen.on_error);
    assert!(parts.is_empty());
}
