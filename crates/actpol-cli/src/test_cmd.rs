//! `actpol test`: run policy test files and check decision snapshots.

use std::path::PathBuf;
use std::process::ExitCode;

use actpol_testing::render;
use actpol_testing::{Options, TestDiagnostic};

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
    /// Report coverage per policy: rules, and the parts of conditions,
    /// record predicates, budget exhaustion and `on_error`.
    #[arg(long)]
    coverage: bool,
    /// Fail when a policy's coverage is below this: `N` or `rules=N` for
    /// rule coverage (percent of rules some case made match),
    /// `conditions=N` for condition coverage. May be given for each.
    #[arg(long, value_name = "[MEASURE=]PERCENT", value_parser = threshold)]
    min_coverage: Vec<Threshold>,
    /// Also write condition coverage as an lcov tracefile to this file.
    #[arg(long, value_name = "FILE")]
    lcov: Option<PathBuf>,
    /// Run every mutant of each policy against its suite and report the
    /// mutants no case kills.
    #[arg(long)]
    mutants: bool,
    /// Fail when a policy's mutation score (percent of killable mutants
    /// the suite kills) is below this. Runs the mutants.
    #[arg(long, value_name = "PERCENT", value_parser = percent)]
    min_mutation_score: Option<f64>,
    /// Rewrite snapshots whose decisions changed.
    #[arg(long)]
    accept: bool,
    #[command(flatten)]
    limits: crate::limits::LimitArgs,
    #[command(flatten)]
    load: crate::sign_cmd::LoadArgs,
}

fn percent(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(n) if (0.0..=100.0).contains(&n) => Ok(n),
        _ => Err(format!("`{text}` is not a percentage from 0 to 100")),
    }
}

/// A coverage threshold and the measure it applies to.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Threshold {
    conditions: bool,
    percent: f64,
}

fn threshold(text: &str) -> Result<Threshold, String> {
    let (measure, number) = text.split_once('=').unwrap_or(("rules", text));
    let conditions = match measure {
        "rules" => false,
        "conditions" => true,
        other => {
            return Err(format!(
                "`{other}` is not a coverage measure: use `rules` or `conditions`"
            ))
        }
    };
    Ok(Threshold {
        conditions,
        percent: percent(number)?,
    })
}

pub fn run(args: &TestArgs) -> CliResult {
    let min = |conditions: bool| {
        args.min_coverage
            .iter()
            .rev()
            .find(|t| t.conditions == conditions)
            .map(|t| t.percent)
    };
    let options = Options {
        filter: args.filter.clone(),
        accept: args.accept,
        min_coverage: min(false),
        conditions: args.coverage || args.lcov.is_some(),
        min_condition_coverage: min(true),
        mutants: args.mutants,
        min_mutation_score: args.min_mutation_score,
        threads: 0,
        envelope_limits: args.limits.limits(),
        load: args.load.options()?,
    };
    let report = match actpol_testing::run(&args.paths, &options) {
        Ok(report) => report,
        Err(d) => return nothing_to_run(&d, args.format),
    };
    match args.format {
        Format::Text => out!("{}", render::text(&report, args.coverage))?,
        Format::Json => {
            for line in render::json_lines(&report, args.coverage) {
                outln!("{line}")?;
            }
        }
    }
    if let Some(path) = &args.junit {
        write_report(path, &render::junit_xml(&report))?;
    }
    if let Some(path) = &args.lcov {
        write_report(path, &render::lcov(&report))?;
    }
    Ok(if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// A path that does not exist is a usage error (2); paths with nothing to
/// run are a failure (1), so a misdirected CI job does not pass.
fn nothing_to_run(d: &TestDiagnostic, format: Format) -> crate::CliResult {
    match format {
        Format::Json => {
            let mut j = d.render_json();
            j["type"] = serde_json::json!("diagnostic");
            outln!("{j}")?;
        }
        Format::Text => errln!("{}", d.render_text(100)),
    }
    Ok(if d.kind == actpol_testing::Kind::NoSuchPath {
        ExitCode::from(2)
    } else {
        ExitCode::from(1)
    })
}

fn write_report(path: &PathBuf, text: &str) -> Result<(), miette::Report> {
    std::fs::write(path, text).map_err(|e| {
        miette::miette!(
            code = "actpol::test::write_failed",
            help = "check that the directory exists and is writable",
            "cannot write `{}`: {e}",
            path.display()
        )
    })
}
