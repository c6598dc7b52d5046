//! `actpol fmt`: rewrite files in the canonical layout, or with `--check`
//! report the ones that are not.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::io;

pub fn run(paths: &[PathBuf], check: bool) -> Result<ExitCode, miette::Report> {
    let mut files = Vec::new();
    for path in paths {
        collect(path, &mut files)?;
    }
    let mut failed = false;
    let mut changed = 0usize;
    for file in &files {
        // The same bound as every load: a device or a huge file named as a
        // policy is refused, not read into memory.
        let text = actpol::read_policy_file(file)?;
        match actpol::format_source(&file.display().to_string(), &text) {
            Ok(formatted) if formatted == text => {}
            Ok(formatted) => {
                changed += 1;
                if check {
                    outln!("{} is not formatted", file.display())?;
                    failed = true;
                } else {
                    io::write(file, formatted)?;
                }
            }
            Err(report) => {
                failed = true;
                errln!("{}", report.render_text(100));
            }
        }
    }
    let verb = if check { "would change" } else { "changed" };
    errln!("{} file(s) checked, {changed} {verb}", files.len());
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The file named, or the `.actpol` files under a directory (the
/// library's bounded walk: links to directories are not followed).
fn collect(path: &Path, out: &mut Vec<PathBuf>) -> Result<(), miette::Report> {
    let unreadable = |e| io::IoError::new(format!("read `{}`", path.display()), e);
    let meta = std::fs::metadata(path).map_err(unreadable)?;
    if meta.is_dir() {
        out.extend(actpol::walk::policy_files(path)?);
    } else {
        out.push(path.to_path_buf());
    }
    Ok(())
}
