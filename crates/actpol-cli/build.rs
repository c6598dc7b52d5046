//! Stamps the commit the command is built from into `actpol --version`:
//! `git rev-parse` when the sources are a git checkout, `unknown` when they
//! are not or git is missing. Never fails the build.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    let commit = git(&["rev-parse", "--short=12", "HEAD"]).unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=ACTPOL_COMMIT={commit}");
    // Build again when HEAD moves: the files git keeps it in (a worktree
    // keeps its HEAD apart from the refs it shares).
    let mut watched = Vec::new();
    if let Some(dir) = git(&["rev-parse", "--git-dir"]) {
        watched.push(absolute(&dir).join("HEAD"));
    }
    if let Some(common) = git(&["rev-parse", "--git-common-dir"]) {
        let common = absolute(&common);
        if let Some(head) = git(&["symbolic-ref", "-q", "HEAD"]) {
            watched.push(common.join(head));
        }
        watched.push(common.join("packed-refs"));
    }
    // A path that does not exist would make every build run this again.
    for path in watched.iter().filter(|p| p.exists()) {
        println!("cargo:rerun-if-changed={}", path.display());
    }
    println!("cargo:rerun-if-changed=build.rs");
}

/// A path git printed, which may be relative to this crate's directory.
fn absolute(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// What `git args…` prints, run in this crate's directory; `None` if it
/// cannot run or fails.
fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!text.is_empty()).then_some(text)
}
