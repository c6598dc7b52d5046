//! Reading policy files from disk into a [`SourceDb`]: the files and
//! directories named, then every file they import, each file once.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use actpol_check::{ImportEdge, ImportRefusal, SourceDb};
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

    /// A policy file larger than [`MAX_FILE_BYTES`].
    #[error("`{path}` is larger than a policy file may be ({limit} bytes)")]
    TooLarge {
        /// The file, as given.
        path: String,
        /// The largest a policy file may be, in bytes.
        limit: u64,
    },

    /// A directory holding more files than a load reads.
    #[error("`{path}` holds more than {limit} files or entries")]
    TooManyFiles {
        /// The directory, as given.
        path: String,
        /// The limit that was passed.
        limit: usize,
    },

    /// A directory nested deeper than a load walks.
    #[error("`{path}` nests directories more than {limit} deep")]
    TooDeep {
        /// The directory, as given.
        path: String,
        /// How deep a walk goes.
        limit: usize,
    },
}

impl LoadError {
    /// The error's stable code.
    pub fn code(&self) -> ErrorCode {
        match self {
            LoadError::Unreadable { .. } => ErrorCode::LoadUnreadable,
            LoadError::Empty { .. } => ErrorCode::LoadEmpty,
            LoadError::TooLarge { .. } => ErrorCode::LoadTooLarge,
            LoadError::TooManyFiles { .. } => ErrorCode::LoadTooManyFiles,
            LoadError::TooDeep { .. } => ErrorCode::LoadTooDeep,
        }
    }

    /// Whether the path given could not be opened at all (it does not
    /// exist, or may not be read), as opposed to being read and found
    /// wanting.
    pub fn is_missing(&self) -> bool {
        matches!(
            self,
            LoadError::Unreadable {
                source: ReadFailure::Io(_),
                ..
            } | LoadError::Empty { .. }
        )
    }
}

impl miette::Diagnostic for LoadError {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(LoadError::code(self)))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(match self {
            LoadError::Unreadable {
                source: ReadFailure::NotText(_),
                ..
            } => "policy files are UTF-8 text: save the file as UTF-8",
            LoadError::Unreadable { .. } => {
                "pass an existing `.actpol` file or a directory holding some"
            }
            LoadError::Empty { .. } => "pass a directory that holds `.actpol` files",
            LoadError::TooLarge { .. } => {
                "split the policy into files that import each other, or pass the right file"
            }
            LoadError::TooManyFiles { .. } | LoadError::TooDeep { .. } => {
                "pass the policy's own directory, not one above it"
            }
        }))
    }
}

/// The largest policy file a load reads, in bytes.
pub const MAX_FILE_BYTES: u64 = 8 << 20;

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
    /// The file is larger than [`MAX_FILE_BYTES`].
    #[error("the file is larger than {MAX_FILE_BYTES} bytes")]
    TooLarge,
}

/// How a policy is loaded: where its imports may reach, and whether an
/// artifact must carry a signature.
///
/// ```no_run
/// use actpol::{LoadOptions, Policy, PublicKey};
///
/// let key = PublicKey::from_text(&std::fs::read_to_string("release.pub").unwrap()).unwrap();
/// let options = LoadOptions::new().verify_key(key);
/// let policy = Policy::from_paths_with(&["growth.actpolc"], &options).unwrap();
/// ```
#[derive(Clone, Debug, Default)]
#[must_use]
pub struct LoadOptions {
    pub(crate) root: Option<PathBuf>,
    pub(crate) verify_key: Option<crate::PublicKey>,
}

impl LoadOptions {
    /// The defaults: imports reach files under the entry's directory, and
    /// artifacts load signed or not.
    pub fn new() -> Self {
        LoadOptions::default()
    }

    /// Imports may reach any policy file under `dir` (by default, only
    /// those under the directory given, or the given file's directory).
    pub fn root(mut self, dir: impl Into<PathBuf>) -> Self {
        self.root = Some(dir.into());
        self
    }

    /// Requires a signature by `key`: an artifact that is unsigned or
    /// signed otherwise is refused, and so are policy sources (they carry
    /// no signature).
    pub fn verify_key(mut self, key: crate::PublicKey) -> Self {
        self.verify_key = Some(key);
        self
    }

    /// The key a signature is required by, if any.
    pub fn required_key(&self) -> Option<&crate::PublicKey> {
        self.verify_key.as_ref()
    }
}

/// Loads the files at `paths` (a directory means every `.actpol` file under
/// it, in name order) and, transitively, what they import.
pub(crate) fn load<P: AsRef<Path>>(
    paths: &[P],
    options: &LoadOptions,
) -> Result<SourceDb, LoadError> {
    let mut loader = Loader::default();
    for path in paths {
        let path = path.as_ref();
        let (files, root) = collect(path)?;
        if files.is_empty() {
            return Err(LoadError::Empty {
                path: display(path),
            });
        }
        let root = Root::of(options.root.as_deref().unwrap_or(&root))?;
        for file in files {
            loader
                .read(&file, &root)
                .map_err(|source| file_error(&file, source))?;
        }
    }
    loader.link();
    Ok(loader.db)
}

/// The directory a policy's imports must stay under.
#[derive(Clone, Debug)]
struct Root {
    /// As given, for messages.
    shown: String,
    /// Resolved, to compare against resolved import targets.
    canonical: PathBuf,
}

impl Root {
    fn of(dir: &Path) -> Result<Root, LoadError> {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        let canonical = std::fs::canonicalize(dir).map_err(|e| LoadError::Unreadable {
            path: display(dir),
            source: e.into(),
        })?;
        Ok(Root {
            shown: display(dir),
            canonical,
        })
    }
}

#[derive(Default)]
struct Loader {
    db: SourceDb,
    /// Canonical path → index in the db, so a file imported twice loads once.
    seen: HashMap<PathBuf, usize>,
    /// The path each file was read from, and the root its imports stay under.
    paths: Vec<(PathBuf, Root)>,
}

/// Why an import was not followed.
enum Unfollowed {
    /// It names no readable file (`unknown_import`).
    Missing(String),
    /// The loader will not read it.
    Refused(ImportRefusal),
}

impl Loader {
    /// Reads one file (if not read yet); returns its index.
    fn read(&mut self, path: &Path, root: &Root) -> Result<usize, ReadFailure> {
        let canonical = std::fs::canonicalize(path)?;
        if let Some(index) = self.seen.get(&canonical) {
            return Ok(*index);
        }
        let text = read_text(path)?;
        let id = self.db.add(display(path), text);
        self.seen.insert(canonical, id.index());
        self.paths.push((path.to_path_buf(), root.clone()));
        Ok(id.index())
    }

    /// Resolves every file's imports, reading imported files as they come.
    fn link(&mut self) {
        let mut i = 0;
        while i < self.db.files.len() {
            let id = actpol_check::FileId(i as u32);
            let (path, root) = self.paths[i].clone();
            let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
            let mut edges = Vec::new();
            for (written, span) in self.db.written_imports(id) {
                let (target, problem, refusal) = match self.follow(&dir, &root, &written) {
                    Ok(index) => (Some(actpol_check::FileId(index as u32)), None, None),
                    Err(Unfollowed::Missing(problem)) => (None, Some(problem), None),
                    Err(Unfollowed::Refused(refusal)) => (None, None, Some(refusal)),
                };
                edges.push(ImportEdge {
                    written,
                    span,
                    target,
                    problem,
                    refusal,
                });
            }
            self.db.files[i].imports = edges;
            i += 1;
        }
    }

    /// Reads the file an import in `dir` names, if it is a policy file under
    /// `root`.
    fn follow(&mut self, dir: &Path, root: &Root, written: &str) -> Result<usize, Unfollowed> {
        let path = import_target(dir, root, written)?;
        if !self.seen.contains_key(&path) && self.db.files.len() >= crate::walk::MAX_FILES {
            return Err(refused(
                ErrorCode::LoadTooManyFiles,
                format!("the policy already has {} files", crate::walk::MAX_FILES),
                "a policy of this many files is not read: import fewer files",
            ));
        }
        self.read(&path, root).map_err(|failure| match failure {
            ReadFailure::NotText(_) => refused(
                ErrorCode::LoadImportNotPolicy,
                "not UTF-8 text".to_string(),
                IMPORT_POLICY_FILES,
            ),
            ReadFailure::TooLarge => too_large(),
            ReadFailure::Io(e) => {
                Unfollowed::Missing(format!("cannot read `{}`: {e}", display(&path)))
            }
        })
    }
}

const IMPORT_POLICY_FILES: &str =
    "import only `.actpol` policy files, by a path relative to the importing file";

fn refused(code: ErrorCode, reason: String, help: &str) -> Unfollowed {
    Unfollowed::Refused(ImportRefusal {
        code,
        reason,
        help: help.to_string(),
    })
}

fn too_large() -> Unfollowed {
    refused(
        ErrorCode::LoadTooLarge,
        format!("larger than a policy file may be ({MAX_FILE_BYTES} bytes)"),
        "split the file into smaller files that import each other",
    )
}

/// The resolved path of the file an import names, if the loader may read
/// it: a relative path, leading (through any links) to a regular `.actpol`
/// file under the root, no larger than [`MAX_FILE_BYTES`]. Nothing here
/// reads the file, so what is refused is never quoted.
fn import_target(dir: &Path, root: &Root, written: &str) -> Result<PathBuf, Unfollowed> {
    if Path::new(written).has_root() || Path::new(written).is_absolute() {
        return Err(refused(
            ErrorCode::LoadImportAbsolute,
            "an absolute path".to_string(),
            "write the path relative to the importing file, inside the policy's directory",
        ));
    }
    if climbs_out(dir, root, written) {
        return Err(outside(root));
    }
    let path = dir.join(written);
    let canonical = std::fs::canonicalize(&path).map_err(|e| {
        Unfollowed::Missing(match e.kind() {
            std::io::ErrorKind::NotFound => format!("no file `{}`", display(&path)),
            _ => format!("cannot read `{}`: {e}", display(&path)),
        })
    })?;
    if !canonical.starts_with(&root.canonical) {
        return Err(outside(root));
    }
    let meta = std::fs::metadata(&canonical)
        .map_err(|e| Unfollowed::Missing(format!("cannot read `{}`: {e}", display(&path))))?;
    if !meta.is_file() {
        return Err(refused(
            ErrorCode::LoadImportNotPolicy,
            "not a regular file".to_string(),
            IMPORT_POLICY_FILES,
        ));
    }
    if !crate::walk::is_policy_file(&canonical) {
        return Err(refused(
            ErrorCode::LoadImportNotPolicy,
            "not a `.actpol` file".to_string(),
            IMPORT_POLICY_FILES,
        ));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(too_large());
    }
    Ok(canonical)
}

fn outside(root: &Root) -> Unfollowed {
    refused(
        ErrorCode::LoadImportOutsideRoot,
        format!("outside the policy's root `{}`", root.shown),
        "imports reach only files under the policy's root (the directory given, or the entry \
         file's): move the file under it, or pass `--root` a directory holding both",
    )
}

/// Whether the path written climbs, with `..`, above the root from the
/// importing file's directory: refused as written, whether or not a file is
/// there, so an import cannot probe what lies outside.
fn climbs_out(dir: &Path, root: &Root, written: &str) -> bool {
    use std::path::Component;
    let Some(mut depth) = std::fs::canonicalize(if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    })
    .ok()
    .and_then(|d| Some(d.strip_prefix(&root.canonical).ok()?.components().count())) else {
        return false;
    };
    for part in Path::new(written).components() {
        match part {
            Component::ParentDir if depth == 0 => return true,
            Component::ParentDir => depth -= 1,
            Component::Normal(_) => depth += 1,
            _ => {}
        }
    }
    false
}

/// One policy file's text, read as a load reads every file: UTF-8, and
/// no more than [`MAX_FILE_BYTES`]. For tools that read a file without
/// loading a policy (the formatter).
pub fn read_policy_file(path: &Path) -> Result<String, LoadError> {
    read_text(path).map_err(|source| file_error(path, source))
}

/// Why the file at `path` could not be read, as a load reports it.
fn file_error(path: &Path, source: ReadFailure) -> LoadError {
    match source {
        ReadFailure::TooLarge => LoadError::TooLarge {
            path: display(path),
            limit: MAX_FILE_BYTES,
        },
        source => LoadError::Unreadable {
            path: display(path),
            source,
        },
    }
}

/// A policy file's text, read no further than [`MAX_FILE_BYTES`] (a device
/// or a growing file named as a policy cannot make a load endless).
fn read_text(path: &Path) -> Result<String, ReadFailure> {
    use std::io::Read as _;
    let file = std::fs::File::open(path)?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(ReadFailure::TooLarge);
    }
    String::from_utf8(bytes).map_err(ReadFailure::NotText)
}

/// The `.actpol` files a path names, and the directory they are rooted in.
fn collect(path: &Path) -> Result<(Vec<PathBuf>, PathBuf), LoadError> {
    let meta = std::fs::metadata(path).map_err(|e| LoadError::Unreadable {
        path: display(path),
        source: e.into(),
    })?;
    if !meta.is_dir() {
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        return Ok((vec![path.to_path_buf()], dir));
    }
    Ok((crate::walk::policy_files(path)?, path.to_path_buf()))
}

/// A path as shown in diagnostics: as given, with `/` separators and no
/// leading `./`.
pub(crate) fn display(path: &Path) -> String {
    let text = path.to_string_lossy().replace('\\', "/");
    actpol_check::db::normalize(text.strip_prefix("./").unwrap_or(&text))
}
