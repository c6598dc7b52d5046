//! The fixture every test here starts from: a small policy with envelopes,
//! a paired state and a passing test file, copied into a fresh directory so
//! a test may change it freely.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

pub struct Fixture {
    pub dir: tempfile::TempDir,
}

impl Fixture {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mini");
        copy_dir(&source, dir.path());
        Fixture { dir }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn write(&self, rel: &str, text: &str) -> PathBuf {
        let path = self.path(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).unwrap()
    }

    /// A copy of the policy at `rel`, with `from` replaced by `to` in its
    /// main file: a policy change under review.
    pub fn changed_policy(&self, rel: &str, from: &str, to: &str) -> PathBuf {
        let main = self.read("main.actpol");
        assert!(main.contains(from), "the fixture policy holds `{from}`");
        self.write(&format!("{rel}/main.actpol"), &main.replace(from, to));
        self.path(rel)
    }
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}
