//! The mutants and probes of the example policies, made from their IR:
//! every mutant changes the policy, every id is unique, and every part of a
//! condition has its pair of probe rules.

use std::path::Path;

use actpol_check::SourceDb;
use actpol_mutate::{mutants, probes};

fn example(set: &str) -> actpol_ir::Policy {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(set);
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "actpol") {
            let name = format!(
                "examples/{set}/{}",
                path.file_name().unwrap().to_string_lossy()
            );
            files.push((name, std::fs::read_to_string(&path).unwrap()));
        }
    }
    let db = SourceDb::from_sources(files.iter().map(|(p, t)| (p.as_str(), t.as_str())));
    let entry = db
        .ids()
        .find(|id| db.is_entry(*id))
        .expect("a policy header");
    actpol_check::check(&db, entry)
        .policy
        .unwrap_or_else(|| panic!("examples/{set} checks"))
}

#[test]
fn every_mutant_of_the_examples_changes_its_policy() {
    for (set, least) in [
        ("growth", 300),
        ("support", 300),
        ("finance", 300),
        ("assistant", 150),
    ] {
        let policy = example(set);
        let original = format!("{policy:?}");
        let all = mutants(&policy, &format!("examples/{set}"));
        assert!(all.len() > least, "{set}: {} mutants", all.len());
        let mut ids = std::collections::HashSet::new();
        for m in &all {
            assert!(ids.insert(m.id.clone()), "{set}: `{}` twice", m.id);
            assert_ne!(
                format!("{:?}", m.apply(&policy)),
                original,
                "{set}: `{}` changes nothing",
                m.id
            );
            assert!(
                !m.location.relative.contains('/'),
                "{}",
                m.location.relative
            );
        }
    }
}

#[test]
fn every_part_of_a_condition_has_a_pair_of_probes() {
    for set in ["growth", "support", "finance", "assistant"] {
        let policy = example(set);
        let p = probes(&policy, &format!("examples/{set}"));
        assert_eq!(p.policy.rules.len(), 2 * p.sites.len(), "{set}");
        assert!(p.policy.raises.is_empty() && p.policy.meta.raises.is_empty());
        assert!(p.policy.scopes.iter().all(Vec::is_empty));
        assert_eq!(p.rules.len(), policy.rules.len());
        for (i, rule) in p.policy.meta.rules.iter().enumerate() {
            assert_eq!(p.probe(&rule.name), Some((i / 2, i % 2 == 0)), "{set}");
        }
    }
}

/// `has l.payee.status` proves the line's payee, then the payee's status:
/// the checker joins the two with an `and` no author wrote, and no mutant
/// changes it. The `and` written beside it is mutated as ever.
#[test]
fn a_has_through_a_reference_is_mutated_only_where_and_is_written() {
    let text = r#"
policy p { default deny "no rule" }
approver boss { title "Boss" contact "boss@acme.example" }
system bank "bank"
enum Status { verified, blocked }
entity Payee { status: Status  system bank }
entity Account { system bank }
record Line { payee: Payee  amount: Int }
action bank.pay { system bank object Account params { lines: List<Line> } reversible }
rule unverified on bank.pay {
  when not params.lines.all(l, has l.payee.status and l.payee.status == Status.verified)
  deny "every payee must be verified"
}
"#;
    let db = SourceDb::from_sources([("main.actpol", text)]);
    let entry = db.ids().find(|id| db.is_entry(*id)).expect("a header");
    let policy = actpol_check::check(&db, entry)
        .policy
        .expect("the policy checks");
    let ids: Vec<String> = mutants(&policy, ".").into_iter().map(|m| m.id).collect();
    assert!(
        !ids.iter().any(|id| id.contains("`l.payee` dropped")),
        "{ids:#?}"
    );
    for written in [
        "`has l.payee.status` dropped",
        "`l.payee.status == Status.verified` dropped",
        "`and` → `or`",
    ] {
        assert!(
            ids.iter().any(|id| id.contains(written)),
            "{written}: {ids:#?}"
        );
    }
}
