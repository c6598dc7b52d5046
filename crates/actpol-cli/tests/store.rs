//! The store from the command line: `eval --store`, `approve`, `reject`,
//! `packet`, `budget` and `audit`, run as a user runs them; and the state
//! findings that a store (or a checked state file) fixes.

use std::path::{Path, PathBuf};

mod common;

use actpol::ErrorCode;
use common::{run_in, Run};
use serde_json::{json, Value as Json};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn actpol(args: &[&str]) -> Run {
    run_in(&root(), args, "")
}

fn json(text: &str) -> Json {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"))
}

const BULK: &str = "examples/growth/envelopes/bulk-send-escalates.json";
const SEND: &str = "examples/growth/envelopes/routine-send-allows.json";
/// The examples' envelopes say 14:10 UTC; replays run the clock there.
const NOW: &str = "2026-11-25T14:10:00Z";

struct Store {
    /// Where the test writes its envelopes (and a SQLite store lives).
    dir: tempfile::TempDir,
    /// The store's location, as `--store` takes it.
    path: String,
}

fn store() -> Store {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db").to_str().unwrap().to_string();
    Store { dir, path }
}

/// A store in a new schema of the PostgreSQL server `ACTPOL_TEST_PG` names;
/// none (said loudly) when no server was given, unless
/// `ACTPOL_TEST_PG_REQUIRED` is set.
fn pg_store() -> Option<Store> {
    let path = common::pg_location("cli", "`--store postgres://…`")?;
    Some(Store {
        dir: tempfile::tempdir().unwrap(),
        path,
    })
}

fn eval(store: &Store, envelope: &str, now: &str) -> Json {
    let run = actpol(&[
        "eval",
        "--policy",
        "examples/growth",
        "--envelope",
        envelope,
        "--store",
        &store.path,
        "--now",
        now,
    ]);
    // A decision that reports errors exits 1, like any `eval`.
    let decision = json(&run.stdout);
    let errors = decision["errors"].as_array().is_some_and(|e| !e.is_empty());
    assert_eq!(run.code, i32::from(errors), "{}", run.stderr);
    decision
}

/// Diagnostic text with miette's line wrapping undone.
fn unwrapped(text: &str) -> String {
    text.replace('│', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// An example envelope with fields changed, written next to the store.
fn variant(store: &Store, from: &str, name: &str, change: impl FnOnce(&mut Json)) -> String {
    let mut env = json(&std::fs::read_to_string(root().join(from)).unwrap());
    change(&mut env);
    let path = store.dir.path().join(name);
    std::fs::write(&path, serde_json::to_string(&env).unwrap()).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn escalate_approve_resubmit_allows_once_and_the_log_verifies() {
    escalate_approve_resubmit_allows_once_and_the_log_verifies_in(store());
}

#[test]
fn escalate_approve_resubmit_allows_once_and_the_log_verifies_on_postgres() {
    if let Some(s) = pg_store() {
        escalate_approve_resubmit_allows_once_and_the_log_verifies_in(s);
    }
}

fn escalate_approve_resubmit_allows_once_and_the_log_verifies_in(s: Store) {
    let first = eval(&s, BULK, NOW);
    assert_eq!(first["decision"], "escalate");
    assert_eq!(first["id"], "dec-1");
    assert_eq!(first["approval"]["status"], "pending");
    let approval = first["approval"]["id"].as_str().unwrap().to_string();

    // Only the approver the escalation named may decide.
    let wrong = actpol(&[
        "approve",
        &approval,
        "--by",
        "revops-lead",
        "--store",
        &s.path,
        "--now",
        NOW,
    ]);
    assert_eq!(wrong.code, 1);
    assert!(
        wrong
            .stderr
            .contains(ErrorCode::StoreWrongApprover.as_str()),
        "{}",
        wrong.stderr
    );
    assert!(
        unwrapped(&wrong.stderr).contains("only `growth-lead` can decide"),
        "{}",
        wrong.stderr
    );

    let granted = actpol(&[
        "approve",
        &approval,
        "--by",
        "growth-lead",
        "--note",
        "launch day",
        "--store",
        &s.path,
        "--now",
        "2026-11-25T14:12:00Z",
    ]);
    assert_eq!(granted.code, 0, "{}", granted.stderr);
    assert_eq!(json(&granted.stdout)["status"], "granted");

    let resubmit = variant(&s, BULK, "resubmit.json", |e| {
        e["approval"] = json!(approval);
        e["time"] = json!("2026-11-25T14:15:00Z");
    });
    let allowed = eval(&s, &resubmit, "2026-11-25T14:15:00Z");
    assert_eq!(allowed["decision"], "allow", "{allowed}");
    assert_eq!(allowed["approval"]["status"], "used");
    let replay = eval(&s, &resubmit, "2026-11-25T14:16:00Z");
    assert_eq!(replay["decision"], "escalate");
    assert!(
        replay["reasons"].to_string().contains("already used"),
        "{replay}"
    );

    let changed = variant(&s, BULK, "changed.json", |e| {
        e["approval"] = json!(approval);
        e["action"]["params"]["recipients"] = json!(9000);
    });
    let refused = eval(&s, &changed, NOW);
    assert_eq!(refused["decision"], "escalate");

    let packet = actpol(&["packet", "dec-5", "--store", &s.path, "--now", NOW]);
    assert_eq!(packet.code, 0, "{}", packet.stderr);
    assert!(
        packet
            .stdout
            .contains("# Approval needed from `growth-lead`"),
        "{}",
        packet.stdout
    );
    assert!(packet.stdout.contains("| `dec-1` |"), "{}", packet.stdout);
    assert!(packet.stdout.contains("“launch day”"), "{}", packet.stdout);
    let as_json = actpol(&["packet", "dec-5", "--format", "json", "--store", &s.path]);
    assert_eq!(
        json(&as_json.stdout)["packet"]["precedent"][0]["decision"],
        "dec-4"
    );

    let verify = actpol(&["audit", "verify", "--store", &s.path]);
    assert_eq!(verify.code, 0, "{}{}", verify.stdout, verify.stderr);
    assert!(
        verify
            .stdout
            .starts_with("intact: 5 record(s), head sha256:"),
        "{}",
        verify.stdout
    );
}

/// Tampers with the log of a fresh store holding 6 records.
fn tampered(sql: &str) -> Run {
    let s = store();
    for (i, time) in ["14:10", "14:11", "14:12"].iter().enumerate() {
        let env = variant(&s, SEND, &format!("send-{i}.json"), |e| {
            e["time"] = json!(format!("2026-11-25T{time}:00Z"));
            e["action"]["params"]["recipients"] = json!(10 + i);
        });
        let d = eval(&s, &env, &format!("2026-11-25T{time}:00Z"));
        let reservation = d["reservations"][0].as_str().unwrap().to_string();
        let run = actpol(&[
            "budget",
            "commit",
            &reservation,
            "--store",
            &s.path,
            "--now",
            NOW,
        ]);
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    assert_eq!(actpol(&["audit", "verify", "--store", &s.path]).code, 0);
    let conn = rusqlite::Connection::open(&s.path).unwrap();
    conn.execute_batch(sql).unwrap();
    drop(conn);
    actpol(&["audit", "verify", "--store", &s.path])
}

#[test]
fn audit_verify_exits_1_naming_the_first_broken_record() {
    let cases = [
        (
            "UPDATE log SET record = replace(record, '\"recipients\":11', '\"recipients\":1100') WHERE seq = 3",
            "broken at record 3: record 3 was changed",
        ),
        ("DELETE FROM log WHERE seq = 4", "broken at record 4: record 4 is missing"),
        (
            "UPDATE log SET seq = 0 WHERE seq = 2; UPDATE log SET seq = 2 WHERE seq = 5; UPDATE log SET seq = 5 WHERE seq = 0;",
            "broken at record 2",
        ),
        ("DELETE FROM log WHERE seq > 4", "broken at record 5: the log was truncated"),
    ];
    for (sql, said) in cases {
        let run = tampered(sql);
        assert_eq!(run.code, 1, "{sql}: {}", run.stdout);
        assert!(run.stdout.starts_with(said), "{sql}: {}", run.stdout);
    }
}

#[test]
fn audit_log_filters_and_speaks_json() {
    let s = store();
    eval(&s, BULK, NOW);
    eval(&s, SEND, NOW);
    let run = actpol(&["audit", "log", "--store", &s.path]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout.lines().count(), 2);
    assert!(
        run.stdout
            .contains("dec-1 escalate: growth-bot outbound.send"),
        "{}",
        run.stdout
    );
    let run = actpol(&[
        "audit",
        "log",
        "--decision",
        "allow",
        "--format",
        "json",
        "--store",
        &s.path,
    ]);
    let lines: Vec<Json> = run.stdout.lines().map(json).collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["record"]["decision"]["decision"], "allow");
    let run = actpol(&["audit", "log", "--agent", "nobody", "--store", &s.path]);
    assert_eq!(run.stdout, "");
    let run = actpol(&["audit", "log", "--decision", "maybe", "--store", &s.path]);
    assert_eq!(run.code, 2, "a bad level is a usage error");
}

#[test]
fn budget_show_commit_and_release() {
    budget_show_commit_and_release_in(store());
}

#[test]
fn budget_show_commit_and_release_on_postgres() {
    if let Some(s) = pg_store() {
        budget_show_commit_and_release_in(s);
    }
}

fn budget_show_commit_and_release_in(s: Store) {
    let d = eval(&s, SEND, NOW);
    let reservation = d["reservations"][0].as_str().unwrap().to_string();
    let show = actpol(&[
        "budget",
        "show",
        "--policy",
        "examples/growth",
        "--store",
        &s.path,
        "--now",
        NOW,
    ]);
    assert_eq!(show.code, 0, "{}", show.stderr);
    assert!(
        show.stdout.contains("sends agent:growth-bot (window 2026-11-25T00:00:00Z): 800 of 5000 consumed, 800 of it held"),
        "{}",
        show.stdout
    );
    let release = actpol(&[
        "budget",
        "release",
        &reservation,
        "--store",
        &s.path,
        "--now",
        NOW,
    ]);
    assert_eq!(release.code, 0, "{}", release.stderr);
    assert_eq!(json(&release.stdout)["state"], "released");
    let commit = actpol(&[
        "budget",
        "commit",
        &reservation,
        "--store",
        &s.path,
        "--now",
        NOW,
    ]);
    assert_eq!(commit.code, 1);
    assert!(
        commit
            .stderr
            .contains(ErrorCode::StoreReservationReleased.as_str()),
        "{}",
        commit.stderr
    );
    let show = actpol(&["budget", "show", "--format", "json", "--store", &s.path]);
    assert_eq!(json(&show.stdout)[0]["consumed"], "0");
    let unknown = actpol(&["budget", "commit", "res-77", "--store", &s.path]);
    assert!(
        unknown.stderr.contains("no reservation `res-77`"),
        "{}",
        unknown.stderr
    );
}

#[test]
fn a_store_path_that_is_not_a_store_is_refused() {
    let run = actpol(&["audit", "verify", "--store", "README.md"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains(ErrorCode::StoreNotAStore.as_str()),
        "{}",
        run.stderr
    );
}

// ------------------------------------------------- the state findings --

/// Ten lines of 800 recipients, as one batch.
fn ten_sends() -> String {
    let env = json(&std::fs::read_to_string(root().join(SEND)).unwrap());
    (0..10).map(|_| format!("{env}\n")).collect()
}

fn levels(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .map(|l| json(l)["decision"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_batch_sees_what_its_earlier_lines_consumed() {
    // Was: ten sends of 800 against a 5,000/day budget all allowed.
    let s = store();
    let batch = ten_sends();
    for backing in [vec!["--store", s.path.as_str(), "--now", NOW], vec![]] {
        let mut args = vec![
            "eval",
            "--policy",
            "examples/growth",
            "--envelope",
            "-",
            "--batch",
        ];
        args.extend(backing);
        let run = run_in(&root(), &args, &batch);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let allowed = levels(&run.stdout).iter().filter(|l| *l == "allow").count();
        // The sequence's 4,000-person audience is reached after five.
        assert_eq!(allowed, 5, "{}", run.stdout);
    }
}

#[test]
fn four_processes_on_one_store_share_its_budget() {
    // Was: four processes against one state file each allowed 800.
    let s = store();
    let batch = ten_sends();
    let children: Vec<_> = (0..4)
        .map(|_| {
            let batch = batch.clone();
            let path = s.path.clone();
            std::thread::spawn(move || {
                run_in(
                    &root(),
                    &[
                        "eval",
                        "--policy",
                        "examples/growth",
                        "--envelope",
                        "-",
                        "--batch",
                        "--store",
                        &path,
                        "--now",
                        NOW,
                    ],
                    &batch,
                )
            })
        })
        .collect();
    let mut allowed = 0;
    for c in children {
        let run = c.join().unwrap();
        assert_eq!(run.code, 0, "{}", run.stderr);
        allowed += levels(&run.stdout).iter().filter(|l| *l == "allow").count();
    }
    assert_eq!(allowed, 5, "40 sends across 4 processes, 5 fit");
    let verify = actpol(&["audit", "verify", "--store", &s.path]);
    assert!(
        verify.stdout.starts_with("intact: 40 record(s)"),
        "{}",
        verify.stdout
    );
}

fn eval_with_state(state: &str) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("state.json");
    std::fs::write(&file, state).unwrap();
    actpol(&[
        "eval",
        "--policy",
        "examples/growth",
        "--envelope",
        SEND,
        "--state",
        file.to_str().unwrap(),
    ])
}

#[test]
fn a_state_file_that_does_not_fit_the_policy_is_refused() {
    let cases = [
        // A misspelt budget name counted as zero.
        (
            r#"{"budgets": [{"name": "snds", "key": "agent:growth-bot", "consumed": 5000}]}"#,
            "no budget `snds`; did you mean `sends`?",
        ),
        // A misspelt key counted as zero.
        (
            r#"{"budgets": [{"name": "sends", "key": "agent:growth-bto", "consumed": 5000}]}"#,
            "no agent `growth-bto` is declared; did you mean `growth-bot`?",
        ),
        (
            r#"{"budgets": [{"name": "sends", "key": "workflow:outbound-campaigns", "consumed": 5000}]}"#,
            "kept per agent",
        ),
        // A negative amount handed spent budget back.
        (
            r#"{"budgets": [{"name": "sends", "key": "agent:growth-bot", "consumed": -5000}]}"#,
            "is negative",
        ),
        // Yen summed into a dollar total.
        (
            r#"{"events": [{"action": "pricing.offer.create", "agent": "winback-bot", "time": "2026-11-25T09:00:00Z",
                "params": {"price": "10000 JPY"}}]}"#,
            "expected an amount in USD, found JPY",
        ),
        (
            r#"{"events": [{"action": "outbound.snd", "agent": "growth-bot", "time": "2026-11-25T09:00:00Z"}]}"#,
            "did you mean `outbound.send`?",
        ),
    ];
    for (state, said) in cases {
        let run = eval_with_state(state);
        assert_eq!(run.code, 1, "{state}: {}", run.stdout);
        assert!(
            run.stderr.contains(ErrorCode::StateInvalid.as_str()),
            "{}",
            run.stderr
        );
        assert!(
            unwrapped(&run.stderr).contains(said),
            "{state}:\n{}",
            run.stderr
        );
    }
}

#[test]
fn yesterdays_consumption_does_not_count_today() {
    // Was: consumption had no window, so yesterday's never reset.
    let yesterday = r#"{"budgets": [{"name": "sends", "key": "agent:growth-bot", "consumed": 5000, "time": "2026-11-24T18:00:00Z"}]}"#;
    let run = eval_with_state(yesterday);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(json(&run.stdout)["decision"], "allow");
    let today = yesterday.replace("2026-11-24T18", "2026-11-25T08");
    let run = eval_with_state(&today);
    assert_eq!(json(&run.stdout)["decision"], "escalate", "{}", run.stdout);
}

#[test]
fn a_backdated_envelope_goes_to_on_error_with_a_store() {
    // Was: `now` was the envelope's own time, so a backdated envelope saw
    // no past events.
    let s = store();
    let backdated = variant(&s, SEND, "old.json", |e| {
        e["time"] = json!("2026-11-20T14:10:00Z")
    });
    let d = eval(&s, &backdated, NOW);
    assert_eq!(d["decision"], "escalate");
    assert_eq!(
        d["errors"][0]["code"],
        ErrorCode::EnvelopeClockSkew.as_str()
    );
    assert!(d["approval"].is_null(), "an error is never approved");
    let run = actpol(&[
        "eval",
        "--policy",
        "examples/growth",
        "--envelope",
        &backdated,
        "--store",
        &s.path,
        "--now",
        NOW,
        "--max-skew",
        "7d",
    ]);
    assert_eq!(
        json(&run.stdout)["decision"],
        "allow",
        "a wider declared skew admits it"
    );
}

// ------------------------------------------- the examples' walkthrough --

/// Splits a shell line into words: double quotes group, `$P` expands.
fn words(line: &str, vars: &[(&str, &str)]) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    let mut any = false;
    for c in line.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                any = true;
            }
            ' ' if !quoted => {
                if any || !word.is_empty() {
                    out.push(std::mem::take(&mut word));
                }
                any = false;
            }
            c => word.push(c),
        }
    }
    if any || !word.is_empty() {
        out.push(word);
    }
    out.into_iter()
        .flat_map(|w| match vars.iter().find(|(k, _)| w == format!("${k}")) {
            Some((_, v)) => v.split(' ').map(str::to_string).collect(),
            None => vec![w],
        })
        .collect()
}

/// The commands of a walkthrough's `sh` block, with continued lines joined
/// and comments dropped.
fn commands(script: &str) -> Vec<String> {
    let mut commands: Vec<String> = Vec::new();
    let mut pending = String::new();
    for line in script.lines() {
        let line = line.trim();
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        pending.push_str(line.trim_end_matches('\\').trim_end());
        pending.push(' ');
        if !line.ends_with('\\') {
            commands.push(std::mem::take(&mut pending).trim().to_string());
        }
    }
    commands
}

/// Runs a walkthrough in a fresh store; each command's output, by the
/// command as written.
fn walk(script: &str) -> Vec<(String, String)> {
    let s = store();
    let mut vars = Vec::new();
    let mut outputs = Vec::new();
    for command in commands(script) {
        if let Some(value) = command.strip_prefix("P=") {
            vars.push(("P", value.trim().trim_matches('"').to_string()));
            continue;
        }
        let pairs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let args: Vec<String> = words(&command, &pairs)
            .into_iter()
            .skip(1) // `actpol`
            .map(|w| {
                if w == "--store" {
                    format!("--store={}", s.path)
                } else {
                    w
                }
            })
            .collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = actpol(&args);
        assert_eq!(
            run.code, 0,
            "actpol {args:?}:\n{}{}",
            run.stdout, run.stderr
        );
        outputs.push((command, run.stdout));
    }
    outputs
}

/// Each walkthrough under "Deciding with a store" in examples/README.md
/// (one per `###` section) runs in a fresh store, every command succeeds,
/// and each output the README shows (`<!-- output of: COMMAND -->` and the
/// block after it) is what the command prints.
#[test]
fn the_walkthroughs_in_the_examples_readme_run_as_written() {
    let readme_path = root().join("examples/README.md");
    let readme = std::fs::read_to_string(&readme_path).unwrap();
    let (head, section) = readme
        .split_once("## Deciding with a store")
        .expect("the section");
    let mut rewritten = format!("{head}## Deciding with a store");
    let mut walked = Vec::new();
    for (i, part) in section.split("\n### ").enumerate() {
        if i > 0 {
            rewritten.push_str("\n### ");
        }
        let Some(script) = part
            .split_once("```sh\n")
            .and_then(|(_, rest)| rest.split_once("```"))
            .map(|(script, _)| script)
        else {
            rewritten.push_str(part);
            continue;
        };
        let title = part.lines().next().unwrap_or_default().to_string();
        let outputs = walk(script);
        walked.push(title.clone());
        // Every output shown, replaced by what its command printed.
        let mut rest = part;
        let mut shown = 0;
        while let Some((before, after)) = rest.split_once("<!-- output of: ") {
            let (command, after) = after.split_once(" -->\n").expect("a closed marker");
            let (fence, after) = after.split_once('\n').expect("a block after the marker");
            let (_, after) = after.split_once("```\n").expect("a closed block");
            let printed = outputs
                .iter()
                .find(|(c, _)| c == command)
                .map(|(_, out)| out.as_str())
                .unwrap_or_else(|| panic!("{title}: no command `{command}` in the walkthrough"));
            rewritten.push_str(before);
            rewritten.push_str(&format!(
                "<!-- output of: {command} -->\n{fence}\n{printed}```\n"
            ));
            rest = after;
            shown += 1;
        }
        rewritten.push_str(rest);
        assert!(shown > 0, "{title}: the walkthrough shows no output");
    }
    assert_eq!(walked.len(), 4, "a walkthrough per example: {walked:?}");
    if std::env::var_os("ACTPOL_UPDATE_DOCS").is_some() {
        std::fs::write(&readme_path, &rewritten).unwrap();
    } else {
        assert!(
            readme == rewritten,
            "examples/README.md shows other output than its walkthroughs print; rerun with \
             ACTPOL_UPDATE_DOCS=1 and review the diff"
        );
    }
    // What the walkthroughs show.
    for shown in [
        "rejected by `growth-lead`",
        "customer_credits object:Customer/cus-4417 (window 2026-11-03T00:00:00Z): 500 of 500 USD",
        "dec-7 deny: ap-bot payments.run.submit",
        "dec-8 allow: ap-bot payments.run.submit",
        "daily_payments agent:assistant (window 2026-11-25T00:00:00Z): 1600.20 of 1500 EUR consumed",
    ] {
        assert!(
            rewritten.contains(shown),
            "the walkthroughs print no `{shown}`"
        );
    }
}

#[test]
fn a_policy_test_whose_state_does_not_fit_the_policy_is_broken() {
    // The same check as `eval --state`, for states in `*.test.toml`.
    let dir = tempfile::tempdir().unwrap();
    let tests = dir.path().join("tests");
    std::fs::create_dir_all(&tests).unwrap();
    let policy = root().join("examples/growth");
    let envelope = root().join(SEND);
    std::fs::write(
        tests.join("misspelt.test.toml"),
        format!(
            "policy = {:?}\n\n[[case]]\nname = \"a spent budget\"\nenvelope = {:?}\nstate = {{ budgets = [{{ name = \"snds\", key = \"agent:growth-bot\", consumed = 5000 }}] }}\nexpect.decision = \"escalate\"\n",
            policy.to_str().unwrap(),
            envelope.to_str().unwrap()
        ),
    )
    .unwrap();
    let run = actpol(&["test", tests.to_str().unwrap()]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let said = unwrapped(&format!("{}{}", run.stdout, run.stderr));
    assert!(
        said.contains("no budget `snds`; did you mean `sends`?"),
        "{said}"
    );
}

#[test]
fn store_prune_forgets_old_history_and_keeps_the_log() {
    store_prune_forgets_old_history_and_keeps_the_log_in(store());
}

#[test]
fn store_prune_forgets_old_history_and_keeps_the_log_on_postgres() {
    if let Some(s) = pg_store() {
        store_prune_forgets_old_history_and_keeps_the_log_in(s);
    }
}

fn store_prune_forgets_old_history_and_keeps_the_log_in(s: Store) {
    // A send committed in October, one committed now.
    for (name, time) in [("old", "2026-10-01T09:00:00Z"), ("new", NOW)] {
        let env = variant(&s, SEND, &format!("{name}.json"), |e| {
            e["time"] = json!(time);
        });
        let d = eval(&s, &env, time);
        let reservation = d["reservations"][0].as_str().unwrap().to_string();
        let run = actpol(&[
            "budget",
            "commit",
            &reservation,
            "--store",
            &s.path,
            "--now",
            time,
        ]);
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    let before = actpol(&["audit", "verify", "--store", &s.path]);
    let run = actpol(&[
        "store",
        "prune",
        "--policy",
        "examples/growth",
        "--store",
        &s.path,
        "--now",
        NOW,
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let pruned = json(&run.stdout);
    assert_eq!(pruned["reservations"], 1, "{pruned}");
    assert!(pruned["counters"].as_u64().unwrap() >= 1, "{pruned}");
    // The log is untouched: the same records, the same head.
    let after = actpol(&["audit", "verify", "--store", &s.path]);
    assert_eq!(after.code, 0);
    assert_eq!(after.stdout, before.stdout);

    // A policy with a window over a whole plan reads all of its history.
    let run = actpol(&[
        "store",
        "prune",
        "--policy",
        "examples/finance",
        "--store",
        &s.path,
        "--now",
        NOW,
    ]);
    assert_eq!(run.code, 1);
    assert!(
        unwrapped(&run.stderr).contains("the policy reads all of its history"),
        "{}",
        run.stderr
    );
}
