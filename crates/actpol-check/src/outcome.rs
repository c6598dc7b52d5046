//! Outcomes: of rules (with constraints), and of the places that take a
//! fixed outcome (the header's `default` and `on_error`, a budget's
//! `on_exhausted`, a raise's arms), each with the levels it admits.

use actpol_core::decision::Level;
use actpol_core::ids::ApproverId;
use actpol_core::schema::OutcomeSpec;
use actpol_core::types::Type;
use actpol_ir::{self as ir, fold::fold};
use actpol_syntax::ast::{self, ExprKind, Ident, OutcomeKind, Span};

use crate::checker::Checker;
use crate::diag::{suggest, CheckError};
use crate::expr::{Cx, Usage};
use crate::members::Members;
use crate::operators::{self, clash, Clash};

/// A place that takes a fixed outcome, and what it admits.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Place {
    /// How the place reads in messages: "`on_error`".
    pub what: &'static str,
    pub allowed: &'static [Level],
    /// Why other levels are refused.
    pub why: &'static str,
    /// Whether `deny` and `escalate` must say why (core words the reason
    /// of a spent budget itself).
    pub reason_required: bool,
}

pub(crate) const DEFAULT: Place = Place {
    what: "`default`",
    allowed: &[Level::Allow, Level::Deny, Level::Escalate],
    why: "a default has no rule whose constraints it could apply",
    reason_required: true,
};

pub(crate) const ON_ERROR: Place = Place {
    what: "`on_error`",
    allowed: &[Level::Deny, Level::Escalate],
    why: "when evaluation fails nothing is known that could let the action through",
    reason_required: true,
};

pub(crate) const ON_EXHAUSTED: Place = Place {
    what: "`on_exhausted`",
    allowed: &[Level::Deny, Level::Escalate],
    why: "a spent budget cannot let the action through",
    reason_required: false,
};

fn written_form(level: Level) -> &'static str {
    match level {
        Level::Allow => "`allow`",
        Level::Constrain => "`constrain { … }`",
        Level::Escalate => "`escalate to <approver> \"…\"`",
        Level::Deny => "`deny \"…\"`",
    }
}

impl Checker<'_> {
    pub(crate) fn approver_id(&mut self, file: u32, name: &Ident) -> Option<ApproverId> {
        if let Some(i) = self.approvers.get_index_of(&name.name) {
            return Some(ApproverId::from_index(i));
        }
        let help = suggest(
            &name.name,
            self.approvers.keys().map(String::as_str),
            || {
                format!(
                    "declare it with `approver {} {{ title \"…\" contact \"…\" }}`",
                    name.name
                )
            },
        );
        self.unit.report(
            file,
            CheckError::UnknownApprover {
                name: name.name.clone(),
                span: name.span.into(),
                help,
            },
        );
        None
    }

    /// The reason of an outcome; reports a `deny` or `escalate` without one
    /// when one is required.
    fn reason(&mut self, file: u32, o: &ast::Outcome, required: bool) -> Option<String> {
        let level = o.level();
        if o.reason.is_none() && required && matches!(level, Level::Deny | Level::Escalate) {
            let example = match &o.kind {
                OutcomeKind::Escalate(a) => {
                    format!("escalate to {} \"why a human must look\"", a.name)
                }
                _ => "deny \"why this is refused\"".into(),
            };
            self.unit.report(
                file,
                CheckError::MissingReason {
                    level: level.as_str().into(),
                    span: self.unit.tight(file, o.span).into(),
                    help: format!("say why, for the agent and the approver: `{example}`"),
                },
            );
        }
        o.reason.as_ref().map(|r| r.value.clone())
    }

    fn invalid_outcome(
        &mut self,
        file: u32,
        span: Span,
        message: String,
        label: &str,
        help: String,
    ) {
        let span = self.unit.tight(file, span);
        self.unit.report(
            file,
            CheckError::InvalidOutcome {
                message,
                span: span.into(),
                label: label.into(),
                help,
            },
        );
    }

    /// An outcome of a place that takes a fixed outcome.
    pub(crate) fn outcome_spec(
        &mut self,
        file: u32,
        o: &ast::Outcome,
        place: Place,
    ) -> OutcomeSpec {
        let lvl = o.level();
        if !place.allowed.contains(&lvl) {
            let forms: Vec<&str> = place.allowed.iter().map(|l| written_form(*l)).collect();
            self.invalid_outcome(
                file,
                o.span,
                format!("{} cannot be `{}`", place.what, lvl.as_str()),
                "not allowed here",
                format!("{}: write {}", place.why, forms.join(" or ")),
            );
        }
        self.fixed_outcome(file, o, place.reason_required)
    }

    /// The parts every fixed outcome has: level, approver, reason and, for
    /// `constrain`, requirements (parameter limits are refused by callers).
    fn fixed_outcome(&mut self, file: u32, o: &ast::Outcome, reason_required: bool) -> OutcomeSpec {
        let approver = match &o.kind {
            OutcomeKind::Escalate(name) => self.approver_id(file, name),
            _ => None,
        };
        let requires = match &o.kind {
            OutcomeKind::Constrain(cs) => cs
                .iter()
                .filter_map(|c| match c {
                    ast::Constraint::Require(r, _) => Some(*r),
                    ast::Constraint::Param { .. } => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        OutcomeSpec {
            level: o.level(),
            approver,
            reason: self.reason(file, o, reason_required),
            requires,
        }
    }

    /// The arms of a raise: each must lead somewhere stricter. A
    /// `constrain` may stay `constrain` if it adds requirements: a rollback
    /// plan demanded of compensable work is a tightening too.
    pub(crate) fn raise_arms(
        &mut self,
        file: u32,
        raise: &ast::RaiseDecl,
    ) -> Vec<(Level, OutcomeSpec)> {
        let owner = format!("raise `{}`", raise.name.name);
        let mut members = Members::new(&owner);
        let mut arms = Vec::new();
        for arm in &raise.arms {
            let from = arm.from;
            let member = match from {
                Level::Allow => "allow ->",
                Level::Constrain => "constrain ->",
                _ => "escalate ->",
            };
            let first = members.once(&mut self.unit, file, member, arm.from_span);
            let to = arm.outcome.level();
            let adds_requirements = matches!(&arm.outcome.kind,
                OutcomeKind::Constrain(cs) if cs.iter().any(|c| matches!(c, ast::Constraint::Require(..))));
            let tightens = to > from
                || (to == Level::Constrain && from == Level::Constrain && adds_requirements);
            if !tightens {
                self.unit.report(
                    file,
                    CheckError::RaiseNotStricter {
                        from: from.as_str().into(),
                        to: to.as_str().into(),
                        span: self.unit.tight(file, arm.span).into(),
                        help: "a raise only tightens: the order is `allow` < `constrain` < `escalate` < `deny`, and `constrain -> constrain { require … }` adds requirements".into(),
                    },
                );
            }
            if let OutcomeKind::Constrain(cs) = &arm.outcome.kind {
                if let Some(span) = cs.iter().find_map(|c| match c {
                    ast::Constraint::Param { span, .. } => Some(*span),
                    ast::Constraint::Require(..) => None,
                }) {
                    self.invalid_outcome(
                        file,
                        span,
                        "a raise arm cannot limit parameters".into(),
                        "a parameter limit",
                        "a raise's outcome is fixed when the policy is checked: keep `require dry_run` or `require rollback`, or escalate instead".into(),
                    );
                }
            }
            let spec = self.fixed_outcome(file, &arm.outcome, true);
            if first {
                arms.push((from, spec));
            }
        }
        arms
    }

    /// A rule's outcome, with its constraints checked in the rule's frame.
    pub(crate) fn rule_outcome(&mut self, cx: &mut Cx<'_>, o: &ast::Outcome) -> ir::Outcome {
        let file = cx.frame.file;
        let approver = match &o.kind {
            OutcomeKind::Escalate(name) => self.approver_id(file, name),
            _ => None,
        };
        let mut limits = Vec::new();
        let mut requires = Vec::new();
        if let OutcomeKind::Constrain(constraints) = &o.kind {
            for c in constraints {
                match c {
                    ast::Constraint::Require(r, _) => {
                        let r = *r;
                        if !requires.contains(&r) {
                            requires.push(r);
                        }
                    }
                    ast::Constraint::Param {
                        param,
                        op,
                        value,
                        span,
                    } => {
                        if let Some(limit) = self.limit(cx, param, *op, value, *span) {
                            limits.push(limit);
                        }
                    }
                }
            }
        }
        ir::Outcome {
            level: o.level(),
            approver,
            reason: self.reason(file, o, true),
            limits,
            requires,
        }
    }

    /// `params.x <= e` or `params.x in s`.
    fn limit(
        &mut self,
        cx: &mut Cx<'_>,
        param: &Ident,
        op: ast::ConstraintOp,
        value: &ast::Expr,
        span: Span,
    ) -> Option<ir::Limit> {
        let file = cx.frame.file;
        let found = self.param_field(cx.frame, param, param.span, Usage::Constraint);
        let written = ast::Expr {
            kind: ExprKind::Field(
                Box::new(ast::Expr {
                    kind: ExprKind::Name(Ident {
                        name: "params".into(),
                        span,
                    }),
                    span,
                }),
                param.clone(),
            ),
            span: Span::new(span.start as usize, param.span.end as usize),
        };
        let Some((name, Some(ty), _)) = found else {
            self.expr(cx, value);
            return None;
        };
        let op_text = op.as_str();
        let value = if op == ast::ConstraintOp::In {
            let set_ty = Type::Set(Box::new(ty.clone()));
            let typed = self.expect(cx, value, Some(&set_ty));
            match &typed.ty {
                Some(t) if *t == set_ty => typed.expr,
                Some(Type::Set(elem)) => {
                    let elem = Type::clone(elem);
                    self.mismatch(file, op_text, (&written, &ty), (value, &elem));
                    return None;
                }
                Some(other) => {
                    let name = self.schema.type_name(other);
                    let wanted = self.schema.type_name(&set_ty);
                    self.unit.report(
                        file,
                        CheckError::TypeMismatch {
                            message: format!("`params.{} in …` needs a `{wanted}`, not `{name}`", param.name),
                            span: self.unit.tight(file, value.span).into(),
                            label: format!("this is `{name}`"),
                            also: None,
                            also_label: String::new(),
                            help: "write a set of allowed values, as in `params.region in [\"emea\", \"na\"]`".into(),
                        },
                    );
                    return None;
                }
                None => return None,
            }
        } else {
            if !ty.is_ordered() {
                let name = self.schema.type_name(&ty);
                self.unit.report(
                    file,
                    CheckError::TypeMismatch {
                        message: format!("`{op_text}` cannot bound `params.{}`: `{name}` has no order", param.name),
                        span: self.unit.tight(file, written.span).into(),
                        label: format!("this is `{name}`"),
                        also: None,
                        also_label: String::new(),
                        help: format!("bound numbers, amounts, durations or timestamps; to allow some values, write `params.{} in [ … ]`", param.name),
                    },
                );
                self.expr(cx, value);
                return None;
            }
            let typed = self.expr(cx, value);
            let found = typed.ty.clone()?;
            match operators::join(&ty, &found) {
                // The bound takes the parameter's type: an `Int` bound of
                // a `Decimal` parameter widens, never the other way.
                Some(t) if !t.widen_left => {
                    if t.widen_right {
                        widen_decimal(typed.expr)
                    } else {
                        typed.expr
                    }
                }
                _ => {
                    self.mismatch(file, op_text, (&written, &ty), (value, &found));
                    return None;
                }
            }
        };
        Some(ir::Limit {
            param: name,
            op,
            value: fold(value),
        })
    }

    /// `consume b by e`: `e` must be of the budget's type.
    pub(crate) fn consume(&mut self, cx: &mut Cx<'_>, c: &ast::Consume) -> Option<ir::Consume> {
        let file = cx.frame.file;
        let budget = self.budget_id(file, &c.budget);
        let amount = self.expr(cx, &c.amount);
        let budget = budget?;
        let wanted = self.budget_types[budget.index()].clone()?;
        let found = amount.ty.clone()?;
        let expr = match (&wanted, &found) {
            (w, f) if w == f => amount.expr,
            (Type::Decimal, Type::Int) => widen_decimal(amount.expr),
            _ => {
                let (w, f) = (
                    self.schema.type_name(&wanted),
                    self.schema.type_name(&found),
                );
                let text = self.unit.text(file, c.amount.span);
                let help = match (&wanted, clash(&wanted, &found)) {
                    (Type::Money(cur), Clash::Unit) if found.is_numeric() => {
                        format!("give an amount in `{cur}`, as in `{text} * 1 {cur}`")
                    }
                    _ => format!("give an amount of `{w}`, or consume a budget that counts `{f}`"),
                };
                self.unit.report(
                    file,
                    CheckError::ConsumeType {
                        budget: c.budget.name.clone(),
                        expected: w,
                        found: f,
                        span: self.unit.tight(file, c.amount.span).into(),
                        help,
                    },
                );
                return None;
            }
        };
        Some(ir::Consume {
            budget,
            amount: fold(expr),
        })
    }
}

pub(crate) fn widen_decimal(expr: ir::Expr) -> ir::Expr {
    let span = expr.span;
    ir::Expr {
        kind: ir::ExprKind::ToDecimal(Box::new(expr)),
        ty: Type::Decimal,
        span,
    }
}
