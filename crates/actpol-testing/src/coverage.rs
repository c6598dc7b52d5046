//! Coverage, in two measures.
//!
//! **Rule coverage**: which rules some case made match, and for each rule
//! which outcome branches the cases took: matched, or considered but not
//! matched (the rule applied to the action and agent, and its condition was
//! false), or failed to evaluate; and which raises fired.
//!
//! **Condition coverage**, finer: besides the rules' outcome branches and
//! the raises, each part of each condition (every comparison and boolean
//! operand of a rule's condition, a record predicate or a raise's
//! condition) seen true and seen false, each record predicate seen
//! admitting and refusing, each budget a rule consumes seen exhausted, and
//! the policy's `on_error` seen deciding.
//!
//! Both are read from explained decisions (the policy's own, and its probe
//! policy's: see `actpol::mutate::Conditions`), so they count what the
//! runtime did, not what a second evaluator thinks.

use actpol::mutate::{Conditions, Location, Observation, Owner, Site, SiteKind};
use actpol::plan::PlanDecision;
use actpol::{Decision, Policy};
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RuleCoverage {
    pub name: String,
    /// Whether the rule has a `when`: a rule without one has no
    /// not-matched branch to take.
    pub conditional: bool,
    /// Cases (and nodes of plan cases) in which the rule matched.
    pub matched: u32,
    /// Cases (and plan nodes) in which the rule was a candidate and its
    /// condition was false.
    pub not_matched: u32,
    /// Cases in which the rule failed to evaluate.
    pub failed: u32,
}

impl RuleCoverage {
    /// Outcome branches the rule has (matched, and not matched if it has a
    /// condition) and how many of them some case took.
    pub fn branches(&self) -> (usize, usize) {
        let total = if self.conditional { 2 } else { 1 };
        let taken =
            usize::from(self.matched > 0) + usize::from(self.conditional && self.not_matched > 0);
        (taken, total)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RaiseCoverage {
    pub name: String,
    /// Cases whose decision the raise set.
    pub fired: u32,
}

/// The coverage of one policy by the cases run against it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Coverage {
    /// The policy's path, as test files name it.
    pub policy: String,
    /// The policy's declared name.
    pub name: String,
    pub cases: u32,
    pub rules: Vec<RuleCoverage>,
    pub raises: Vec<RaiseCoverage>,
    /// Present when the run gathered condition coverage and the policy was
    /// compiled from source.
    pub conditions: Option<ConditionCoverage>,
}

/// The parts of conditions, record predicates, budget exhaustion and
/// `on_error`, as the cases saw them.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ConditionCoverage {
    /// Where each rule is, in rule order (as [`Coverage::rules`]).
    pub rule_locations: Vec<Location>,
    pub sites: Vec<SiteCoverage>,
    pub budgets: Vec<BudgetCoverage>,
    /// Cases the policy's `on_error` decided.
    pub on_error: u32,
}

/// A part of a condition (or a whole record predicate), and how often the
/// cases that reached it saw it hold and not hold.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SiteCoverage {
    #[serde(flatten)]
    pub site: Site,
    /// Cases in which the part held (the predicate admitted the record).
    pub held: u32,
    /// Cases in which it did not.
    pub failed: u32,
    /// Cases in which evaluating it failed.
    pub errors: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BudgetCoverage {
    pub name: String,
    /// Cases whose decision the budget's exhaustion set.
    pub exhausted: u32,
}

impl ConditionCoverage {
    pub fn new(conditions: &Conditions) -> Self {
        ConditionCoverage {
            rule_locations: conditions.rule_locations().to_vec(),
            sites: conditions
                .sites()
                .iter()
                .map(|site| SiteCoverage {
                    site: site.clone(),
                    held: 0,
                    failed: 0,
                    errors: 0,
                })
                .collect(),
            budgets: conditions
                .budgets()
                .into_iter()
                .map(|name| BudgetCoverage {
                    name: name.to_string(),
                    exhausted: 0,
                })
                .collect(),
            on_error: 0,
        }
    }

    pub fn observe(&mut self, seen: &Observation) {
        for (site, held) in &seen.parts {
            if let Some(s) = self.sites.get_mut(*site) {
                if *held {
                    s.held += 1;
                } else {
                    s.failed += 1;
                }
            }
        }
        for site in &seen.errors {
            if let Some(s) = self.sites.get_mut(*site) {
                s.errors += 1;
            }
        }
        for budget in &seen.exhausted {
            if let Some(b) = self.budgets.get_mut(*budget) {
                b.exhausted += 1;
            }
        }
        self.on_error += u32::from(seen.on_error);
    }

    /// Outcomes seen, and in all: two per site, one per budget, one for
    /// `on_error`.
    pub fn outcomes(&self) -> (usize, usize) {
        let sites = self
            .sites
            .iter()
            .map(|s| usize::from(s.held > 0) + usize::from(s.failed > 0))
            .sum::<usize>();
        let budgets = self.budgets.iter().filter(|b| b.exhausted > 0).count();
        (
            sites + budgets + usize::from(self.on_error > 0),
            2 * self.sites.len() + self.budgets.len() + 1,
        )
    }

    /// A rule's parts seen both ways, and all its parts.
    pub fn rule_parts(&self, rule: &str) -> (usize, usize) {
        let parts = self.sites.iter().filter(|s| {
            s.site.kind == SiteKind::Part
                && matches!(&s.site.owner, Owner::Rule { name } if name == rule)
        });
        parts.fold((0, 0), |(both, all), s| {
            (both + usize::from(s.missing().is_none()), all + 1)
        })
    }

    /// Sites some way of which no case saw.
    pub fn unseen(&self) -> impl Iterator<Item = &SiteCoverage> {
        self.sites.iter().filter(|s| s.held == 0 || s.failed == 0)
    }
}

impl SiteCoverage {
    /// What no case saw: `never true`, `never false` (for a record
    /// predicate, `never admitted`, `never refused`), `never reached`.
    pub fn missing(&self) -> Option<&'static str> {
        let scope = self.site.kind == SiteKind::Scope;
        match (self.held > 0, self.failed > 0) {
            (true, true) => None,
            (false, false) => Some("never reached"),
            (false, true) if scope => Some("never admitted"),
            (true, false) if scope => Some("never refused"),
            (false, true) => Some("never true"),
            (true, false) => Some("never false"),
        }
    }
}

impl Coverage {
    pub fn new(policy: &Policy, path: &str) -> Self {
        let rules = policy
            .rules()
            .map(|rule| RuleCoverage {
                name: rule.name.to_string(),
                conditional: rule.conditional,
                matched: 0,
                not_matched: 0,
                failed: 0,
            })
            .collect();
        let raises = policy
            .raises()
            .map(|name| RaiseCoverage {
                name: name.to_string(),
                fired: 0,
            })
            .collect();
        Coverage {
            policy: path.to_string(),
            name: policy.name().to_string(),
            cases: 0,
            rules,
            raises,
            conditions: None,
        }
    }

    /// Counts what one explained decision shows.
    pub fn observe(&mut self, decision: &Decision) {
        self.cases += 1;
        self.traces(decision, &decision.rules);
    }

    /// Counts what a plan case's explained nodes show: one case, and the
    /// rules and raises each node hit.
    pub fn observe_plan(&mut self, plan: &PlanDecision) {
        self.cases += 1;
        for node in &plan.nodes {
            self.traces(&node.full, &node.rules);
        }
    }

    /// The rules an explained decision traced, and the raises among the
    /// rules that set it (`rules`: a plan node keeps them beside its
    /// decision).
    fn traces(&mut self, decision: &Decision, rules: &[String]) {
        let traces = decision
            .explanation
            .as_ref()
            .map(|e| e.rules.as_slice())
            .unwrap_or_default();
        let mut matched_names = Vec::new();
        for trace in traces {
            let name = trace.rule.as_str();
            let Some(rule) = self.rules.iter_mut().find(|r| r.name == name) else {
                continue;
            };
            if trace.error.is_some() {
                rule.failed += 1;
            } else if trace.matched {
                rule.matched += 1;
                matched_names.push(name);
            } else {
                rule.not_matched += 1;
            }
        }
        // A raise that set the decision is listed among its rules; a rule of
        // the same name that matched would be listed there too.
        for raise in &mut self.raises {
            if rules.contains(&raise.name) && !matched_names.contains(&raise.name.as_str()) {
                raise.fired += 1;
            }
        }
    }

    pub fn rules_matched(&self) -> usize {
        self.rules.iter().filter(|r| r.matched > 0).count()
    }

    /// Percent of rules some case made match; a policy without rules is
    /// fully covered.
    pub fn percent(&self) -> f64 {
        if self.rules.is_empty() {
            return 100.0;
        }
        self.rules_matched() as f64 * 100.0 / self.rules.len() as f64
    }

    /// Outcome branches taken, and in all.
    pub fn branches(&self) -> (usize, usize) {
        self.rules
            .iter()
            .map(RuleCoverage::branches)
            .fold((0, 0), |(a, b), (t, n)| (a + t, b + n))
    }

    pub fn uncovered(&self) -> impl Iterator<Item = &RuleCoverage> {
        self.rules.iter().filter(|r| r.matched == 0)
    }

    /// Condition coverage's outcomes seen and in all: the rules' outcome
    /// branches, the raises, and the parts, predicates, budgets and
    /// `on_error` of [`ConditionCoverage`]. `None` when not gathered.
    pub fn condition_outcomes(&self) -> Option<(usize, usize)> {
        let conditions = self.conditions.as_ref()?;
        let (branches_taken, branches) = self.branches();
        let fired = self.raises.iter().filter(|r| r.fired > 0).count();
        let (seen, all) = conditions.outcomes();
        Some((
            branches_taken + fired + seen,
            branches + self.raises.len() + all,
        ))
    }

    /// Percent of condition coverage's outcomes seen.
    pub fn condition_percent(&self) -> Option<f64> {
        let (seen, all) = self.condition_outcomes()?;
        Some(if all == 0 {
            100.0
        } else {
            seen as f64 * 100.0 / all as f64
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn branches_count_what_a_rule_can_do() {
        let mut r = RuleCoverage {
            name: "r".into(),
            conditional: true,
            matched: 1,
            not_matched: 0,
            failed: 0,
        };
        assert_eq!(r.branches(), (1, 2));
        r.not_matched = 3;
        assert_eq!(r.branches(), (2, 2));
        r.conditional = false;
        assert_eq!(r.branches(), (1, 1));
    }
}
