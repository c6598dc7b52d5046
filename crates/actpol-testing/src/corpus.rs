//! A corpus of envelopes: every `*.json` under a directory, each decided
//! with its own state when one sits at the same place under a `state`
//! directory beside the envelopes (`envelopes/x.json` with `state/x.json`),
//! the layout of the examples.

use std::path::{Path, PathBuf};

use actpol::{MemoryState, Policy};

use crate::diagnostic::{Kind, TestDiagnostic};
use crate::record::Record;
use crate::walk;

/// One envelope of a corpus.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub path: PathBuf,
    /// The path under the corpus directory, `/`-separated.
    pub name: String,
    /// Its paired state file, if there is one.
    pub state: Option<PathBuf>,
}

/// The envelopes under `dir`, sorted by name.
pub fn scan(dir: &Path) -> Result<Vec<Entry>, TestDiagnostic> {
    let shown = dir.display().to_string();
    if !dir.is_dir() {
        return Err(TestDiagnostic::new(
            Kind::NoSuchPath,
            &shown,
            format!("envelope corpus `{shown}` is not a directory"),
        )
        .with_help("pass the directory that holds the envelope files"));
    }
    let is_json = |p: &Path| p.extension().is_some_and(|e| e == "json");
    let files = walk::files(dir, &is_json).map_err(|e| {
        TestDiagnostic::new(
            Kind::Unreadable,
            &shown,
            format!("cannot list `{shown}`: {e}"),
        )
    })?;
    if files.is_empty() {
        return Err(TestDiagnostic::new(
            Kind::EmptyCorpus,
            &shown,
            format!("envelope corpus `{shown}` holds no `*.json` file"),
        ));
    }
    let state_dir = state_dir_beside(dir);
    Ok(files
        .into_iter()
        .map(|path| {
            let name = walk::relative_name(&path, dir);
            let state = state_dir.join(&name);
            Entry {
                state: state.is_file().then_some(state),
                name,
                path,
            }
        })
        .collect())
}

/// `state` next to the corpus directory.
fn state_dir_beside(dir: &Path) -> PathBuf {
    match dir.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.join("state"),
        _ => dir.join("..").join("state"),
    }
}

/// Reads a state file.
pub fn read_state(path: &Path) -> Result<MemoryState, TestDiagnostic> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| {
        TestDiagnostic::new(
            Kind::Unreadable,
            &shown,
            format!("cannot read state `{shown}`: {e}"),
        )
    })?;
    MemoryState::from_json(&bytes).map_err(|e| {
        TestDiagnostic::new(
            Kind::InvalidState,
            &shown,
            format!("state `{shown}` is invalid: {e}"),
        )
    })
}

/// Decides on one envelope, with its paired state or else `fallback`.
pub fn decide(
    policy: &Policy,
    entry: &Entry,
    fallback: &MemoryState,
) -> Result<Record, TestDiagnostic> {
    let shown = entry.path.display().to_string();
    let bytes = std::fs::read(&entry.path).map_err(|e| {
        TestDiagnostic::new(
            Kind::Unreadable,
            &shown,
            format!("cannot read envelope `{shown}`: {e}"),
        )
    })?;
    let paired;
    let state = match &entry.state {
        Some(path) => {
            paired = read_state(path)?;
            &paired
        }
        None => fallback,
    };
    policy.check_state(state).map_err(|e| {
        TestDiagnostic::new(
            Kind::InvalidState,
            &shown,
            format!("the state for `{shown}` does not fit the policy: {e}"),
        )
    })?;
    // An envelope that does not fit the contract is still decided (the
    // policy's `on_error`), as the runtime would decide it.
    Ok(Record::from(&policy.decide(&bytes, state)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes_pair_with_states_beside_them() {
        let root = tempfile::tempdir().unwrap();
        for f in ["envelopes/a.json", "envelopes/b.json", "state/b.json"] {
            let p = root.path().join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, "{}").unwrap();
        }
        let entries = scan(&root.path().join("envelopes")).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].name, "a.json");
        assert_eq!(entries[0].state, None);
        assert_eq!(entries[1].state, Some(root.path().join("state/b.json")));
    }

    #[test]
    fn missing_and_empty_corpora_are_diagnosed() {
        let root = tempfile::tempdir().unwrap();
        assert_eq!(
            scan(&root.path().join("nope")).unwrap_err().kind,
            Kind::NoSuchPath
        );
        assert_eq!(scan(root.path()).unwrap_err().kind, Kind::EmptyCorpus);
    }
}
