//! What the fuzz targets share: the shipped growth policy, compiled once,
//! and an envelope it decides on. Each target feeds one kind of untrusted
//! input (policy text, envelope bytes, artifact bytes, a state file, a
//! test file) through the library as a host would, and requires only that
//! nothing panics, hangs or runs out of memory.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use actpol::Policy;

/// The repository's root (the fuzz crate sits at its top level).
pub fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// The growth example's directory.
pub fn growth_dir() -> PathBuf {
    repo().join("examples/growth")
}

/// The growth example, compiled once per process.
pub fn growth() -> &'static Policy {
    static POLICY: OnceLock<Policy> = OnceLock::new();
    POLICY.get_or_init(|| {
        Policy::from_paths(&[growth_dir()]).expect("the growth example compiles")
    })
}

/// An envelope the growth policy decides without error.
pub fn routine_send() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| {
        std::fs::read(growth_dir().join("envelopes/routine-send-allows.json"))
            .expect("the routine send envelope is shipped")
    })
}
