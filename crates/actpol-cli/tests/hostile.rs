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
fn frame_objects_given_as_arrays_are_refused() {
    // Was: `"agent": ["growth-bot", …]` read as the agent's fields in order
    // (serde reads a struct from an array too) and the send decided.
    let routine = json(&routine_send("", ""));
    for (key, path) in [
        ("agent", "$.agent"),
        ("action", "$.action"),
        ("object", "$.object"),
        ("intent", "$.intent"),
        ("rollback", "$.rollback"),
    ] {
        let mut doc = routine.clone();
        let fields: Vec<serde_json::Value> = doc[key]
            .as_object()
            .unwrap_or_else(|| panic!("`{key}` is an object as shipped"))
            .values()
            .cloned()
            .collect();
        doc[key] = serde_json::Value::Array(fields);
        let (run, _) = eval_stdin(doc.to_string().as_bytes(), &[]);
        assert_refused(&run, ErrorCode::EnvelopeWrongType, path);
        assert!(run.stdout.contains("expected an object"), "{}", run.stdout);
    }
    let fields: Vec<serde_json::Value> = routine.as_object().unwrap().values().cloned().collect();
    let (run, _) = eval_stdin(serde_json::Value::Array(fields).to_string().as_bytes(), &[]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert_ne!(json(&run.stdout)["decision"], "allow");
}

#[test]
fn a_time_past_the_years_rfc_3339_writes_in_utc_is_refused() {
    // Was: read, then written to a state file as `@253402318800000ms`,
    // which the state file's reader refuses: the state no longer loaded.
    let line = routine_send(
        r#""time":"2026-11-25T14:10:00Z""#,
        r#""time":"9999-12-31T23:00:00-05:00""#,
    );
    let (run, _) = eval_stdin(line.as_bytes(), &[]);
    assert_refused(&run, ErrorCode::EnvelopeBadValue, "$.time");
    assert!(
        run.stdout.contains("outside the years 0000 to 9999 in UTC"),
        "{}",
        run.stdout
    );
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

// --------------------------------------------------------------- imports --

const SMALL_POLICY: &str = r#"policy small { default deny "no rule matched" }
system crm
entity Account { name: String }
action crm.rename { system crm object Account params { name: String } reversible }
agent bot { owner "o@acme.example" workflow w }
rule renames on crm.rename { allow }
"#;

/// A policy directory `pol` whose main file imports `import`, beside a
/// file outside it that holds a secret.
fn importing(import: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "pol/main.actpol",
        format!("import \"{import}\"\n{SMALL_POLICY}"),
    );
    write(dir.path(), "outside.actpol", "SECRET_TOKEN=hunter2\n");
    write(dir.path(), "pol/notes.txt", "SECRET_TOKEN=hunter2\n");
    dir
}

/// `check` and `compile` refuse the import with `code`, exit 1, and quote
/// nothing of what the import names.
fn assert_import_refused(dir: &Path, code: ErrorCode) {
    let out = dir.join("out.actpolc");
    for args in [
        vec!["check", "pol"],
        vec!["check", "--format", "json", "pol/main.actpol"],
        vec!["compile", "pol", "-o", out.to_str().unwrap()],
    ] {
        let run = hostile_in(dir, &args, b"");
        let all = format!("{}{}", run.stdout, run.stderr);
        assert_eq!(run.code, 1, "{args:?}: {all}");
        assert!(all.contains(code.as_str()), "{args:?}: {all}");
        assert!(!all.contains("hunter2"), "{args:?} quoted the file: {all}");
        assert!(
            !all.contains("PATH="),
            "{args:?} quoted the environment: {all}"
        );
    }
    assert!(!out.exists());
}

#[test]
fn an_import_of_the_process_environment_is_refused_unread() {
    let dir = importing("/proc/self/environ");
    assert_import_refused(dir.path(), ErrorCode::LoadImportAbsolute);
}

#[test]
fn an_import_of_an_endless_device_is_refused_unread() {
    let dir = importing("/dev/zero");
    assert_import_refused(dir.path(), ErrorCode::LoadImportAbsolute);
    // Through a link inside the policy's directory, too.
    let dir = importing("zero.actpol");
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("pol/zero.actpol")).unwrap();
    assert_import_refused(dir.path(), ErrorCode::LoadImportOutsideRoot);
}

#[test]
fn an_import_climbing_out_of_the_root_is_refused() {
    let dir = importing("../outside.actpol");
    assert_import_refused(dir.path(), ErrorCode::LoadImportOutsideRoot);
    // Whether or not a file is there: an import cannot probe outside.
    let dir = importing("../../../../etc/nothing-here.actpol");
    assert_import_refused(dir.path(), ErrorCode::LoadImportOutsideRoot);
    // A link inside the root to a file outside it.
    let dir = importing("inside.actpol");
    std::os::unix::fs::symlink(
        dir.path().join("outside.actpol"),
        dir.path().join("pol/inside.actpol"),
    )
    .unwrap();
    assert_import_refused(dir.path(), ErrorCode::LoadImportOutsideRoot);
}

#[test]
fn an_import_of_a_file_that_is_not_policy_text_is_refused_unquoted() {
    let dir = importing("notes.txt");
    assert_import_refused(dir.path(), ErrorCode::LoadImportNotPolicy);
    // Not UTF-8: refused as an import of the main file, and as a file of
    // the directory walked.
    let dir = importing("bytes.actpol");
    write(
        dir.path(),
        "pol/bytes.actpol",
        b"SECRET_TOKEN=hunter2 \xff\xfe\n",
    );
    let run = hostile_in(dir.path(), &["check", "pol/main.actpol"], b"");
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains(ErrorCode::LoadImportNotPolicy.as_str()),
        "{}",
        run.stderr
    );
    let run = hostile_in(dir.path(), &["check", "pol"], b"");
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("not UTF-8"), "{}", run.stderr);
    for run in [
        run,
        hostile_in(dir.path(), &["check", "pol/main.actpol"], b""),
    ] {
        assert!(!run.stderr.contains("hunter2"), "{}", run.stderr);
    }
    let dir = importing("sub");
    std::fs::create_dir(dir.path().join("pol/sub")).unwrap();
    assert_import_refused(dir.path(), ErrorCode::LoadImportNotPolicy);
}

#[test]
fn an_import_larger_than_a_policy_file_is_refused() {
    let dir = importing("big.actpol");
    let big = vec![b' '; actpol::MAX_FILE_BYTES as usize + 1];
    write(dir.path(), "pol/big.actpol", big);
    assert_import_refused(dir.path(), ErrorCode::LoadTooLarge);
}

#[test]
fn a_root_given_lets_imports_reach_a_shared_directory() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "pol/main.actpol",
        format!("import \"../shared/agents.actpol\"\n{SMALL_POLICY}")
            .replace("agent bot { owner \"o@acme.example\" workflow w }\n", ""),
    );
    write(
        dir.path(),
        "shared/agents.actpol",
        "agent bot { owner \"o@acme.example\" workflow w }\n",
    );
    let run = hostile_in(dir.path(), &["check", "pol"], b"");
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains(ErrorCode::LoadImportOutsideRoot.as_str()),
        "{}",
        run.stderr
    );
    let run = hostile_in(dir.path(), &["check", "--root", ".", "pol"], b"");
    assert_eq!(run.code, 0, "{}", run.stderr);
}

// ----------------------------------------------------------------- walks --

/// The growth example with two links to its own directory and one to `/`
/// inside it: every command that walks a directory finishes quickly and
/// sees the example's own files only.
#[test]
fn walks_do_not_follow_links_to_directories() {
    let dir = tempfile::tempdir().unwrap();
    let pol = dir.path().join("pol");
    common::copy_dir(&root().join(GROWTH), &pol);
    std::os::unix::fs::symlink(".", pol.join("a")).unwrap();
    std::os::unix::fs::symlink(".", pol.join("b")).unwrap();
    std::os::unix::fs::symlink("/", pol.join("root")).unwrap();
    let out = dir.path().join("out.actpolc");
    let envelope = root().join(GROWTH_ENVELOPE);
    let cases: Vec<Vec<&str>> = vec![
        vec!["check", "pol"],
        vec!["compile", "pol", "-o", out.to_str().unwrap()],
        vec!["fmt", "--check", "pol"],
        vec![
            "eval",
            "--policy",
            "pol",
            "--envelope",
            envelope.to_str().unwrap(),
        ],
        vec!["test", "pol"],
    ];
    for args in cases {
        let started = Instant::now();
        let run = hostile_in(dir.path(), &args, b"");
        assert_eq!(run.code, 0, "{args:?}: {}{}", run.stdout, run.stderr);
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{args:?} took {:?}",
            started.elapsed()
        );
        assert!(
            !run.stderr.contains("root/"),
            "{args:?} walked into `/`: {}",
            run.stderr
        );
    }
    let run = hostile_in(dir.path(), &["check", "pol"], b"");
    assert!(run.stderr.contains("checked 5 file(s)"), "{}", run.stderr);
}

#[test]
fn a_walk_deeper_than_its_bound_stops_with_a_code() {
    let dir = tempfile::tempdir().unwrap();
    let deep = (0..=actpol::walk::MAX_DEPTH + 1)
        .map(|i| format!("d{i}"))
        .collect::<Vec<_>>()
        .join("/");
    write(dir.path(), &format!("pol/{deep}/x.actpol"), SMALL_POLICY);
    let run = hostile_in(dir.path(), &["check", "pol"], b"");
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains(ErrorCode::LoadTooDeep.as_str()),
        "{}",
        run.stderr
    );
}

// ------------------------------------------------------------- artifacts --

/// A key pair, the growth example compiled and signed with it, and the
/// same example compiled unsigned.
struct Signed {
    dir: tempfile::TempDir,
}

impl Signed {
    fn new() -> Signed {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("key");
        let run = hostile(&["keygen", "--out", key.to_str().unwrap()]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let signed = Signed { dir };
        let run = hostile(&[
            "compile",
            GROWTH,
            "-o",
            &signed.path("signed.actpolc"),
            "--sign",
            &signed.path("key"),
        ]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let run = hostile(&["compile", GROWTH, "-o", &signed.path("unsigned.actpolc")]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        signed
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).to_str().unwrap().to_string()
    }
}

#[test]
fn keygen_writes_a_private_key_and_never_overwrites_one() {
    use std::os::unix::fs::PermissionsExt as _;
    let keys = Signed::new();
    let mode = std::fs::metadata(keys.path("key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    let public = std::fs::read_to_string(keys.path("key.pub")).unwrap();
    assert!(public.contains("actpol-public-key-ed25519 "), "{public}");
    let before = std::fs::read(keys.path("key")).unwrap();
    let run = hostile(&["keygen", "--out", &keys.path("key")]);
    assert_ne!(run.code, 0, "{}", run.stderr);
    assert_eq!(std::fs::read(keys.path("key")).unwrap(), before);
}

#[test]
fn inspect_shows_the_signer() {
    let keys = Signed::new();
    let id = public_key_id(&keys);
    let run = hostile(&["inspect", &keys.path("signed.actpolc")]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for field in [
        "policy       growth",
        "source hash  sha256:",
        "compiler     actpol ",
    ] {
        assert!(run.stdout.contains(field), "{}", run.stdout);
    }
    assert!(run.stdout.contains(&id), "{}", run.stdout);
    let run = hostile(&["inspect", "--format", "json", &keys.path("signed.actpolc")]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let info = json(&run.stdout);
    assert_eq!(info["signer"]["key_id"], id.as_str());
    assert_eq!(info["policy"], "growth");
    assert!(
        info["compiled_at"].as_str().unwrap().ends_with('Z'),
        "{info}"
    );
    let run = hostile(&[
        "inspect",
        "--format",
        "json",
        &keys.path("unsigned.actpolc"),
    ]);
    assert_eq!(json(&run.stdout)["signer"], serde_json::Value::Null);
}

fn public_key_id(keys: &Signed) -> String {
    let text = std::fs::read_to_string(keys.path("key.pub")).unwrap();
    let comment = text.lines().next().unwrap();
    comment
        .split_whitespace()
        .find(|w| w.starts_with("ed25519:"))
        .unwrap()
        .to_string()
}

/// Every command that loads a policy, given `policy`, requiring `key`.
fn loading_commands(keys: &Signed, policy: &str, key: &str) -> Vec<Vec<String>> {
    let store = format!("sqlite:{}", keys.path("store.db"));
    let snapshot = keys.path("refused.snapshot.json");
    let args: Vec<Vec<&str>> = vec![
        vec!["eval", "--policy", policy, "--envelope", GROWTH_ENVELOPE],
        vec!["explain", "--policy", policy, "--envelope", GROWTH_ENVELOPE],
        vec![
            "plan",
            "--policy",
            policy,
            "--plan",
            "examples/growth/plans/pii-then-send.plan.json",
        ],
        vec!["budget", "show", "--store", &store, "--policy", policy],
        vec!["store", "prune", "--store", &store, "--policy", policy],
        vec!["disasm", policy],
        vec!["inspect", policy],
        vec![
            "diff",
            "--old",
            policy,
            "--new",
            policy,
            "--envelopes",
            "examples/growth/envelopes",
        ],
        vec![
            "snapshot",
            "--policy",
            policy,
            "--envelopes",
            "examples/growth/envelopes",
            "-o",
            &snapshot,
        ],
        vec![
            "bench",
            "serve",
            "--policy",
            policy,
            "--envelope",
            GROWTH_ENVELOPE,
            "--requests",
            "1",
            "--duration",
            "1s",
        ],
        vec![
            "serve",
            "--artifact",
            policy,
            "--store",
            ":memory:",
            "--listen",
            "127.0.0.1:0",
        ],
    ];
    args.into_iter()
        .map(|a| {
            let mut a: Vec<String> = a.into_iter().map(String::from).collect();
            a.extend(["--verify-key".to_string(), key.to_string()]);
            a
        })
        .collect()
}

#[test]
fn every_loading_command_refuses_an_unsigned_artifact_when_a_key_is_required() {
    let keys = Signed::new();
    for args in loading_commands(&keys, &keys.path("unsigned.actpolc"), &keys.path("key.pub")) {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = hostile(&args);
        assert_eq!(run.code, 1, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.contains(ErrorCode::ArtifactUnsigned.as_str()),
            "{args:?}: {}",
            run.stderr
        );
    }
    // Sources carry no signature.
    let run = hostile(&[
        "eval",
        "--policy",
        GROWTH,
        "--envelope",
        GROWTH_ENVELOPE,
        "--verify-key",
        &keys.path("key.pub"),
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains(ErrorCode::ArtifactUnsigned.as_str()));
    let run = hostile(&["test", GROWTH, "--verify-key", &keys.path("key.pub")]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
}

#[test]
fn a_signed_artifact_loads_with_its_key_and_not_with_another() {
    let keys = Signed::new();
    let run = hostile(&[
        "eval",
        "--policy",
        &keys.path("signed.actpolc"),
        "--envelope",
        GROWTH_ENVELOPE,
        "--verify-key",
        &keys.path("key.pub"),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(json(&run.stdout)["decision"], "escalate");
    let other = keys.path("other");
    assert_eq!(hostile(&["keygen", "--out", &other]).code, 0);
    let other_pub = format!("{other}.pub");
    for args in loading_commands(&keys, &keys.path("signed.actpolc"), &other_pub) {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = hostile(&args);
        assert_eq!(run.code, 1, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr
                .contains(ErrorCode::ArtifactBadSignature.as_str()),
            "{args:?}: {}",
            run.stderr
        );
    }
    // A secret key where a public one is needed is named as such.
    let run = hostile(&[
        "inspect",
        &keys.path("signed.actpolc"),
        "--verify-key",
        &keys.path("key"),
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains(ErrorCode::ArtifactKey.as_str()),
        "{}",
        run.stderr
    );
}

/// The weakened policy's artifact with the original's source hash written
/// in and the checksum recomputed: it loads without a key (and claims the
/// original's hash), and is refused with one.
#[test]
fn the_forged_artifact_is_refused_when_a_key_is_required() {
    let keys = Signed::new();
    let weak = keys.dir.path().join("weak");
    common::copy_dir(&root().join(GROWTH), &weak);
    let outbound = weak.join("outbound.actpol");
    let text = std::fs::read_to_string(&outbound).unwrap();
    assert!(text.contains("when params.recipients > 1_000\n"));
    std::fs::write(
        &outbound,
        text.replace(
            "when params.recipients > 1_000\n",
            "when params.recipients > 1_000_000\n",
        ),
    )
    .unwrap();
    let original = actpol::compile_paths(&[root().join(GROWTH)]).unwrap();
    let mut forged = actpol::compile_paths(&[&weak]).unwrap();
    assert_ne!(forged.source_hash, original.source_hash);
    forged.source_hash = original.source_hash;
    let forged_path = keys.path("forged.actpolc");
    std::fs::write(&forged_path, forged.encode().unwrap()).unwrap();

    let run = hostile(&[
        "eval",
        "--policy",
        &forged_path,
        "--envelope",
        GROWTH_ENVELOPE,
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(json(&run.stdout)["policy"]["hash"], original.hash_text());
    assert_ne!(json(&run.stdout)["decision"], "escalate");

    let run = hostile(&[
        "eval",
        "--policy",
        &forged_path,
        "--envelope",
        GROWTH_ENVELOPE,
        "--verify-key",
        &keys.path("key.pub"),
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert!(
        run.stderr.contains(ErrorCode::ArtifactUnsigned.as_str()),
        "{}",
        run.stderr
    );
    let run = hostile(&["inspect", "--format", "json", &forged_path]);
    assert_eq!(json(&run.stdout)["signer"], serde_json::Value::Null);
}

#[test]
fn a_short_file_given_as_an_artifact_is_not_read_as_policy_text() {
    let dir = tempfile::tempdir().unwrap();
    for bytes in [&b""[..], b"ACTP", b"allow\n"] {
        let file = write(dir.path(), "short.actpolc", bytes);
        for args in [
            vec!["eval", "--policy", &file, "--envelope", GROWTH_ENVELOPE],
            vec!["serve", "--artifact", &file, "--store", ":memory:"],
            vec!["inspect", &file],
        ] {
            let run = hostile(&args);
            assert_eq!(run.code, 1, "{args:?} {bytes:?}: {}", run.stderr);
            assert!(
                run.stderr.contains("actpol::artifact::"),
                "{args:?} {bytes:?}: {}",
                run.stderr
            );
        }
    }
}

// ---------------------------------------------------------- CLI contract --

#[test]
fn a_policy_that_is_not_utf8_is_an_input_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "bad.actpol",
        b"policy p { default deny \"\xff\" }\n",
    );
    let dir_arg = dir.path().to_str().unwrap();
    for args in [
        vec!["check", file.as_str()],
        vec!["check", dir_arg],
        vec!["compile", dir_arg, "-o", "/dev/null"],
        vec!["eval", "--policy", &file, "--envelope", GROWTH_ENVELOPE],
    ] {
        let run = hostile(&args);
        assert_eq!(run.code, 1, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains("not UTF-8"), "{args:?}: {}", run.stderr);
    }
    // A path that does not exist stays a usage error.
    let run = hostile(&["check", "no/such/dir"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
}

#[test]
fn explain_refuses_flags_it_does_not_honour() {
    for flag in ["--exit-code", "--batch", "--compact"] {
        let run = hostile(&[
            "explain",
            "--policy",
            GROWTH,
            "--envelope",
            GROWTH_ENVELOPE,
            flag,
        ]);
        assert_eq!(run.code, 2, "{flag}: {}{}", run.stdout, run.stderr);
        assert!(run.stdout.is_empty(), "{flag}: {}", run.stdout);
        assert!(run.stderr.contains(flag), "{flag}: {}", run.stderr);
    }
}

/// An envelope that does not fit the schema is decided by the policy's
/// `on_error`, an escalation for the growth policy: with `--exit-code` it
/// exits 3 like any escalation; without, 1 for the error it carries.
#[test]
fn an_on_error_escalation_exits_as_an_escalation_with_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(root().join(GROWTH_ENVELOPE)).unwrap();
    let broken = text.replace("\"recipients\": 2500", "\"recipients\": \"many\"");
    assert_ne!(broken, text, "the envelope names its recipients");
    let envelope = write(dir.path(), "broken.json", broken);
    let args = ["eval", "--policy", GROWTH, "--envelope", envelope.as_str()];
    let run = hostile(&args);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let d = json(&run.stdout);
    assert_eq!(d["decision"], "escalate", "{d}");
    assert!(!d["errors"].as_array().unwrap().is_empty(), "{d}");
    let run = hostile(&[&args[..], &["--exit-code"]].concat());
    assert_eq!(run.code, 3, "{}", run.stderr);
    // And a plain escalation, as documented.
    let run = hostile(&[
        "eval",
        "--policy",
        GROWTH,
        "--envelope",
        GROWTH_ENVELOPE,
        "--exit-code",
    ]);
    assert_eq!(run.code, 3, "{}", run.stderr);
}

#[test]
fn the_exit_codes_in_the_help_are_the_documented_ones() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let help = hostile(&["--help"]).stdout;
    for text in [&readme, &help] {
        let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
        for part in [
            "0 success",
            "1 policy or input errors",
            "2 usage errors",
            "3 for `escalate`",
            "4 for `deny`",
        ] {
            assert!(flat.contains(part), "`{part}` missing from:\n{text}");
        }
    }
}

#[test]
fn version_names_the_commit() {
    let run = hostile(&["--version"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let line = run.stdout.trim();
    let commit = line
        .rsplit_once('(')
        .and_then(|(_, rest)| rest.strip_suffix(')'))
        .unwrap_or_else(|| panic!("no commit in `{line}`"));
    let head = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(root())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    match head {
        Some(head) => assert_eq!(commit, head, "{line}"),
        None => assert_eq!(commit, "unknown", "{line}"),
    }
}

#[test]
fn explain_shows_a_rules_whole_doc_comment() {
    let run = hostile(&["explain", "--policy", GROWTH, "--envelope", GROWTH_ENVELOPE]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // `routine_campaign_send`'s comment runs over three lines.
    let flat = run.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains(
            "Routine campaign sends: copy from the reviewed template library at a normal size. \
             The daily send budget decides when a person must look at the day's volume."
        ),
        "{}",
        run.stdout
    );
}

#[test]
fn a_state_file_error_shows_the_format_with_single_braces() {
    let dir = tempfile::tempdir().unwrap();
    let state = write(dir.path(), "state.json", r#"{"budgetz": []}"#);
    let run = hostile(&[
        "eval",
        "--policy",
        GROWTH,
        "--envelope",
        GROWTH_ENVELOPE,
        "--state",
        &state,
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains(ErrorCode::StateInvalid.as_str()));
    assert!(
        run.stderr.contains(r#"{"budgets": [...]"#),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("{{"), "{}", run.stderr);
}

// ---------------------------------------------------------------- bounds --

const REFUNDS: &str = r#"
policy refunds { default deny "no rule matched" on_error deny "evaluation failed" }
system billing
entity Invoice { total: Money<USD> }
action billing.refund {
  system billing
  object Invoice
  params { amount: Money<USD> in 0 USD..  lines: Int in 1..100 }
  reversible
}
agent bot { owner "o@acme.example" workflow w }
rule capped on billing.refund {
  when params.amount <= 5000 USD
  allow "under the refund cap"
}
"#;

fn refund(amount: &str, lines: &str) -> String {
    format!(
        r#"{{"agent":{{"id":"bot","owner":"o@acme.example","workflow":"w"}},"action":{{"name":"billing.refund","params":{{"amount":{amount},"lines":{lines}}}}},"object":{{"type":"Invoice","id":"inv-1","attrs":{{"total":"90 USD"}}}},"time":"2026-11-25T14:00:00Z"}}"#
    )
}

#[test]
fn a_negative_amount_no_longer_passes_an_amount_cap() {
    // Was: `"-5000 USD"` allowed by `amount <= 5000 USD`, with no way to
    // declare an amount that cannot be negative.
    let dir = tempfile::tempdir().unwrap();
    let policy = write(dir.path(), "refunds.actpol", REFUNDS);
    let eval = |envelope: String| {
        hostile_in(
            &root(),
            &["eval", "--policy", &policy, "--envelope", "-"],
            envelope.as_bytes(),
        )
    };
    let run = eval(refund(r#""120 USD""#, "3"));
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(json(&run.stdout)["decision"], "allow");
    for (amount, lines, path) in [
        (r#""-5000 USD""#, "3", "$.action.params.amount"),
        ("-0.01", "3", "$.action.params.amount"),
        (r#""120 USD""#, "0", "$.action.params.lines"),
        (r#""120 USD""#, "101", "$.action.params.lines"),
    ] {
        let run = eval(refund(amount, lines));
        assert_refused(&run, ErrorCode::EnvelopeOutOfRange, path);
    }
}

#[test]
fn bounds_that_admit_nothing_or_are_in_another_unit_do_not_compile() {
    let dir = tempfile::tempdir().unwrap();
    for (from, to) in [
        ("in 0 USD..", "in 0 EUR.."),
        ("in 0 USD..", "in 0.."),
        ("in 1..100", "in 100..1"),
        ("in 1..100", "in 0.5.."),
    ] {
        assert!(REFUNDS.contains(from));
        let policy = write(dir.path(), "refunds.actpol", REFUNDS.replacen(from, to, 1));
        let run = hostile(&["check", "--format", "json", &policy]);
        assert_eq!(run.code, 1, "{to}: {}{}", run.stdout, run.stderr);
        let d = json(run.stdout.lines().next().unwrap_or_default());
        assert_eq!(d["code"], "actpol::check::invalid_bounds", "{to}: {d}");
        assert!(
            d["help"].as_str().is_some_and(|h| !h.is_empty()),
            "{to}: {d}"
        );
    }
}

// ----------------------------------------------------------- diagnostics --

/// A schema file with one syntax error, imported by a main file beside two
/// files of rules that use its names.
#[test]
fn a_broken_schema_file_is_one_diagnostic_not_one_per_use() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "pol/main.actpol",
        "import \"schema.actpol\"\nimport \"rules1.actpol\"\nimport \"rules2.actpol\"\n\
         policy p { default deny \"no rule matched\" }\n",
    );
    write(
        dir.path(),
        "pol/schema.actpol",
        "system crm\nenum Tier { gold, silver }\n\
         entity Account { name: String tier: Tier }\n\
         action crm.rename { system crm object Account params { name: String count: } reversible }\n\
         approver lead\nagent bot { owner \"o@acme.example\" workflow w }\n",
    );
    write(
        dir.path(),
        "pol/rules1.actpol",
        "rule big on crm.rename for agent bot { when params.count > 5 escalate to lead \"many\" }\n",
    );
    write(
        dir.path(),
        "pol/rules2.actpol",
        "rule gold on crm.rename for workflow w { when object.tier == Tier.gold deny \"gold\" }\n",
    );
    for args in [
        vec!["check", "--format", "json", "pol"],
        vec!["check", "--format", "json", "pol/main.actpol"],
    ] {
        let run = hostile_in(dir.path(), &args, b"");
        assert_eq!(run.code, 1, "{args:?}: {}", run.stderr);
        let lines: Vec<&str> = run.stdout.lines().collect();
        assert!(lines.len() <= 2, "{args:?}: {}", run.stdout);
        assert_eq!(json(lines[0])["code"], "actpol::syntax::unexpected");
    }
}

/// Trojan Source: a text-direction control in a comment would show a
/// reviewer another rule than the one compiled.
#[test]
fn a_text_direction_control_in_a_policy_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let text = SMALL_POLICY.replace(
        "rule renames on crm.rename { allow }",
        "rule renames on crm.rename {\n  // admins only \u{202E} } deny \"x\" {\u{2066}\n  allow\n}",
    );
    let path = write(dir.path(), "pol/main.actpol", &text);
    let out = dir.path().join("out.actpolc");
    for args in [
        vec!["check", "pol"],
        vec!["compile", "pol", "-o", out.to_str().unwrap()],
        vec!["fmt", "pol"],
    ] {
        let run = hostile_in(dir.path(), &args, b"");
        assert_eq!(run.code, 1, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("actpol::syntax::bidi_control"),
            "{args:?}: {}",
            run.stderr
        );
        assert!(
            !run.stderr.contains('\u{202E}'),
            "{args:?} echoed the control"
        );
    }
    assert!(!out.exists());
    assert_eq!(std::fs::read_to_string(path).unwrap(), text);
}

/// `fmt` reads no more of a file than a load would.
#[test]
fn fmt_refuses_a_file_past_the_size_limit() {
    let run = hostile(&["fmt", "--check", "/dev/zero"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains(ErrorCode::LoadTooLarge.as_str()),
        "{}",
        run.stderr
    );
    let dir = tempfile::tempdir().unwrap();
    let big = format!(
        "{SMALL_POLICY}{}",
        "// padding\n".repeat(usize::try_from(actpol::MAX_FILE_BYTES).unwrap() / 11 + 1)
    );
    let path = write(dir.path(), "big.actpol", &big);
    let (run, peak) = hostile_measured(dir.path(), &["fmt", &path], b"");
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains(ErrorCode::LoadTooLarge.as_str()));
    assert!(peak < 256 << 20, "fmt peaked at {peak} bytes");
    assert_eq!(std::fs::read_to_string(&path).unwrap().len(), big.len());
}
