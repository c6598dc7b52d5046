//! One change to a policy's IR, addressed so it can be made on a copy: an
//! expression by its root (a rule's condition, a limit, a consumption, a
//! scope predicate, a raise's condition, a risk) and the child indices down
//! to it, or a declaration by its id.

use actpol_core::decision::ConstraintOp;
use actpol_core::ids::{AgentId, BudgetId, RaiseId, RiskId, RuleId};
use actpol_core::ops::{ArithOp, CmpOp};
use actpol_core::schema::OutcomeSpec;
use actpol_core::types::Type;
use actpol_core::value::Value;
use actpol_ir::{Expr, ExprKind, Outcome, Policy};

/// An expression tree of the policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Root {
    When(RuleId),
    Limit(RuleId, usize),
    Consume(RuleId, usize),
    /// A record predicate: the agent, and its index in the agent's list.
    Scope(AgentId, usize),
    Raise(RaiseId),
    Risk(RiskId),
}

impl Root {
    fn expr_mut(self, p: &mut Policy) -> Option<&mut Expr> {
        match self {
            Root::When(r) => p.rules.get_mut(r.index())?.when.as_mut(),
            Root::Limit(r, i) => {
                Some(&mut p.rules.get_mut(r.index())?.outcome.limits.get_mut(i)?.value)
            }
            Root::Consume(r, i) => {
                Some(&mut p.rules.get_mut(r.index())?.consumes.get_mut(i)?.amount)
            }
            Root::Scope(a, i) => Some(&mut p.scopes.get_mut(a.index())?.get_mut(i)?.1),
            Root::Raise(r) => p.raises.get_mut(r.index()),
            Root::Risk(r) => p.risks.get_mut(r.index()),
        }
    }
}

/// What becomes of the expression a path leads to.
#[derive(Clone, Debug)]
pub(crate) enum Replace {
    /// The comparison's operator.
    Cmp(CmpOp),
    /// The constant's value.
    Const(Value),
    /// `and` becomes `or` and the other way round.
    Logic,
    /// The node becomes its child of this index (an operand dropped, a
    /// `not` removed).
    Child(usize),
}

#[derive(Clone, Debug)]
pub(crate) enum Edit {
    Expr {
        root: Root,
        path: Vec<u8>,
        with: Replace,
    },
    /// The rule loses its condition: it always applies.
    DropWhen(RuleId),
    RuleOutcome(RuleId, Outcome),
    LimitOp(RuleId, usize, ConstraintOp),
    /// The agent's record predicate at this index is gone.
    DropScope(AgentId, usize),
    /// The consumption's amount becomes `amount op value`.
    ConsumeBy(RuleId, usize, ArithOp, Value),
    Default(OutcomeSpec),
    OnError(OutcomeSpec),
    Exhausted(BudgetId, OutcomeSpec),
    RaiseArm(RaiseId, usize, OutcomeSpec),
    BudgetLimit(BudgetId, Value),
}

impl Edit {
    /// A copy of `policy` with this change made. A change whose target is
    /// gone (which the enumeration never makes) leaves the copy as it was.
    pub(crate) fn apply(&self, policy: &Policy) -> Policy {
        let mut p = policy.clone();
        match self {
            Edit::Expr { root, path, with } => {
                if let Some(e) = root.expr_mut(&mut p).and_then(|e| at_mut(e, path)) {
                    replace(e, with);
                }
            }
            Edit::DropWhen(rule) => {
                if let Some(r) = p.rules.get_mut(rule.index()) {
                    r.when = None;
                }
            }
            Edit::RuleOutcome(rule, outcome) => {
                if let Some(r) = p.rules.get_mut(rule.index()) {
                    r.outcome = outcome.clone();
                }
            }
            Edit::LimitOp(rule, i, op) => {
                if let Some(l) = p
                    .rules
                    .get_mut(rule.index())
                    .and_then(|r| r.outcome.limits.get_mut(*i))
                {
                    l.op = *op;
                }
            }
            Edit::DropScope(agent, i) => {
                if let Some(list) = p.scopes.get_mut(agent.index()) {
                    if *i < list.len() {
                        list.remove(*i);
                    }
                }
            }
            Edit::ConsumeBy(rule, i, op, value) => {
                if let Some(c) = p
                    .rules
                    .get_mut(rule.index())
                    .and_then(|r| r.consumes.get_mut(*i))
                {
                    let ty = c.amount.ty.clone();
                    let span = c.amount.span;
                    let amount = std::mem::replace(
                        &mut c.amount,
                        Expr::constant(Value::Bool(false), Type::Bool, span),
                    );
                    c.amount = Expr {
                        kind: ExprKind::Arith(
                            *op,
                            Box::new(amount),
                            Box::new(Expr::constant(value.clone(), ty.clone(), span)),
                        ),
                        ty,
                        span,
                    };
                }
            }
            Edit::Default(spec) => p.meta.default = spec.clone(),
            Edit::OnError(spec) => p.meta.on_error = spec.clone(),
            Edit::Exhausted(budget, spec) => {
                if let Some((_, b)) = p.meta.budgets.get_index_mut(budget.index()) {
                    b.on_exhausted = spec.clone();
                }
            }
            Edit::RaiseArm(raise, i, spec) => {
                if let Some(arm) = p
                    .meta
                    .raises
                    .get_mut(raise.index())
                    .and_then(|r| r.arms.get_mut(*i))
                {
                    arm.1 = spec.clone();
                }
            }
            Edit::BudgetLimit(budget, value) => {
                if let Some((_, b)) = p.meta.budgets.get_index_mut(budget.index()) {
                    b.limit = value.clone();
                }
            }
        }
        p
    }
}

/// The direct sub-expressions, in the order of [`Expr::children`].
pub(crate) fn children_mut(e: &mut Expr) -> Vec<&mut Expr> {
    match &mut e.kind {
        ExprKind::Const(_)
        | ExprKind::Env(_)
        | ExprKind::Param(_)
        | ExprKind::Attr(_)
        | ExprKind::Context(_)
        | ExprKind::Touches(_)
        | ExprKind::Upstream(..)
        | ExprKind::Sends(_)
        | ExprKind::Has(_)
        | ExprKind::Budget(..)
        | ExprKind::Window(_)
        | ExprKind::Risk(_)
        | ExprKind::Var(_) => Vec::new(),
        ExprKind::Not(a) | ExprKind::Neg(a) | ExprKind::ToDecimal(a) => vec![a],
        ExprKind::And(a, b)
        | ExprKind::Or(a, b)
        | ExprKind::Cmp(_, a, b)
        | ExprKind::Arith(_, a, b)
        | ExprKind::In(a, b) => vec![a, b],
        ExprKind::If(c, a, b) => vec![c, a, b],
        ExprKind::Call(_, args)
        | ExprKind::SetLit(args)
        | ExprKind::Coll(_, args)
        | ExprKind::Part(_, _, args)
        | ExprKind::HasPart(_, _, args) => args.iter_mut().collect(),
        ExprKind::Loop { over, body, .. } => vec![over, body],
    }
}

fn at_mut<'e>(e: &'e mut Expr, path: &[u8]) -> Option<&'e mut Expr> {
    match path.split_first() {
        None => Some(e),
        Some((first, rest)) => {
            let child = children_mut(e).into_iter().nth(*first as usize)?;
            at_mut(child, rest)
        }
    }
}

fn replace(e: &mut Expr, with: &Replace) {
    match (with, &mut e.kind) {
        (Replace::Cmp(op), ExprKind::Cmp(current, ..)) => *current = *op,
        (Replace::Const(v), ExprKind::Const(current)) => *current = v.clone(),
        (Replace::Logic, ExprKind::And(..) | ExprKind::Or(..)) => {
            let placeholder = ExprKind::Const(Value::Bool(false));
            e.kind = match std::mem::replace(&mut e.kind, placeholder) {
                ExprKind::And(a, b) => ExprKind::Or(a, b),
                ExprKind::Or(a, b) => ExprKind::And(a, b),
                other => other,
            };
        }
        (Replace::Child(i), _) => {
            let child = children_mut(e).into_iter().nth(*i).map(|c| {
                let span = c.span;
                std::mem::replace(c, Expr::constant(Value::Bool(false), Type::Bool, span))
            });
            if let Some(child) = child {
                *e = child;
            }
        }
        _ => {}
    }
}
