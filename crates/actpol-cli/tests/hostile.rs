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
    hostile_measured(dir, args, stdin).0
}

/// The child's peak resident memory so far (`VmHWM`, bytes), while it
/// runs; `None` once it is gone.
fn peak_rss(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// [`hostile_in`], also returning the child's peak resident memory
/// (bytes), sampled from `/proc` every few milliseconds while it runs:
/// the high-water mark only rises, so the last sample is the peak up to
/// a few milliseconds before the child exits.
fn hostile_measured(dir: &Path, args: &[&str], stdin: &[u8]) -> (Run, u64) {
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
    let mut peak = 0;
    let status = loop {
        if let Some(rss) = peak_rss(child.id()) {
            peak = peak.max(rss);
        }
        if let Some(status) = child.try_wait().expect("the child can be waited on") {
            break status;
        }
        if started.elapsed() > TIME_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("actpol {args:?} ran past {TIME_LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
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
    (run, peak)
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

// ------------------------------------------------------------- envelopes --

const ROUTINE_SEND: &str = "examples/growth/envelopes/routine-send-allows.json";

/// The routine send (allowed as shipped) on one line, with `from` replaced
/// by `to` in its text.
fn routine_send(from: &str, to: &str) -> String {
    let text = std::fs::read_to_string(root().join(ROUTINE_SEND)).unwrap();
    let line = json(&text).to_string();
    assert!(line.contains(from), "`{from}` is in {line}");
    line.replacen(from, to, 1)
}

/// `actpol eval` on `envelope` given on standard input, with `extra` flags.
fn eval_stdin(envelope: &[u8], extra: &[&str]) -> (Run, u64) {
    let mut args = vec!["eval", "--policy", GROWTH, "--envelope", "-"];
    args.extend_from_slice(extra);
    hostile_measured(&root(), &args, envelope)
}

/// A refused envelope: exit 1, not allowed, the one error `code` at `path`.
fn assert_refused(run: &Run, code: ErrorCode, path: &str) {
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let d = json(&run.stdout);
    assert_ne!(d["decision"], "allow", "{d}");
    assert_eq!(d["errors"][0]["code"], code.as_str(), "{d}");
    assert_eq!(d["errors"][0]["path"], path, "{d}");
}

#[test]
fn the_routine_send_is_allowed_as_shipped() {
    let (run, _) = eval_stdin(routine_send("", "").as_bytes(), &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(json(&run.stdout)["decision"], "allow");
}

#[test]
fn a_key_given_twice_is_refused_at_any_depth() {
    // Was: `"recipients":5000,"recipients":800` allowed as 800.
    for (from, to, path) in [
        (
            r#""recipients":800"#,
            r#""recipients":5000,"recipients":800"#,
            "$.action.params.recipients",
        ),
        (
            r#""segment":"smb""#,
            r#""segment":"smb","segment":"enterprise""#,
            "$.object.attrs.segment",
        ),
        (
            r#""change_freeze":false"#,
            r#""change_freeze":false,"change_freeze":true"#,
            "$.context.change_freeze",
        ),
        (
            r#""time":"#,
            r#""time":"2026-11-28T14:10:00Z","time":"#,
            "$.time",
        ),
    ] {
        let (run, _) = eval_stdin(routine_send(from, to).as_bytes(), &[]);
        assert_refused(&run, ErrorCode::EnvelopeDuplicateKey, path);
    }
}

#[test]
fn control_characters_are_refused_escaped_or_raw() {
    // Was: `lib/\u0000…` passed `starts_with("lib/")` and was allowed.
    let line = routine_send(
        r#""template":"lib/q4-winback""#,
        r#""template":"lib/\u0000../drafts/x""#,
    );
    let (run, _) = eval_stdin(line.as_bytes(), &[]);
    assert_refused(
        &run,
        ErrorCode::EnvelopeControlCharacter,
        "$.action.params.template",
    );
    let line = routine_send(r#""growth-bot""#, r#""growth-bot\u001b[2J""#);
    let (run, _) = eval_stdin(line.as_bytes(), &[]);
    assert_refused(&run, ErrorCode::EnvelopeControlCharacter, "$.agent.id");
    // A raw control character is not JSON at all.
    let line = routine_send(
        r#""template":"lib/q4-winback""#,
        "\"template\":\"lib/\u{0}x\"",
    );
    let (run, _) = eval_stdin(line.as_bytes(), &[]);
    assert_refused(
        &run,
        ErrorCode::EnvelopeMalformedJson,
        "$.action.params.template",
    );
}

/// 100 MB of context keys no schema declares.
fn unknown_keys(size: usize) -> Vec<u8> {
    use std::io::Write as _;
    let mut keys = Vec::with_capacity(size + 64);
    let mut i = 0u64;
    while keys.len() < size {
        write!(keys, "\"k{i}\":0,").unwrap();
        i += 1;
    }
    let keys = String::from_utf8(keys).unwrap();
    routine_send(
        r#""change_freeze":false"#,
        &format!("{keys}\"change_freeze\":false"),
    )
    .into_bytes()
}

/// The most a refused envelope may cost the process, at any size.
const ENVELOPE_PEAK: u64 = 96 << 20;

#[test]
fn a_hundred_megabytes_of_unknown_keys_is_refused_fast_in_little_memory() {
    // Was: 859 MB and 14 s (release build) before an unknown-key error.
    let envelope = unknown_keys(100 << 20);
    let started = Instant::now();
    let (run, peak) = eval_stdin(&envelope, &[]);
    let took = started.elapsed();
    assert_refused(&run, ErrorCode::EnvelopeTooLarge, "$");
    assert!(peak < ENVELOPE_PEAK, "peak resident memory {peak} bytes");
    assert!(took < Duration::from_secs(20), "took {took:?}");
    // In a batch, the line is refused in place and the next one decided.
    let mut batch = envelope;
    batch.push(b'\n');
    batch.extend_from_slice(routine_send("", "").as_bytes());
    let (run, peak) = eval_stdin(&batch, &["--batch"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let lines: Vec<_> = run.stdout.lines().map(json).collect();
    assert_eq!(lines.len(), 2, "{}", run.stdout);
    assert_eq!(
        lines[0]["errors"][0]["code"],
        ErrorCode::EnvelopeTooLarge.as_str()
    );
    assert_eq!(lines[1]["decision"], "allow");
    assert!(peak < ENVELOPE_PEAK, "peak resident memory {peak} bytes");
}

#[test]
fn unknown_keys_within_the_limits_cost_a_small_multiple_of_the_envelope() {
    // A thousand undeclared context fields, each an array of 400 numbers:
    // just under 1 MiB, within every limit, refused as unknown.
    let value = vec!["0"; 400].join(",");
    let fields: Vec<String> = (0..1000).map(|i| format!("\"u{i}\":[{value}]")).collect();
    let line = routine_send(
        r#""change_freeze":false"#,
        &format!("{},\"change_freeze\":false", fields.join(",")),
    );
    assert!(line.len() < 1 << 20, "{} bytes", line.len());
    let (run, peak) = eval_stdin(line.as_bytes(), &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let d = json(&run.stdout);
    assert_eq!(
        d["errors"][0]["code"],
        ErrorCode::EnvelopeUnknownContext.as_str(),
        "{d}"
    );
    assert!(peak < ENVELOPE_PEAK, "peak resident memory {peak} bytes");
}

#[test]
fn envelope_limits_refuse_with_their_codes_and_the_flags_move_them() {
    let deep = format!("{}0{}", "[".repeat(100_000), "]".repeat(100_000));
    let line = routine_send(r#""change_freeze":false"#, &format!("\"junk\":{deep}"));
    let (run, _) = eval_stdin(line.as_bytes(), &[]);
    assert_eq!(
        json(&run.stdout)["errors"][0]["code"],
        ErrorCode::EnvelopeTooDeep.as_str()
    );
    let padded = routine_send("re-engage", &"x".repeat(70_000));
    let (run, _) = eval_stdin(padded.as_bytes(), &[]);
    assert_refused(&run, ErrorCode::EnvelopeStringTooLong, "$.intent.goal");
    let (run, _) = eval_stdin(padded.as_bytes(), &["--max-string-bytes", "100000"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let (run, _) = eval_stdin(
        routine_send("", "").as_bytes(),
        &["--max-envelope-bytes", "100"],
    );
    assert_refused(&run, ErrorCode::EnvelopeTooLarge, "$");
    let (run, _) = eval_stdin(routine_send("", "").as_bytes(), &["--max-keys", "3"]);
    assert_refused(&run, ErrorCode::EnvelopeTooManyKeys, "$");
    let (run, _) = eval_stdin(routine_send("", "").as_bytes(), &["--max-depth", "2"]);
    assert_refused(&run, ErrorCode::EnvelopeTooDeep, "$.action.params");
    let items = vec!["\"x\""; 2000].join(",");
    let line = routine_send(r#""change_freeze":false"#, &format!("\"junk\":[{items}]"));
    let (run, _) = eval_stdin(line.as_bytes(), &[]);
    assert_refused(&run, ErrorCode::EnvelopeTooLong, "$.context.junk");
}

// ----------------------------------------------------------------- batch --

#[test]
fn every_batch_line_gets_its_own_output_line_in_place() {
    // Was: blank lines skipped (output drifted from input), and one line of
    // invalid UTF-8 aborted the rest; decisions carried no id.
    let good = routine_send("", "");
    let dup = routine_send(
        r#""recipients":800"#,
        r#""recipients":5000,"recipients":800"#,
    );
    let mut input = Vec::new();
    for line in [
        good.as_bytes(),
        b"",
        b"   ",
        b"{\"id\":\"bad\xff\"}",
        b"not json",
        dup.as_bytes(),
    ] {
        input.extend_from_slice(line);
        input.push(b'\n');
    }
    input.extend_from_slice(good.replace("req-growth-0001", "req-last").as_bytes());
    let (run, _) = eval_stdin(&input, &["--batch"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let lines: Vec<_> = run.stdout.lines().map(json).collect();
    assert_eq!(lines.len(), 7, "{}", run.stdout);
    for (i, d) in lines.iter().enumerate() {
        assert_eq!(d["line"], i + 1, "{d}");
    }
    assert_eq!(lines[0]["envelope_id"], "req-growth-0001");
    assert_eq!(lines[0]["decision"], "allow");
    for d in &lines[1..6] {
        assert_ne!(d["decision"], "allow", "{d}");
    }
    let codes: Vec<&str> = lines[1..6]
        .iter()
        .map(|d| d["errors"][0]["code"].as_str().unwrap())
        .collect();
    let malformed = ErrorCode::EnvelopeMalformedJson.as_str();
    assert_eq!(
        codes,
        [
            malformed,
            malformed,
            malformed,
            malformed,
            ErrorCode::EnvelopeDuplicateKey.as_str()
        ]
    );
    assert_eq!(lines[1]["envelope_id"], serde_json::Value::Null);
    assert_eq!(lines[5]["envelope_id"], "req-growth-0001");
    // The last line has no newline and is decided all the same; the one
    // before it consumed nothing, so the budget is as after one send.
    assert_eq!(lines[6]["envelope_id"], "req-last");
    assert_eq!(lines[6]["decision"], "allow");
    assert_eq!(lines[6]["budgets"][0]["consumed"], 1600);
}

#[test]
fn a_batch_of_clean_lines_exits_by_its_strictest_decision() {
    let allow = routine_send("", "");
    let escalate = std::fs::read_to_string(root().join(GROWTH_ENVELOPE)).unwrap();
    let input = format!("{allow}\n{}\n", json(&escalate));
    let (run, _) = eval_stdin(input.as_bytes(), &["--batch", "--exit-code"]);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.stdout.lines().count(), 2);
}
