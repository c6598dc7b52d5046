//! Coverage probes: a policy whose rules say which parts of the original
//! policy's conditions an envelope reached, and which way each went.
//!
//! Each part of a compound condition (each operand of `and`, `or` and `not`
//! that is not itself one of those; boolean risks are looked into) becomes
//! two probe rules over the same actions, agents and workflows as its rule:
//! `reached and part` and `reached and not part`, where `reached` is what
//! must hold for evaluation to get to the part (`a` for `b` in `a and b`,
//! `not a` for `b` in `a or b`). A part evaluation skips is not counted.
//! An agent's record predicate is a site too (admitted or refused), with
//! its parts; a raise's condition has its parts, read whenever the raise
//! applies to the action. A rule's condition or a record predicate of one
//! part has no part sites: its rule's outcome (matched or not) or the
//! predicate's site says all a part would.
//!
//! The probe policy has no record predicates and no raises, so its
//! explanations list every probe the envelope's action and agent reach: a
//! caller counts the parts of rules and raises only for envelopes the
//! original policy admitted, since only those ran the original's rules.

use actpol_core::decision::Level;
use actpol_core::ids::{ActionId, AgentId, RuleId};
use actpol_core::schema::RuleMeta;
use actpol_core::types::Type;
use actpol_ir::{Expr, ExprKind, Outcome, Policy, Rule, SrcSpan};
use serde::Serialize;

use crate::text::{self, Location};
use crate::Owner;

/// How deep parts are looked for through risks that use risks.
const MAX_RISK_DEPTH: usize = 8;

const PREFIX: &str = "probe_";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SiteKind {
    /// A part of a condition: seen true, and seen false.
    Part,
    /// An agent's whole record predicate: a record admitted, and one
    /// refused.
    Scope,
}

/// One thing coverage counts both ways.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Site {
    pub owner: Owner,
    pub kind: SiteKind,
    pub location: Location,
    /// The part as written, on one line.
    pub text: String,
}

/// The probe policy and what its rules stand for.
#[derive(Clone, Debug)]
pub struct Probes {
    /// One pair of rules per site: `probe_<site>_true`, `probe_<site>_false`.
    pub policy: Policy,
    pub sites: Vec<Site>,
    /// Where each rule of the original policy is, by rule id.
    pub rules: Vec<Location>,
}

impl Probes {
    /// The site a probe rule stands for, and which way the part went.
    pub fn probe(&self, rule: &str) -> Option<(usize, bool)> {
        let rest = rule.strip_prefix(PREFIX)?;
        let (site, side) = rest.split_once('_')?;
        let site: usize = site.parse().ok()?;
        let held = match side {
            "true" => true,
            "false" => false,
            _ => return None,
        };
        (site < self.sites.len()).then_some((site, held))
    }
}

/// The probe policy of `policy`. `root` is the policy's directory as its
/// files were loaded.
pub fn probes(policy: &Policy, root: &str) -> Probes {
    let mut b = Builder {
        policy,
        root,
        sites: Vec::new(),
        rules: Vec::new(),
    };
    for rule in &policy.rules {
        let name = policy
            .meta
            .rules
            .get(rule.id.index())
            .map_or("?", |r| r.name.as_str());
        let owner = Owner::Rule {
            name: name.to_string(),
        };
        let applies = Applies {
            actions: rule.actions.clone(),
            agents: rule.agents.clone(),
            workflows: rule.workflows.clone(),
        };
        if let Some(when) = rule.when.as_ref().filter(|w| compound(policy, w, 0)) {
            b.parts(&owner, &applies, when, None, 0);
        }
    }
    for (agent_index, predicates) in policy.scopes.iter().enumerate() {
        let agent = policy
            .meta
            .agents
            .get_index(agent_index)
            .map_or("?", |(n, _)| n.as_str());
        for (entity, predicate) in predicates {
            let actions: Vec<ActionId> = policy
                .schema
                .actions
                .values()
                .enumerate()
                .filter(|(_, def)| def.object == *entity)
                .map(|(a, _)| ActionId::from_index(a))
                .collect();
            if actions.is_empty() {
                continue;
            }
            let owner = Owner::Scope {
                agent: agent.to_string(),
                entity: policy.schema.entity_name(*entity).to_string(),
            };
            let applies = Applies {
                actions,
                agents: Some(vec![AgentId::from_index(agent_index)]),
                workflows: None,
            };
            b.site(&owner, SiteKind::Scope, &applies, None, predicate);
            if compound(policy, predicate, 0) {
                b.parts(&owner, &applies, predicate, None, 0);
            }
        }
    }
    for (def, when) in policy.meta.raises.iter().zip(&policy.raises) {
        let owner = Owner::Raise {
            name: def.name.clone(),
        };
        let actions = def.actions.clone().unwrap_or_else(|| {
            (0..policy.schema.actions.len())
                .map(ActionId::from_index)
                .collect()
        });
        let applies = Applies {
            actions,
            agents: None,
            workflows: None,
        };
        b.parts(&owner, &applies, when, None, 0);
    }
    let Builder { sites, rules, .. } = b;
    let mut probe = policy.clone();
    probe.meta.rules = rules
        .iter()
        .map(|(name, _)| RuleMeta {
            name: name.clone(),
            doc: None,
            overrides: Vec::new(),
        })
        .collect();
    probe.rules = rules.into_iter().map(|(_, rule)| rule).collect();
    probe.meta.raises.clear();
    probe.raises.clear();
    probe.scopes = vec![Vec::new(); policy.meta.agents.len()];
    Probes {
        rules: policy
            .rules
            .iter()
            .map(|r| Location::of(policy, r.span, root))
            .collect(),
        policy: probe,
        sites,
    }
}

/// Where a probe rule is a candidate: as its rule, scope or raise.
struct Applies {
    actions: Vec<ActionId>,
    agents: Option<Vec<AgentId>>,
    workflows: Option<Vec<String>>,
}

struct Builder<'p> {
    policy: &'p Policy,
    root: &'p str,
    sites: Vec<Site>,
    rules: Vec<(String, Rule)>,
}

impl Builder<'_> {
    /// The parts of `e`, reached when `guard` holds.
    fn parts(
        &mut self,
        owner: &Owner,
        applies: &Applies,
        e: &Expr,
        guard: Option<&Expr>,
        depth: usize,
    ) {
        match &e.kind {
            ExprKind::And(a, b) => {
                self.parts(owner, applies, a, guard, depth);
                let reached = both(guard, a.as_ref().clone());
                self.parts(owner, applies, b, Some(&reached), depth);
            }
            ExprKind::Or(a, b) => {
                self.parts(owner, applies, a, guard, depth);
                let reached = both(guard, negated(a));
                self.parts(owner, applies, b, Some(&reached), depth);
            }
            ExprKind::Not(a) => self.parts(owner, applies, a, guard, depth),
            ExprKind::Risk(id) if e.ty == Type::Bool && depth < MAX_RISK_DEPTH => {
                match self.policy.risks.get(id.index()) {
                    Some(body) => self.parts(owner, applies, body, guard, depth + 1),
                    None => self.site(owner, SiteKind::Part, applies, guard, e),
                }
            }
            _ => self.site(owner, SiteKind::Part, applies, guard, e),
        }
    }

    fn site(
        &mut self,
        owner: &Owner,
        kind: SiteKind,
        applies: &Applies,
        guard: Option<&Expr>,
        part: &Expr,
    ) {
        let index = self.sites.len();
        self.sites.push(Site {
            owner: owner.clone(),
            kind,
            location: Location::of(self.policy, part.span, self.root),
            text: text::quote(self.policy, part.span),
        });
        for held in [true, false] {
            let seen = if held { part.clone() } else { negated(part) };
            let when = both(guard, seen);
            let id = RuleId::from_index(self.rules.len());
            self.rules.push((
                format!("{PREFIX}{index}_{held}"),
                Rule {
                    id,
                    actions: applies.actions.clone(),
                    agents: applies.agents.clone(),
                    workflows: applies.workflows.clone(),
                    span: part.span,
                    when: Some(when),
                    outcome: Outcome {
                        level: Level::Allow,
                        approver: None,
                        reason: None,
                        limits: Vec::new(),
                        requires: Vec::new(),
                    },
                    consumes: Vec::new(),
                },
            ));
        }
    }
}

/// Whether `e` has parts: an `and`, `or` or `not`, or a boolean risk whose
/// body has.
fn compound(policy: &Policy, e: &Expr, depth: usize) -> bool {
    match &e.kind {
        ExprKind::And(..) | ExprKind::Or(..) | ExprKind::Not(_) => true,
        ExprKind::Risk(id) if e.ty == Type::Bool && depth < MAX_RISK_DEPTH => policy
            .risks
            .get(id.index())
            .is_some_and(|body| compound(policy, body, depth + 1)),
        _ => false,
    }
}

fn negated(e: &Expr) -> Expr {
    Expr {
        kind: ExprKind::Not(Box::new(e.clone())),
        ty: Type::Bool,
        span: e.span,
    }
}

fn both(guard: Option<&Expr>, e: Expr) -> Expr {
    match guard {
        None => e,
        Some(g) => Expr {
            span: SrcSpan {
                end: e.span.end.max(g.span.end),
                ..g.span
            },
            kind: ExprKind::And(Box::new(g.clone()), Box::new(e)),
            ty: Type::Bool,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_rules_name_their_site_and_side() {
        let probes = Probes {
            policy: empty(),
            sites: vec![Site {
                owner: Owner::Policy,
                kind: SiteKind::Part,
                location: Location {
                    file: "p.actpol".into(),
                    relative: "p.actpol".into(),
                    line: 1,
                    column: 1,
                    start: 0,
                    end: 0,
                },
                text: "x".into(),
            }],
            rules: Vec::new(),
        };
        assert_eq!(probes.probe("probe_0_true"), Some((0, true)));
        assert_eq!(probes.probe("probe_0_false"), Some((0, false)));
        assert_eq!(probes.probe("probe_1_true"), None, "no such site");
        assert_eq!(probes.probe("probe_0_maybe"), None);
        assert_eq!(probes.probe("routine_send"), None);
    }

    pub(super) fn empty() -> Policy {
        let spec = actpol_core::schema::OutcomeSpec {
            level: Level::Deny,
            approver: None,
            reason: None,
            requires: Vec::new(),
        };
        Policy {
            schema: actpol_core::Schema::new(),
            meta: actpol_core::schema::PolicyMeta {
                name: "p".into(),
                agents: Default::default(),
                approvers: Default::default(),
                budgets: Default::default(),
                default: spec.clone(),
                on_error: spec,
                rules: Vec::new(),
                raises: Vec::new(),
                risks: Vec::new(),
                timing: Default::default(),
            },
            scopes: Vec::new(),
            rules: Vec::new(),
            raises: Vec::new(),
            risks: Vec::new(),
            files: Vec::new(),
        }
    }
}
