//! The `guarded_by_has` lint: a rule that denies or escalates under
//! `has x and …`, where the rest of the condition reads `x`, does nothing
//! when `x` is absent. An agent that leaves the field out then passes the
//! check the rule was written for; most often the author meant
//! `not has x or …`, which also stops the action when `x` is missing.

use actpol_core::Level;
use actpol_ir as ir;

use crate::checker::Checker;
use crate::diag::Lint;
use crate::lints::conjuncts;
use crate::policy::RuleSite;

impl Checker<'_> {
    pub(crate) fn guarded_by_has(&mut self, rules: &[ir::Rule], sites: &[RuleSite]) {
        for (rule, site) in rules.iter().zip(sites) {
            let level = rule.outcome.level;
            if !matches!(level, Level::Deny | Level::Escalate) || !site.when_ok {
                continue;
            }
            let Some(when) = &rule.when else {
                continue;
            };
            let mut parts = Vec::new();
            conjuncts(when, &mut parts);
            let mut reported: Vec<String> = Vec::new();
            for (at, part) in parts.iter().enumerate() {
                let Some(term) = self.has_term(part) else {
                    continue;
                };
                if reported.contains(&term) {
                    continue;
                }
                let read_after = parts
                    .iter()
                    .enumerate()
                    .any(|(other, e)| other != at && self.reads(e, &term));
                if !read_after {
                    continue;
                }
                let verb = if level == Level::Deny {
                    "deny"
                } else {
                    "escalate"
                };
                self.unit.report(
                    site.file,
                    Lint::GuardedByHas {
                        rule: site.name.clone(),
                        field: term.clone(),
                        span: self.syntax_span(part.span).into(),
                        help: format!(
                            "when `{term}` is absent this rule does not {verb}: to {verb} then too, write `not has {term} or …`; if passing is meant, say why above the rule with `// allow(guarded_by_has): <reason>`"
                        ),
                    },
                );
                reported.push(term);
            }
        }
    }

    /// The path a positive `has` tests (`object.vendor.status`), read from
    /// its text.
    fn has_term(&self, e: &ir::Expr) -> Option<String> {
        if !matches!(e.kind, ir::ExprKind::Has(_) | ir::ExprKind::HasPart(..)) {
            return None;
        }
        let text = self.span_text(e.span);
        let term = text.strip_prefix("has")?.trim_start();
        let term = term
            .strip_prefix('(')
            .and_then(|t| t.strip_suffix(')'))
            .unwrap_or(term);
        Some(term.trim().to_string())
    }

    /// Whether `e` reads `term`, or something through it.
    fn reads(&self, e: &ir::Expr, term: &str) -> bool {
        let mut found = false;
        e.walk(&mut |x| {
            if found || !is_read(x) {
                return;
            }
            let text = self.span_text(x.span);
            found = text == term
                || text
                    .strip_prefix(term)
                    .is_some_and(|rest| rest.starts_with(['.', '(']));
        });
        found
    }

    fn syntax_span(&self, span: ir::SrcSpan) -> actpol_syntax::ast::Span {
        actpol_syntax::ast::Span {
            start: span.start,
            end: span.end,
        }
    }
}

/// A read that `has` may guard: a field of the envelope, or a part.
fn is_read(e: &ir::Expr) -> bool {
    matches!(
        e.kind,
        ir::ExprKind::Param(_)
            | ir::ExprKind::Attr(_)
            | ir::ExprKind::Context(_)
            | ir::ExprKind::Env(_)
            | ir::ExprKind::Part(..)
    )
}
