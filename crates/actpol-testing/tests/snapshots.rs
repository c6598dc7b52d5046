//! Decision snapshots and change-impact diffs over the fixture's corpus.

mod common;

use actpol::MemoryState;
use actpol_testing::snapshot::{self, RecordRequest};
use actpol_testing::{corpus, diff, policy, render, run, Options, Status};
use common::Fixture;

fn record(f: &Fixture, policy: &str) -> snapshot::SnapshotFile {
    snapshot::record(&RecordRequest {
        policy: &f.path(policy),
        envelopes: &f.path("envelopes"),
        state: None,
        output: &f.path("decisions.snapshot.json"),
    })
    .expect("recorded")
}

fn check(f: &Fixture, accept: bool) -> actpol_testing::RunReport {
    let options = Options {
        accept,
        ..Options::default()
    };
    run(&[f.path("decisions.snapshot.json")], &options).unwrap()
}

#[test]
fn a_snapshot_records_every_envelope_with_its_paired_state() {
    let f = Fixture::new();
    let file = record(&f, ".");
    assert_eq!(file.policy, ".");
    assert_eq!(file.envelopes, "envelopes");
    let keys: Vec<&str> = file.decisions.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "envelopes/bulk.json",
            "envelopes/fresh-copy.json",
            "envelopes/recall.json",
            "envelopes/send.json"
        ]
    );
    let send = &file.decisions["envelopes/send.json"];
    // state/send.json says 100 were sent before this one.
    assert_eq!(send.budgets[0].consumed, 220.into());
    assert_eq!(
        file.decisions["envelopes/bulk.json"].approver.as_deref(),
        Some("growth-lead")
    );
    let text = f.read("decisions.snapshot.json");
    assert!(!text.contains("sha256"), "no policy hash in a snapshot");
    assert!(text.ends_with("}\n"));
    let reread = snapshot::read(&f.path("decisions.snapshot.json")).unwrap();
    assert_eq!(reread, file);
}

#[test]
fn record_check_change_accept() {
    let f = Fixture::new();
    record(&f, ".");
    let report = check(&f, false);
    assert!(report.passed(), "{}", render::text(&report, false));
    assert_eq!(report.counts().decisions, 4);

    // The policy changes under review: bulk sends up to 2000 become routine.
    let before = f.read("main.actpol");
    f.write(
        "main.actpol",
        &before
            .replace("params.recipients <= 1000", "params.recipients <= 2000")
            .replace("params.recipients > 1000", "params.recipients > 2000"),
    );
    let report = check(&f, false);
    assert!(!report.passed());
    let changed: Vec<(&str, Status)> = report.suites[0]
        .results
        .iter()
        .filter(|r| r.status != Status::Passed)
        .map(|r| (r.name.as_str(), r.status))
        .collect();
    assert_eq!(changed, [("envelopes/bulk.json", Status::Failed)]);
    let text = render::text(&report, false);
    assert!(text.contains("FAIL envelopes/bulk.json"), "{text}");
    assert!(
        text.contains("recorded: escalate to growth-lead, by bulk_send"),
        "{text}"
    );
    assert!(text.contains("now:      allow, by routine_send"), "{text}");
    assert!(
        text.contains("- decision: recorded escalate, now allow"),
        "{text}"
    );
    assert!(text.contains("4 decisions, 1 changed"), "{text}");

    let report = check(&f, true);
    assert!(report.passed());
    assert!(report.suites[0].rewritten);
    assert_eq!(report.counts().accepted, 1);
    let accepted = snapshot::read(&f.path("decisions.snapshot.json")).unwrap();
    assert_eq!(
        accepted.decisions["envelopes/bulk.json"].rules,
        ["routine_send"]
    );

    let report = check(&f, false);
    assert!(report.passed());
    assert!(!report.suites[0].rewritten);
}

#[test]
fn new_and_vanished_envelopes_fail_until_accepted() {
    let f = Fixture::new();
    record(&f, ".");
    std::fs::copy(
        f.path("envelopes/send.json"),
        f.path("envelopes/send-again.json"),
    )
    .unwrap();
    std::fs::remove_file(f.path("envelopes/recall.json")).unwrap();
    let report = check(&f, false);
    let failed: Vec<(&str, &str)> = report.suites[0]
        .results
        .iter()
        .filter(|r| r.status == Status::Failed)
        .map(|r| (r.name.as_str(), r.differences[0].field))
        .collect();
    assert_eq!(
        failed,
        [
            ("envelopes/recall.json", "envelope"),
            ("envelopes/send-again.json", "recorded")
        ]
    );
    assert!(check(&f, true).passed());
    let keys: Vec<String> = snapshot::read(&f.path("decisions.snapshot.json"))
        .unwrap()
        .decisions
        .into_keys()
        .collect();
    assert!(keys.contains(&"envelopes/send-again.json".to_string()));
    assert!(!keys.contains(&"envelopes/recall.json".to_string()));
}

#[test]
fn accepting_a_filtered_check_keeps_the_rest() {
    let f = Fixture::new();
    record(&f, ".");
    let before = f.read("main.actpol");
    f.write(
        "main.actpol",
        &before.replace("allow \"recalling stops contact\"", "deny \"no recalls\""),
    );
    f.write(
        "envelopes/bulk.json",
        &f.read("envelopes/bulk.json").replace("1500", "1600"),
    );
    let options = Options {
        accept: true,
        filter: Some("recall".into()),
        ..Options::default()
    };
    let report = run(&[f.path("decisions.snapshot.json")], &options).unwrap();
    assert_eq!(report.counts().decisions, 1);
    let file = snapshot::read(&f.path("decisions.snapshot.json")).unwrap();
    assert_eq!(file.decisions.len(), 4);
    assert_eq!(file.decisions["envelopes/recall.json"].rules, ["recall"]);
    assert_eq!(
        file.decisions["envelopes/recall.json"].reasons,
        ["no recalls"]
    );
}

#[test]
fn a_snapshot_elsewhere_keeps_paths_relative_to_itself() {
    let f = Fixture::new();
    let file = snapshot::record(&RecordRequest {
        policy: &f.path("main.actpol"),
        envelopes: &f.path("envelopes"),
        state: Some(&f.path("state/send.json")),
        output: &f
            .path("review/x.snapshot.json")
            .with_file_name("x.snapshot.json"),
    });
    // The output's directory must exist.
    assert!(file.is_err());
    std::fs::create_dir_all(f.path("review")).unwrap();
    let file = snapshot::record(&RecordRequest {
        policy: &f.path("main.actpol"),
        envelopes: &f.path("envelopes"),
        state: Some(&f.path("state/send.json")),
        output: &f.path("review/x.snapshot.json"),
    })
    .unwrap();
    assert_eq!(file.policy, "../main.actpol");
    assert_eq!(file.envelopes, "../envelopes");
    assert_eq!(file.state.as_deref(), Some("../state/send.json"));
    assert!(file.decisions.contains_key("../envelopes/recall.json"));
    assert!(run(&[f.path("review")], &Options::default())
        .unwrap()
        .passed());
}

#[test]
fn diff_lists_exactly_the_changed_envelopes_by_transition() {
    let f = Fixture::new();
    let new = f.changed_policy(
        "v2",
        "params.recipients <= 1000",
        "params.recipients <= 100",
    );
    // The main file, not the directory: the directory now holds `v2` too.
    let old = policy::load(&f.path("main.actpol")).unwrap();
    let new = policy::load(&new).unwrap();
    let entries = corpus::scan(&f.path("envelopes")).unwrap();
    let report = diff::diff(
        old.policy(),
        new.policy(),
        "envelopes",
        &entries,
        &MemoryState::default(),
    )
    .unwrap();
    assert_eq!(report.envelopes, 4);
    // send.json (120 recipients) is no longer routine: no rule matches, and
    // the default denies it. Nothing else moves.
    let changed: Vec<&str> = report.changes.iter().map(|c| c.envelope.as_str()).collect();
    assert_eq!(changed, ["envelopes/send.json"]);
    let text = report.render_text();
    assert!(text.contains("allow → deny (1)"), "{text}");
    assert!(text.contains("old: allow, by routine_send"), "{text}");
    assert!(text.contains("new: deny, by no rule"), "{text}");

    let same = diff::diff(
        old.policy(),
        old.policy(),
        "envelopes",
        &entries,
        &MemoryState::default(),
    )
    .unwrap();
    assert!(same.changes.is_empty());
}
