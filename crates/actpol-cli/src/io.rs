//! The files and streams the command reads and writes. A failure is an
//! [`IoError`] (`actpol::io`): for a path named on the command line, a
//! usage error.

use std::io::{BufRead, Read, Write};
use std::path::Path;

/// Writes to standard output, as `print!` does, but returns the failure:
/// a reader that went away (`actpol … | head`) ends the command quietly
/// instead of panicking (see [`is_closed_pipe`]).
macro_rules! out {
    ($($arg:tt)*) => { $crate::io::write_stdout(format_args!($($arg)*)) };
}

/// [`out!`] with a newline.
macro_rules! outln {
    ($($arg:tt)*) => { $crate::io::write_stdout(format_args!("{}\n", format_args!($($arg)*))) };
}

/// Writes a line to standard error, as `eprintln!` does; a closed standard
/// error loses the message rather than panicking, since there is nowhere
/// left to report it.
macro_rules! errln {
    ($($arg:tt)*) => { $crate::io::write_stderr(format_args!("{}\n", format_args!($($arg)*))) };
}

pub fn write_stdout(args: std::fmt::Arguments<'_>) -> Result<(), IoError> {
    std::io::stdout()
        .lock()
        .write_fmt(args)
        .map_err(|e| IoError::new("write standard output", e))
}

pub fn write_stderr(args: std::fmt::Arguments<'_>) {
    let _ = std::io::stderr().lock().write_fmt(args);
}

/// Whether a command stopped because whoever read its output stopped
/// reading: not a failure of the command, so it exits quietly.
pub fn is_closed_pipe(report: &miette::Report) -> bool {
    report
        .downcast_ref::<IoError>()
        .is_some_and(|e| e.source.kind() == std::io::ErrorKind::BrokenPipe)
}

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

/// A buffered reader of the file at `path`, or of standard input for `-`.
pub fn open_input(path: &Path) -> Result<Box<dyn BufRead>, IoError> {
    if path == Path::new("-") {
        return Ok(Box::new(std::io::stdin().lock()));
    }
    let file = std::fs::File::open(path)
        .map_err(|e| IoError::new(format!("read `{}`", path.display()), e))?;
    Ok(Box::new(std::io::BufReader::new(file)))
}

/// What [`read_bounded`] read: at most `max + 1` bytes kept, and how many
/// there were in all.
#[derive(Debug)]
pub struct Bounded {
    pub bytes: Vec<u8>,
    pub len: usize,
}

/// The bytes at `path` (or of standard input for `-`), keeping no more
/// than `max + 1` of them: the rest is counted, not held.
pub fn read_bounded(path: &Path, max: usize) -> Result<Bounded, IoError> {
    let what = || {
        if path == Path::new("-") {
            "read standard input".to_string()
        } else {
            format!("read `{}`", path.display())
        }
    };
    let mut reader = open_input(path)?;
    let mut bytes = Vec::new();
    let limit = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1);
    (&mut reader)
        .take(limit)
        .read_to_end(&mut bytes)
        .map_err(|e| IoError::new(what(), e))?;
    let rest =
        std::io::copy(&mut reader, &mut std::io::sink()).map_err(|e| IoError::new(what(), e))?;
    let len = bytes
        .len()
        .saturating_add(usize::try_from(rest).unwrap_or(usize::MAX));
    Ok(Bounded { bytes, len })
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

/// Writes a new file only its owner may read (a secret key); fails if the
/// file exists.
pub fn write_private(path: &Path, bytes: impl AsRef<[u8]>) -> Result<(), IoError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    options
        .open(path)
        .and_then(|mut file| file.write_all(bytes.as_ref()))
        .map_err(|e| IoError::new(format!("write `{}`", path.display()), e))
}
