//! Listing the files under a directory, in a stable order, the way a
//! policy repository is laid out: hidden entries (`.git`) and build output
//! (`target`) are skipped, and symbolic links to directories are not
//! followed, so a link cycle cannot make a run endless (the walk is the
//! library's, `actpol::walk`).

use std::path::{Path, PathBuf};

/// Every file under `dir` that `keep` accepts, sorted by path: the
/// library's bounded walk (links to directories not followed).
pub fn files(dir: &Path, keep: &dyn Fn(&Path) -> bool) -> std::io::Result<Vec<PathBuf>> {
    actpol::walk::files_under(dir, keep).map_err(|e| match e {
        actpol::LoadError::Unreadable {
            source: actpol::ReadFailure::Io(io),
            ..
        } => io,
        other => std::io::Error::other(other.to_string()),
    })
}

/// `path` relative to `base`, with `/` separators, when it is under it.
pub fn relative_name(path: &Path, base: &Path) -> String {
    let rel = path.strip_prefix(base).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// The path that leads from directory `from` to `to`, both resolved
/// against the file system first; `None` when either does not exist.
pub fn path_between(from: &Path, to: &Path) -> Option<String> {
    let from = from.canonicalize().ok()?;
    let to = to.canonicalize().ok()?;
    let common = from
        .components()
        .zip(to.components())
        .take_while(|(a, b)| a == b)
        .count();
    let ups = from.components().count() - common;
    let mut parts: Vec<String> = vec!["..".to_string(); ups];
    parts.extend(
        to.components()
            .skip(common)
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    Some(if parts.is_empty() {
        ".".to_string()
    } else {
        parts.join("/")
    })
}

/// `path` with `x/..` and `.` folded away, without asking the file system:
/// how a path is shown, not how it is opened.
pub fn tidy(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out: Vec<Component<'_>> = Vec::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir if matches!(out.last(), Some(Component::Normal(_))) => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    if out.is_empty() {
        return PathBuf::from(".");
    }
    out.iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tidy_folds_parent_steps() {
        assert_eq!(
            tidy(Path::new("examples/growth/tests/..")),
            Path::new("examples/growth")
        );
        assert_eq!(tidy(Path::new("./a/./b")), Path::new("a/b"));
        assert_eq!(tidy(Path::new("../a/..")), Path::new(".."));
        assert_eq!(tidy(Path::new("a/..")), Path::new("."));
    }

    #[test]
    fn paths_between_directories() {
        let root = tempfile::tempdir().unwrap();
        let a = root.path().join("a/b");
        let c = root.path().join("c");
        std::fs::create_dir_all(&a).unwrap();
        std::fs::create_dir_all(&c).unwrap();
        assert_eq!(path_between(&a, &c).unwrap(), "../../c");
        assert_eq!(path_between(&c, &c).unwrap(), ".");
        assert_eq!(path_between(root.path(), &a).unwrap(), "a/b");
        assert!(path_between(root.path(), &root.path().join("nope")).is_none());
    }

    #[test]
    fn listing_skips_hidden_and_build_directories() {
        let root = tempfile::tempdir().unwrap();
        for f in [
            "b.json",
            "a/c.json",
            ".git/d.json",
            "target/e.json",
            "a/f.txt",
        ] {
            let p = root.path().join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, "{}").unwrap();
        }
        let found = files(root.path(), &|p| p.extension().is_some_and(|e| e == "json")).unwrap();
        let names: Vec<String> = found
            .iter()
            .map(|p| relative_name(p, root.path()))
            .collect();
        assert_eq!(names, ["a/c.json", "b.json"]);
    }
}
