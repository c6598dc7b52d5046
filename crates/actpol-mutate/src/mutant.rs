//! The mutation operators, and the mutants of a policy.

use actpol_core::decision::{ConstraintOp, Level};
use actpol_core::ids::{ActionId, AgentId, ApproverId, BudgetId, RaiseId, RiskId, RuleId};
use actpol_core::ops::{ArithOp, CmpOp};
use actpol_core::schema::{OutcomeSpec, PolicyMeta};
use actpol_core::types::Type;
use actpol_core::value::Value;
use actpol_core::Decimal;
use actpol_ir::{Expr, ExprKind, Outcome, Policy, SrcSpan};
use serde::Serialize;

use crate::edit::{Edit, Replace, Root};
use crate::landmarks::Landmarks;
use crate::literal;
use crate::nudge::{self, Nudge};
use crate::text::{self, Location};
use crate::Owner;

/// What a mutant changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MutantKind {
    /// `<` becomes `>=`, `==` becomes `!=`: the comparison says the opposite.
    ComparisonFlipped,
    /// `<` becomes `<=` and the other way round (in conditions and in
    /// constraints): the boundary value changes sides.
    ComparisonRelaxed,
    /// A number, amount, duration or time of day (in a condition, a risk, a
    /// constraint or a budget's limit) moved by one unit of how it is written.
    ThresholdMoved,
    AndOrSwapped,
    /// One operand of an `and` or an `or` dropped.
    PartDropped,
    /// A `not` dropped.
    NegationDropped,
    /// A rule's whole condition dropped: the rule always applies.
    ConditionDropped,
    /// A rule's outcome, a raise's arm, a budget's exhaustion outcome, the
    /// default or `on_error` made one level more permissive.
    OutcomeWeakened,
    /// An agent's record predicate removed: the scope admits any record.
    ScopePredicateRemoved,
    /// What a rule consumes changed by one unit.
    ConsumeChanged,
}

impl MutantKind {
    pub const ALL: [MutantKind; 10] = [
        MutantKind::ComparisonFlipped,
        MutantKind::ComparisonRelaxed,
        MutantKind::ThresholdMoved,
        MutantKind::AndOrSwapped,
        MutantKind::PartDropped,
        MutantKind::NegationDropped,
        MutantKind::ConditionDropped,
        MutantKind::OutcomeWeakened,
        MutantKind::ScopePredicateRemoved,
        MutantKind::ConsumeChanged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MutantKind::ComparisonFlipped => "comparison_flipped",
            MutantKind::ComparisonRelaxed => "comparison_relaxed",
            MutantKind::ThresholdMoved => "threshold_moved",
            MutantKind::AndOrSwapped => "and_or_swapped",
            MutantKind::PartDropped => "part_dropped",
            MutantKind::NegationDropped => "negation_dropped",
            MutantKind::ConditionDropped => "condition_dropped",
            MutantKind::OutcomeWeakened => "outcome_weakened",
            MutantKind::ScopePredicateRemoved => "scope_predicate_removed",
            MutantKind::ConsumeChanged => "consume_changed",
        }
    }
}

/// One mutant: where, what, and how to make it.
#[derive(Clone, Debug)]
pub struct Mutant {
    /// `outbound.actpol:21:27: `<=` → `<``: the location relative to the
    /// policy's directory and the change. Test files mark equivalent
    /// mutants by it; it holds while the policy's text does not move.
    pub id: String,
    pub kind: MutantKind,
    pub owner: Owner,
    /// The changed token: the operator, the literal, the dropped part, the
    /// outcome.
    pub location: Location,
    /// `` `<=` → `<` ``, `` `has intent` dropped ``.
    pub change: String,
    /// The actions whose decisions the mutant can change; `None`: any.
    pub actions: Option<Vec<String>>,
    /// Changes to an envelope that may tell the mutant from the policy:
    /// values at and next to the boundaries near the change.
    pub nudges: Vec<Nudge>,
    edit: Edit,
}

impl Mutant {
    /// The mutated policy.
    pub fn apply(&self, policy: &Policy) -> Policy {
        self.edit.apply(policy)
    }
}

/// Every mutant of `policy`, ordered by place in the text. `root` is the
/// policy's directory as its files were loaded (ids name files relative to
/// it).
pub fn mutants(policy: &Policy, root: &str) -> Vec<Mutant> {
    let mut walk = Walk {
        policy,
        root,
        marks: Landmarks::of(policy),
        out: Vec::new(),
    };
    walk.rules();
    walk.scopes();
    walk.raises();
    walk.risks();
    walk.budgets();
    walk.policy_outcomes();
    let mut out = walk.out;
    out.sort_by(|a, b| {
        (&a.location.relative, a.location.start).cmp(&(&b.location.relative, b.location.start))
    });
    name_uniquely(&mut out);
    out
}

/// Two mutants could only share an id by changing the same token the same
/// way; should it happen, the later ones are numbered.
fn name_uniquely(mutants: &mut [Mutant]) {
    let mut seen = std::collections::HashMap::<String, usize>::new();
    for m in mutants.iter_mut() {
        let n = seen.entry(m.id.clone()).or_insert(0);
        *n += 1;
        if *n > 1 {
            m.id = format!("{} ({n})", m.id);
        }
    }
}

struct Walk<'p> {
    policy: &'p Policy,
    root: &'p str,
    marks: Landmarks,
    out: Vec<Mutant>,
}

/// What every mutant of one declaration shares.
struct Context {
    owner: Owner,
    actions: Option<Vec<String>>,
    /// The kind of a moved constant under this root.
    constant: MutantKind,
}

impl Walk<'_> {
    fn push(
        &mut self,
        cx: &Context,
        kind: MutantKind,
        span: SrcSpan,
        change: String,
        nudges: Vec<Nudge>,
        edit: Edit,
    ) {
        let location = Location::of(self.policy, span, self.root);
        self.out.push(Mutant {
            id: format!(
                "{}:{}:{}: {change}",
                location.relative, location.line, location.column
            ),
            kind,
            owner: cx.owner.clone(),
            location,
            change,
            actions: cx.actions.clone(),
            nudges,
            edit,
        });
    }

    fn action_names(&self, ids: impl IntoIterator<Item = ActionId>) -> Vec<String> {
        ids.into_iter()
            .map(|a| self.policy.schema.action_name(a).to_string())
            .collect()
    }

    fn nudges(&self, e: Option<&Expr>) -> Vec<Nudge> {
        e.map(|e| nudge::nudges(self.policy, e)).unwrap_or_default()
    }

    fn rules(&mut self) {
        let p = self.policy;
        for rule in &p.rules {
            let name = p
                .meta
                .rules
                .get(rule.id.index())
                .map_or("?", |r| r.name.as_str());
            let cx = Context {
                owner: Owner::Rule {
                    name: name.to_string(),
                },
                actions: Some(self.action_names(rule.actions.iter().copied())),
                constant: MutantKind::ThresholdMoved,
            };
            if let Some(when) = &rule.when {
                if !matches!(when.kind, ExprKind::And(..) | ExprKind::Or(..)) {
                    self.push(
                        &cx,
                        MutantKind::ConditionDropped,
                        when.span,
                        format!(
                            "`{}` dropped: the rule always applies",
                            text::quote(p, when.span)
                        ),
                        Vec::new(),
                        Edit::DropWhen(rule.id),
                    );
                }
                self.expr(&cx, Root::When(rule.id), when, &mut Vec::new(), None);
            }
            if let Some(weaker) = weaker_outcome(&rule.outcome, fallback_approver(&p.meta)) {
                let span = self
                    .marks
                    .rule_outcomes
                    .get(name)
                    .copied()
                    .unwrap_or(rule.span);
                let change = format!(
                    "`{}` → `{}`",
                    outcome_text(&p.meta, rule.outcome.level, rule.outcome.approver),
                    outcome_text(&p.meta, weaker.level, weaker.approver)
                );
                let nudges = self.nudges(rule.when.as_ref());
                self.push(
                    &cx,
                    MutantKind::OutcomeWeakened,
                    span,
                    change,
                    nudges,
                    Edit::RuleOutcome(rule.id, weaker),
                );
            }
            for (i, limit) in rule.outcome.limits.iter().enumerate() {
                if let Some(op) = relaxed_limit(limit.op) {
                    let before = SrcSpan {
                        file: limit.value.span.file,
                        start: rule.span.start,
                        end: limit.value.span.start,
                    };
                    let span =
                        text::last_token(p, before, limit.op.as_str()).unwrap_or(limit.value.span);
                    self.push(
                        &cx,
                        MutantKind::ComparisonRelaxed,
                        span,
                        format!("`{}` → `{}`", limit.op.as_str(), op.as_str()),
                        Vec::new(),
                        Edit::LimitOp(rule.id, i, op),
                    );
                }
                self.expr(
                    &cx,
                    Root::Limit(rule.id, i),
                    &limit.value,
                    &mut Vec::new(),
                    None,
                );
            }
            let consume_cx = Context {
                constant: MutantKind::ConsumeChanged,
                ..cx
            };
            for (i, consume) in rule.consumes.iter().enumerate() {
                self.consume(&consume_cx, rule.id, i, &consume.amount);
            }
        }
    }

    /// A consumption: constants in it move; an amount read from the
    /// envelope is changed by one unit either way.
    fn consume(&mut self, cx: &Context, rule: RuleId, index: usize, amount: &Expr) {
        if amount.as_const().is_none() {
            if let Some(one) = one_unit(&amount.ty) {
                let quoted = text::quote(self.policy, amount.span);
                for (op, sign) in [(ArithOp::Add, "+"), (ArithOp::Sub, "-")] {
                    self.push(
                        cx,
                        MutantKind::ConsumeChanged,
                        amount.span,
                        format!("`{quoted}` → `{quoted} {sign} 1`"),
                        Vec::new(),
                        Edit::ConsumeBy(rule, index, op, one.clone()),
                    );
                }
            }
        }
        self.expr(
            cx,
            Root::Consume(rule, index),
            amount,
            &mut Vec::new(),
            None,
        );
    }

    fn scopes(&mut self) {
        let p = self.policy;
        for (agent_index, predicates) in p.scopes.iter().enumerate() {
            let agent = p
                .meta
                .agents
                .get_index(agent_index)
                .map_or("?", |(n, _)| n.as_str());
            for (i, (entity, predicate)) in predicates.iter().enumerate() {
                let actions = p
                    .schema
                    .actions
                    .iter()
                    .enumerate()
                    .filter(|(_, (_, def))| def.object == *entity)
                    .map(|(a, _)| ActionId::from_index(a));
                let cx = Context {
                    owner: Owner::Scope {
                        agent: agent.to_string(),
                        entity: p.schema.entity_name(*entity).to_string(),
                    },
                    actions: Some(self.action_names(actions)),
                    constant: MutantKind::ThresholdMoved,
                };
                let agent_id = AgentId::from_index(agent_index);
                self.push(
                    &cx,
                    MutantKind::ScopePredicateRemoved,
                    predicate.span,
                    format!(
                        "record predicate `{}` removed",
                        text::quote(p, predicate.span)
                    ),
                    self.nudges(Some(predicate)),
                    Edit::DropScope(agent_id, i),
                );
                self.expr(
                    &cx,
                    Root::Scope(agent_id, i),
                    predicate,
                    &mut Vec::new(),
                    None,
                );
            }
        }
    }

    fn raises(&mut self) {
        let p = self.policy;
        for (index, (def, when)) in p.meta.raises.iter().zip(&p.raises).enumerate() {
            let id = RaiseId::from_index(index);
            let cx = Context {
                owner: Owner::Raise {
                    name: def.name.clone(),
                },
                actions: def
                    .actions
                    .as_ref()
                    .map(|a| self.action_names(a.iter().copied())),
                constant: MutantKind::ThresholdMoved,
            };
            self.expr(&cx, Root::Raise(id), when, &mut Vec::new(), None);
            for (arm, (from, spec)) in def.arms.iter().enumerate() {
                let Some(weaker) = weaker_spec(spec, fallback_approver(&p.meta)) else {
                    continue;
                };
                // An arm weakened to its own level (or below) lifts nothing:
                // it is the arm removed, which a weaker level already tests.
                if weaker.level <= *from {
                    continue;
                }
                let span = self
                    .marks
                    .raise_arms
                    .get(&def.name)
                    .and_then(|arms| arms.get(arm))
                    .copied()
                    .unwrap_or(when.span);
                let change = format!(
                    "`{from} -> {}` → `{from} -> {}`",
                    outcome_text(&p.meta, spec.level, spec.approver),
                    outcome_text(&p.meta, weaker.level, weaker.approver)
                );
                self.push(
                    &cx,
                    MutantKind::OutcomeWeakened,
                    span,
                    change,
                    self.nudges(Some(when)),
                    Edit::RaiseArm(id, arm, weaker),
                );
            }
        }
    }

    fn risks(&mut self) {
        let p = self.policy;
        for (index, (meta, body)) in p.meta.risks.iter().zip(&p.risks).enumerate() {
            let cx = Context {
                owner: Owner::Risk {
                    name: meta.name.clone(),
                },
                actions: meta
                    .actions
                    .as_ref()
                    .map(|a| self.action_names(a.iter().copied())),
                constant: MutantKind::ThresholdMoved,
            };
            self.expr(
                &cx,
                Root::Risk(RiskId::from_index(index)),
                body,
                &mut Vec::new(),
                None,
            );
        }
    }

    fn budgets(&mut self) {
        let p = self.policy;
        for (index, (name, def)) in p.meta.budgets.iter().enumerate() {
            let id = BudgetId::from_index(index);
            let consumers = p
                .rules
                .iter()
                .filter(|r| r.consumes.iter().any(|c| c.budget == id))
                .flat_map(|r| r.actions.iter().copied())
                .collect::<std::collections::BTreeSet<_>>();
            let cx = Context {
                owner: Owner::Budget { name: name.clone() },
                actions: Some(self.action_names(consumers)),
                constant: MutantKind::ThresholdMoved,
            };
            if let Some(span) = self.marks.budget_limits.get(name).copied() {
                let written = p.text(span).unwrap_or("").to_string();
                for up in [false, true] {
                    if let Some((value, how)) = literal::moved(&def.limit, &written, up) {
                        self.push(
                            &cx,
                            MutantKind::ThresholdMoved,
                            span,
                            format!(
                                "`{}` → `{}`",
                                written.trim(),
                                literal::write(&value, how, &def.ty)
                            ),
                            Vec::new(),
                            Edit::BudgetLimit(id, value),
                        );
                    }
                }
            }
            if let Some(weaker) = weaker_spec(&def.on_exhausted, fallback_approver(&p.meta)) {
                let span = self
                    .marks
                    .budget_exhausted
                    .get(name)
                    .copied()
                    .unwrap_or_else(|| self.marks.fallback());
                let change = format!(
                    "`{}` → `{}`",
                    outcome_text(&p.meta, def.on_exhausted.level, def.on_exhausted.approver),
                    outcome_text(&p.meta, weaker.level, weaker.approver)
                );
                self.push(
                    &cx,
                    MutantKind::OutcomeWeakened,
                    span,
                    change,
                    Vec::new(),
                    Edit::Exhausted(id, weaker),
                );
            }
        }
    }

    fn policy_outcomes(&mut self) {
        let p = self.policy;
        let cx = Context {
            owner: Owner::Policy,
            actions: None,
            constant: MutantKind::ThresholdMoved,
        };
        let approver = fallback_approver(&p.meta);
        if let Some(weaker) = weaker_spec(&p.meta.default, approver) {
            let span = self.marks.default.unwrap_or_else(|| self.marks.fallback());
            let change = format!(
                "default `{}` → `{}`",
                outcome_text(&p.meta, p.meta.default.level, p.meta.default.approver),
                outcome_text(&p.meta, weaker.level, weaker.approver)
            );
            self.push(
                &cx,
                MutantKind::OutcomeWeakened,
                span,
                change,
                Vec::new(),
                Edit::Default(weaker),
            );
        }
        // `on_error` is at least `escalate` whatever it says: only `deny`
        // has a weaker outcome the runtime would honour.
        if p.meta.on_error.level == Level::Deny {
            if let Some(weaker) = weaker_spec(&p.meta.on_error, approver) {
                let span = self.marks.on_error.unwrap_or_else(|| self.marks.fallback());
                let change = format!(
                    "on_error `deny` → `{}`",
                    outcome_text(&p.meta, weaker.level, weaker.approver)
                );
                self.push(
                    &cx,
                    MutantKind::OutcomeWeakened,
                    span,
                    change,
                    Vec::new(),
                    Edit::OnError(weaker),
                );
            }
        }
    }

    /// The mutants of `e` and everything under it. `atom` is the nearest
    /// enclosing boolean part (a comparison, a call, a membership), whose
    /// boundaries the nudges of a moved constant aim at.
    fn expr(
        &mut self,
        cx: &Context,
        root: Root,
        e: &Expr,
        path: &mut Vec<u8>,
        atom: Option<&Expr>,
    ) {
        let p = self.policy;
        let atom = match &e.kind {
            ExprKind::And(..) | ExprKind::Or(..) | ExprKind::Not(_) => None,
            _ if e.ty == Type::Bool => Some(e),
            _ => atom,
        };
        let at = |with: Replace, path: &Vec<u8>| Edit::Expr {
            root,
            path: path.clone(),
            with,
        };
        match &e.kind {
            ExprKind::Cmp(op, a, b) => {
                let span = text::token_between(p, a.span, b.span, op.as_str()).unwrap_or(e.span);
                for (new, kind) in comparison_mutations(*op) {
                    self.push(
                        cx,
                        *kind,
                        span,
                        format!("`{}` → `{}`", op.as_str(), new.as_str()),
                        self.nudges(Some(e)),
                        at(Replace::Cmp(*new), path),
                    );
                }
            }
            ExprKind::Const(value) => {
                let written = p.text(e.span).unwrap_or("").to_string();
                for up in [false, true] {
                    if let Some((moved, how)) = literal::moved(value, &written, up) {
                        self.push(
                            cx,
                            cx.constant,
                            e.span,
                            format!(
                                "`{}` → `{}`",
                                written.trim(),
                                literal::write(&moved, how, &e.ty)
                            ),
                            self.nudges(atom),
                            at(Replace::Const(moved), path),
                        );
                    }
                }
            }
            ExprKind::And(a, b) | ExprKind::Or(a, b) => {
                let (word, other) = match e.kind {
                    ExprKind::And(..) => ("and", "or"),
                    _ => ("or", "and"),
                };
                // The checker writes conjunctions of its own: `has
                // l.payee.status` proves `l.payee` and then the payee. With
                // no `and` in the source between the operands, there is
                // nothing an author could have mistyped.
                let Some(span) = logic_token(p, e) else {
                    self.children(cx, root, e, path, atom);
                    return;
                };
                let nudges = self.nudges(Some(e));
                self.push(
                    cx,
                    MutantKind::AndOrSwapped,
                    span,
                    format!("`{word}` → `{other}`"),
                    nudges.clone(),
                    at(Replace::Logic, path),
                );
                for (i, operand) in [a, b].into_iter().enumerate() {
                    // Within a chain (`a and b and c`) each operand is
                    // dropped on its own, never a run of them.
                    if same_logic(operand, e) && logic_token(p, operand).is_some() {
                        continue;
                    }
                    self.push(
                        cx,
                        MutantKind::PartDropped,
                        operand.span,
                        format!("`{}` dropped", text::quote(p, operand.span)),
                        nudges.clone(),
                        at(Replace::Child(1 - i), path),
                    );
                }
            }
            ExprKind::Not(_) => {
                let span = text::first_token(p, e.span, "not").unwrap_or(e.span);
                self.push(
                    cx,
                    MutantKind::NegationDropped,
                    span,
                    "`not` dropped".to_string(),
                    self.nudges(Some(e)),
                    at(Replace::Child(0), path),
                );
            }
            _ => {}
        }
        self.children(cx, root, e, path, atom);
    }

    /// The mutants of everything under `e`.
    fn children(
        &mut self,
        cx: &Context,
        root: Root,
        e: &Expr,
        path: &mut Vec<u8>,
        atom: Option<&Expr>,
    ) {
        for (i, child) in e.children().into_iter().enumerate() {
            path.push(i as u8);
            self.expr(cx, root, child, path, atom);
            path.pop();
        }
    }
}

/// Where the `and` or `or` of `e` is written, if it is.
fn logic_token(p: &Policy, e: &Expr) -> Option<SrcSpan> {
    match &e.kind {
        ExprKind::And(a, b) => text::token_between(p, a.span, b.span, "and"),
        ExprKind::Or(a, b) => text::token_between(p, a.span, b.span, "or"),
        _ => None,
    }
}

fn same_logic(child: &Expr, parent: &Expr) -> bool {
    matches!(
        (&child.kind, &parent.kind),
        (ExprKind::And(..), ExprKind::And(..)) | (ExprKind::Or(..), ExprKind::Or(..))
    )
}

fn comparison_mutations(op: CmpOp) -> &'static [(CmpOp, MutantKind)] {
    use CmpOp::*;
    use MutantKind::{ComparisonFlipped as F, ComparisonRelaxed as R};
    match op {
        Eq => &[(Ne, F)],
        Ne => &[(Eq, F)],
        Lt => &[(Ge, F), (Le, R)],
        Le => &[(Gt, F), (Lt, R)],
        Gt => &[(Le, F), (Ge, R)],
        Ge => &[(Lt, F), (Gt, R)],
    }
}

fn relaxed_limit(op: ConstraintOp) -> Option<ConstraintOp> {
    match op {
        ConstraintOp::Le => Some(ConstraintOp::Lt),
        ConstraintOp::Lt => Some(ConstraintOp::Le),
        ConstraintOp::Ge => Some(ConstraintOp::Gt),
        ConstraintOp::Gt => Some(ConstraintOp::Ge),
        ConstraintOp::In => None,
    }
}

/// One unit of an amount's type.
fn one_unit(ty: &Type) -> Option<Value> {
    match ty {
        Type::Int => Some(Value::Int(1)),
        Type::Decimal => Some(Value::Decimal(Decimal::ONE)),
        Type::Money(_) => Some(Value::Money(Decimal::ONE)),
        _ => None,
    }
}

fn weaker_level(level: Level) -> Option<Level> {
    match level {
        Level::Deny => Some(Level::Escalate),
        Level::Escalate => Some(Level::Constrain),
        Level::Constrain => Some(Level::Allow),
        Level::Allow => None,
    }
}

/// Who a `deny` weakened to `escalate` goes to: the approver of
/// `on_error`, else the first declared. `None` when there is none.
fn fallback_approver(meta: &PolicyMeta) -> Option<ApproverId> {
    meta.on_error
        .approver
        .or_else(|| (!meta.approvers.is_empty()).then_some(ApproverId(0)))
}

fn weaker_outcome(outcome: &Outcome, approver: Option<ApproverId>) -> Option<Outcome> {
    let level = weaker_level(outcome.level)?;
    Some(Outcome {
        level,
        approver: match level {
            Level::Escalate => Some(approver?),
            _ => None,
        },
        reason: outcome.reason.clone(),
        limits: Vec::new(),
        requires: Vec::new(),
    })
}

fn weaker_spec(spec: &OutcomeSpec, approver: Option<ApproverId>) -> Option<OutcomeSpec> {
    let level = weaker_level(spec.level)?;
    Some(OutcomeSpec {
        level,
        approver: match level {
            Level::Escalate => Some(approver?),
            _ => None,
        },
        reason: spec.reason.clone(),
        requires: Vec::new(),
    })
}

fn outcome_text(meta: &PolicyMeta, level: Level, approver: Option<ApproverId>) -> String {
    match (level, approver) {
        (Level::Escalate, Some(a)) => format!("escalate to {}", meta.approver_name(a)),
        (level, _) => level.as_str().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_ordering_has_a_flip_and_a_relaxation() {
        for op in [CmpOp::Lt, CmpOp::Le, CmpOp::Gt, CmpOp::Ge] {
            let kinds: Vec<MutantKind> = comparison_mutations(op).iter().map(|m| m.1).collect();
            assert_eq!(
                kinds,
                [MutantKind::ComparisonFlipped, MutantKind::ComparisonRelaxed]
            );
        }
        assert_eq!(
            comparison_mutations(CmpOp::Eq),
            &[(CmpOp::Ne, MutantKind::ComparisonFlipped)]
        );
    }

    #[test]
    fn outcomes_weaken_one_level() {
        assert_eq!(weaker_level(Level::Deny), Some(Level::Escalate));
        assert_eq!(weaker_level(Level::Escalate), Some(Level::Constrain));
        assert_eq!(weaker_level(Level::Constrain), Some(Level::Allow));
        assert_eq!(weaker_level(Level::Allow), None);
    }
}
