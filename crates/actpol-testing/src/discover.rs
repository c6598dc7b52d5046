//! Finding what `actpol test` runs under the paths it is given: test files
//! (`*.test.toml`) and decision snapshots (`*.snapshot.json`).

use std::path::{Path, PathBuf};

use crate::diagnostic::{Kind, TestDiagnostic};
use crate::walk;

pub const TEST_SUFFIX: &str = ".test.toml";
pub const SNAPSHOT_SUFFIX: &str = ".snapshot.json";

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Found {
    Tests(PathBuf),
    Snapshot(PathBuf),
}

impl Found {
    pub fn path(&self) -> &Path {
        match self {
            Found::Tests(p) | Found::Snapshot(p) => p,
        }
    }
}

/// `./tests/a.test.toml` as `tests/a.test.toml`: how results name files.
fn without_dot(path: &Path) -> PathBuf {
    path.components()
        .filter(|c| !matches!(c, std::path::Component::CurDir))
        .collect()
}

fn classify(path: &Path) -> Option<Found> {
    let name = path.file_name()?.to_string_lossy();
    if name.ends_with(TEST_SUFFIX) {
        Some(Found::Tests(path.to_path_buf()))
    } else if name.ends_with(SNAPSHOT_SUFFIX) {
        Some(Found::Snapshot(path.to_path_buf()))
    } else {
        None
    }
}

/// Test files and snapshots under `paths`, each path's in sorted order. A
/// path that does not exist is an error; so is finding nothing at all, so
/// a CI job pointed at the wrong directory fails rather than passes.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<Found>, TestDiagnostic> {
    let mut found = Vec::new();
    for path in paths {
        let shown = path.display().to_string();
        if path.is_dir() {
            let files = walk::files(path, &|p| classify(p).is_some()).map_err(|e| {
                TestDiagnostic::new(
                    Kind::Unreadable,
                    &shown,
                    format!("cannot list `{shown}`: {e}"),
                )
            })?;
            found.extend(files.iter().filter_map(|p| classify(&without_dot(p))));
        } else if path.is_file() {
            found.push(classify(path).ok_or_else(|| {
                TestDiagnostic::new(
                    Kind::NoTests,
                    &shown,
                    format!("`{shown}` is neither a test file nor a snapshot"),
                )
            })?);
        } else {
            return Err(TestDiagnostic::new(
                Kind::NoSuchPath,
                &shown,
                format!("`{shown}` does not exist"),
            ));
        }
    }
    found.dedup();
    if found.is_empty() {
        let shown: Vec<String> = paths.iter().map(|p| format!("`{}`", p.display())).collect();
        return Err(TestDiagnostic::new(
            Kind::NoTests,
            shown.join(", "),
            format!("no test files or snapshots under {}", shown.join(", ")),
        ));
    }
    Ok(found)
}
