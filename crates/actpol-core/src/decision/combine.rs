//! Settling: collects what the rules decided and what failed, then makes
//! one decision of it (C6). The strictest level wins; constraints merge to
//! the tightest; budgets are checked; raises (C7) lift the level; the
//! declared default applies when nothing matched; an error contributes the
//! policy's `on_error` outcome, never `allow`.

use std::borrow::Cow;
use std::collections::HashSet;

use smallvec::SmallVec;

use crate::envelope::BoundEnvelope;
use crate::ids::{ApproverId, BudgetId, NameId, RaiseId, RuleId};
use crate::schema::{OutcomeSpec, PolicyMeta, Schema};
use crate::state::StateView;
use crate::value::Value;

use super::budgets::{budget_lines, render_budgets};
use super::limits::{merge_limits, MergedLimits};
use super::precedence::{held_denials, Held};
use super::{
    ConstraintOp, Decision, ErrorOut, Escalation, EvalError, Level, PolicyRef, Requirement,
    ValueOut,
};
use crate::approval::{ApprovalGrant, ApprovalOut, ApprovalUse};

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
    /// The rule or raise, if one asked.
    rule: Option<&'a str>,
    /// The budget whose `on_exhausted` asked, if one did.
    budget: Option<BudgetId>,
    reason: Option<Cow<'a, str>>,
    approver: Option<ApproverId>,
    /// Requirements a raise to `constrain` adds.
    requires: &'a [Requirement],
}

impl<'a> Cause<'a> {
    /// A cause that is neither a rule's, a raise's nor a budget's.
    fn plain(level: Level, reason: Option<Cow<'a, str>>) -> Self {
        Cause {
            level,
            rule: None,
            budget: None,
            reason,
            approver: None,
            requires: &[],
        }
    }
}

/// Everything about the policy that settling a decision reads.
#[derive(Clone, Copy, Debug)]
pub struct Settle<'a> {
    pub schema: &'a Schema,
    pub meta: &'a PolicyMeta,
    /// The policy's name and sources' hash, as decisions report them.
    pub policy: &'a PolicyRef,
}

/// How many hits and causes a decision keeps without allocating: most
/// decisions are set by a handful of rules, and a decision that allocates
/// for its bookkeeping pays for it twice (once more to free it).
const INLINE: usize = 4;

/// The causes of one decision, inline while they are few.
type Causes<'a> = SmallVec<[Cause<'a>; INLINE]>;

/// Collects rule outcomes and errors, then settles them into a [`Decision`].
#[derive(Debug, Default)]
pub struct Combiner<'a> {
    hits: SmallVec<[Hit<'a>; INLINE]>,
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
    #[inline]
    pub fn settle(
        mut self,
        ctx: Settle<'a>,
        env: &BoundEnvelope,
        state: &dyn StateView,
        probe: &mut dyn Probe,
    ) -> Decision {
        // Settled where it lies: the hits are kept inline, and moving them
        // into a call would copy them.
        self.settle_here(ctx, env, state, probe)
    }

    fn settle_here(
        &mut self,
        ctx: Settle<'a>,
        env: &BoundEnvelope,
        state: &dyn StateView,
        probe: &mut dyn Probe,
    ) -> Decision {
        let Settle { schema, meta, .. } = ctx;
        self.hits.sort_by_key(|h| h.rule);
        let mut causes: Causes<'a> = SmallVec::with_capacity(self.hits.len() + 1);
        let mut errors: Vec<ErrorOut> = Vec::new();
        let rule_name = |id: RuleId| meta.rules.get(id.index()).map_or("?", |r| r.name.as_str());
        let held = held_denials(meta, self.hits.iter().map(|h| (h.rule, h.level)));

        for hit in &self.hits {
            if held.iter().any(|h| h.denial == hit.rule) {
                continue;
            }
            causes.push(Cause {
                level: hit.level,
                rule: Some(rule_name(hit.rule)),
                budget: None,
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
            causes.push(Cause::plain(Level::Deny, Some(Cow::Owned(conflict))));
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
                    budget: Some(line.budget),
                    reason: Some(reason),
                    approver: spec.approver,
                    requires: &[],
                });
            }
        }

        let mut level = top_level(&causes);
        let before_raise = level;
        apply_raises(meta, env, probe, &mut causes, &mut errors, &mut level, None);

        let mut approval = None;
        let mut satisfied: Vec<String> = Vec::new();
        if let Some(id) = env.approval.as_deref() {
            let mut review = Review {
                ctx,
                env,
                state,
                probe: &mut *probe,
                causes: &mut causes,
                errors: &mut errors,
                level: &mut level,
                limits: &limits,
                held: &held,
            };
            let (out, covered) = review.run(id);
            if out.status == ApprovalUse::Used {
                satisfied = covered;
            }
            approval = Some(out);
        }
        let decisive = || causes.iter().filter(|c| c.level == level);
        // The escalating causes an approval satisfied are listed first.
        let named = satisfied
            .iter()
            .map(String::as_str)
            .chain(decisive().filter_map(|c| c.rule));
        let rules = distinct(named);
        let mut reasons = distinct(decisive().filter_map(|c| c.reason.as_deref()));
        if level == Level::Escalate {
            for h in &held {
                let reason = self
                    .hits
                    .iter()
                    .find(|hit| hit.rule == h.denial)
                    .and_then(|hit| hit.reason)
                    .unwrap_or("denied");
                reasons.push(format!(
                    "`{}` takes precedence over the denial of `{}`: {reason}",
                    rule_name(h.by),
                    rule_name(h.denial)
                ));
            }
        }
        match &approval {
            Some(out) if out.status == ApprovalUse::Used => {
                let by = out.approver.as_deref().unwrap_or_default();
                reasons.push(format!("approved by `{by}` (approval `{}`)", out.id));
            }
            // Why a presented approval did not apply, after what decided.
            Some(out) => reasons.extend(out.reason.clone()),
            None => {}
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
            let mut exhausted: Vec<String> = Vec::new();
            for budget in decisive().filter_map(|c| c.budget) {
                let name = meta.budget_name(budget);
                if !exhausted.iter().any(|b| b == name) {
                    exhausted.push(name.to_string());
                }
            }
            Escalation {
                budgets: exhausted,
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
            escalation: escalation.map(Box::new),
            budgets,
            policy: ctx.policy.clone(),
            errors,
            explanation: None,
            id: None,
            reservations: Vec::new(),
            approval: approval.map(Box::new),
        }
    }
}

/// How many texts [`distinct`] compares one by one before it keeps a
/// hash set: a decision usually names a handful of rules.
const SCAN_DISTINCT: usize = 8;

/// Each text once, in the order first met: linear in
/// the texts however many rules matched (a scan while they are few, a hash
/// set beyond), so a decision with a thousand hits settles in a thousand
/// steps, not half a million.
///
/// The set is sized for every text the decision could name, so it never
/// grows while settling, and hashes with foldhash: SipHash's resistance to
/// chosen collisions is not needed for at most one entry a matched rule,
/// and it was a sixth of a thousand-hit decision. foldhash's seed is still
/// random per process.
fn distinct<'s>(texts: impl Iterator<Item = &'s str>) -> Vec<String> {
    let most = texts.size_hint().1.unwrap_or(SCAN_DISTINCT);
    let mut out: Vec<String> = Vec::with_capacity(most.min(SCAN_DISTINCT));
    // The first texts kept, borrowed, for the scan; the set once past them.
    let mut first: [&'s str; SCAN_DISTINCT] = [""; SCAN_DISTINCT];
    let mut seen: HashSet<&'s str, foldhash::fast::RandomState> = HashSet::default();
    for text in texts {
        let new = if out.len() < SCAN_DISTINCT {
            !first[..out.len()].contains(&text)
        } else {
            if seen.is_empty() {
                seen.reserve(most);
                seen.extend(first);
            }
            seen.insert(text)
        };
        if new {
            if let Some(slot) = first.get_mut(out.len()) {
                *slot = text;
            }
            out.push(text.to_string());
        }
    }
    out
}

/// Applies the policy's raises, in declaration order, to a decision at
/// `level`: a raise whose arm starts from the current level and whose
/// condition holds lifts it. With `approved`, a raise that would escalate
/// to the approval's approver, for a raise the approval was given for, is
/// satisfied instead; its name is added to `approved`'s list.
fn apply_raises<'a>(
    meta: &'a PolicyMeta,
    env: &BoundEnvelope,
    probe: &mut dyn Probe,
    causes: &mut Causes<'a>,
    errors: &mut Vec<ErrorOut>,
    level: &mut Level,
    mut approved: Option<(&ApprovalGrant, &mut Vec<String>)>,
) {
    for (index, raise) in meta.raises.iter().enumerate() {
        if !raise.applies_to(env.action) {
            continue;
        }
        let Some((_, spec)) = raise.arms.iter().find(|(from, _)| *from == *level) else {
            continue;
        };
        match probe.raise_holds(RaiseId::from_index(index)) {
            Ok(false) => {}
            Ok(true) => {
                if let Some((grant, satisfied)) = approved.as_mut() {
                    let covered = spec.level == Level::Escalate
                        && grant.grounds.rules.contains(&raise.name)
                        && spec
                            .approver
                            .is_some_and(|a| meta.approver_name(a) == grant.approver);
                    if covered {
                        if !satisfied.contains(&raise.name) {
                            satisfied.push(raise.name.clone());
                        }
                        continue;
                    }
                }
                causes.push(spec_cause(spec, Some(&raise.name)));
                *level = top_level(causes);
            }
            Err(err) => {
                causes.push(on_error_cause(meta, Some(&raise.name), &err));
                errors.push(ErrorOut::eval(&err, Some(raise.name.clone())));
                *level = top_level(causes);
            }
        }
    }
}

/// Judging the approval an envelope presents (see [`crate::approval`]),
/// and settling the decision again under it.
struct Review<'r, 'a> {
    ctx: Settle<'a>,
    env: &'r BoundEnvelope,
    state: &'r dyn StateView,
    probe: &'r mut dyn Probe,
    causes: &'r mut Causes<'a>,
    errors: &'r mut Vec<ErrorOut>,
    level: &'r mut Level,
    limits: &'r MergedLimits,
    /// Denials held behind the escalation by precedence.
    held: &'r [Held],
}

impl Review<'_, '_> {
    /// What the decision reports about approval `id`, and, when it was
    /// used, the escalating rules and raises it satisfied. The causes and
    /// level are left as the decision under the approval stands: the
    /// escalation's causes removed when it applies, and any cause it does
    /// not cover (a raise, a conflict) added.
    fn run(&mut self, id: &str) -> (ApprovalOut, Vec<String>) {
        let refused = |reason: String, approver: Option<String>| ApprovalOut {
            id: id.to_string(),
            status: ApprovalUse::Refused,
            approver,
            expires: None,
            reason: Some(reason),
        };
        if !self.errors.is_empty() {
            let why = format!(
                "approval `{id}` was not applied: an approval never overrides an evaluation error"
            );
            return (refused(why, None), Vec::new());
        }
        match *self.level {
            Level::Deny => {
                let why = format!(
                    "approval `{id}` was not applied: an approval never overrides a denial"
                );
                return (refused(why, None), Vec::new());
            }
            Level::Allow | Level::Constrain => {
                let why = format!("approval `{id}` was not used: the action was not escalated");
                return (refused(why, None), Vec::new());
            }
            Level::Escalate => {}
        }
        if let Some(h) = self.held.first() {
            let name = |id: RuleId| {
                self.ctx
                    .meta
                    .rules
                    .get(id.index())
                    .map_or("?", |r| r.name.as_str())
            };
            let why = format!(
                "approval `{id}` was not applied: an approval never overrides a denial, and `{}` \
                 denies behind the escalation of `{}`",
                name(h.denial),
                name(h.by)
            );
            return (refused(why, None), Vec::new());
        }
        let grant = match self.state.approval(id) {
            Ok(grant) => grant,
            Err(err) => {
                let why = format!("approval `{id}` could not be read: {err}");
                return (refused(why, None), Vec::new());
            }
        };
        let approver = grant.as_ref().map(|g| g.approver.clone());
        let meta = self.ctx.meta;
        let escalating: Vec<&Cause<'_>> = self
            .causes
            .iter()
            .filter(|c| c.level == Level::Escalate)
            .collect();
        let approvers: Vec<&str> = escalating
            .iter()
            .map(|c| c.approver.map_or("", |a| meta.approver_name(a)))
            .collect();
        let hash = self.env.canonical_hash();
        if let Err(reason) =
            crate::approval::review(grant.as_ref(), id, &hash, &approvers, self.env.time)
        {
            let why = format!("{reason}; the action is escalated again");
            return (refused(why, approver), Vec::new());
        }
        // INVARIANT: `review` refuses a missing grant.
        let Some(grant) = grant else {
            return (
                refused(format!("approval `{id}` does not exist"), None),
                Vec::new(),
            );
        };
        if let Some(unasked) = escalating.iter().find_map(|c| not_covered(meta, c, &grant)) {
            let why = format!(
                "approval `{id}` was not given for {unasked}; the action is escalated again"
            );
            return (refused(why, approver), Vec::new());
        }

        // The escalation is satisfied: the decision is what the other
        // causes make it, raised again from there.
        let kept: Causes<'_> = self.causes.clone();
        let mut satisfied: Vec<String> = Vec::new();
        for cause in kept.iter().filter(|c| c.level == Level::Escalate) {
            if let Some(rule) = cause.rule {
                if !satisfied.iter().any(|r| r == rule) {
                    satisfied.push(rule.to_string());
                }
            }
        }
        self.causes.retain(|c| c.level != Level::Escalate);
        *self.level = top_level_or_allow(self.causes);
        apply_raises(
            meta,
            self.env,
            &mut *self.probe,
            self.causes,
            self.errors,
            self.level,
            Some((&grant, &mut satisfied)),
        );
        let approver = Some(grant.approver.clone());
        if !self.errors.is_empty() || *self.level >= Level::Escalate {
            // A raise failed, denied, or escalated on grounds the approval
            // was not given for: the escalation's causes stand again.
            let lifted: Vec<&Cause<'_>> = self
                .causes
                .iter()
                .filter(|c| c.level == *self.level)
                .collect();
            let names: Vec<String> = lifted
                .iter()
                .filter_map(|c| c.rule)
                .map(|n| format!("`{n}`"))
                .collect();
            let mut why = format!(
                "approval `{id}` was not used: {} lifts the approved action to `{}`",
                if names.is_empty() {
                    "the policy".to_string()
                } else {
                    names.join(", ")
                },
                self.level
            );
            // An escalation to someone else is not this approver's to grant.
            if let Some(other) = lifted
                .iter()
                .filter_map(|c| c.approver)
                .map(|a| meta.approver_name(a))
                .find(|a| *a != grant.approver)
            {
                why.push_str(&format!(", which needs `{other}`"));
            }
            // The escalation's own causes first, then what the raises added.
            let added: Causes<'_> = std::mem::take(self.causes);
            self.causes
                .extend(kept.into_iter().filter(|c| c.level == Level::Escalate));
            self.causes.extend(added);
            *self.level = top_level(self.causes);
            return (refused(why, approver), Vec::new());
        }
        // Constraints were moot under the escalation; now they bind.
        let conflict = (*self.level == Level::Constrain)
            .then(|| self.limits.conflict(self.ctx.schema))
            .flatten();
        if let Some(conflict) = conflict {
            self.causes
                .push(Cause::plain(Level::Deny, Some(Cow::Owned(conflict))));
            *self.level = Level::Deny;
            let why = format!(
                "approval `{id}` was not used: the approved action's constraints cannot all hold"
            );
            return (refused(why, approver), Vec::new());
        }
        let out = ApprovalOut {
            id: id.to_string(),
            status: ApprovalUse::Used,
            approver,
            expires: None,
            reason: None,
        };
        (out, satisfied)
    }
}

/// What an escalating cause asks that the approval was not given for,
/// worded; `None` if the approval covers it.
fn not_covered(meta: &PolicyMeta, cause: &Cause<'_>, grant: &ApprovalGrant) -> Option<String> {
    let grounds = &grant.grounds;
    if let Some(budget) = cause.budget {
        let name = meta.budget_name(budget);
        return (!grounds.budgets.iter().any(|b| b == name))
            .then(|| format!("passing budget `{name}`"));
    }
    match cause.rule {
        Some(rule) => (!grounds.rules.iter().any(|r| r == rule)).then(|| format!("`{rule}`")),
        None => (!grounds.is_default()).then(|| "the policy's default".to_string()),
    }
}

fn top_level_or_allow(causes: &[Cause<'_>]) -> Level {
    causes.iter().map(|c| c.level).max().unwrap_or(Level::Allow)
}

fn top_level(causes: &[Cause<'_>]) -> Level {
    causes.iter().map(|c| c.level).max().unwrap_or(Level::Deny)
}

fn spec_cause<'a>(spec: &'a OutcomeSpec, rule: Option<&'a str>) -> Cause<'a> {
    Cause {
        level: spec.level,
        rule,
        budget: None,
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
        budget: None,
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
        id: None,
        reservations: Vec::new(),
        approval: None,
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
            budgets: Vec::new(),
        }
    });
    Decision {
        decision: level,
        reasons: vec![reason],
        rules: Vec::new(),
        constraints: Vec::new(),
        escalation: escalation.map(Box::new),
        budgets: Vec::new(),
        policy: ctx.policy.clone(),
        errors,
        explanation: None,
        id: None,
        reservations: Vec::new(),
        approval: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_keeps_the_first_of_each_text_in_order_past_the_scan() {
        let texts: Vec<String> = (0..40).map(|i| format!("r{}", i % 13)).collect();
        let kept = distinct(texts.iter().map(String::as_str));
        let expected: Vec<String> = (0..13).map(|i| format!("r{i}")).collect();
        assert_eq!(kept, expected);
        let few = distinct(["b", "a", "b", "c", "a"].into_iter());
        assert_eq!(few, ["b", "a", "c"]);
    }
}
