//! `actpol test`: run policy test files and check decision snapshots.

use std::path::PathBuf;
use std::process::ExitCode;

use actpol_testing::render;
use actpol_testing::{Options, RunReport, TestDiagnostic};

use crate::{CliResult, Format};

#[derive(clap::Args, Debug)]
pub struct TestArgs {
    /// Test files (`*.test.toml`), snapshots (`*.snapshot.json`), or
    /// directories to search for them.
    #[arg(default_value = ".")]
    paths: Vec<PathBuf>,
    /// Only cases (and snapshot envelopes) whose name contains this.
    #[arg(long, value_name = "SUBSTRING")]
    filter: Option<String>,
    /// Output format: text for people, or JSON lines (one object per
    /// result, diagnostic and coverage, then a summary).
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Also write the results as JUnit XML to this file.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Report rule coverage per policy.
    #[arg(long)]
    coverage: bool,
    /// Fail when a policy's rule coverage (percent of rules some case made
    /// match) is below this.
    #[arg(long, value_name = "PERCENT", value_parser = percent)]
    min_coverage: Option<f64>,
    /// Rewrite snapshots whose decisions changed.
    #[arg(long)]
    accept: bool,
}

fn percent(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(n) if (0.0..=100.0).contains(&n) => Ok(n),
        _ => Err(format!("`{text}` is not a percentage from 0 to 100")),
    }
}

pub fn run(args: &TestArgs) -> CliResult {
    let options = Options {
        filter: args.filter.clone(),
        accept: args.accept,
        min_coverage: args.min_coverage,
    };
    let report = match actpol_testing::run(&args.paths, &options) {
        Ok(report) => report,
        Err(d) => return Ok(nothing_to_run(&d, args.format)),
    };
    match args.format {
        Format::Text => print!("{}", render::text(&report, args.coverage)),
        Format::Json => {
            for line in render::json_lines(&report, args.coverage) {
                println!("{line}");
            }
        }
    }
    if let Some(path) = &args.junit {
        write_junit(path, &report)?;
    }
    Ok(if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// A path that does not exist is a usage error (2); paths with nothing to
/// run are a failure (1), so a misdirected CI job does not pass.
fn nothing_to_run(d: &TestDiagnostic, format: Format) -> ExitCode {
    match format {
        Format::Json => {
            let mut j = d.render_json();
            j["type"] = serde_json::json!("diagnostic");
            println!("{j}");
        }
        Format::Text => eprintln!("{}", d.render_text(100)),
    }
    if d.kind == actpol_testing::Kind::NoSuchPath {
        ExitCode::from(2)
    } else {
        ExitCode::from(1)
    }
}

fn write_junit(path: &PathBuf, report: &RunReport) -> Result<(), miette::Report> {
    std::fs::write(path, render::junit_xml(report)).map_err(|e| {
        miette::miette!(
            code = "actpol::test::write_failed",
            help = "check that the directory exists and is writable",
            "cannot write `{}`: {e}",
            path.display()
        )
    })
}
