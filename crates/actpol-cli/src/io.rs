//! The files and streams the command reads and writes. A failure is an
//! [`IoError`] (`actpol::io`): for a path named on the command line, a
//! usage error.

use std::io::Read;
use std::path::Path;

/// A file or stream the command cannot read or write.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("cannot {what}")]
#[diagnostic(code(actpol::io))]
pub struct IoError {
    what: String,
    #[source]
    source: std::io::Error,
}

impl IoError {
    pub fn new(what: impl Into<String>, source: std::io::Error) -> Self {
        IoError {
            what: what.into(),
            source,
        }
    }
}

/// The bytes at `path`, or of standard input for `-`.
pub fn read_input(path: &Path) -> Result<Vec<u8>, IoError> {
    if path == Path::new("-") {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .map_err(|e| IoError::new("read standard input", e))?;
        return Ok(buf);
    }
    read(path)
}

pub fn read(path: &Path) -> Result<Vec<u8>, IoError> {
    std::fs::read(path).map_err(|e| IoError::new(format!("read `{}`", path.display()), e))
}

pub fn read_to_string(path: &Path) -> Result<String, IoError> {
    std::fs::read_to_string(path).map_err(|e| IoError::new(format!("read `{}`", path.display()), e))
}

pub fn write(path: &Path, bytes: impl AsRef<[u8]>) -> Result<(), IoError> {
    std::fs::write(path, bytes).map_err(|e| IoError::new(format!("write `{}`", path.display()), e))
}
