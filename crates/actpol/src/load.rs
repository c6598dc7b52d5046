//! Reading policy files from disk into a [`SourceDb`]: the files and
//! directories named, then every file they import, each file once.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use actpol_check::{ImportEdge, SourceDb};
use actpol_core::error::ErrorCode;

/// Why the policy's files could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// A file or directory that cannot be read.
    #[error("cannot read `{path}`: {source}")]
    Unreadable {
        /// The path, as given.
        path: String,
        /// Why it cannot be read.
        #[source]
        source: ReadFailure,
    },

    /// A directory without policy files.
    #[error("no `.actpol` files under `{path}`")]
    Empty {
        /// The directory, as given.
        path: String,
    },
}

impl LoadError {
    /// The error's stable code.
    pub fn code(&self) -> ErrorCode {
        match self {
            LoadError::Unreadable { .. } => ErrorCode::LoadUnreadable,
            LoadError::Empty { .. } => ErrorCode::LoadEmpty,
        }
    }
}

impl miette::Diagnostic for LoadError {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(LoadError::code(self)))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(match self {
            LoadError::Unreadable { .. } => {
                "pass an existing `.actpol` file or a directory holding some"
            }
            LoadError::Empty { .. } => "pass a directory that holds `.actpol` files",
        }))
    }
}

/// Why one file could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadFailure {
    /// The file system refused.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The bytes are not UTF-8.
    #[error("the file is not UTF-8 text")]
    NotText(#[source] std::string::FromUtf8Error),
}

/// Loads the files at `paths` (a directory means every `.actpol` file under
/// it, in name order) and, transitively, what they import.
pub(crate) fn load<P: AsRef<Path>>(paths: &[P]) -> Result<SourceDb, LoadError> {
    let mut loader = Loader::default();
    for path in paths {
        let path = path.as_ref();
        let files = collect(path)?;
        if files.is_empty() {
            return Err(LoadError::Empty {
                path: display(path),
            });
        }
        for file in files {
            loader.read(&file).map_err(|source| LoadError::Unreadable {
                path: display(&file),
                source,
            })?;
        }
    }
    loader.link();
    Ok(loader.db)
}

#[derive(Default)]
struct Loader {
    db: SourceDb,
    /// Canonical path → index in the db, so a file imported twice loads once.
    seen: HashMap<PathBuf, usize>,
    /// The path each file was read from.
    paths: Vec<PathBuf>,
}

impl Loader {
    /// Reads one file (if not read yet); returns its index.
    fn read(&mut self, path: &Path) -> Result<usize, ReadFailure> {
        let canonical = std::fs::canonicalize(path)?;
        if let Some(index) = self.seen.get(&canonical) {
            return Ok(*index);
        }
        let bytes = std::fs::read(path)?;
        let text = String::from_utf8(bytes).map_err(ReadFailure::NotText)?;
        let id = self.db.add(display(path), text);
        self.seen.insert(canonical, id.index());
        self.paths.push(path.to_path_buf());
        Ok(id.index())
    }

    /// Resolves every file's imports, reading imported files as they come.
    fn link(&mut self) {
        let mut i = 0;
        while i < self.db.files.len() {
            let id = actpol_check::FileId(i as u32);
            let dir = self.paths[i]
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default();
            let mut edges = Vec::new();
            for (written, span) in self.db.written_imports(id) {
                let target_path = dir.join(&written);
                let (target, problem) = match self.read(&target_path) {
                    Ok(index) => (Some(actpol_check::FileId(index as u32)), None),
                    Err(reason) => (
                        None,
                        Some(format!("cannot read `{}`: {reason}", display(&target_path))),
                    ),
                };
                edges.push(ImportEdge {
                    written,
                    span,
                    target,
                    problem,
                });
            }
            self.db.files[i].imports = edges;
            i += 1;
        }
    }
}

/// The `.actpol` files a path names.
fn collect(path: &Path) -> Result<Vec<PathBuf>, LoadError> {
    let meta = std::fs::metadata(path).map_err(|e| LoadError::Unreadable {
        path: display(path),
        source: e.into(),
    })?;
    if !meta.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut out = Vec::new();
    let mut dirs = vec![path.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| LoadError::Unreadable {
            path: display(&dir),
            source: e.into(),
        })?;
        for entry in entries.flatten() {
            let p = entry.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|e| e == "actpol") {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// A path as shown in diagnostics: as given, with `/` separators and no
/// leading `./`.
pub(crate) fn display(path: &Path) -> String {
    let text = path.to_string_lossy().replace('\\', "/");
    actpol_check::db::normalize(text.strip_prefix("./").unwrap_or(&text))
}
