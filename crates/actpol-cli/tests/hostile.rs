//! Hostile input, run as an attacker or a careless caller would: the real
//! binary, each case under a wall-clock limit and an address-space limit,
//! asserting the exit code and, where a decision is made, that it is not
//! `allow`. A panic, a hang or a blow-up of memory fails the case.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use actpol::ErrorCode;

mod common;

use common::Run;

/// How long any one case may take, debug build included.
const TIME_LIMIT: Duration = Duration::from_secs(60);

/// The address space any one case may use (bytes); a case that needs more
/// dies of a failed allocation and fails.
const MEMORY_LIMIT: u64 = 2 << 30;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs `actpol args…` from `dir` with `stdin` piped in, under
/// [`TIME_LIMIT`] and [`MEMORY_LIMIT`].
fn hostile_in(dir: &Path, args: &[&str], stdin: &[u8]) -> Run {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -v {} && exec \"$0\" \"$@\"",
            MEMORY_LIMIT / 1024
        ))
        .arg(env!("CARGO_BIN_EXE_actpol"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let mut input = child.stdin.take().expect("stdin is piped");
    let stdin = stdin.to_vec();
    let feeder = std::thread::spawn(move || {
        use std::io::Write as _;
        // A command that stops reading early is not a failure here.
        let _ = input.write_all(&stdin);
    });
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let out = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stdout.read_to_end(&mut buf);
        buf
    });
    let err = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stderr.read_to_end(&mut buf);
        buf
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("the child can be waited on") {
            break status;
        }
        if started.elapsed() > TIME_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("actpol {args:?} ran past {TIME_LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let _ = feeder.join();
    let run = Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.join().unwrap()).into_owned(),
        stderr: String::from_utf8_lossy(&err.join().unwrap()).into_owned(),
    };
    assert!(
        !run.stderr.contains("panicked"),
        "actpol {args:?} panicked:\n{}",
        run.stderr
    );
    assert!(
        status.code().is_some(),
        "actpol {args:?} died of a signal (memory limit?): {status:?}\n{}",
        run.stderr
    );
    run
}

fn hostile(args: &[&str]) -> Run {
    hostile_in(&root(), args, b"")
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"))
}

fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) -> String {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&path, bytes).unwrap();
    path.to_str().unwrap().to_string()
}

const GROWTH: &str = "examples/growth";
const SEND_ENVELOPE: &str = "examples/growth/envelopes/send-budget-nearly-spent-constrains.json";
const GROWTH_ENVELOPE: &str = "examples/growth/envelopes/bulk-send-escalates.json";

// ------------------------------------------------------------ state sums --

/// Two entries each at the largest decimal: their sum cannot be held. The
/// decision fails closed with the state's out-of-range code; nothing
/// panics and nothing is allowed.
#[test]
fn budget_sums_past_the_decimal_range_fail_closed() {
    let dir = tempfile::tempdir().unwrap();
    let max = "79228162514264337593543950335";
    let state = write(
        dir.path(),
        "state.json",
        format!(
            r#"{{"budgets": [
                {{"name": "sends", "key": "agent:growth-bot", "consumed": "{max}"}},
                {{"name": "sends", "key": "agent:growth-bot", "consumed": "{max}"}}
            ]}}"#
        ),
    );
    let run = hostile(&[
        "eval",
        "--policy",
        GROWTH,
        "--envelope",
        SEND_ENVELOPE,
        "--state",
        &state,
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let d = json(&run.stdout);
    assert_ne!(d["decision"], "allow", "{d}");
    assert!(
        run.stdout.contains(ErrorCode::StateOutOfRange.as_str()),
        "{}",
        run.stdout
    );
}

// ----------------------------------------------------------- long lines --

/// miette pads to a column with a formatting width, which cannot pass
/// 65,535: a mistake further along a line is named, not quoted.
#[test]
fn a_diagnostic_past_column_65535_is_named_not_quoted() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "long.actpol",
        format!("{}garbage\n", " ".repeat(70_000)),
    );
    let run = hostile(&["check", &file]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains(":1:70001"), "{}", run.stderr);
    assert!(run.stderr.contains("too long to quote"), "{}", run.stderr);
    let run = hostile(&["check", "--format", "json", &file]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(json(run.stdout.trim())["column"], 70_001);
}

#[test]
fn a_test_file_mistake_past_column_65535_is_named_not_quoted() {
    let dir = tempfile::tempdir().unwrap();
    common::copy_dir(&root().join(GROWTH), dir.path());
    std::fs::remove_dir_all(dir.path().join("tests")).unwrap();
    let file = write(
        dir.path(),
        "tests/long.test.toml",
        format!("policy = \"..\"\n{}garbage = 1\n", " ".repeat(70_000)),
    );
    let run = hostile(&["test", &file]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let all = format!("{}{}", run.stdout, run.stderr);
    assert!(all.contains(":2:70001"), "{all}");
}

// ---------------------------------------------------------- closed pipes --

/// Runs `actpol args…` with its standard output's reading end closed
/// before it writes, as `actpol … | head` leaves it.
fn with_closed_stdout(args: &[&str]) -> Run {
    // The write end of a pipe whose only reader already exited.
    let mut reader = Command::new("true")
        .stdin(Stdio::piped())
        .spawn()
        .expect("`true` runs");
    let writer = reader.stdin.take().expect("stdin is piped");
    reader.wait().expect("`true` exits");
    let out = Command::new(env!("CARGO_BIN_EXE_actpol"))
        .args(args)
        .current_dir(root())
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .expect("the binary runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::new(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn a_closed_pipe_ends_every_printing_command_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let artifact = dir.path().join("growth.actpolc");
    let artifact = artifact.to_str().unwrap();
    assert_eq!(hostile(&["compile", GROWTH, "-o", artifact]).code, 0);
    let cases: &[&[&str]] = &[
        &["explain", "--policy", GROWTH, "--envelope", GROWTH_ENVELOPE],
        &["eval", "--policy", GROWTH, "--envelope", GROWTH_ENVELOPE],
        &["disasm", artifact],
        &["test", GROWTH],
        &[
            "diff",
            "--old",
            GROWTH,
            "--new",
            artifact,
            "--envelopes",
            "examples/growth/envelopes",
        ],
        &["check", "--format", "json", "tests/check"],
    ];
    for args in cases {
        let run = with_closed_stdout(args);
        assert!(
            !run.stderr.contains("panicked"),
            "actpol {args:?} panicked on a closed pipe:\n{}",
            run.stderr
        );
        assert!(
            run.code == 0 || run.code == 1,
            "actpol {args:?} exited {} on a closed pipe:\n{}",
            run.code,
            run.stderr
        );
        assert!(
            !run.stderr.contains("Broken pipe"),
            "actpol {args:?} complained about the pipe:\n{}",
            run.stderr
        );
    }
}
