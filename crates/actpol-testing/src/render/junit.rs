//! The report as JUnit XML, the format CI dashboards read: one
//! `<testsuite>` per test file or snapshot, one `<testcase>` per case or
//! envelope, a `<failure>` with the diff for each failure, an `<error>` for
//! a file that could not run, a `coverage` suite when a threshold is set,
//! and a `mutation` suite when mutation testing ran.

use std::fmt::Write as _;

use crate::mutation::MutationReport;
use crate::results::{CaseResult, RunReport, Status, Suite, SuiteKind};

pub fn junit_xml(report: &RunReport) -> String {
    let mut suites: Vec<String> = report.suites.iter().map(suite_xml).collect();
    let (mut tests, mut failures, mut errors) = (0, 0, 0);
    for suite in &report.suites {
        tests += suite.results.len() + suite.diagnostics.len();
        failures += suite.count(Status::Failed);
        errors += suite.diagnostics.len();
    }
    if report.min_coverage.is_some() || report.min_condition_coverage.is_some() {
        let (xml, run, failed) = coverage_xml(report);
        tests += run;
        failures += failed;
        suites.push(xml);
    }
    if !report.mutation.is_empty() {
        let (xml, run, failed, broken) = mutation_xml(report);
        tests += run;
        failures += failed;
        errors += broken;
        suites.push(xml);
    }
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"actpol test\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\">"
    );
    for s in suites {
        out.push_str(&s);
    }
    out.push_str("</testsuites>\n");
    out
}

fn suite_xml(suite: &Suite) -> String {
    let tests = suite.results.len() + suite.diagnostics.len();
    let mut out = format!(
        "  <testsuite name=\"{}\" tests=\"{tests}\" failures=\"{}\" errors=\"{}\">\n",
        escape(&suite.file),
        suite.count(Status::Failed),
        suite.diagnostics.len()
    );
    for result in &suite.results {
        out.push_str(&case_xml(suite, result));
    }
    for d in &suite.diagnostics {
        let _ = write!(
            out,
            "    <testcase name=\"{}\" classname=\"{}\">\n      <error message=\"{}\" type=\"{}\">{}</error>\n    </testcase>\n",
            escape(&format!("load {}", suite.file)),
            escape(&suite.file),
            escape(&d.message),
            escape(d.code()),
            escape(&d.render_text(100))
        );
    }
    out.push_str("  </testsuite>\n");
    out
}

fn case_xml(suite: &Suite, result: &CaseResult) -> String {
    let line = result
        .line
        .map(|l| format!(" line=\"{l}\""))
        .unwrap_or_default();
    let head = format!(
        "    <testcase name=\"{}\" classname=\"{}\" file=\"{}\"{line}",
        escape(&result.name),
        escape(&suite.file),
        escape(&suite.file)
    );
    if result.status != Status::Failed {
        return format!("{head}/>\n");
    }
    let (was, is) = match suite.kind {
        SuiteKind::Cases => ("expected", "got"),
        SuiteKind::Snapshot => ("recorded", "now"),
    };
    let actual = result
        .actual
        .as_ref()
        .map_or_else(|| "nothing".to_string(), |a| a.headline());
    let mut body = format!("{was}: {}\n{is}: {actual}\n", result.expected);
    for d in &result.differences {
        let _ = writeln!(
            body,
            "- {}: {was} {}, {is} {}",
            d.field, d.expected, d.actual
        );
    }
    let message = format!("{was} {}, {is} {actual}", result.expected);
    format!(
        "{head}>\n      <failure message=\"{}\" type=\"mismatch\">{}</failure>\n    </testcase>\n",
        escape(&message),
        escape(&body)
    )
}

/// The coverage suite: a test per policy and threshold. Returns the XML,
/// the tests and the failures.
fn coverage_xml(report: &RunReport) -> (String, usize, usize) {
    let mut cases = String::new();
    let (mut tests, mut failed) = (0, 0);
    for c in &report.coverage {
        if let Some(min) = report.min_coverage {
            tests += 1;
            let name = format!("rule coverage of {} ({}) at least {min}%", c.name, c.policy);
            let failure = (c.percent() < min).then(|| {
                let uncovered: Vec<&str> = c.uncovered().map(|r| r.name.as_str()).collect();
                (
                    format!("{:.1}% of rules matched", c.percent()),
                    format!("never matched: {}", uncovered.join(", ")),
                )
            });
            failed += usize::from(failure.is_some());
            cases.push_str(&testcase("coverage", &name, failure));
        }
        if let Some(min) = report.min_condition_coverage {
            tests += 1;
            let name = format!(
                "condition coverage of {} ({}) at least {min}%",
                c.name, c.policy
            );
            let failure = match (c.condition_percent(), &c.conditions) {
                (Some(p), _) if p >= min => None,
                (Some(p), Some(cond)) => {
                    let unseen: Vec<String> = cond
                        .unseen()
                        .map(|s| {
                            let at = &s.site.location;
                            format!(
                                "{}:{}:{} `{}`: {}",
                                at.file,
                                at.line,
                                at.column,
                                s.site.text,
                                s.missing().unwrap_or("")
                            )
                        })
                        .collect();
                    Some((
                        format!("{p:.1}% of condition outcomes seen"),
                        unseen.join("\n"),
                    ))
                }
                _ => Some((
                    "condition coverage not measured".to_string(),
                    "the policy is tested as a compiled artifact".to_string(),
                )),
            };
            failed += usize::from(failure.is_some());
            cases.push_str(&testcase("coverage", &name, failure));
        }
    }
    let out = format!(
        "  <testsuite name=\"coverage\" tests=\"{tests}\" failures=\"{failed}\" errors=\"0\">\n{cases}  </testsuite>\n"
    );
    (out, tests, failed)
}

/// A `<testcase>`, failed with `(message, body)` when given.
fn testcase(class: &str, name: &str, failure: Option<(String, String)>) -> String {
    let head = format!(
        "    <testcase name=\"{}\" classname=\"{}\"",
        escape(name),
        escape(class)
    );
    match failure {
        None => format!("{head}/>\n"),
        Some((message, body)) => format!(
            "{head}>\n      <failure message=\"{}\" type=\"{}\">{}</failure>\n    </testcase>\n",
            escape(&message),
            escape(class),
            escape(&body)
        ),
    }
}

/// The mutation suite: a test per policy (failing below the threshold,
/// when one is set) and an error per wrong equivalence mark. Returns the
/// XML, the tests, the failures and the errors.
fn mutation_xml(report: &RunReport) -> (String, usize, usize, usize) {
    let mut cases = String::new();
    let (mut tests, mut failed, mut errors) = (0, 0, 0);
    for m in &report.mutation {
        tests += 1;
        let name = match report.min_mutation_score {
            Some(min) => format!(
                "mutation score of {} ({}) at least {min}%",
                m.name, m.policy
            ),
            None => format!("mutation score of {} ({})", m.name, m.policy),
        };
        let below = report
            .min_mutation_score
            .is_some_and(|min| m.not_run.is_some() || m.score() < min);
        let failure = below.then(|| mutation_failure(m));
        failed += usize::from(failure.is_some());
        cases.push_str(&testcase("mutation", &name, failure));
        for d in &m.problems {
            tests += 1;
            errors += 1;
            let _ = write!(
                cases,
                "    <testcase name=\"{}\" classname=\"mutation\">\n      <error message=\"{}\" type=\"{}\">{}</error>\n    </testcase>\n",
                escape(&format!("equivalence marks of {}", d.file)),
                escape(&d.message),
                escape(d.code()),
                escape(&d.render_text(100))
            );
        }
    }
    let out = format!(
        "  <testsuite name=\"mutation\" tests=\"{tests}\" failures=\"{failed}\" errors=\"{errors}\">\n{cases}  </testsuite>\n"
    );
    (out, tests, failed, errors)
}

fn mutation_failure(m: &MutationReport) -> (String, String) {
    if let Some(why) = &m.not_run {
        return ("not run".to_string(), why.clone());
    }
    let survivors: Vec<String> = m
        .survivors()
        .map(|r| format!("{} ({})", r.mutant.id, r.mutant.owner))
        .collect();
    (
        format!(
            "score {:.1}%: {} survivor(s)",
            m.score(),
            m.counts().survived
        ),
        survivors.join("\n"),
    )
}

/// Text as XML character data or an attribute value. Characters XML 1.0
/// cannot hold at all (most control characters) are written as `\u{…}`
/// so a stray byte in a reason cannot make the whole report unreadable.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_and_control_characters() {
        assert_eq!(
            escape("a<b & \"c\" 'd'>"),
            "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;"
        );
        assert_eq!(escape("x\u{1b}y\u{0}"), "x\\u{1b}y\\u{0}");
        assert_eq!(escape("line\nbreak"), "line\nbreak");
    }
}
