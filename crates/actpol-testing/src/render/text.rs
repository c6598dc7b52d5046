//! The report for people: every result, each failure with what was
//! expected (or recorded) and what was decided, the rules responsible on
//! each side, and the counts.

use std::fmt::Write as _;

use crate::coverage::Coverage;
use crate::record::{self, Difference};
use crate::results::{CaseResult, RunReport, Status, Suite, SuiteKind};

/// The whole report; the coverage table only when `with_coverage`.
pub fn text(report: &RunReport, with_coverage: bool) -> String {
    let mut out = String::new();
    for suite in &report.suites {
        suite_text(&mut out, suite);
    }
    if with_coverage && !report.coverage.is_empty() {
        out.push_str(&coverage_text(&report.coverage));
    }
    summary_text(&mut out, report);
    out
}

fn suite_text(out: &mut String, suite: &Suite) {
    let _ = writeln!(out, "{}", suite.file);
    for result in &suite.results {
        result_text(out, suite, result);
    }
    if suite.results.is_empty() && suite.diagnostics.is_empty() {
        let _ = writeln!(out, "  (no case selected)");
    }
    for d in &suite.diagnostics {
        let _ = writeln!(out, "  error: {} [{}]", d.message, d.code());
        for line in d.render_text(100).lines() {
            let _ = writeln!(out, "    {line}");
        }
    }
    if suite.rewritten {
        let _ = writeln!(out, "  snapshot rewritten with the decisions made now");
    }
    out.push('\n');
}

/// The words for the two sides of a comparison.
fn sides(kind: SuiteKind) -> (&'static str, &'static str) {
    match kind {
        SuiteKind::Cases => ("expected", "got"),
        SuiteKind::Snapshot => ("recorded", "now"),
    }
}

fn result_text(out: &mut String, suite: &Suite, result: &CaseResult) {
    let mark = match result.status {
        Status::Passed => "ok  ",
        Status::Failed => "FAIL",
        Status::Accepted => "accepted",
    };
    if result.status == Status::Passed {
        let _ = writeln!(out, "  {mark} {}", result.name);
        return;
    }
    // A failure names its place as `file:line`, which editors open.
    let place = match result.line {
        Some(l) => format!("{}:{l}", suite.file),
        None => suite.file.clone(),
    };
    let _ = writeln!(out, "  {mark} {}  ({place})", result.name);
    let (was, is) = sides(suite.kind);
    let pad = " ".repeat(7);
    let width = was.len().max(is.len()) + 1;
    let _ = writeln!(
        out,
        "{pad}{:<width$} {}",
        format!("{was}:"),
        result.expected
    );
    let actual = result
        .actual
        .as_ref()
        .map_or_else(|| "nothing".to_string(), |a| a.headline());
    let _ = writeln!(out, "{pad}{:<width$} {actual}", format!("{is}:"));
    if let Some(a) = result.actual.as_ref().filter(|a| !a.reasons.is_empty()) {
        let _ = writeln!(
            out,
            "{pad}{:<width$} {}",
            "because:",
            record::quoted_list(&a.reasons)
        );
    }
    for d in &result.differences {
        let _ = writeln!(out, "{pad}- {}", difference_text(d, was, is));
    }
}

fn difference_text(d: &Difference, was: &str, is: &str) -> String {
    format!("{}: {was} {}, {is} {}", d.field, d.expected, d.actual)
}

/// The coverage of each policy: rules matched, outcome branches taken,
/// raises fired, and a row per rule.
pub fn coverage_text(coverage: &[Coverage]) -> String {
    let mut out = String::from("coverage\n");
    for c in coverage {
        let (taken, branches) = c.branches();
        let fired = c.raises.iter().filter(|r| r.fired > 0).count();
        let _ = writeln!(
            out,
            "  {} ({}): {} of {} rules matched ({:.1}%), {taken} of {branches} outcome branches, {fired} of {} raises fired, {} case(s)",
            c.name,
            c.policy,
            c.rules_matched(),
            c.rules.len(),
            c.percent(),
            c.raises.len(),
            c.cases
        );
        let width = c
            .rules
            .iter()
            .map(|r| r.name.len())
            .chain(c.raises.iter().map(|r| r.name.len()))
            .max()
            .unwrap_or(4)
            .max(4);
        let _ = writeln!(out, "    {:<width$}  matched  not matched  failed", "rule");
        for r in &c.rules {
            let not_matched = if r.conditional {
                r.not_matched.to_string()
            } else {
                "-".to_string()
            };
            let flag = if r.matched == 0 {
                "  never matched"
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "    {:<width$}  {:>7}  {:>11}  {:>6}{flag}",
                r.name, r.matched, not_matched, r.failed
            );
        }
        for r in &c.raises {
            let _ = writeln!(
                out,
                "    raise {:<w$}  fired {}",
                r.name,
                r.fired,
                w = width.saturating_sub(6)
            );
        }
    }
    out.push('\n');
    out
}

fn summary_text(out: &mut String, report: &RunReport) {
    let c = report.counts();
    if c.test_files > 0 {
        let _ = writeln!(
            out,
            "{} cases, {} passed, {} failed",
            c.cases, c.passed, c.failed
        );
    }
    if c.snapshots > 0 {
        let mut line = format!(
            "{} snapshot(s), {} decisions, {} changed",
            c.snapshots, c.decisions, c.changed
        );
        if c.accepted > 0 {
            let _ = write!(line, ", {} accepted", c.accepted);
        }
        let _ = writeln!(out, "{line}");
    }
    if c.broken > 0 {
        let _ = writeln!(out, "{} file(s) could not run", c.broken);
    }
    if let Some(min) = report.min_coverage {
        for cov in report.below_threshold() {
            let uncovered: Vec<&str> = cov.uncovered().map(|r| r.name.as_str()).collect();
            let _ = writeln!(
                out,
                "rule coverage of `{}` ({}) is {:.1}%, below the required {min}%: never matched: {}",
                cov.name,
                cov.policy,
                cov.percent(),
                uncovered.join(", ")
            );
        }
    }
    let _ = writeln!(out, "{}", if report.passed() { "ok" } else { "FAILED" });
}
