//! The files of a check: their text, their syntax trees, and how they import
//! each other. Filled by a loader (which does the IO); read by the checker.

use std::sync::Arc;

use actpol_core::error::ErrorCode;
use actpol_syntax::ast::{File, ItemKind, Span};
use actpol_syntax::SyntaxError;

/// Index of a file in [`SourceDb::files`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(pub u32);

impl FileId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

#[derive(Debug)]
pub struct SourceEntry {
    /// The path as shown in diagnostics.
    pub path: String,
    pub text: Arc<str>,
    pub parsed: Result<File, SyntaxError>,
    /// One per `import`, in source order.
    pub imports: Vec<ImportEdge>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportEdge {
    /// The path as written.
    pub written: String,
    /// The import's string literal.
    pub span: Span,
    /// `None`: the file could not be read (`unknown_import`).
    pub target: Option<FileId>,
    /// Why the file could not be read, when it could not.
    pub problem: Option<String>,
    /// Why the loader refused to read it (outside the policy's root, not a
    /// policy file…): reported under the refusal's own code.
    pub refusal: Option<ImportRefusal>,
}

/// An import the loader would not follow, with the code it is reported
/// under and what to do about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportRefusal {
    pub code: ErrorCode,
    /// Why, for the import's label: never the file's contents.
    pub reason: String,
    pub help: String,
}

#[derive(Debug, Default)]
pub struct SourceDb {
    pub files: Vec<SourceEntry>,
}

impl SourceDb {
    pub fn file(&self, id: FileId) -> &SourceEntry {
        &self.files[id.index()]
    }

    pub fn ids(&self) -> impl Iterator<Item = FileId> {
        (0..self.files.len()).map(|i| FileId(i as u32))
    }

    /// Adds a parsed file; imports are resolved later by [`SourceDb::link`].
    pub fn add(&mut self, path: impl Into<String>, text: impl Into<Arc<str>>) -> FileId {
        let text = text.into();
        let parsed = actpol_syntax::parse_file(&text);
        self.files.push(SourceEntry {
            path: path.into(),
            text,
            parsed,
            imports: Vec::new(),
        });
        FileId((self.files.len() - 1) as u32)
    }

    /// The imports a file writes: (path as written, span).
    pub fn written_imports(&self, id: FileId) -> Vec<(String, Span)> {
        match &self.file(id).parsed {
            Ok(file) => file
                .items
                .iter()
                .filter_map(|item| match &item.kind {
                    ItemKind::Import(import) => Some((import.path.value.clone(), import.path.span)),
                    _ => None,
                })
                .collect(),
            Err(_) => Vec::new(),
        }
    }

    /// Whether the file declares a `policy` header (and so is an entry).
    pub fn is_entry(&self, id: FileId) -> bool {
        matches!(&self.file(id).parsed, Ok(file)
            if file.items.iter().any(|i| matches!(i.kind, ItemKind::Policy(_))))
    }

    /// An in-memory set of files, imports resolved by [`join`] on their
    /// paths. For tests and tools; the CLI loads from disk.
    pub fn from_sources<'a>(sources: impl IntoIterator<Item = (&'a str, &'a str)>) -> SourceDb {
        let mut db = SourceDb::default();
        for (path, text) in sources {
            db.add(normalize(path), text);
        }
        for id in db.ids().collect::<Vec<_>>() {
            let base = db.file(id).path.clone();
            let edges = db
                .written_imports(id)
                .into_iter()
                .map(|(written, span)| {
                    let wanted = join(&base, &written);
                    let target = db.ids().find(|other| db.file(*other).path == wanted);
                    ImportEdge {
                        problem: target.is_none().then(|| format!("no file `{wanted}`")),
                        refusal: None,
                        written,
                        span,
                        target,
                    }
                })
                .collect();
            db.files[id.index()].imports = edges;
        }
        db
    }

    /// The files a check of `entry` covers: the entry and every file it
    /// imports, transitively, each once, in discovery order.
    pub fn closure(&self, entry: FileId) -> Vec<FileId> {
        let mut seen = vec![entry];
        let mut i = 0;
        while i < seen.len() {
            for edge in &self.file(seen[i]).imports {
                if let Some(t) = edge.target {
                    if !seen.contains(&t) {
                        seen.push(t);
                    }
                }
            }
            i += 1;
        }
        seen
    }

    /// Import cycles reachable from `entry`: for each, the import that closes
    /// it (file and span) and the files around the cycle.
    pub fn cycles(&self, entry: FileId) -> Vec<(FileId, Span, Vec<FileId>)> {
        let mut found = Vec::new();
        let mut stack = Vec::new();
        let mut done = vec![false; self.files.len()];
        self.dfs(entry, &mut stack, &mut done, &mut found);
        found
    }

    fn dfs(
        &self,
        at: FileId,
        stack: &mut Vec<FileId>,
        done: &mut [bool],
        found: &mut Vec<(FileId, Span, Vec<FileId>)>,
    ) {
        if done[at.index()] {
            return;
        }
        stack.push(at);
        for edge in &self.file(at).imports {
            let Some(target) = edge.target else { continue };
            if let Some(pos) = stack.iter().position(|f| *f == target) {
                found.push((at, edge.span, stack[pos..].to_vec()));
            } else {
                self.dfs(target, stack, done, found);
            }
        }
        stack.pop();
        done[at.index()] = true;
    }

    /// What to check: every entry, then every file no entry reaches.
    pub fn units(&self) -> Vec<FileId> {
        let entries: Vec<FileId> = self.ids().filter(|id| self.is_entry(*id)).collect();
        let mut reached = vec![false; self.files.len()];
        for e in &entries {
            for f in self.closure(*e) {
                reached[f.index()] = true;
            }
        }
        let mut units = entries;
        units.extend(self.ids().filter(|id| !reached[id.index()]));
        units
    }
}

/// Joins an import path to the importing file's directory, resolving `.`
/// and `..`. Paths use `/`.
pub fn join(importer: &str, written: &str) -> String {
    if written.starts_with('/') {
        return normalize(written);
    }
    let dir = importer.rsplit_once('/').map_or("", |(d, _)| d);
    if dir.is_empty() {
        normalize(written)
    } else {
        normalize(&format!("{dir}/{written}"))
    }
}

/// Resolves `.` and `..` segments.
pub fn normalize(path: &str) -> String {
    let absolute = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") {
                    parts.pop();
                } else if !absolute {
                    parts.push("..");
                }
            }
            s => parts.push(s),
        }
    }
    let joined = parts.join("/");
    if absolute {
        format!("/{joined}")
    } else {
        joined
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_join_relative_to_the_importer() {
        assert_eq!(
            join("a/b/main.actpol", "schema.actpol"),
            "a/b/schema.actpol"
        );
        assert_eq!(join("a/b/main.actpol", "../x.actpol"), "a/x.actpol");
        assert_eq!(join("main.actpol", "./x.actpol"), "x.actpol");
        assert_eq!(normalize("/a/./b/../c"), "/a/c");
    }

    #[test]
    fn units_are_entries_then_orphans() {
        let db = SourceDb::from_sources([
            ("p/main.actpol", "import \"schema.actpol\"\npolicy p {}"),
            ("p/schema.actpol", "enum E { a }"),
            ("lib.actpol", "enum F { b }"),
        ]);
        assert_eq!(db.units(), vec![FileId(0), FileId(2)]);
        assert_eq!(db.closure(FileId(0)), vec![FileId(0), FileId(1)]);
    }

    #[test]
    fn cycles_are_found() {
        let db = SourceDb::from_sources([
            ("a.actpol", "import \"b.actpol\"\npolicy p {}"),
            ("b.actpol", "import \"a.actpol\""),
        ]);
        let cycles = db.cycles(FileId(0));
        assert_eq!(cycles.len(), 1);
        assert_eq!(cycles[0].0, FileId(1));
    }
}
