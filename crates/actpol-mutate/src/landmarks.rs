//! Where the declarations the IR keeps no span for are written: rule
//! outcomes, budget limits and exhaustion outcomes, raise arms, and the
//! policy's `default` and `on_error`. Read from the syntax trees of the
//! files the IR keeps, matched to IR items by name.

use std::collections::HashMap;

use actpol_ir::{Policy, SrcSpan};
use actpol_syntax::ast::{BudgetMember, ItemKind, PolicyEntryKind, Span};

#[derive(Debug, Default)]
pub(crate) struct Landmarks {
    /// By rule name: the outcome (`deny "…"`, `escalate to x "…"`).
    pub rule_outcomes: HashMap<String, SrcSpan>,
    /// By budget name: the `limit` value.
    pub budget_limits: HashMap<String, SrcSpan>,
    /// By budget name: the `on_exhausted` outcome.
    pub budget_exhausted: HashMap<String, SrcSpan>,
    /// By raise name: each arm's outcome, in order.
    pub raise_arms: HashMap<String, Vec<SrcSpan>>,
    pub default: Option<SrcSpan>,
    pub on_error: Option<SrcSpan>,
    /// The policy header's name, where no better place is known.
    pub header: Option<SrcSpan>,
}

impl Landmarks {
    pub(crate) fn of(policy: &Policy) -> Landmarks {
        let mut marks = Landmarks::default();
        for (index, file) in policy.files.iter().enumerate() {
            let Ok(parsed) = actpol_syntax::parse_file(&file.text) else {
                continue;
            };
            let at = |span: Span| SrcSpan {
                file: index as u32,
                start: span.start,
                end: span.end,
            };
            for item in &parsed.items {
                match &item.kind {
                    ItemKind::Rule(rule) => {
                        marks
                            .rule_outcomes
                            .insert(rule.name.name.clone(), at(rule.outcome.span));
                    }
                    ItemKind::Budget(budget) => {
                        for member in &budget.members {
                            match member {
                                BudgetMember::Limit(expr, _) => {
                                    marks
                                        .budget_limits
                                        .insert(budget.name.name.clone(), at(expr.span));
                                }
                                BudgetMember::OnExhausted(outcome, _) => {
                                    marks
                                        .budget_exhausted
                                        .insert(budget.name.name.clone(), at(outcome.span));
                                }
                                _ => {}
                            }
                        }
                    }
                    ItemKind::Raise(raise) => {
                        marks.raise_arms.insert(
                            raise.name.name.clone(),
                            raise.arms.iter().map(|arm| at(arm.outcome.span)).collect(),
                        );
                    }
                    ItemKind::Policy(header) => {
                        marks.header = Some(at(header.name.span));
                        for entry in &header.entries {
                            let slot = match entry.kind {
                                PolicyEntryKind::Default => &mut marks.default,
                                PolicyEntryKind::OnError => &mut marks.on_error,
                            };
                            *slot = Some(at(entry.outcome.span));
                        }
                    }
                    _ => {}
                }
            }
        }
        marks
    }

    /// A span to report at when the landmark is missing.
    pub(crate) fn fallback(&self) -> SrcSpan {
        self.header.unwrap_or_default()
    }
}
