//! The report for tools: JSON lines, one object per line, each with a
//! `type`: `case` and `snapshot` results, `diagnostic`s (the fields of
//! `actpol check --format json`), `coverage` per policy when asked,
//! `mutants` per policy when mutation testing ran, and a closing `summary`.
//! Lines stream like the results they stand for, and each parses on its
//! own.

use serde_json::{json, Value as Json};

use crate::coverage::Coverage;
use crate::mutation::{MutantResult, MutationReport, Outcome};
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
    if with_coverage || report.min_coverage.is_some() || report.min_condition_coverage.is_some() {
        for c in &report.coverage {
            lines.push(coverage_json(c, report));
        }
    }
    for m in &report.mutation {
        lines.push(mutants_json(m, report.min_mutation_score));
        for d in &m.problems {
            let mut j = d.render_json();
            j["type"] = json!("diagnostic");
            lines.push(j);
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

fn coverage_json(c: &Coverage, report: &RunReport) -> Json {
    let min = report.min_coverage;
    let (taken, branches) = c.branches();
    let conditions = c.conditions.as_ref().map(|cond| {
        let (seen, all) = c.condition_outcomes().unwrap_or_default();
        json!({
            "outcomes_total": all,
            "outcomes_seen": seen,
            "percent": c.condition_percent(),
            "below_threshold": report
                .min_condition_coverage
                .is_some_and(|m| c.condition_percent().is_none_or(|p| p < m)),
            "rules": c.rules.iter().map(|r| {
                let (both, all) = cond.rule_parts(&r.name);
                json!({"name": r.name, "parts": all, "parts_seen_both_ways": both})
            }).collect::<Vec<_>>(),
            "sites": cond.sites,
            "budgets": cond.budgets,
            "on_error": cond.on_error,
        })
    });
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
        "conditions": conditions,
    })
}

fn mutants_json(m: &MutationReport, min: Option<f64>) -> Json {
    let c = m.counts();
    let by_kind: serde_json::Map<String, Json> = m
        .by_kind()
        .into_iter()
        .map(|(kind, counts)| (kind.as_str().to_string(), json!(counts)))
        .collect();
    let listed = |keep: fn(&Outcome) -> bool| -> Vec<Json> {
        m.results
            .iter()
            .filter(|r| keep(&r.outcome))
            .map(mutant_json)
            .collect()
    };
    json!({
        "type": "mutants",
        "policy": m.policy,
        "name": m.name,
        "not_run": m.not_run,
        "mutants": c.mutants,
        "killed": c.killed,
        "survived": c.survived,
        "equivalent": c.equivalent,
        "invalid": c.invalid,
        "left_out": m.left_out,
        "score": m.score(),
        "below_threshold": min.is_some_and(|min| m.not_run.is_some() || m.score() < min),
        "by_kind": by_kind,
        "survivors": listed(|o| matches!(o, Outcome::Survived { .. })),
        "equivalents": listed(|o| matches!(o, Outcome::Equivalent { .. })),
        "invalids": listed(|o| matches!(o, Outcome::Invalid { .. })),
    })
}

fn mutant_json(r: &MutantResult) -> Json {
    let m = &r.mutant;
    let mut j = json!({
        "id": m.id,
        "kind": m.kind.as_str(),
        "owner": m.owner,
        "change": m.change,
        "file": m.location.file,
        "line": m.location.line,
        "column": m.location.column,
        "span": {"start": m.location.start, "end": m.location.end},
    });
    if let (Json::Object(out), Ok(Json::Object(outcome))) =
        (&mut j, serde_json::to_value(&r.outcome))
    {
        out.extend(outcome);
    }
    j
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
        "min_condition_coverage": report.min_condition_coverage,
        "condition_below_threshold": report.below_condition_threshold().iter().map(|c| c.policy.as_str()).collect::<Vec<_>>(),
        "min_mutation_score": report.min_mutation_score,
        "mutation_below_threshold": report.below_mutation_threshold().iter().map(|m| m.policy.as_str()).collect::<Vec<_>>(),
        "mutation_problems": report.mutation_problems().count(),
    })
}
