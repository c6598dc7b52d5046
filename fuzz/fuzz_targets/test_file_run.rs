//! Test file text → run against the growth policy, as `actpol test` would.
//! The file is written into a scratch copy of the example, beside its
//! tests, so relative paths (`policy = ".."`, envelope templates, state
//! files) resolve as the shipped tests' do.
#![no_main]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("a scratch directory");
    for entry in std::fs::read_dir(from).expect("the example's files") {
        let path = entry.expect("a directory entry").path();
        let target = to.join(path.file_name().expect("a file name"));
        if path.is_dir() {
            copy_tree(&path, &target);
        } else {
            std::fs::copy(&path, &target).expect("a copy");
        }
    }
}

/// A per-process test file in a scratch copy of the growth example.
fn scratch() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("actpol-fuzz-{}", std::process::id()));
        copy_tree(&actpol_fuzz::growth_dir(), &dir);
        dir.join("tests/fuzz.test.toml")
    })
}

fuzz_target!(|data: &[u8]| {
    let path = scratch();
    // A full disk is the machine's trouble, not an input's.
    if std::fs::write(path, data).is_err() {
        return;
    }
    let options = actpol_testing::Options::default();
    let _ = actpol_testing::run(std::slice::from_ref(path), &options);
});
