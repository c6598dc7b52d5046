//! Random checked policies: identities, budgets, risks, rules and raises
//! over a generated schema, as the checker would lower them to the IR.

use actpol_core::decision::{ConstraintOp, Level, Requirement};
use actpol_core::ids::{
    ActionId, AgentId, ApproverId, BudgetId, EntityId, RiskId, RuleId, SystemId,
};
use actpol_core::schema::{
    AgentDef, ApproverDef, BudgetDef, KeyKind, OutcomeSpec, PolicyMeta, RaiseDef, RiskMeta,
    RuleMeta, Schema, ScopeDef, Window,
};
use actpol_core::types::Type;
use actpol_core::value::Value;
use actpol_core::Decimal;
use actpol_ir::{Consume, Expr, Limit, Outcome, Policy, Presence, Rule, SrcSpan};

use crate::expr::{and, has, types, Gen, Scope};
use crate::schema::currency;
use crate::{Rng, Stream, DAY, HOUR, OWNERS, WORKFLOWS};

const AGENTS: [&str; 4] = ["growth-bot", "ops-bot", "triage-bot", "audit-bot"];
const APPROVERS: [(&str, &str); 3] = [
    ("growth-lead", "Head of Growth"),
    ("security-oncall", "Security on call"),
    ("finance-lead", "Head of Finance"),
];
const BUDGETS: [&str; 4] = ["sends", "credits", "points", "minutes"];

/// Generates a policy over `schema` (which should come from
/// [`crate::schema`]). The same seed and schema give the same policy.
pub fn policy(seed: u64, schema: &Schema) -> Policy {
    let mut b = Builder {
        rng: Rng::stream(seed, Stream::Policy),
        schema,
        types: types(schema),
        meta: PolicyMeta {
            name: format!("gen-{seed}"),
            agents: Default::default(),
            approvers: Default::default(),
            budgets: Default::default(),
            default: OutcomeSpec {
                level: Level::Deny,
                approver: None,
                reason: None,
                requires: Vec::new(),
            },
            on_error: OutcomeSpec {
                level: Level::Deny,
                approver: None,
                reason: None,
                requires: Vec::new(),
            },
            rules: Vec::new(),
            raises: Vec::new(),
            risks: Vec::new(),
            timing: Default::default(),
        },
        risks: Vec::new(),
    };
    b.identities();
    b.budgets();
    b.meta.default = b.spec("default", &[Level::Allow, Level::Deny, Level::Escalate], 80);
    // Without a reason, the combiner words one from the error, so error
    // messages become part of what the two evaluators must agree on.
    b.meta.on_error = b.spec("on_error", &[Level::Deny, Level::Escalate], 70);
    for _ in 0..b.rng.below(4) {
        b.risk();
    }
    let scopes = b.scopes();
    // Mostly a handful of rules, sometimes many: with many, some strict
    // rule nearly always matches and decides.
    let count = if b.rng.chance(60) {
        b.rng.range(1, 8)
    } else {
        b.rng.range(9, 30)
    };
    let rules: Vec<Rule> = (0..count).map(|i| b.rule(i)).collect();
    b.precedence(&rules);
    let raises = (0..b.rng.below(3)).map(|i| b.raise(i)).collect();
    Policy {
        schema: schema.clone(),
        meta: b.meta,
        scopes,
        rules,
        raises,
        risks: b.risks,
        files: Vec::new(),
    }
}

struct Builder<'s> {
    rng: Rng,
    schema: &'s Schema,
    types: Vec<Type>,
    meta: PolicyMeta,
    /// Risk expressions, indexed like `meta.risks`.
    risks: Vec<Expr>,
}

impl Builder<'_> {
    /// Some escalating rules take precedence over some denying ones (and,
    /// now and then, over a rule that does not deny, as an artifact may say
    /// though the checker would refuse it: it must change nothing).
    fn precedence(&mut self, rules: &[Rule]) {
        let denying: Vec<RuleId> = rules
            .iter()
            .filter(|r| r.outcome.level == Level::Deny || self.rng.chance(5))
            .map(|r| r.id)
            .collect();
        if denying.is_empty() {
            return;
        }
        for rule in rules.iter().filter(|r| r.outcome.level == Level::Escalate) {
            if !self.rng.chance(50) {
                continue;
            }
            let mut named: Vec<RuleId> = (0..self.rng.range(1, 2))
                .map(|_| self.rng.pick(&denying))
                .collect();
            named.sort();
            named.dedup();
            self.meta.rules[rule.id.index()].overrides = named;
        }
    }

    fn gen(&mut self, tame: bool) -> Gen<'_> {
        Gen {
            rng: &mut self.rng,
            schema: self.schema,
            meta: &self.meta,
            types: &self.types,
            tame,
        }
    }

    fn identities(&mut self) {
        let count = self.rng.range(1, APPROVERS.len());
        for (name, title) in &APPROVERS[..count] {
            let def = ApproverDef {
                title: self.rng.chance(70).then(|| title.to_string()),
                contact: self.rng.chance(50).then(|| format!("{name}@acme.example")),
            };
            self.meta.approvers.insert(name.to_string(), def);
        }
        let mut agents = AGENTS.to_vec();
        self.rng.shuffle(&mut agents);
        for name in &agents[..self.rng.range(1, AGENTS.len())] {
            let scope = self.rng.chance(45).then(|| ScopeDef {
                systems: self.rng.chance(50).then(|| {
                    self.some_of(self.schema.systems.len())
                        .into_iter()
                        .map(SystemId::from_index)
                        .collect()
                }),
                objects: self.rng.chance(50).then(|| {
                    self.some_of(self.schema.entities.len())
                        .into_iter()
                        .map(EntityId::from_index)
                        .collect()
                }),
            });
            let def = AgentDef {
                owner: self.rng.pick(&OWNERS).to_string(),
                workflow: self.rng.pick(&WORKFLOWS).to_string(),
                scope,
            };
            self.meta.agents.insert(name.to_string(), def);
        }
    }

    /// A sorted selection of `0..n`, rarely empty (a scope that admits
    /// nothing refuses every envelope).
    fn some_of(&mut self, n: usize) -> Vec<usize> {
        let mut out: Vec<usize> = (0..n).filter(|_| self.rng.chance(65)).collect();
        if out.is_empty() && self.rng.chance(80) {
            out.push(self.rng.below(n));
        }
        out
    }

    fn approver(&mut self) -> ApproverId {
        ApproverId::from_index(self.rng.below(self.meta.approvers.len()))
    }

    /// An outcome without expressions at one of `levels`; with a reason
    /// (starting with `what`, so a decision's reasons tell which
    /// declaration decided) `reason_percent` times in a hundred.
    fn spec(&mut self, what: &str, levels: &[Level], reason_percent: u64) -> OutcomeSpec {
        let level = self.rng.pick(levels);
        let approver = (level == Level::Escalate).then(|| self.approver());
        let reason = self
            .rng
            .chance(reason_percent)
            .then(|| format!("{what}: {level} (case {})", self.rng.below(3)));
        let requires = if level == Level::Constrain {
            self.requires()
        } else {
            Vec::new()
        };
        OutcomeSpec {
            level,
            approver,
            reason,
            requires,
        }
    }

    fn requires(&mut self) -> Vec<Requirement> {
        self.rng
            .subset(&[Requirement::DryRun, Requirement::Rollback], 35)
    }

    fn budgets(&mut self) {
        let mut names = BUDGETS.to_vec();
        self.rng.shuffle(&mut names);
        for name in &names[..self.rng.below(4)] {
            let money = self
                .types
                .iter()
                .find(|t| matches!(t, Type::Money(_)))
                .cloned()
                .unwrap_or(Type::Money(currency("USD")));
            let ty = self
                .rng
                .pick(&[Type::Int, Type::Int, Type::Decimal, money, Type::Duration]);
            let amount: i64 = self.rng.pick(&[0, 1, 10, 10, 100, 100, 500, 1000]);
            let limit = match &ty {
                Type::Int => Value::Int(amount),
                Type::Decimal => Value::Decimal(Decimal::new(amount * 10 + 5, 1)),
                Type::Money(_) => Value::Money(Decimal::from(amount)),
                _ => Value::Duration(amount * 60_000),
            };
            let window = if self.rng.chance(80) {
                Window::Span(self.rng.pick(&[HOUR, DAY, 30 * DAY]))
            } else {
                Window::Plan
            };
            let key = if self.rng.chance(5) {
                KeyKind::Plan
            } else {
                self.rng.pick(&[
                    KeyKind::Agent,
                    KeyKind::Agent,
                    KeyKind::Workflow,
                    KeyKind::Owner,
                    KeyKind::Object,
                ])
            };
            // No reason, now and then: the combiner then words one itself.
            let on_exhausted = self.spec(
                &format!("budget {name} is spent"),
                &[Level::Deny, Level::Escalate],
                60,
            );
            self.meta.budgets.insert(
                name.to_string(),
                BudgetDef {
                    ty,
                    limit,
                    window,
                    key,
                    on_exhausted,
                },
            );
        }
    }

    /// A random non-empty, sorted, duplicate-free set of actions: one
    /// action, a namespace, every action, or any few.
    fn actions(&mut self) -> Vec<ActionId> {
        let n = self.schema.actions.len();
        let names: Vec<&str> = self.schema.actions.keys().map(String::as_str).collect();
        let mut out: Vec<ActionId> = match self.rng.below(10) {
            0..=3 => vec![ActionId::from_index(self.rng.below(n))],
            4..=5 => {
                let ns = names[self.rng.below(n)].split('.').next().unwrap_or("");
                (0..n)
                    .filter(|i| names[*i].split('.').next() == Some(ns))
                    .map(ActionId::from_index)
                    .collect()
            }
            6 => (0..n).map(ActionId::from_index).collect(),
            _ => (0..n)
                .filter(|_| self.rng.chance(40))
                .map(ActionId::from_index)
                .collect(),
        };
        if out.is_empty() {
            out.push(ActionId::from_index(self.rng.below(n)));
        }
        out.sort();
        out.dedup();
        out
    }

    /// The risks a place over `actions` (`None`: every action) may use:
    /// those that apply to all of its actions.
    fn usable_risks(&self, actions: Option<&[ActionId]>) -> Vec<RiskId> {
        self.meta
            .risks
            .iter()
            .enumerate()
            .filter(|(_, r)| match (&r.actions, actions) {
                (None, _) => true,
                (Some(_), None) => false,
                (Some(theirs), Some(ours)) => ours.iter().all(|a| theirs.binary_search(a).is_ok()),
            })
            .map(|(i, _)| RiskId::from_index(i))
            .collect()
    }

    fn all_actions(&self) -> Vec<ActionId> {
        (0..self.schema.actions.len())
            .map(ActionId::from_index)
            .collect()
    }

    fn risk(&mut self) {
        let actions = self.rng.chance(50).then(|| self.actions());
        let within = actions.clone().unwrap_or_else(|| self.all_actions());
        // Earlier risks only: risks must not use themselves.
        let mut scope = Scope::over(self.schema, &within, self.usable_risks(actions.as_deref()));
        let ty = self.rng.pick(&[
            Type::Int,
            Type::Decimal,
            Type::Duration,
            Type::Bool,
            Type::String,
            self.types
                .iter()
                .find(|t| matches!(t, Type::Money(_)))
                .cloned()
                .unwrap_or(Type::Int),
        ]);
        let depth = self.rng.range(0, 2) as u32;
        let expr = self.gen(false).value(&mut scope, &ty, depth);
        let name = format!("risk_{}", self.meta.risks.len());
        self.meta.risks.push(RiskMeta { name, ty, actions });
        self.risks.push(expr);
    }

    /// Record predicates, one list per agent: only agents with a scope
    /// have them, at most one per entity.
    fn scopes(&mut self) -> Vec<Vec<(EntityId, Expr)>> {
        let scoped: Vec<bool> = self
            .meta
            .agents
            .values()
            .map(|a| a.scope.is_some())
            .collect();
        scoped
            .into_iter()
            .map(|has_scope| {
                if !has_scope {
                    return Vec::new();
                }
                let mut out = Vec::new();
                for e in 0..self.schema.entities.len() {
                    if self.rng.chance(25) {
                        let entity = EntityId::from_index(e);
                        let mut scope = Scope::record(self.schema, entity);
                        let depth = self.rng.range(0, 2) as u32;
                        out.push((entity, self.gen(false).boolean(&mut scope, depth)));
                    }
                }
                out
            })
            .collect()
    }

    fn rule(&mut self, index: usize) -> Rule {
        let actions = self.actions();
        let risks = self.usable_risks(Some(&actions));
        let mut scope = Scope::over(self.schema, &actions, risks);
        let agents = self.rng.chance(20).then(|| {
            let n = self.meta.agents.len();
            let mut list: Vec<AgentId> = (0..n)
                .filter(|_| self.rng.chance(50))
                .map(AgentId::from_index)
                .collect();
            if list.is_empty() {
                list.push(AgentId::from_index(self.rng.below(n)));
            }
            // The list is a set: its order, and an agent named twice
            // (`for agent a, a`), must not change what the rule does.
            self.rng.shuffle(&mut list);
            if self.rng.chance(15) {
                list.push(list[0]);
            }
            list
        });
        let workflows = self.rng.chance(10).then(|| {
            let mut list: Vec<String> = WORKFLOWS
                .iter()
                .filter(|_| self.rng.chance(50))
                .map(|w| w.to_string())
                .collect();
            if list.is_empty() {
                list.push(self.rng.pick(&WORKFLOWS).to_string());
            }
            list
        });

        // `has x and …` at the top of a condition proves `x` for the rest of
        // it, and for the rule's outcome and consumes too.
        let presences = scope.presences();
        let guard: Vec<Presence> = if !presences.is_empty() && self.rng.chance(25) {
            vec![self.rng.pick(&presences)]
        } else {
            Vec::new()
        };
        scope.proven.extend(guard.iter().copied());
        let when = if self.rng.chance(85) || !guard.is_empty() {
            let depth = self.rng.range(1, 3) as u32;
            let mut g = self.gen(false);
            let body = match guard.first() {
                Some(p) if g.rng.chance(70) => g.about(&mut scope, *p, depth),
                _ => g.boolean(&mut scope, depth),
            };
            Some(guard.iter().rev().fold(body, |e, p| and(has(*p), e)))
        } else {
            None
        };

        // Stricter rules win whenever they match, so they are drawn less
        // often: otherwise nearly every decision would deny.
        let level = self.rng.pick(&[
            Level::Allow,
            Level::Allow,
            Level::Allow,
            Level::Allow,
            Level::Constrain,
            Level::Constrain,
            Level::Constrain,
            Level::Constrain,
            Level::Escalate,
            Level::Escalate,
            Level::Deny,
        ]);
        let approver = (level == Level::Escalate).then(|| self.approver());
        let reason = (matches!(level, Level::Deny | Level::Escalate) || self.rng.chance(60))
            .then(|| format!("rule {index} says {level}"));
        let (limits, requires) = if level == Level::Constrain {
            (self.limits(&mut scope), self.requires())
        } else {
            (Vec::new(), Vec::new())
        };
        // Only rules that let the action proceed consume (the others'
        // consumes never apply), so they are the ones given consumes.
        let mut consumes = Vec::new();
        let consume_percent = if level.proceeds() { 55 } else { 15 };
        if !self.meta.budgets.is_empty() && self.rng.chance(consume_percent) {
            for _ in 0..self.rng.range(1, 2) {
                let budget = BudgetId::from_index(self.rng.below(self.meta.budgets.len()));
                let ty = self.meta.budgets[budget.index()].ty.clone();
                let depth = self.rng.below(2) as u32;
                let amount = if self.rng.chance(3) {
                    // A negative amount: an evaluation error, never a refund.
                    let mut g = self.gen(true);
                    let one = g.constant(&ty);
                    let negated = actpol_core::ops::negate(&one).unwrap_or(one);
                    crate::expr::mk(actpol_ir::ExprKind::Const(negated), ty)
                } else {
                    self.gen(true).value(&mut scope, &ty, depth)
                };
                consumes.push(Consume { budget, amount });
            }
        }
        self.meta.rules.push(RuleMeta {
            name: format!("rule_{index}"),
            doc: self.rng.chance(30).then(|| format!("Rule number {index}.")),
            overrides: Vec::new(),
        });
        Rule {
            id: RuleId::from_index(index),
            actions,
            agents,
            workflows,
            when,
            outcome: Outcome {
                level,
                approver,
                reason,
                limits,
                requires,
            },
            consumes,
            span: SrcSpan::default(),
        }
    }

    /// Limits on parameters every action of the rule declares: bounds on
    /// ordered ones, `in` on set elements. Mostly small constants, so that
    /// limits of different rules overlap and sometimes contradict.
    fn limits(&mut self, scope: &mut Scope) -> Vec<Limit> {
        let params: Vec<(actpol_core::ids::NameId, Type)> = scope
            .reads
            .iter()
            .filter_map(|r| match r.kind {
                actpol_ir::ExprKind::Param(n) if r.ty.is_ordered() || r.ty.is_set_element() => {
                    Some((n, r.ty.clone()))
                }
                _ => None,
            })
            .collect();
        if params.is_empty() {
            return Vec::new();
        }
        let mut out = Vec::new();
        for _ in 0..self.rng.range(0, 3) {
            let (param, ty) = self.rng.pick(&params);
            let bound = ty.is_ordered() && (!ty.is_set_element() || self.rng.chance(70));
            let (op, value_ty) = if bound {
                let op = self.rng.pick(&[
                    ConstraintOp::Le,
                    ConstraintOp::Lt,
                    ConstraintOp::Ge,
                    ConstraintOp::Gt,
                ]);
                (op, ty)
            } else {
                (ConstraintOp::In, Type::Set(Box::new(ty)))
            };
            let value = if self.rng.chance(75) {
                self.gen(false).constant_expr(&value_ty)
            } else {
                self.gen(false).value(scope, &value_ty, 1)
            };
            out.push(Limit { param, op, value });
        }
        out
    }

    fn raise(&mut self, index: usize) -> Expr {
        let actions = self.rng.chance(50).then(|| self.actions());
        let within = actions.clone().unwrap_or_else(|| self.all_actions());
        let mut scope = Scope::over(self.schema, &within, self.usable_risks(actions.as_deref()));
        let mut arms = Vec::new();
        for from in [Level::Allow, Level::Constrain, Level::Escalate] {
            if self.rng.chance(55) {
                let stricter: Vec<Level> = Level::ALL.into_iter().filter(|l| *l > from).collect();
                let spec = self.spec(&format!("raise_{index}"), &stricter, 80);
                arms.push((from, spec));
            }
        }
        if arms.is_empty() {
            let spec = self.spec(
                &format!("raise_{index}"),
                &[Level::Escalate, Level::Deny],
                80,
            );
            arms.push((Level::Allow, spec));
        }
        self.meta.raises.push(RaiseDef {
            name: format!("raise_{index}"),
            actions,
            arms,
        });
        let depth = self.rng.range(0, 2) as u32;
        if self.rng.chance(30) {
            // The raise of the language reference: `when not reversible`.
            let reversible = crate::expr::mk(
                actpol_ir::ExprKind::Env(actpol_ir::EnvField::Reversible),
                Type::Bool,
            );
            crate::expr::mk(actpol_ir::ExprKind::Not(Box::new(reversible)), Type::Bool)
        } else {
            self.gen(false).boolean(&mut scope, depth)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actpol_ir::ExprKind;

    /// Checks the IR contract the checker keeps, and the exact types of
    /// every expression, so that a generator mistake is not mistaken for a
    /// VM or reference evaluator bug.
    fn check_contract(p: &Policy) {
        assert_eq!(p.scopes.len(), p.meta.agents.len());
        assert_eq!(p.rules.len(), p.meta.rules.len());
        assert_eq!(p.raises.len(), p.meta.raises.len());
        assert_eq!(p.risks.len(), p.meta.risks.len());
        let sorted = |list: &[ActionId]| list.windows(2).all(|w| w[0] < w[1]);
        for (i, rule) in p.rules.iter().enumerate() {
            assert_eq!(rule.id.index(), i);
            assert!(sorted(&rule.actions) && !rule.actions.is_empty());
            if let Some(w) = &rule.when {
                assert_eq!(w.ty, Type::Bool);
                typed(p, w);
            }
            for c in &rule.consumes {
                assert_eq!(c.amount.ty, p.meta.budgets[c.budget.index()].ty);
                typed(p, &c.amount);
            }
            for l in &rule.outcome.limits {
                typed(p, &l.value);
            }
            assert_eq!(
                rule.outcome.level == Level::Escalate,
                rule.outcome.approver.is_some()
            );
        }
        for r in &p.meta.raises {
            assert!(r.actions.as_deref().is_none_or(sorted));
        }
        for (meta, e) in p.meta.risks.iter().zip(&p.risks) {
            assert!(meta.actions.as_deref().is_none_or(sorted));
            assert_eq!(meta.ty, e.ty);
            typed(p, e);
        }
    }

    /// The type rules of docs/language.md, checked node by node.
    fn typed(p: &Policy, e: &Expr) {
        use actpol_core::ops::{ArithOp::*, Builtin};
        let t = &e.ty;
        match &e.kind {
            ExprKind::Const(v) => match (v, t) {
                (Value::Set(items), Type::Set(_)) => {
                    assert!(items.windows(2).all(|w| w[0].total_cmp(&w[1]).is_lt()))
                }
                (Value::List(_), Type::List(_)) | (Value::Record(_), Type::Record(_)) => {}
                (Value::Bool(_), Type::Bool)
                | (Value::Int(_), Type::Int)
                | (Value::Decimal(_), Type::Decimal)
                | (Value::Money(_), Type::Money(_))
                | (Value::Duration(_), Type::Duration)
                | (Value::Timestamp(_), Type::Timestamp)
                | (Value::String(_), Type::String)
                | (Value::Enum(_), Type::Enum(_))
                | (Value::Ref(_), Type::Entity(_)) => {}
                other => panic!("constant of the wrong type: {other:?}"),
            },
            ExprKind::Not(a) => {
                assert_eq!((t, &a.ty), (&Type::Bool, &Type::Bool));
                typed(p, a);
            }
            ExprKind::And(a, b) | ExprKind::Or(a, b) => {
                assert_eq!((t, &a.ty, &b.ty), (&Type::Bool, &Type::Bool, &Type::Bool));
                typed(p, a);
                typed(p, b);
            }
            ExprKind::Cmp(op, a, b) => {
                assert_eq!(a.ty, b.ty, "{op:?}");
                if !matches!(
                    op,
                    actpol_core::ops::CmpOp::Eq | actpol_core::ops::CmpOp::Ne
                ) {
                    assert!(a.ty.is_ordered());
                }
                typed(p, a);
                typed(p, b);
            }
            ExprKind::Arith(op, a, b) => {
                let ok = match (op, &a.ty, &b.ty, t) {
                    (Add | Sub, x, y, r) if x == y && y == r => {
                        matches!(
                            r,
                            Type::Int | Type::Decimal | Type::Money(_) | Type::Duration
                        )
                    }
                    (Mul, Type::Int, Type::Int, Type::Int)
                    | (Rem, Type::Int, Type::Int, Type::Int) => true,
                    (Mul, Type::Decimal, Type::Decimal, Type::Decimal) => true,
                    (Div, Type::Decimal, Type::Decimal, Type::Decimal) => true,
                    (Div, Type::Money(c), Type::Money(d), Type::Decimal) => c == d,
                    (Mul | Div, Type::Money(c), Type::Decimal, Type::Money(d)) => c == d,
                    (Mul, Type::Decimal, Type::Money(c), Type::Money(d)) => c == d,
                    (Mul | Div, Type::Duration, Type::Int, Type::Duration) => true,
                    (Mul, Type::Int, Type::Duration, Type::Duration) => true,
                    (Div, Type::Duration, Type::Duration, Type::Decimal) => true,
                    (Sub, Type::Timestamp, Type::Timestamp, Type::Duration) => true,
                    (Add | Sub, Type::Timestamp, Type::Duration, Type::Timestamp) => true,
                    (Add, Type::Duration, Type::Timestamp, Type::Timestamp) => true,
                    _ => false,
                };
                assert!(ok, "{op:?} {:?} {:?} -> {t:?}", a.ty, b.ty);
                typed(p, a);
                typed(p, b);
            }
            ExprKind::Neg(a) => {
                assert_eq!(&a.ty, t);
                typed(p, a);
            }
            ExprKind::ToDecimal(a) => {
                assert_eq!((&a.ty, t), (&Type::Int, &Type::Decimal));
                typed(p, a);
            }
            ExprKind::In(a, b) => {
                assert_eq!(b.ty, Type::Set(Box::new(a.ty.clone())));
                typed(p, a);
                typed(p, b);
            }
            ExprKind::If(c, a, b) => {
                assert_eq!(c.ty, Type::Bool);
                assert_eq!((&a.ty, &b.ty), (t, t));
                typed(p, c);
                typed(p, a);
                typed(p, b);
            }
            ExprKind::SetLit(items) => {
                for i in items {
                    assert_eq!(Type::Set(Box::new(i.ty.clone())), *t);
                    typed(p, i);
                }
            }
            ExprKind::Call(f, args) => {
                assert_eq!(args.len(), f.arity());
                match f {
                    Builtin::Min | Builtin::Max => {
                        assert!(args.iter().all(|a| a.ty == *t) && t.is_ordered())
                    }
                    Builtin::Abs => assert_eq!(args[0].ty, *t),
                    Builtin::StrLen | Builtin::SetLen => assert_eq!(*t, Type::Int),
                    Builtin::Lower | Builtin::Upper | Builtin::EmailDomain | Builtin::UrlHost => {
                        assert_eq!((&args[0].ty, t), (&Type::String, &Type::String))
                    }
                    Builtin::Split => {
                        assert_eq!((&args[0].ty, &args[1].ty), (&Type::String, &Type::String));
                        assert_eq!(*t, Type::List(Box::new(Type::String)));
                    }
                    Builtin::Urls | Builtin::UrlHosts => {
                        assert_eq!(args[0].ty, Type::String);
                        assert_eq!(*t, Type::Set(Box::new(Type::String)));
                    }
                    Builtin::HourIn
                    | Builtin::TimeOfDayIn
                    | Builtin::WeekdayIn
                    | Builtin::DateIn => {
                        assert_eq!(args[0].ty, Type::Timestamp);
                        assert!(
                            matches!(args[1].as_const(), Some(Value::String(z)) if actpol_core::zones::zone(z).is_some())
                        );
                    }
                    Builtin::Hours | Builtin::Minutes | Builtin::Seconds | Builtin::Days => {
                        assert_eq!((&args[0].ty, t), (&Type::Decimal, &Type::Duration))
                    }
                    Builtin::RegexMatch => {
                        let pattern = args[1].as_const();
                        assert!(
                            matches!(pattern, Some(Value::String(p)) if actpol_core::text::compile_regex(p).is_ok()),
                            "a regex pattern is a constant that compiles"
                        );
                    }
                    Builtin::SetContains => {
                        assert_eq!(args[0].ty, Type::Set(Box::new(args[1].ty.clone())))
                    }
                    Builtin::ContainsAny | Builtin::ContainsAll => {
                        assert_eq!(args[0].ty, args[1].ty)
                    }
                    _ => assert!(args.iter().all(|a| a.ty == Type::String)),
                }
                for a in args {
                    typed(p, a);
                }
            }
            ExprKind::Loop {
                kind, over, body, ..
            } => {
                assert!(over.ty.element().is_some(), "a loop over {:?}", over.ty);
                if kind.body_is_condition() {
                    assert_eq!(body.ty, Type::Bool);
                }
                typed(p, over);
                typed(p, body);
            }
            ExprKind::Coll(_, args)
            | ExprKind::Part(_, _, args)
            | ExprKind::HasPart(_, _, args)
                if !args.is_empty() =>
            {
                if let ExprKind::Coll(op, _) = &e.kind {
                    assert_eq!(args.len(), op.arity());
                }
                // A record's field, or an entity's attribute once the
                // reference resolved (typed as the entity).
                assert!(
                    args[0].ty.element().is_some()
                        || matches!(args[0].ty, Type::Record(_) | Type::Entity(_)),
                    "{:?} of {:?}",
                    e.kind,
                    args[0].ty
                );
                for a in args {
                    typed(p, a);
                }
            }
            ExprKind::Risk(r) => assert_eq!(p.meta.risks[r.index()].ty, *t),
            ExprKind::Budget(b, _) => assert_eq!(p.meta.budgets[b.index()].ty, *t),
            _ => {}
        }
    }

    #[test]
    fn policies_keep_the_ir_contract() {
        for seed in 0..300 {
            let schema = crate::schema(seed);
            let p = policy(seed, &schema);
            check_contract(&p);
        }
    }

    /// Every builtin is generated somewhere in a few hundred policies, so
    /// the differential test runs each through the VM and the reference
    /// evaluator.
    #[test]
    fn policies_call_every_builtin() {
        use actpol_core::ops::Builtin;
        fn calls(e: &Expr, out: &mut std::collections::BTreeSet<String>) {
            if let ExprKind::Call(f, _) = &e.kind {
                out.insert(format!("{f:?}"));
            }
            for child in e.children() {
                calls(child, out);
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        for seed in 0..500 {
            let schema = crate::schema(seed);
            let p = policy(seed, &schema);
            for rule in &p.rules {
                if let Some(w) = &rule.when {
                    calls(w, &mut seen);
                }
            }
            for e in &p.risks {
                calls(e, &mut seen);
            }
        }
        for f in [
            Builtin::Lower,
            Builtin::Upper,
            Builtin::EmailDomain,
            Builtin::UrlHost,
            Builtin::Urls,
            Builtin::UrlHosts,
            Builtin::Split,
            Builtin::RegexMatch,
            Builtin::HourIn,
            Builtin::TimeOfDayIn,
            Builtin::WeekdayIn,
            Builtin::DateIn,
            Builtin::Hours,
            Builtin::Days,
        ] {
            assert!(seen.contains(&format!("{f:?}")), "no policy calls {f:?}");
        }
    }

    #[test]
    fn same_seed_same_policy() {
        let schema = crate::schema(5);
        let a = crate::dump(&policy(5, &schema));
        let b = crate::dump(&policy(5, &schema));
        assert_eq!(a, b);
    }
}
