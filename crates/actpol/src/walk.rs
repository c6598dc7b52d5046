//! Walking a directory of policy files, bounded: symbolic links to
//! directories are never followed (so a link to `.` or to `/` cannot make a
//! walk endless or wide), hidden entries (`.git`) and build output
//! (`target`, `node_modules`) are skipped, and a walk that goes deeper or
//! sees more than a policy repository would is stopped with an error rather
//! than left to run.

use std::path::{Path, PathBuf};

use crate::load::{display, LoadError, ReadFailure};

/// The most files a walk keeps, and the most policy files one load reads
/// (imports included).
pub const MAX_FILES: usize = 10_000;

/// The most directory entries a walk looks at, kept or not.
pub const MAX_ENTRIES: usize = 100_000;

/// How many directories deep a walk goes below the directory it starts in.
pub const MAX_DEPTH: usize = 32;

const SKIPPED_DIRS: &[&str] = &["target", "node_modules"];

/// Every file under `dir` that `keep` accepts, sorted by path. A symbolic
/// link to a regular file under `dir` counts as a file; a link to anything
/// else (a directory, a device, a file elsewhere) is skipped.
pub fn files_under(dir: &Path, keep: &dyn Fn(&Path) -> bool) -> Result<Vec<PathBuf>, LoadError> {
    let canonical = std::fs::canonicalize(dir).map_err(|source| LoadError::Unreadable {
        path: display(dir),
        source: ReadFailure::Io(source),
    })?;
    let mut walk = Walk {
        root: dir,
        canonical: &canonical,
        keep,
        seen: 0,
        out: Vec::new(),
    };
    walk.visit(dir, 0)?;
    walk.out.sort();
    Ok(walk.out)
}

/// The `.actpol` files under `dir`, as [`files_under`] finds them.
pub fn policy_files(dir: &Path) -> Result<Vec<PathBuf>, LoadError> {
    files_under(dir, &is_policy_file)
}

/// Whether a path names a policy source file (`.actpol`).
pub fn is_policy_file(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "actpol")
}

struct Walk<'a> {
    root: &'a Path,
    /// The root resolved, which a link to a file must lead under.
    canonical: &'a Path,
    keep: &'a dyn Fn(&Path) -> bool,
    /// Entries looked at so far.
    seen: usize,
    out: Vec<PathBuf>,
}

impl Walk<'_> {
    /// Whether a link leads to a regular file under the walk's root.
    fn links_inside(&self, link: &Path) -> bool {
        std::fs::canonicalize(link)
            .is_ok_and(|target| target.starts_with(self.canonical) && target.is_file())
    }

    fn visit(&mut self, dir: &Path, depth: usize) -> Result<(), LoadError> {
        if depth > MAX_DEPTH {
            return Err(LoadError::TooDeep {
                path: display(self.root),
                limit: MAX_DEPTH,
            });
        }
        let unreadable = |source: std::io::Error| LoadError::Unreadable {
            path: display(dir),
            source: ReadFailure::Io(source),
        };
        for entry in std::fs::read_dir(dir).map_err(unreadable)? {
            let entry = entry.map_err(unreadable)?;
            self.seen += 1;
            let over = if self.seen > MAX_ENTRIES {
                Some(MAX_ENTRIES)
            } else {
                (self.out.len() >= MAX_FILES).then_some(MAX_FILES)
            };
            if let Some(limit) = over {
                return Err(LoadError::TooManyFiles {
                    path: display(self.root),
                    limit,
                });
            }
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') {
                continue;
            }
            // The entry's own type: a link is a link, not what it points to.
            let kind = entry.file_type().map_err(unreadable)?;
            let path = entry.path();
            if kind.is_dir() {
                if !SKIPPED_DIRS.contains(&name.as_ref()) {
                    self.visit(&path, depth + 1)?;
                }
            } else if (kind.is_file() || kind.is_symlink() && self.links_inside(&path))
                && (self.keep)(&path)
            {
                self.out.push(path);
            }
        }
        Ok(())
    }
}
