//! A decision, with its explanation, as text for people (`actpol explain`).

use std::fmt::Write as _;

use actpol_core::decision::{ConstraintOut, Decision, Explanation, Stage};

/// Renders a decision and its explanation (if it has one).
pub fn explain_text(d: &Decision) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "decision: {}", d.decision);
    if let Some(esc) = &d.escalation {
        let detail: Vec<&str> = esc
            .packet
            .iter()
            .flat_map(|p| [p.approver.title.as_deref(), p.approver.contact.as_deref()])
            .flatten()
            .collect();
        if detail.is_empty() {
            let _ = writeln!(out, "  approver: {}", esc.approver);
        } else {
            let _ = writeln!(out, "  approver: {} ({})", esc.approver, detail.join(", "));
        }
    }
    if !d.reasons.is_empty() {
        let _ = writeln!(out, "because:");
        for r in &d.reasons {
            let _ = writeln!(out, "  - {r}");
        }
    }
    if !d.rules.is_empty() {
        let _ = writeln!(out, "decided by: {}", d.rules.join(", "));
    }
    let _ = writeln!(out, "policy: {} {}", d.policy.name, d.policy.hash);
    if let Some(ex) = &d.explanation {
        rules_section(&mut out, ex);
    }
    if !d.constraints.is_empty() {
        let _ = writeln!(out, "\nconstraints:");
        for c in &d.constraints {
            match c {
                ConstraintOut::Param { param, op, value } => {
                    let _ = writeln!(out, "  - params.{param} {op} {value}");
                }
                ConstraintOut::Require { require } => {
                    let _ = writeln!(out, "  - require {require}");
                }
            }
        }
    }
    if !d.budgets.is_empty() {
        let _ = writeln!(out, "\nbudgets:");
        for b in &d.budgets {
            let _ = writeln!(
                out,
                "  - {} ({}): {} of {} consumed, {} left; this decision consumes {}",
                b.name, b.key, b.consumed, b.limit, b.remaining, b.delta
            );
        }
    }
    if !d.errors.is_empty() {
        let _ = writeln!(out, "\nerrors:");
        for e in &d.errors {
            let at = e
                .path
                .as_deref()
                .map(|p| format!(" at `{p}`"))
                .unwrap_or_default();
            let rule = e
                .rule
                .as_deref()
                .map(|r| format!(" in rule `{r}`"))
                .unwrap_or_default();
            let _ = writeln!(out, "  - {}{rule}{at}: {}", e.code, e.message);
            if let Some(help) = &e.help {
                let _ = writeln!(out, "    help: {help}");
            }
        }
    }
    out
}

fn rules_section(out: &mut String, ex: &Explanation) {
    let total = ex.rules_total;
    if ex.stage == Stage::Admission {
        let _ = writeln!(
            out,
            "\nno rule ran: the agent was refused before rules ({total} rules in the policy)"
        );
        return;
    }
    let _ = writeln!(
        out,
        "\nrules that apply to this action and agent: {} of {total}",
        ex.rules.len()
    );
    for r in &ex.rules {
        let mark = if r.matched {
            "matched"
        } else if r.error.is_some() {
            "failed "
        } else {
            "skipped"
        };
        let _ = writeln!(out, "  {mark} {} ({})", r.rule, r.outcome);
        // The whole doc comment: its lines wrap one text, so the first
        // alone would stop mid-sentence.
        for line in r.doc.iter().flat_map(|doc| doc.lines()) {
            let _ = writeln!(out, "          {line}");
        }
        if let Some(cond) = &r.condition {
            let _ = writeln!(out, "          when {cond}");
        }
        if let Some(failed) = &r.failed {
            let _ = writeln!(out, "          not met: {}", failed.condition);
            for v in failed.values.iter().flatten() {
                let _ = writeln!(out, "            {} = {}", v.expr, v.value);
            }
        }
        if let Some(err) = &r.error {
            let _ = writeln!(out, "          error: {}", err.message);
        }
        if let Some(by) = &r.overridden_by {
            let _ = writeln!(
                out,
                "          held: `{by}` takes precedence over this denial and escalates"
            );
        }
    }
}
