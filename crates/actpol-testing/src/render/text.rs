//! The report for people: every result, each failure with what was
//! expected (or recorded) and what was decided, the rules responsible on
//! each side, and the counts.

use std::fmt::Write as _;

use crate::coverage::{ConditionCoverage, Coverage};
use crate::diagnostic::TestDiagnostic;
use crate::mutation::{self, MutationReport, Outcome, Suggestion};
use crate::record::{self, Difference, Record};
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
    if !report.mutation.is_empty() {
        out.push_str(&mutation_text(&report.mutation));
    }
    summary_text(&mut out, report);
    out
}

fn diagnostic_text(out: &mut String, d: &TestDiagnostic, indent: &str) {
    let _ = writeln!(out, "{indent}error: {} [{}]", d.message, d.code());
    for line in d.render_text(100).lines() {
        let _ = writeln!(out, "{indent}  {line}");
    }
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
        diagnostic_text(out, d, "  ");
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
        let parts_column = if c.conditions.is_some() {
            "  parts"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "    {:<width$}  matched  not matched  failed{parts_column}",
            "rule"
        );
        for r in &c.rules {
            let not_matched = if r.conditional {
                r.not_matched.to_string()
            } else {
                "-".to_string()
            };
            // Parts seen both ways, of the rule's parts.
            let parts = match &c.conditions {
                Some(cond) => match cond.rule_parts(&r.name) {
                    (_, 0) => format!("  {:>5}", "-"),
                    (both, all) => format!("  {:>5}", format!("{both}/{all}")),
                },
                None => String::new(),
            };
            let flag = if r.matched == 0 {
                "  never matched"
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "    {:<width$}  {:>7}  {:>11}  {:>6}{parts}{flag}",
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
        if let (Some(conditions), Some((seen, all))) = (&c.conditions, c.condition_outcomes()) {
            conditions_text(&mut out, conditions, seen, all);
        }
    }
    out.push('\n');
    out
}

/// Condition coverage of one policy: the figure, then every part not seen
/// both ways, every budget never exhausted, and `on_error` if never taken.
fn conditions_text(out: &mut String, c: &ConditionCoverage, seen: usize, all: usize) {
    let percent = if all == 0 {
        100.0
    } else {
        seen as f64 * 100.0 / all as f64
    };
    let both = c.sites.iter().filter(|s| s.missing().is_none()).count();
    let exhausted = c.budgets.iter().filter(|b| b.exhausted > 0).count();
    let _ = writeln!(
        out,
        "    conditions: {seen} of {all} outcomes seen ({percent:.1}%): {both} of {} parts seen both ways, {exhausted} of {} budgets exhausted, on_error {}",
        c.sites.len(),
        c.budgets.len(),
        if c.on_error > 0 { "taken" } else { "never taken" }
    );
    for site in c.unseen() {
        let at = &site.site.location;
        let _ = writeln!(
            out,
            "      {}:{}:{}  {}  `{}`: {}",
            at.file,
            at.line,
            at.column,
            site.site.owner,
            site.site.text,
            site.missing().unwrap_or("")
        );
    }
    for b in c.budgets.iter().filter(|b| b.exhausted == 0) {
        let _ = writeln!(out, "      budget {}: never exhausted", b.name);
    }
}

/// Mutation testing per policy: the score, every survivor with a way to
/// kill it, every mutant marked equivalent, and problems with marks.
pub fn mutation_text(reports: &[MutationReport]) -> String {
    let mut out = String::from("mutants\n");
    for m in reports {
        if let Some(why) = &m.not_run {
            let _ = writeln!(out, "  {} ({}): not run: {why}", m.name, m.policy);
            continue;
        }
        let c = m.counts();
        let _ = write!(
            out,
            "  {} ({}): {} mutants, {} killed, {} survived, {} equivalent",
            m.name, m.policy, c.mutants, c.killed, c.survived, c.equivalent
        );
        if c.invalid > 0 {
            let _ = write!(out, ", {} invalid", c.invalid);
        }
        let _ = writeln!(out, ": score {:.1}%", m.score());
        if m.left_out > 0 {
            let _ = writeln!(
                out,
                "    {} case(s) fail on the policy itself and were left out",
                m.left_out
            );
        }
        for r in &m.results {
            match &r.outcome {
                Outcome::Survived { suggestion } => {
                    let _ = writeln!(out, "    survived    {}  ({})", r.mutant.id, r.mutant.owner);
                    let advice = match suggestion {
                        Some(s) => suggestion_text(s),
                        None => mutation::hint(r.mutant.kind).to_string(),
                    };
                    let _ = writeln!(out, "                {advice}");
                }
                Outcome::Equivalent { reason, file, line } => {
                    let _ = writeln!(
                        out,
                        "    equivalent  {}  ({file}:{line}): {reason}",
                        r.mutant.id
                    );
                }
                Outcome::Invalid { error } => {
                    let _ = writeln!(out, "    invalid     {}: {error}", r.mutant.id);
                }
                Outcome::Killed { .. } => {}
            }
        }
        for d in &m.problems {
            diagnostic_text(&mut out, d, "    ");
        }
    }
    out.push('\n');
    out
}

fn suggestion_text(s: &Suggestion) -> String {
    let place = match s.line {
        Some(line) => format!("{}:{line}", s.file),
        None => s.file.clone(),
    };
    let case = if s.set.is_empty() {
        format!("case \"{}\" ({place}) already tells them apart", s.case)
    } else {
        let edits: Vec<String> = s
            .set
            .iter()
            .map(|(path, value)| match value {
                Some(v) => format!("{path} = {v}"),
                None => format!("{path} removed"),
            })
            .collect();
        format!(
            "kill it: case \"{}\" ({place}) with {}",
            s.case,
            edits.join(", ")
        )
    };
    format!("{case}: {}", apart(&s.policy, &s.mutant))
}

/// How the policy's decision and the mutant's differ, for people.
fn apart(policy: &Record, mutant: &Record) -> String {
    if policy.headline() != mutant.headline() {
        return format!(
            "the policy decides {}, the mutant {}",
            policy.headline(),
            mutant.headline()
        );
    }
    let fields: Vec<String> = record::differences(policy, mutant)
        .iter()
        .map(|d| {
            format!(
                "{} {} under the policy, {} under the mutant",
                d.field, d.expected, d.actual
            )
        })
        .collect();
    format!(
        "both decide {}, with {}",
        policy.headline(),
        fields.join("; ")
    )
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
    if let Some(min) = report.min_condition_coverage {
        for cov in report.below_condition_threshold() {
            match cov.condition_percent() {
                Some(p) => {
                    let _ = writeln!(
                        out,
                        "condition coverage of `{}` ({}) is {p:.1}%, below the required {min}%",
                        cov.name, cov.policy
                    );
                }
                None => {
                    let _ = writeln!(
                        out,
                        "condition coverage of `{}` ({}) cannot be measured: it is tested as a compiled artifact",
                        cov.name, cov.policy
                    );
                }
            }
        }
    }
    if let Some(min) = report.min_mutation_score {
        for m in report.below_mutation_threshold() {
            match &m.not_run {
                Some(why) => {
                    let _ = writeln!(
                        out,
                        "mutation score of `{}` ({}) cannot be measured: {why}",
                        m.name, m.policy
                    );
                }
                None => {
                    let _ = writeln!(
                        out,
                        "mutation score of `{}` ({}) is {:.1}%, below the required {min}%: {} survivor(s)",
                        m.name,
                        m.policy,
                        m.score(),
                        m.counts().survived
                    );
                }
            }
        }
    }
    let problems = report.mutation_problems().count();
    if problems > 0 {
        let _ = writeln!(out, "{problems} equivalence mark(s) are wrong");
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
