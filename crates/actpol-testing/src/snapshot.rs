//! Decision snapshots: the decision a policy makes on every envelope of a
//! corpus, recorded in a `*.snapshot.json` file that lives in review next
//! to the policy. Checking one decides the corpus again and shows each
//! decision that changed; accepting rewrites the file.
//!
//! Paths in the file are relative to it, and decisions are keyed by the
//! envelope's path, sorted, so a review diff shows exactly the envelopes
//! whose decision moved.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use actpol::{EnvelopeLimits, LoadOptions, MemoryState};
use serde::{Deserialize, Serialize};

use crate::corpus;
use crate::diagnostic::{Kind, TestDiagnostic};
use crate::policy::PolicyCache;
use crate::record::{differences, Difference, Record};
use crate::results::{CaseResult, Status, Suite, SuiteKind};
use crate::walk;

/// The snapshot file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapshotFile {
    /// The policy (directory, main file or artifact), relative to this file.
    pub policy: String,
    /// The envelope corpus directory, relative to this file.
    pub envelopes: String,
    /// A state for envelopes without their own, relative to this file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Decisions by envelope path, relative to this file.
    pub decisions: BTreeMap<String, Record>,
}

impl SnapshotFile {
    pub fn to_text(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }

    fn key(&self, entry: &corpus::Entry) -> String {
        match self.envelopes.as_str() {
            "." => entry.name.clone(),
            dir => format!("{dir}/{}", entry.name),
        }
    }
}

/// What `actpol snapshot` is asked to record.
#[derive(Clone, Debug)]
pub struct RecordRequest<'a> {
    pub policy: &'a Path,
    pub envelopes: &'a Path,
    pub state: Option<&'a Path>,
    pub output: &'a Path,
}

/// Records the decisions on every envelope of the corpus into the file at
/// `request.output`.
pub fn record(request: &RecordRequest<'_>) -> Result<SnapshotFile, TestDiagnostic> {
    record_with(request, &LoadOptions::default())
}

/// [`record`], loading the policy as `options` say (with a key required,
/// only an artifact signed by it loads).
pub fn record_with(
    request: &RecordRequest<'_>,
    options: &LoadOptions,
) -> Result<SnapshotFile, TestDiagnostic> {
    let output_shown = request.output.display().to_string();
    let dir = parent_dir(request.output);
    let relative = |target: &Path, what: &str| {
        walk::path_between(&dir, target).ok_or_else(|| {
            TestDiagnostic::new(
                Kind::NoSuchPath,
                &output_shown,
                format!(
                    "cannot place {what} `{}` relative to `{output_shown}`",
                    target.display()
                ),
            )
            .with_help("the snapshot's directory and the paths it names must exist")
        })
    };
    let policy_rel = relative(request.policy, "policy")?;
    let entries = corpus::scan(request.envelopes)?;
    let envelopes_rel = relative(request.envelopes, "envelope corpus")?;
    let state_rel = request.state.map(|s| relative(s, "state")).transpose()?;
    let fallback = match request.state {
        Some(path) => corpus::read_state(path)?,
        None => MemoryState::default(),
    };
    let policy = crate::policy::load_with(request.policy, options, &EnvelopeLimits::DEFAULT)
        .map_err(|e| e.diagnostic(&request.policy.display().to_string(), None))?;
    let mut file = SnapshotFile {
        policy: policy_rel,
        envelopes: envelopes_rel,
        state: state_rel,
        decisions: BTreeMap::new(),
    };
    for entry in &entries {
        let record = corpus::decide(policy.policy(), entry, &fallback)?;
        file.decisions.insert(file.key(entry), record);
    }
    write(request.output, &file)?;
    Ok(file)
}

fn parent_dir(file: &Path) -> PathBuf {
    match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn write(path: &Path, file: &SnapshotFile) -> Result<(), TestDiagnostic> {
    std::fs::write(path, file.to_text()).map_err(|e| {
        let shown = path.display().to_string();
        TestDiagnostic::new(
            Kind::WriteFailed,
            &shown,
            format!("cannot write `{shown}`: {e}"),
        )
    })
}

/// Reads a snapshot file; a malformed one is a diagnostic pointing into it.
pub fn read(path: &Path) -> Result<SnapshotFile, TestDiagnostic> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        TestDiagnostic::new(
            Kind::Unreadable,
            &shown,
            format!("cannot read `{shown}`: {e}"),
        )
    })?;
    serde_json::from_str(&text).map_err(|e| {
        let offset = offset_of(&text, e.line(), e.column());
        let source = std::sync::Arc::from(text.as_str());
        TestDiagnostic::new(
            Kind::InvalidSnapshot,
            &shown,
            format!("invalid snapshot: {e}"),
        )
        .at(&source, offset..offset, "here")
    })
}

/// The byte offset of a 1-based line and column (as serde_json counts).
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    (start + column.saturating_sub(1)).min(text.len())
}

/// How a snapshot check is run.
#[derive(Clone, Copy, Debug, Default)]
pub struct CheckOptions<'a> {
    /// Only envelopes whose key contains this.
    pub filter: Option<&'a str>,
    /// Rewrite the file with the decisions made now.
    pub accept: bool,
}

/// Decides the snapshot's corpus again and compares each decision with the
/// recorded one.
pub fn check(path: &Path, policies: &mut PolicyCache, options: CheckOptions<'_>) -> Suite {
    let shown = path.display().to_string();
    let mut suite = Suite::new(&shown, SuiteKind::Snapshot);
    if let Err(d) = check_into(path, policies, options, &mut suite) {
        suite.diagnostics.push(d);
    }
    suite
}

fn check_into(
    path: &Path,
    policies: &mut PolicyCache,
    options: CheckOptions<'_>,
    suite: &mut Suite,
) -> Result<(), TestDiagnostic> {
    let recorded = read(path)?;
    let dir = parent_dir(path);
    let policy = policies.get(&dir.join(&recorded.policy));
    let policy = policy
        .as_ref()
        .as_ref()
        .map_err(|e| e.diagnostic(&suite.file, None))?
        .policy();
    let fallback = match &recorded.state {
        Some(s) => corpus::read_state(&dir.join(s))?,
        None => MemoryState::default(),
    };
    let entries = corpus::scan(&dir.join(&recorded.envelopes))?;
    let selected = |key: &str| options.filter.is_none_or(|f| key.contains(f));
    let mut now = recorded.clone();
    let mut seen = Vec::new();
    for entry in &entries {
        let key = recorded.key(entry);
        if !selected(&key) {
            continue;
        }
        let record = corpus::decide(policy, entry, &fallback)?;
        suite.results.push(compare(
            &key,
            recorded.decisions.get(&key),
            Some(&record),
            options.accept,
        ));
        now.decisions.insert(key.clone(), record);
        seen.push(key);
    }
    for (key, old) in &recorded.decisions {
        if selected(key) && !seen.contains(key) {
            suite
                .results
                .push(compare(key, Some(old), None, options.accept));
            now.decisions.remove(key);
        }
    }
    suite.results.sort_by(|a, b| a.name.cmp(&b.name));
    if options.accept && now != recorded {
        write(path, &now)?;
        suite.rewritten = true;
    }
    Ok(())
}

/// A recorded envelope, read for deciding again and again (mutation
/// testing).
#[derive(Debug)]
pub struct RecordedEntry {
    /// The envelope's key in the snapshot.
    pub key: String,
    pub bytes: Vec<u8>,
    pub state: std::sync::Arc<MemoryState>,
    pub record: Record,
}

/// The snapshot's policy (relative to the working directory) and every
/// envelope of its corpus that has a recorded decision.
pub fn entries(path: &Path) -> Result<(PathBuf, Vec<RecordedEntry>), TestDiagnostic> {
    let recorded = read(path)?;
    let dir = parent_dir(path);
    let fallback = std::sync::Arc::new(match &recorded.state {
        Some(s) => corpus::read_state(&dir.join(s))?,
        None => MemoryState::default(),
    });
    let mut out = Vec::new();
    for entry in corpus::scan(&dir.join(&recorded.envelopes))? {
        let key = recorded.key(&entry);
        let Some(record) = recorded.decisions.get(&key) else {
            continue;
        };
        let shown = entry.path.display().to_string();
        let bytes = std::fs::read(&entry.path).map_err(|e| {
            TestDiagnostic::new(
                Kind::Unreadable,
                &shown,
                format!("cannot read envelope `{shown}`: {e}"),
            )
        })?;
        let state = match &entry.state {
            Some(p) => std::sync::Arc::new(corpus::read_state(p)?),
            None => std::sync::Arc::clone(&fallback),
        };
        out.push(RecordedEntry {
            key,
            bytes,
            state,
            record: record.clone(),
        });
    }
    Ok((dir.join(&recorded.policy), out))
}

/// One envelope: recorded (if it was) against decided now (if it still is).
fn compare(key: &str, recorded: Option<&Record>, now: Option<&Record>, accept: bool) -> CaseResult {
    let differences = match (recorded, now) {
        (Some(old), Some(new)) => differences(old, new),
        (None, Some(new)) => vec![Difference::new(
            "recorded",
            "nothing: a new envelope",
            new.headline(),
        )],
        (Some(old), None) => vec![Difference::new(
            "envelope",
            old.headline(),
            "gone from the corpus",
        )],
        (None, None) => Vec::new(),
    };
    let status = match (differences.is_empty(), accept) {
        (true, _) => Status::Passed,
        (false, true) => Status::Accepted,
        (false, false) => Status::Failed,
    };
    CaseResult {
        name: key.to_string(),
        line: None,
        status,
        expected: recorded.map_or_else(|| "nothing recorded".to_string(), Record::headline),
        expected_json: recorded
            .and_then(|r| serde_json::to_value(r).ok())
            .unwrap_or(serde_json::Value::Null),
        actual: now.cloned(),
        differences,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_follow_lines_and_columns() {
        let text = "{\n  \"a\": x\n}";
        assert_eq!(offset_of(text, 2, 8), 9);
        assert_eq!(&text[9..10], "x");
        assert_eq!(offset_of(text, 99, 99), text.len());
    }

    #[test]
    fn malformed_snapshots_point_into_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.snapshot.json");
        std::fs::write(&path, "{\"policy\": \".\", \"envelopes\": 3}").unwrap();
        let d = read(&path).unwrap_err();
        assert_eq!(d.code(), "actpol::test::invalid_snapshot");
        assert!(d.span.is_some());
        std::fs::write(
            &path,
            "{\"policy\": \".\", \"envelopes\": \"e\", \"decisions\": {}, \"extra\": 1}",
        )
        .unwrap();
        assert!(read(&path)
            .unwrap_err()
            .message
            .contains("unknown field `extra`"));
    }
}
