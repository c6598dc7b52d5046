//! Lints: a policy that compiles but says something it cannot mean.
//!
//! Each lint is linear in the size of the policy (or close): rules are
//! bucketed by action for the shadow check, agents' scopes are bitsets.

use actpol_core::ids::{ActionId, BudgetId, NameId, RiskId};
use actpol_core::ops::CmpOp;
use actpol_core::schema::RaiseDef;
use actpol_core::value::Value;
use actpol_core::Level;
use actpol_ir::{self as ir, BudgetField, EnvField, Presence, WindowRead};
use std::cmp::Ordering;

use crate::checker::Checker;
use crate::diag::Lint;
use crate::patterns::is_subset;
use crate::policy::RuleSite;

impl Checker<'_> {
    pub(crate) fn lints(&mut self, rules: &[ir::Rule], sites: &[RuleSite], raises: &[RaiseDef]) {
        self.never_fires(rules, sites);
        self.shadowed(rules, sites);
        self.unused_budgets();
        self.unused_agents(rules, sites);
        self.allow_irreversible(rules, sites, raises);
        self.guarded_by_has(rules, sites);
    }

    fn never_fires(&mut self, rules: &[ir::Rule], sites: &[RuleSite]) {
        for (rule, site) in rules.iter().zip(sites) {
            let (Some(when), Some(span)) = (&rule.when, site.when_span) else {
                continue;
            };
            // A condition with errors folds its mistakes to `false`.
            if !site.when_ok {
                continue;
            }
            let why = if matches!(when.as_const(), Some(Value::Bool(false))) {
                Some("this condition is always false".to_string())
            } else {
                empty_range(when).map(|(a, b)| {
                    format!(
                        "`{}` and `{}` cannot both hold",
                        self.span_text(a),
                        self.span_text(b)
                    )
                })
            };
            if let Some(why) = why {
                self.unit.report(
                    site.file,
                    Lint::NeverFires {
                        rule: site.name.clone(),
                        span: span.into(),
                        why,
                        help: "fix the condition, or remove the rule".into(),
                    },
                );
            }
        }
    }

    pub(crate) fn span_text(&self, span: ir::SrcSpan) -> &str {
        let syntax_span = actpol_syntax::ast::Span {
            start: span.start,
            end: span.end,
        };
        self.unit.text(span.file, syntax_span)
    }

    /// A rule whose outcome can never show: a stricter rule with no
    /// condition applies wherever it does.
    fn shadowed(&mut self, rules: &[ir::Rule], sites: &[RuleSite]) {
        let mut buckets: Vec<Vec<usize>> = vec![Vec::new(); self.schema.actions.len()];
        for (i, rule) in rules.iter().enumerate() {
            if always_fires(rule) && sites[i].filters_ok {
                for a in &rule.actions {
                    buckets[a.index()].push(i);
                }
            }
        }
        for (i, rule) in rules.iter().enumerate() {
            // The action with the fewest candidate shadowers.
            let Some(narrowest) = rule.actions.iter().min_by_key(|a| buckets[a.index()].len())
            else {
                continue;
            };
            let shadower = buckets[narrowest.index()]
                .iter()
                .copied()
                .find(|&s| s != i && outranks(&rules[s], rule));
            if let Some(s) = shadower {
                let site = &sites[i];
                let by = &sites[s];
                let help = format!(
                    "`{}` (at {}) has no condition and applies to all of this rule's actions and agents with a stricter outcome: remove this rule, or give `{}` a condition",
                    by.name,
                    self.unit.place(by.file, by.name_span),
                    by.name
                );
                self.unit.report(
                    site.file,
                    Lint::Shadowed {
                        rule: site.name.clone(),
                        by: by.name.clone(),
                        span: site.name_span.into(),
                        help,
                    },
                );
            }
        }
    }

    fn unused_budgets(&mut self) {
        for i in 0..self.budget_used.len() {
            if !self.budget_used[i] {
                let d = &self.decls.budgets[i];
                let (file, name) = (d.file, d.name);
                self.unit.report(
                    file,
                    Lint::UnusedBudget {
                        name: name.name.clone(),
                        span: name.span.into(),
                    },
                );
            }
        }
    }

    fn unused_agents(&mut self, rules: &[ir::Rule], sites: &[RuleSite]) {
        let n = self.schema.actions.len();
        for (index, (name, def)) in self.agents.iter().enumerate() {
            let reach = self.scope_reach(def, n);
            let applies = rules.iter().zip(sites).any(|(r, site)| {
                !site.filters_ok
                    || r.agents
                        .as_ref()
                        .is_none_or(|list| list.iter().any(|a| a.index() == index))
                        && r.workflows
                            .as_ref()
                            .is_none_or(|list| list.contains(&def.workflow))
                        && r.actions.iter().any(|a| reach.contains(*a))
            });
            if applies {
                continue;
            }
            let why = if reach.is_empty() {
                "its scope admits no declared action"
            } else {
                "every rule is for other agents or workflows, or for actions outside its scope"
            };
            let d = &self.decls.agents[index];
            let diag = Lint::UnusedAgent {
                name: name.clone(),
                span: d.name.span.into(),
                why: why.into(),
                help: format!(
                    "its envelopes always get the policy's default: add a rule for it (`for agent {name}`), widen its scope, or remove it"
                ),
            };
            self.unit.report(d.file, diag);
        }
    }

    /// The actions an agent's scope admits.
    fn scope_reach(&self, def: &actpol_core::schema::AgentDef, n: usize) -> Bits {
        let mut bits = Bits::new(n);
        for (i, info) in self.tables.actions.iter().enumerate() {
            let admitted = def.scope.as_ref().is_none_or(|scope| {
                scope
                    .systems
                    .as_ref()
                    .is_none_or(|list| info.system.is_some_and(|s| list.contains(&s)))
                    && scope
                        .objects
                        .as_ref()
                        .is_none_or(|list| info.object.is_some_and(|o| list.contains(&o)))
            });
            if admitted {
                bits.set(i);
            }
        }
        bits
    }

    fn allow_irreversible(&mut self, rules: &[ir::Rule], sites: &[RuleSite], raises: &[RaiseDef]) {
        let raised: Vec<&RaiseDef> = raises
            .iter()
            .filter(|r| r.arms.iter().any(|(from, _)| *from == Level::Allow))
            .collect();
        for (rule, site) in rules.iter().zip(sites) {
            if rule.outcome.level != Level::Allow
                || rule.when.as_ref().is_some_and(asks_for_rollback)
            {
                continue;
            }
            let bare = rule.actions.iter().copied().find(|a| {
                self.tables.actions[a.index()].irreversible
                    && !raised.iter().any(|r| r.applies_to(*a))
            });
            let Some(action) = bare else {
                continue;
            };
            let action = self.schema.action_name(action).to_string();
            let help = format!(
                "escalate it to a human, test `reversible` or `has rollback` in the condition, or add a raise with an `allow ->` arm that covers `{action}`"
            );
            self.unit.report(
                site.file,
                Lint::AllowIrreversible {
                    rule: site.name.clone(),
                    action,
                    span: site.outcome_span.into(),
                    help,
                },
            );
        }
    }
}

/// A fixed-size set of action indices.
struct Bits {
    words: Vec<u64>,
}

impl Bits {
    fn new(n: usize) -> Self {
        Bits {
            words: vec![0; n.div_ceil(64)],
        }
    }

    fn set(&mut self, i: usize) {
        self.words[i / 64] |= 1 << (i % 64);
    }

    fn contains(&self, a: ActionId) -> bool {
        let i = a.index();
        self.words
            .get(i / 64)
            .is_some_and(|w| w & (1 << (i % 64)) != 0)
    }

    fn is_empty(&self) -> bool {
        self.words.iter().all(|w| *w == 0)
    }
}

/// Whether the rule fires whenever it applies.
fn always_fires(rule: &ir::Rule) -> bool {
    rule.when
        .as_ref()
        .is_none_or(|w| matches!(w.as_const(), Some(Value::Bool(true))))
}

/// Whether `s`, which always fires, hides every effect `r` could have.
fn outranks(s: &ir::Rule, r: &ir::Rule) -> bool {
    let (sl, rl) = (s.outcome.level, r.outcome.level);
    if sl <= rl {
        return false;
    }
    // Consumption is summed over all matched rules whenever the action
    // proceeds, and a spent budget can still turn an escalation into a
    // denial: only a certain `deny` makes a consuming rule moot.
    if !r.consumes.is_empty() && sl != Level::Deny {
        return false;
    }
    let agents_covered = match (&s.agents, &r.agents) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(outer), Some(inner)) => inner.iter().all(|a| outer.contains(a)),
    };
    let workflows_covered = match (&s.workflows, &r.workflows) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(outer), Some(inner)) => inner.iter().all(|w| outer.contains(w)),
    };
    agents_covered && workflows_covered && is_subset(&r.actions, &s.actions)
}

/// Whether a condition asks about reversibility (`reversible`,
/// `has rollback…`), the way to allow irreversible actions knowingly.
fn asks_for_rollback(when: &ir::Expr) -> bool {
    let mut found = false;
    when.walk(&mut |e| {
        found |= matches!(
            e.kind,
            ir::ExprKind::Env(EnvField::Reversible)
                | ir::ExprKind::Has(
                    Presence::Rollback | Presence::RollbackAction | Presence::RollbackWithin
                )
        );
    });
    found
}

/// A read whose value two comparisons in one conjunction can bound.
#[derive(Clone, Debug, PartialEq, Eq)]
enum ReadKey {
    Param(NameId),
    Attr(NameId),
    Context(NameId),
    Env(EnvField),
    Budget(BudgetId, BudgetField),
    Risk(RiskId),
    Window(WindowRead),
    Decimal(Box<ReadKey>),
}

fn read_key(e: &ir::Expr) -> Option<ReadKey> {
    Some(match &e.kind {
        ir::ExprKind::Param(n) => ReadKey::Param(*n),
        ir::ExprKind::Attr(n) => ReadKey::Attr(*n),
        ir::ExprKind::Context(n) => ReadKey::Context(*n),
        ir::ExprKind::Env(f) => ReadKey::Env(*f),
        ir::ExprKind::Budget(b, f) => ReadKey::Budget(*b, *f),
        ir::ExprKind::Risk(r) => ReadKey::Risk(*r),
        ir::ExprKind::Window(w) => ReadKey::Window(w.clone()),
        ir::ExprKind::ToDecimal(inner) => ReadKey::Decimal(Box::new(read_key(inner)?)),
        _ => return None,
    })
}

/// The operands of a condition's top-level `and`s, in order.
pub(crate) fn conjuncts<'e>(e: &'e ir::Expr, out: &mut Vec<&'e ir::Expr>) {
    match &e.kind {
        ir::ExprKind::And(a, b) => {
            conjuncts(a, out);
            conjuncts(b, out);
        }
        _ => out.push(e),
    }
}

/// One end of a range: the value, whether it is included, and the
/// comparison it came from.
#[derive(Clone, Debug)]
struct End<'e> {
    value: &'e Value,
    inclusive: bool,
    from: ir::SrcSpan,
}

#[derive(Default)]
struct Range<'e> {
    low: Option<End<'e>>,
    high: Option<End<'e>>,
}

/// Whether `candidate` is a tighter lower (`lower`) or upper bound.
fn tighter(candidate: &End<'_>, current: &Option<End<'_>>, lower: bool) -> bool {
    let Some(current) = current else {
        return true;
    };
    match candidate.value.compare(current.value) {
        Some(Ordering::Equal) => current.inclusive && !candidate.inclusive,
        Some(Ordering::Greater) => lower,
        Some(Ordering::Less) => !lower,
        None => false,
    }
}

impl<'e> Range<'e> {
    fn add(&mut self, op: CmpOp, end: End<'e>) {
        let (low, high) = match op {
            CmpOp::Gt | CmpOp::Ge => (Some(end), None),
            CmpOp::Lt | CmpOp::Le => (None, Some(end)),
            CmpOp::Eq => (Some(end.clone()), Some(end)),
            CmpOp::Ne => (None, None),
        };
        if let Some(low) = low.filter(|l| tighter(l, &self.low, true)) {
            self.low = Some(low);
        }
        if let Some(high) = high.filter(|h| tighter(h, &self.high, false)) {
            self.high = Some(high);
        }
    }

    /// The comparisons that leave no value, if they do.
    fn empty(&self) -> Option<(ir::SrcSpan, ir::SrcSpan)> {
        let (low, high) = (self.low.as_ref()?, self.high.as_ref()?);
        let none_left = match low.value.compare(high.value)? {
            Ordering::Greater => true,
            Ordering::Equal => !(low.inclusive && high.inclusive),
            Ordering::Less => false,
        };
        none_left.then_some((low.from, high.from))
    }
}

fn flip(op: CmpOp) -> CmpOp {
    match op {
        CmpOp::Lt => CmpOp::Gt,
        CmpOp::Le => CmpOp::Ge,
        CmpOp::Gt => CmpOp::Lt,
        CmpOp::Ge => CmpOp::Le,
        other => other,
    }
}

/// Two comparisons of one read, in one conjunction, that no value meets
/// (`x > 10 and x < 5`): the spans of both.
fn empty_range(when: &ir::Expr) -> Option<(ir::SrcSpan, ir::SrcSpan)> {
    let mut parts = Vec::new();
    conjuncts(when, &mut parts);
    let mut ranges: Vec<(ReadKey, Range<'_>)> = Vec::new();
    for part in parts {
        let ir::ExprKind::Cmp(op, a, b) = &part.kind else {
            continue;
        };
        let (op, read, value) = match (a.as_const(), b.as_const()) {
            (None, Some(v)) => (*op, a, v),
            (Some(v), None) => (flip(*op), b, v),
            _ => continue,
        };
        let Some(key) = read_key(read) else {
            continue;
        };
        let end = End {
            value,
            inclusive: matches!(op, CmpOp::Ge | CmpOp::Le | CmpOp::Eq),
            from: part.span,
        };
        match ranges.iter_mut().find(|(k, _)| *k == key) {
            Some((_, range)) => range.add(op, end),
            None => {
                let mut range = Range::default();
                range.add(op, end);
                ranges.push((key, range));
            }
        }
    }
    ranges.iter().find_map(|(_, r)| r.empty())
}
