//! Decision snapshots of the example policies.
//!
//! Every `examples/<set>/envelopes/<name>.json` is decided by the policy of
//! its set, with the budget and window state of `examples/<set>/state/<name>.json`
//! when that file exists (an empty state otherwise), and the decision JSON is
//! pinned as a snapshot. The policy hash is redacted: it changes with every
//! byte of the policy's files, the decisions should not.
//!
//! Besides the snapshots, the corpus itself is checked: each set shows all
//! four decisions, each envelope's name ends in the decision it shows, and
//! each malformed envelope is refused with an error naming a JSON path.
//! A few rules are pinned as disassembly, to see what the compiler makes of
//! `and`/`or`, windows, budgets and constraints.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use actpol::{Decision, Level, MemoryState, Policy};

fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

/// The example sets that carry envelopes, by name.
fn sets() -> Vec<String> {
    let mut sets: Vec<String> = fs::read_dir(examples_dir())
        .expect("examples/ is readable")
        .map(|entry| entry.expect("examples/ entry").path())
        .filter(|path| path.join("envelopes").is_dir())
        .map(|path| file_name(&path))
        .collect();
    sets.sort();
    sets
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .and_then(|n| n.to_str())
        .expect("a UTF-8 file name")
        .to_string()
}

fn policy(set: &str) -> Policy {
    Policy::from_paths(&[examples_dir().join(set)])
        .unwrap_or_else(|e| panic!("examples/{set} compiles: {e:?}"))
}

/// The state an envelope is decided against: `state/<name>.json` next to
/// `envelopes/<name>.json`, or nothing.
fn state_for(envelope: &Path) -> MemoryState {
    let name = envelope.file_name().expect("an envelope file name");
    let state = envelope
        .parent()
        .and_then(Path::parent)
        .expect("examples/<set>/envelopes/<name>.json")
        .join("state")
        .join(name);
    if !state.exists() {
        return MemoryState::default();
    }
    let bytes = fs::read(&state).expect("state file is readable");
    MemoryState::from_json(&bytes)
        .unwrap_or_else(|e| panic!("{} is a valid state file: {e}", state.display()))
}

fn decide(policy: &Policy, envelope: &Path) -> Decision {
    let bytes = fs::read(envelope).expect("envelope is readable");
    policy.decide(&bytes, &state_for(envelope))
}

/// Every envelope of `set`, by file stem, with its decision.
fn decisions(set: &str) -> BTreeMap<String, Decision> {
    let policy = policy(set);
    let dir = examples_dir().join(set).join("envelopes");
    fs::read_dir(&dir)
        .expect("envelopes/ is readable")
        .map(|entry| entry.expect("envelopes/ entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .map(|path| {
            let stem = file_name(&path).trim_end_matches(".json").to_string();
            (stem, decide(&policy, &path))
        })
        .collect()
}

#[test]
fn decisions_match_snapshots() {
    let policies: BTreeMap<String, Policy> = sets()
        .into_iter()
        .map(|set| {
            let policy = policy(&set);
            (set, policy)
        })
        .collect();
    insta::glob!("../../../examples", "*/envelopes/*.json", |path| {
        let set = path
            .parent()
            .and_then(Path::parent)
            .map(file_name)
            .expect("examples/<set>/envelopes/<name>.json");
        let decision = decide(&policies[&set], path);
        insta::assert_json_snapshot!(decision, {".policy.hash" => "[hash]"});
    });
}

#[test]
fn every_set_shows_every_decision() {
    let sets = sets();
    assert_eq!(sets, ["assistant", "finance", "growth", "support"]);
    for set in &sets {
        let decisions = decisions(set);
        assert!(
            (12..=25).contains(&decisions.len()),
            "examples/{set} has {} envelopes",
            decisions.len()
        );
        for level in Level::ALL {
            let count = decisions.values().filter(|d| d.decision == level).count();
            assert!(
                count >= 2,
                "examples/{set}: {count} envelope(s) decide `{level}`, want at least 2"
            );
        }
    }
}

/// `…-allows`, `…-constrains`, `…-escalates`, `…-denies`: an envelope's name
/// says what it shows.
#[test]
fn envelope_names_state_their_decision() {
    for set in sets() {
        for (name, decision) in decisions(&set) {
            if name.starts_with("malformed-") {
                continue;
            }
            let named = [
                ("-allows", Level::Allow),
                ("-constrains", Level::Constrain),
                ("-escalates", Level::Escalate),
                ("-denies", Level::Deny),
            ]
            .into_iter()
            .find(|(suffix, _)| name.ends_with(suffix))
            .map(|(_, level)| level)
            .unwrap_or_else(|| panic!("examples/{set}/envelopes/{name}.json: no decision suffix"));
            assert_eq!(
                decision.decision, named,
                "examples/{set}/envelopes/{name}.json decides {:?} for {:?}",
                decision.decision, decision.reasons
            );
            assert!(
                decision.errors.is_empty(),
                "examples/{set}/envelopes/{name}.json: unexpected errors {:?}",
                decision.errors
            );
        }
    }
}

/// An envelope that does not fit the schema never proceeds, and the error
/// says where it is.
#[test]
fn malformed_envelopes_fail_closed_with_a_path() {
    for set in sets() {
        let malformed: Vec<(String, Decision)> = decisions(&set)
            .into_iter()
            .filter(|(name, _)| name.starts_with("malformed-"))
            .collect();
        assert!(
            !malformed.is_empty(),
            "examples/{set} has no malformed envelope"
        );
        for (name, decision) in malformed {
            assert!(
                !decision.decision.proceeds(),
                "examples/{set}/envelopes/{name}.json proceeds: {:?}",
                decision.decision
            );
            assert!(
                decision.budgets.is_empty(),
                "examples/{set}/envelopes/{name}.json consumes budgets"
            );
            assert!(
                !decision.errors.is_empty(),
                "examples/{set}/envelopes/{name}.json has no error"
            );
            for error in &decision.errors {
                let path = error.path.as_deref().unwrap_or_else(|| {
                    panic!("examples/{set}/envelopes/{name}.json: error without a path: {error:?}")
                });
                assert!(
                    path.starts_with("$."),
                    "examples/{set}/envelopes/{name}.json: `{path}` is not a JSON path"
                );
            }
        }
    }
}

/// A state file belongs to the envelope of the same name.
#[test]
fn every_state_file_pairs_with_an_envelope() {
    for set in sets() {
        let dir = examples_dir().join(&set);
        let Ok(states) = fs::read_dir(dir.join("state")) else {
            continue;
        };
        let states: BTreeSet<String> = states
            .map(|entry| file_name(&entry.expect("state/ entry").path()))
            .collect();
        for state in states {
            assert!(
                dir.join("envelopes").join(&state).exists(),
                "examples/{set}/state/{state} has no envelopes/{state}"
            );
        }
    }
}

#[test]
fn disassembly_of_selected_rules() {
    let picks: [(&str, &[&str]); 4] = [
        // `or` over an `and`; a window count against a baseline.
        ("growth", &["enrich_weak_match", "mass_suppression"]),
        // a budget read in the condition, constraint bounds, consumes with `min`.
        ("support", &["goodwill_credit"]),
        // risks and timestamp arithmetic in a constraint, two consumes; sums over a plan.
        ("finance", &["pay_known_vendor", "run_total_mismatch"]),
        // a quantifier over the union of three lists; a sum of money over a
        // list of records; a read through a related entity in a quantifier.
        (
            "assistant",
            &[
                "unknown_recipient",
                "payment_lines_total",
                "unverified_payee",
            ],
        ),
    ];
    for (set, rules) in picks {
        let policy = policy(set);
        for rule in rules {
            let text = policy
                .disassemble(Some(rule))
                .unwrap_or_else(|| panic!("policy {set} has no rule `{rule}`"));
            insta::assert_snapshot!(format!("disasm_{set}_{rule}"), text);
        }
    }
}
