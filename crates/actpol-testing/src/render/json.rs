//! The report for tools: JSON lines, one object per line, each with a
//! `type`: `case` and `snapshot` results, `diagnostic`s (the fields of
//! `actpol check --format json`), `coverage` per policy when asked, and a closing
//! `summary`. Lines stream like the results they stand for, and each parses
//! on its own.

use serde_json::{json, Value as Json};

use crate::coverage::Coverage;
use crate::results::{CaseResult, RunReport, Suite, SuiteKind};

/// Every line of the report, the summary last.
pub fn json_lines(report: &RunReport, with_coverage: bool) -> Vec<Json> {
    let mut lines = Vec::new();
    for suite in &report.suites {
        for result in &suite.results {
            lines.push(result_json(suite, result));
        }
        for d in &suite.diagnostics {
            let mut j = d.render_json();
            j["type"] = json!("diagnostic");
            lines.push(j);
        }
    }
    if with_coverage || report.min_coverage.is_some() {
        for c in &report.coverage {
            lines.push(coverage_json(c, report.min_coverage));
        }
    }
    lines.push(summary_json(report));
    lines
}

fn result_json(suite: &Suite, result: &CaseResult) -> Json {
    let (kind, expected_key) = match suite.kind {
        SuiteKind::Cases => ("case", "expected"),
        SuiteKind::Snapshot => ("snapshot", "recorded"),
    };
    let mut j = json!({
        "type": kind,
        "file": suite.file,
        "name": result.name,
        "status": result.status.as_str(),
        "actual": result.actual,
        "differences": result.differences,
    });
    j[expected_key] = result.expected_json.clone();
    if let Some(line) = result.line {
        j["line"] = json!(line);
    }
    j
}

fn coverage_json(c: &Coverage, min: Option<f64>) -> Json {
    let (taken, branches) = c.branches();
    json!({
        "type": "coverage",
        "policy": c.policy,
        "name": c.name,
        "cases": c.cases,
        "rules_total": c.rules.len(),
        "rules_matched": c.rules_matched(),
        "percent": c.percent(),
        "branches_total": branches,
        "branches_taken": taken,
        "below_threshold": min.is_some_and(|m| c.percent() < m),
        "rules": c.rules,
        "raises": c.raises,
    })
}

fn summary_json(report: &RunReport) -> Json {
    let c = report.counts();
    json!({
        "type": "summary",
        "ok": report.passed(),
        "cases": c.cases,
        "passed": c.passed,
        "failed": c.failed,
        "test_files": c.test_files,
        "snapshots": c.snapshots,
        "decisions": c.decisions,
        "changed": c.changed,
        "accepted": c.accepted,
        "broken_files": c.broken,
        "min_coverage": report.min_coverage,
        "below_threshold": report.below_threshold().iter().map(|c| c.policy.as_str()).collect::<Vec<_>>(),
    })
}
