//! The decision contract (PRODUCT.md "Decision") and how rule outcomes
//! combine into one decision (C6): the strictest level wins, constraints
//! merge to the tightest, budgets are checked and consumed, raises (C7) lift
//! the level, and the declared default applies when no rule matched.
//!
//! Both the VM and the reference evaluator feed [`Combiner`]; what differs
//! between them is only how they find out which rules matched.

use std::borrow::Cow;
use std::sync::Arc;

use indexmap::IndexMap;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::envelope::BoundEnvelope;
use crate::error::ErrorCode;
pub use crate::error::EvalError;
use crate::ids::{ApproverId, BudgetId, NameId, RaiseId, RuleId};
use crate::schema::{OutcomeSpec, PolicyMeta, Schema};
use crate::state::StateView;
use crate::value::{decimal_to_json, Value};

pub use actpol_vocab::{ConstraintOp, Level, Requirement};

/// The decision JSON. Field names are part of the contract.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    pub decision: Level,
    pub reasons: Vec<String>,
    pub rules: Vec<String>,
    pub constraints: Vec<ConstraintOut>,
    pub escalation: Option<Escalation>,
    pub budgets: Vec<BudgetUse>,
    pub policy: PolicyRef,
    pub errors: Vec<ErrorOut>,
    /// Present when an explanation was asked for (C11).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explanation: Option<serde_json::Value>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ConstraintOut {
    Param {
        param: String,
        op: String,
        value: serde_json::Value,
    },
    Require {
        require: String,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Escalation {
    pub approver: String,
    /// The exception packet (C8). Absent only when evaluation failed before
    /// the envelope could be read.
    pub packet: Option<crate::packet::Packet>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BudgetUse {
    pub name: String,
    pub key: String,
    pub limit: serde_json::Value,
    /// Consumed in the window after this decision.
    pub consumed: serde_json::Value,
    pub remaining: serde_json::Value,
    /// What this decision consumes (zero unless it proceeds).
    pub delta: serde_json::Value,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PolicyRef {
    // Shared: every decision names its policy, and none should allocate for it.
    pub name: Arc<str>,
    pub hash: Arc<str>,
}

impl PolicyRef {
    pub fn new(name: &str, hash: &str) -> PolicyRef {
        PolicyRef {
            name: Arc::from(name),
            hash: Arc::from(hash),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErrorOut {
    /// The error's stable code, written as its text.
    pub code: ErrorCode,
    pub message: String,
    /// The JSON path of the offending envelope field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The rule whose evaluation failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
}

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
    fn risk_factors(&mut self) -> Vec<(String, serde_json::Value)>;
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

/// Per (budget, key): the prior consumption and this decision's delta.
struct BudgetLine<'e> {
    budget: BudgetId,
    key: &'e str,
    prior: Decimal,
    delta: Decimal,
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

/// The tightest bounds on each parameter, in order of first mention.
#[derive(Debug, Default)]
struct MergedLimits {
    params: IndexMap<NameId, Bounds>,
    requires: Vec<Requirement>,
}

#[derive(Debug, Default)]
struct Bounds {
    /// The upper bound and whether it is strict (`<`).
    upper: Option<(Value, bool)>,
    lower: Option<(Value, bool)>,
    members: Option<Vec<Value>>,
}

fn merge_limits(hits: &[Hit<'_>]) -> MergedLimits {
    let mut merged = MergedLimits::default();
    for hit in hits.iter().filter(|h| h.level == Level::Constrain) {
        for req in hit.requires {
            if !merged.requires.contains(req) {
                merged.requires.push(*req);
            }
        }
        for limit in &hit.limits {
            let bounds = merged.params.entry(limit.param).or_default();
            match limit.op {
                ConstraintOp::Le | ConstraintOp::Lt => {
                    let strict = limit.op == ConstraintOp::Lt;
                    tighten(
                        &mut bounds.upper,
                        &limit.value,
                        strict,
                        std::cmp::Ordering::Less,
                    );
                }
                ConstraintOp::Ge | ConstraintOp::Gt => {
                    let strict = limit.op == ConstraintOp::Gt;
                    tighten(
                        &mut bounds.lower,
                        &limit.value,
                        strict,
                        std::cmp::Ordering::Greater,
                    );
                }
                ConstraintOp::In => {
                    let items: Vec<Value> = match &limit.value {
                        Value::Set(items) => items.to_vec(),
                        other => vec![other.clone()],
                    };
                    bounds.members = Some(match bounds.members.take() {
                        None => items,
                        Some(prev) => prev.into_iter().filter(|v| items.contains(v)).collect(),
                    });
                }
            }
        }
    }
    merged
}

/// Keeps the tighter of two bounds: `better` is the direction of tighter.
fn tighten(
    slot: &mut Option<(Value, bool)>,
    value: &Value,
    strict: bool,
    better: std::cmp::Ordering,
) {
    let replace = match slot {
        None => true,
        Some((current, current_strict)) => match value.compare(current) {
            Some(ord) if ord == better => true,
            Some(std::cmp::Ordering::Equal) => strict && !*current_strict,
            _ => false,
        },
    };
    if replace {
        *slot = Some((value.clone(), strict));
    }
}

impl MergedLimits {
    /// A reason when the merged limits admit no value.
    fn conflict(&self, schema: &Schema) -> Option<String> {
        for (param, b) in &self.params {
            let name = schema.field_name(*param);
            if let (Some((hi, hi_strict)), Some((lo, lo_strict))) = (&b.upper, &b.lower) {
                let empty = match lo.compare(hi) {
                    Some(std::cmp::Ordering::Greater) => true,
                    Some(std::cmp::Ordering::Equal) => *hi_strict || *lo_strict,
                    _ => false,
                };
                if empty {
                    return Some(format!("constraints on `{name}` cannot all hold"));
                }
            }
            let admitted = |v: &Value| {
                let under = b.upper.as_ref().is_none_or(|(hi, strict)| {
                    matches!(v.compare(hi), Some(std::cmp::Ordering::Less))
                        || (!strict && v.compare(hi) == Some(std::cmp::Ordering::Equal))
                });
                let over = b.lower.as_ref().is_none_or(|(lo, strict)| {
                    matches!(v.compare(lo), Some(std::cmp::Ordering::Greater))
                        || (!strict && v.compare(lo) == Some(std::cmp::Ordering::Equal))
                });
                under && over
            };
            if b.members.as_ref().is_some_and(|m| !m.iter().any(admitted)) {
                return Some(format!("constraints on `{name}` leave no allowed value"));
            }
        }
        None
    }

    fn render(&self, schema: &Schema, env: &BoundEnvelope) -> Vec<ConstraintOut> {
        let action = schema.action(env.action);
        let mut out = Vec::new();
        for (param, b) in &self.params {
            let name = schema.field_name(*param).to_string();
            let ty = action
                .param_slot(*param)
                .map(|slot| action.params[slot].ty.clone())
                .unwrap_or(crate::types::Type::Int);
            let mut push = |op: &str, value: serde_json::Value| {
                out.push(ConstraintOut::Param {
                    param: name.clone(),
                    op: op.to_string(),
                    value,
                })
            };
            if let Some((v, strict)) = &b.lower {
                push(if *strict { ">" } else { ">=" }, v.to_json(&ty, schema));
            }
            if let Some((v, strict)) = &b.upper {
                push(if *strict { "<" } else { "<=" }, v.to_json(&ty, schema));
            }
            if let Some(members) = &b.members {
                let items = members.iter().map(|v| v.to_json(&ty, schema)).collect();
                push("in", serde_json::Value::Array(items));
            }
        }
        for req in &self.requires {
            out.push(ConstraintOut::Require {
                require: req.as_str().to_string(),
            });
        }
        out
    }
}

fn budget_lines<'e>(
    ctx: Settle<'_>,
    hits: &[Hit<'_>],
    env: &'e BoundEnvelope,
    state: &dyn StateView,
) -> Result<Vec<BudgetLine<'e>>, EvalError> {
    let mut lines: Vec<BudgetLine> = Vec::new();
    // Only a rule that lets the action proceed consumes: a denying or
    // escalating rule's `consume` can never apply.
    let proceeding = hits.iter().filter(|h| h.level.proceeds());
    for (budget, amount) in proceeding.flat_map(|h| h.consumes.iter()) {
        let def = ctx
            .meta
            .budgets
            .get_index(budget.index())
            .map(|(_, d)| d)
            .ok_or(EvalError::BadBudget)?;
        let key = env.key(def.key, ctx.schema)?;
        let delta = amount
            .as_amount()
            .ok_or_else(|| EvalError::Type("budget amount is not a number".to_string()))?;
        // `-0` is not negative: only a true negative amount is refused.
        if delta < Decimal::ZERO {
            return Err(EvalError::NegativeConsume {
                budget: ctx.meta.budget_name(*budget).to_string(),
                amount: delta.normalize(),
            });
        }
        if let Some(line) = lines
            .iter_mut()
            .find(|l| l.budget == *budget && l.key == key)
        {
            line.delta = line.delta.checked_add(delta).ok_or_else(budget_overflow)?;
            continue;
        }
        let prior = state.consumed(ctx.meta.budget_name(*budget), key, def.window, env.time)?;
        lines.push(BudgetLine {
            budget: *budget,
            key,
            prior,
            delta,
        });
    }
    Ok(lines)
}

fn budget_overflow() -> EvalError {
    EvalError::Overflow("budget amounts add up past what a decimal holds".to_string())
}

fn render_budgets(ctx: Settle<'_>, lines: &[BudgetLine], applied: bool) -> Vec<BudgetUse> {
    lines
        .iter()
        .map(|line| {
            let def = &ctx.meta.budgets[line.budget.index()];
            let limit = def.limit.as_amount().unwrap_or_default();
            let delta = if applied { line.delta } else { Decimal::ZERO };
            // INVARIANT: a delta is applied only when prior + delta fit under
            // the limit (else the budget was exhausted and nothing proceeds).
            let consumed = line.prior.checked_add(delta).unwrap_or(line.prior);
            BudgetUse {
                name: ctx.meta.budget_name(line.budget).to_string(),
                key: line.key.to_string(),
                limit: decimal_to_json(limit),
                consumed: decimal_to_json(consumed),
                remaining: decimal_to_json(limit.checked_sub(consumed).unwrap_or(Decimal::MIN)),
                delta: decimal_to_json(delta),
            }
        })
        .collect()
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

impl ErrorOut {
    /// An evaluation error as a decision reports it; `rule` names the rule
    /// or raise that failed, if one did.
    pub fn eval(err: &EvalError, rule: Option<String>) -> Self {
        ErrorOut {
            code: err.code(),
            message: err.to_string(),
            path: None,
            rule,
        }
    }
}

impl From<&crate::envelope::EnvelopeError> for ErrorOut {
    fn from(err: &crate::envelope::EnvelopeError) -> Self {
        ErrorOut {
            code: err.code,
            message: err.message.clone(),
            path: Some(err.path.clone()),
            rule: None,
        }
    }
}

/// C2: the envelope's agent must be declared, with the declared owner and
/// workflow. The reason for refusing otherwise.
pub fn identify(meta: &PolicyMeta, env: &BoundEnvelope) -> Result<crate::ids::AgentId, String> {
    let Some(id) = meta.agent_id(&env.agent_id) else {
        return Err(format!("agent `{}` is not declared", env.agent_id));
    };
    let def = &meta.agents[id.index()];
    if def.owner != *env.owner {
        return Err(format!(
            "agent `{}` belongs to `{}`, not `{}`",
            env.agent_id, def.owner, env.owner
        ));
    }
    if def.workflow != *env.workflow {
        return Err(format!(
            "agent `{}` runs workflow `{}`, not `{}`",
            env.agent_id, def.workflow, env.workflow
        ));
    }
    Ok(id)
}

/// C3, the part known without evaluating: the scope's systems and object
/// types. The reason for refusing, if the envelope reaches outside them.
pub fn scope_admits(
    meta: &PolicyMeta,
    schema: &Schema,
    agent: crate::ids::AgentId,
    env: &BoundEnvelope,
) -> Result<(), String> {
    let Some(scope) = meta
        .agents
        .get_index(agent.index())
        .and_then(|(_, a)| a.scope.as_ref())
    else {
        return Ok(());
    };
    let action = schema.action(env.action);
    if let Some(systems) = &scope.systems {
        if !systems.contains(&action.system) {
            return Err(format!(
                "agent `{}` may not touch system `{}`",
                env.agent_id,
                schema.system_name(action.system)
            ));
        }
    }
    if let Some(objects) = &scope.objects {
        if !objects.contains(&action.object) {
            return Err(format!(
                "agent `{}` may not touch `{}` objects",
                env.agent_id,
                schema.entity_name(action.object)
            ));
        }
    }
    Ok(())
}

/// C3, the record predicate's verdict, worded.
pub fn out_of_scope_record(schema: &Schema, env: &BoundEnvelope) -> String {
    format!(
        "agent `{}` may not touch this `{}` record",
        env.agent_id,
        schema.entity_name(schema.action(env.action).object)
    )
}
