//! Settling: collects what the rules decided and what failed, then makes
//! one decision of it (C6). The strictest level wins; constraints merge to
//! the tightest; budgets are checked; raises (C7) lift the level; the
//! declared default applies when nothing matched; an error contributes the
//! policy's `on_error` outcome, never `allow`.

use std::borrow::Cow;

use crate::envelope::BoundEnvelope;
use crate::ids::{ApproverId, BudgetId, NameId, RaiseId, RuleId};
use crate::schema::{OutcomeSpec, PolicyMeta, Schema};
use crate::state::StateView;
use crate::value::Value;

use super::budgets::{budget_lines, render_budgets};
use super::limits::merge_limits;
use super::{
    ConstraintOp, Decision, ErrorOut, Escalation, EvalError, Level, PolicyRef, Requirement,
    ValueOut,
};

/// A limit a constrain rule puts on one parameter, evaluated.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamLimit {
    pub param: NameId,
    pub op: ConstraintOp,
    pub value: Value,
}

/// A matched rule's outcome, with its expressions evaluated.
#[derive(Clone, Debug, PartialEq)]
pub struct Hit<'a> {
    pub rule: RuleId,
    pub level: Level,
    pub approver: Option<ApproverId>,
    /// Borrowed from the policy: a hit allocates only for evaluated values.
    pub reason: Option<&'a str>,
    pub limits: Vec<ParamLimit>,
    pub requires: &'a [Requirement],
    pub consumes: Vec<(BudgetId, Value)>,
}

/// What settling asks back of the evaluator that found the hits.
pub trait Probe {
    /// Whether raise `raise`'s condition holds for this envelope.
    fn raise_holds(&mut self, raise: RaiseId) -> Result<bool, EvalError>;

    /// The policy's named risks that apply to this action, evaluated, for an
    /// exception packet. A risk that fails to evaluate is left out.
    fn risk_factors(&mut self) -> Vec<(String, ValueOut)>;
}

/// Why the decision is what it is: one entry per rule, budget, conflict or
/// raise that asked for a level.
#[derive(Clone, Debug)]
struct Cause<'a> {
    level: Level,
    rule: Option<&'a str>,
    reason: Option<Cow<'a, str>>,
    approver: Option<ApproverId>,
    /// Requirements a raise to `constrain` adds.
    requires: &'a [Requirement],
}

/// Everything about the policy that settling a decision reads.
#[derive(Clone, Copy, Debug)]
pub struct Settle<'a> {
    pub schema: &'a Schema,
    pub meta: &'a PolicyMeta,
    /// The policy's name and sources' hash, as decisions report them.
    pub policy: &'a PolicyRef,
}

/// Collects rule outcomes and errors, then settles them into a [`Decision`].
#[derive(Debug, Default)]
pub struct Combiner<'a> {
    hits: Vec<Hit<'a>>,
    failures: Vec<(Option<RuleId>, EvalError)>,
}

impl<'a> Combiner<'a> {
    pub fn new() -> Self {
        Combiner::default()
    }

    pub fn hit(&mut self, hit: Hit<'a>) {
        self.hits.push(hit);
    }

    /// A rule (or `None`: the decision as a whole) failed to evaluate: the
    /// policy's `on_error` outcome joins the decision. Never `allow`.
    pub fn fail(&mut self, rule: Option<RuleId>, error: EvalError) {
        self.failures.push((rule, error));
    }

    /// Settles the decision. A raise's condition is asked of `probe` only
    /// when one of its arms could change the level.
    pub fn settle(
        mut self,
        ctx: Settle<'a>,
        env: &BoundEnvelope,
        state: &dyn StateView,
        probe: &mut dyn Probe,
    ) -> Decision {
        let Settle { schema, meta, .. } = ctx;
        self.hits.sort_by_key(|h| h.rule);
        let mut causes: Vec<Cause<'a>> = Vec::with_capacity(self.hits.len() + 1);
        let mut errors: Vec<ErrorOut> = Vec::new();
        let rule_name = |id: RuleId| meta.rules.get(id.index()).map_or("?", |r| r.name.as_str());

        for hit in &self.hits {
            causes.push(Cause {
                level: hit.level,
                rule: Some(rule_name(hit.rule)),
                reason: hit.reason.map(Cow::Borrowed),
                approver: hit.approver,
                requires: &[],
            });
        }
        self.failures.sort_by_key(|(rule, _)| *rule);
        for (rule, err) in &self.failures {
            causes.push(on_error_cause(meta, rule.map(rule_name), err));
            errors.push(ErrorOut::eval(err, rule.map(|r| rule_name(r).to_string())));
        }
        if causes.is_empty() {
            causes.push(spec_cause(&meta.default, None));
        }

        let mut limits = merge_limits(&self.hits);
        // Limits only bind when `constrain` is what the rules decided; under
        // an escalation or a denial they are moot.
        let conflict = (top_level(&causes) == Level::Constrain)
            .then(|| limits.conflict(schema))
            .flatten();
        if let Some(conflict) = conflict {
            causes.push(Cause {
                level: Level::Deny,
                rule: None,
                reason: Some(Cow::Owned(conflict)),
                approver: None,
                requires: &[],
            });
        }

        let lines = match budget_lines(ctx, &self.hits, env, state) {
            Ok(lines) => lines,
            Err(err) => {
                causes.push(on_error_cause(meta, None, &err));
                errors.push(ErrorOut::eval(&err, None));
                Vec::new()
            }
        };
        for line in &lines {
            let def = &meta.budgets[line.budget.index()];
            let limit = def.limit.as_amount().unwrap_or_default();
            // A sum past what a decimal holds is past any limit.
            let exhausted = line
                .prior
                .checked_add(line.delta)
                .is_none_or(|total| total > limit);
            if exhausted {
                let name = meta.budget_name(line.budget);
                let spec = &def.on_exhausted;
                let reason = match &spec.reason {
                    Some(r) => Cow::Borrowed(r.as_str()),
                    None => Cow::Owned(format!(
                        "budget `{name}` is exhausted for {}: limit {}, consumed {}, asked {}",
                        line.key,
                        limit.normalize(),
                        line.prior.normalize(),
                        line.delta.normalize()
                    )),
                };
                causes.push(Cause {
                    level: spec.level,
                    rule: None,
                    reason: Some(reason),
                    approver: spec.approver,
                    requires: &[],
                });
            }
        }

        let mut level = top_level(&causes);
        let before_raise = level;
        for (index, raise) in meta.raises.iter().enumerate() {
            if !raise.applies_to(env.action) {
                continue;
            }
            let Some((_, spec)) = raise.arms.iter().find(|(from, _)| *from == level) else {
                continue;
            };
            match probe.raise_holds(RaiseId::from_index(index)) {
                Ok(false) => {}
                Ok(true) => {
                    causes.push(spec_cause(spec, Some(&raise.name)));
                    level = top_level(&causes);
                }
                Err(err) => {
                    causes.push(on_error_cause(meta, Some(&raise.name), &err));
                    errors.push(ErrorOut::eval(&err, Some(raise.name.clone())));
                    level = top_level(&causes);
                }
            }
        }

        let decisive = || causes.iter().filter(|c| c.level == level);
        let mut rules: Vec<String> = Vec::new();
        let mut reasons: Vec<String> = Vec::new();
        for cause in decisive() {
            if let Some(rule) = cause.rule {
                if !rules.iter().any(|r| r == rule) {
                    rules.push(rule.to_string());
                }
            }
            if let Some(reason) = &cause.reason {
                if !reasons.iter().any(|r| r == reason) {
                    reasons.push(reason.to_string());
                }
            }
        }
        let constraints = if level == Level::Constrain {
            for req in decisive().flat_map(|c| c.requires.iter()) {
                if !limits.requires.contains(req) {
                    limits.requires.push(*req);
                }
            }
            limits.render(schema, env)
        } else {
            Vec::new()
        };
        let budgets = render_budgets(ctx, &lines, level.proceeds());
        let escalation = (level == Level::Escalate).then(|| {
            let approver = decisive()
                .find_map(|c| c.approver)
                .map(|a| meta.approver_name(a).to_string())
                .unwrap_or_default();
            let raised_from: Vec<String> = if before_raise != level {
                causes
                    .iter()
                    .filter(|c| c.level == before_raise)
                    .filter_map(|c| c.rule.map(str::to_string))
                    .collect()
            } else {
                Vec::new()
            };
            Escalation {
                packet: Some(crate::packet::build(
                    ctx,
                    env,
                    crate::packet::Settled {
                        approver: &approver,
                        rules: &rules,
                        reasons: &reasons,
                        budgets: &budgets,
                        raised_from: &raised_from,
                        risks: probe.risk_factors(),
                    },
                )),
                approver,
            }
        });
        Decision {
            decision: level,
            reasons,
            rules,
            constraints,
            escalation,
            budgets,
            policy: ctx.policy.clone(),
            errors,
            explanation: None,
        }
    }
}

fn top_level(causes: &[Cause<'_>]) -> Level {
    causes.iter().map(|c| c.level).max().unwrap_or(Level::Deny)
}

fn spec_cause<'a>(spec: &'a OutcomeSpec, rule: Option<&'a str>) -> Cause<'a> {
    Cause {
        level: spec.level,
        rule,
        reason: spec.reason.as_deref().map(Cow::Borrowed),
        approver: spec.approver,
        requires: &spec.requires,
    }
}

fn on_error_cause<'a>(meta: &'a PolicyMeta, rule: Option<&'a str>, err: &EvalError) -> Cause<'a> {
    // INVARIANT: the checker admits only `deny` or `escalate` for `on_error`;
    // an artifact saying otherwise is still held to at least `escalate`.
    let level = meta.on_error.level.max(Level::Escalate);
    let reason = match &meta.on_error.reason {
        Some(r) => Cow::Borrowed(r.as_str()),
        None => Cow::Owned(format!("evaluation failed: {err}")),
    };
    Cause {
        level,
        rule,
        reason: Some(reason),
        approver: meta.on_error.approver,
        requires: &[],
    }
}

/// A decision made before any rule runs: the envelope's agent is not who
/// it claims (C2), or reaches outside its scope (C3). Always `deny`.
pub fn refused(ctx: Settle<'_>, reason: String) -> Decision {
    Decision {
        decision: Level::Deny,
        reasons: vec![reason],
        rules: Vec::new(),
        constraints: Vec::new(),
        escalation: None,
        budgets: Vec::new(),
        policy: ctx.policy.clone(),
        errors: Vec::new(),
        explanation: None,
    }
}

/// A decision when evaluation failed before rules ran on an envelope that
/// did bind (a scope predicate failed): like [`failed`], with the full
/// exception packet when it escalates.
pub fn failed_bound(ctx: Settle<'_>, env: &BoundEnvelope, errors: Vec<ErrorOut>) -> Decision {
    let mut decision = failed(ctx, errors);
    if let Some(esc) = &mut decision.escalation {
        let mut packet = crate::packet::build(
            ctx,
            env,
            crate::packet::Settled {
                approver: &esc.approver,
                rules: &decision.rules,
                reasons: &decision.reasons,
                budgets: &decision.budgets,
                raised_from: &[],
                risks: Vec::new(),
            },
        );
        packet.errors = decision.errors.clone();
        esc.packet = Some(packet);
    }
    decision
}

/// A decision when evaluation could not start: the envelope did not fit.
/// The policy's `on_error` outcome, never `allow`.
pub fn failed(ctx: Settle<'_>, errors: Vec<ErrorOut>) -> Decision {
    let meta = ctx.meta;
    let level = meta.on_error.level.max(Level::Escalate);
    let reason = meta.on_error.reason.clone().unwrap_or_else(|| {
        errors
            .first()
            .map_or_else(|| "evaluation failed".to_string(), |e| e.message.clone())
    });
    let escalation = (level == Level::Escalate).then(|| {
        let approver = meta
            .on_error
            .approver
            .map(|a| meta.approver_name(a).to_string())
            .unwrap_or_default();
        // Without a readable envelope there is nothing to put in a packet:
        // the decision's reasons and errors say what went wrong.
        Escalation {
            packet: None,
            approver,
        }
    });
    Decision {
        decision: level,
        reasons: vec![reason],
        rules: Vec::new(),
        constraints: Vec::new(),
        escalation,
        budgets: Vec::new(),
        policy: ctx.policy.clone(),
        errors,
        explanation: None,
    }
}
