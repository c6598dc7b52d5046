//! The report as JUnit XML, the format CI dashboards read: one
//! `<testsuite>` per test file or snapshot, one `<testcase>` per case or
//! envelope, a `<failure>` with the diff for each failure, an `<error>` for
//! a file that could not run, and a `coverage` suite when a threshold is
//! set.

use std::fmt::Write as _;

use crate::results::{CaseResult, RunReport, Status, Suite, SuiteKind};

pub fn junit_xml(report: &RunReport) -> String {
    let mut suites: Vec<String> = report.suites.iter().map(suite_xml).collect();
    let (mut tests, mut failures, mut errors) = (0, 0, 0);
    for suite in &report.suites {
        tests += suite.results.len() + suite.diagnostics.len();
        failures += suite.count(Status::Failed);
        errors += suite.diagnostics.len();
    }
    if let Some(min) = report.min_coverage {
        let (xml, failed) = coverage_xml(report, min);
        tests += report.coverage.len();
        failures += failed;
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

/// The coverage suite and how many policies fell short.
fn coverage_xml(report: &RunReport, min: f64) -> (String, usize) {
    let below = report.below_threshold();
    let mut out = format!(
        "  <testsuite name=\"coverage\" tests=\"{}\" failures=\"{}\" errors=\"0\">\n",
        report.coverage.len(),
        below.len()
    );
    for c in &report.coverage {
        let name = format!("rule coverage of {} ({}) at least {min}%", c.name, c.policy);
        let _ = write!(
            out,
            "    <testcase name=\"{}\" classname=\"coverage\"",
            escape(&name)
        );
        if c.percent() >= min {
            out.push_str("/>\n");
            continue;
        }
        let uncovered: Vec<&str> = c.uncovered().map(|r| r.name.as_str()).collect();
        let _ = write!(
            out,
            ">\n      <failure message=\"{}\" type=\"coverage\">never matched: {}</failure>\n    </testcase>\n",
            escape(&format!("{:.1}% of rules matched", c.percent())),
            escape(&uncovered.join(", "))
        );
    }
    out.push_str("  </testsuite>\n");
    (out, below.len())
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
