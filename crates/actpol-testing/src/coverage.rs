//! Rule coverage: which rules some case made match, and for each rule
//! which outcome branches the cases took: matched, or considered but not
//! matched (the rule applied to the action and agent, and its condition was
//! false), or failed to evaluate; and which raises fired.
//!
//! Coverage is read from the decision's explanation (C11), so it counts
//! exactly what the runtime did, not what a second evaluator thinks.

use actpol::{Decision, Policy};
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RuleCoverage {
    pub name: String,
    /// Whether the rule has a `when`: a rule without one has no
    /// not-matched branch to take.
    pub conditional: bool,
    /// Cases in which the rule matched.
    pub matched: u32,
    /// Cases in which the rule was a candidate and its condition was false.
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
        }
    }

    /// Counts what one explained decision shows.
    pub fn observe(&mut self, decision: &Decision) {
        self.cases += 1;
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
            if decision.rules.contains(&raise.name) && !matched_names.contains(&raise.name.as_str())
            {
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
