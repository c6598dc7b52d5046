//! Running the real `actpol` binary as a user would, shared by the CLI
//! tests.

#![allow(dead_code)]

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

/// What one run of the binary produced.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `actpol args…` in `dir`, with `stdin` piped in. A panic in the
/// binary fails the test whatever it asserts next.
pub fn run_in(dir: &Path, args: &[&str], stdin: &str) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_actpol"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(stdin.as_bytes())
        .expect("stdin takes the input");
    let out = child.wait_with_output().expect("the binary finishes");
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(
        !run.stderr.contains("panicked"),
        "actpol {args:?} panicked:\n{}",
        run.stderr
    );
    run
}

/// Copies a directory tree.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A store location in a new, empty schema of the PostgreSQL server that
/// `ACTPOL_TEST_PG` names, its name starting with `prefix`; `None`, said
/// loudly with `untested`, when no server was given (a failure when
/// `ACTPOL_TEST_PG_REQUIRED` is set).
pub fn pg_location(prefix: &str, untested: &str) -> Option<String> {
    use std::sync::atomic::{AtomicU64, Ordering};
    // Tests in one file run in parallel in one process: a counter keeps
    // their schemas apart.
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let Some(url) = std::env::var("ACTPOL_TEST_PG")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        assert!(
            std::env::var_os("ACTPOL_TEST_PG_REQUIRED").is_none(),
            "ACTPOL_TEST_PG_REQUIRED is set but ACTPOL_TEST_PG is not"
        );
        let _ = writeln!(
            std::io::stderr(),
            "\n*** SKIPPED: {untested} was not tested: set ACTPOL_TEST_PG ***\n"
        );
        return None;
    };
    let schema = format!(
        "{prefix}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    postgres::Client::connect(&url, postgres::NoTls)
        .unwrap()
        .batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
        ))
        .unwrap();
    let join = if url.contains('?') { '&' } else { '?' };
    Some(format!("{url}{join}options=-c%20search_path%3D{schema}"))
}
