//! Testing a policy's tests: the policy's mutants, each compiled on its
//! own, and the probes condition coverage is read from. For test tools
//! (`actpol test --mutants`, `--coverage`); a program that only decides
//! needs none of it.
//!
//! Both start from the checked policy, so they need the policy's source: a
//! compiled artifact has neither mutants nor probes.

use std::path::Path;

use actpol_core::decision::{Decision, RuleTrace, Stage};
use actpol_core::state::StateView;
use actpol_mutate::Probes;

pub use actpol_mutate::{Location, Mutant, MutantKind, Nudge, NudgeValue, Owner, Site, SiteKind};

use crate::compile::check_db;
use crate::{load, CompileFailure, Policy, Request};

/// A policy compiled from source, with the checked form that mutants and
/// probes are made from.
#[derive(Debug)]
pub struct Source {
    checked: actpol_ir::Policy,
    hash: [u8; 32],
    /// The directory of the policy's main file, as loaded.
    root: String,
    policy: Policy,
}

impl Source {
    /// Loads, checks and compiles the one policy under `paths`.
    pub fn from_paths<P: AsRef<Path>>(paths: &[P]) -> Result<Source, CompileFailure> {
        Source::from_paths_with(paths, &load::LoadOptions::default())
    }

    /// [`Source::from_paths`], with imports reaching as far as `options`
    /// say.
    pub fn from_paths_with<P: AsRef<Path>>(
        paths: &[P],
        options: &load::LoadOptions,
    ) -> Result<Source, CompileFailure> {
        Source::from_db(load::load(paths, options)?)
    }

    /// Checks and compiles a policy given as in-memory files `(path, text)`.
    pub fn from_sources<'a>(
        sources: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Source, CompileFailure> {
        Source::from_db(actpol_check::SourceDb::from_sources(sources))
    }

    fn from_db(db: actpol_check::SourceDb) -> Result<Source, CompileFailure> {
        let checked = check_db(db)?;
        let artifact = actpol_compiler::compile(&checked.policy, checked.hash)?;
        Ok(Source {
            policy: Policy::from_artifact(artifact)?,
            checked: checked.policy,
            hash: checked.hash,
            root: checked.root,
        })
    }

    /// This source screening envelopes under `limits`: the policy, its
    /// mutants and its probes alike (see [`Policy::with_limits`]).
    #[must_use]
    pub fn with_limits(mut self, limits: crate::EnvelopeLimits) -> Source {
        self.policy = self.policy.with_limits(limits);
        self
    }

    /// The policy itself, compiled.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Every mutant of the policy, ordered by place in its files.
    pub fn mutants(&self) -> Vec<Mutant> {
        actpol_mutate::mutants(&self.checked, &self.root)
    }

    /// Compiles one mutant of this policy.
    pub fn compile(&self, mutant: &Mutant) -> Result<Policy, CompileFailure> {
        let changed = mutant.apply(&self.checked);
        let limits = *self.policy.limits();
        Ok(
            Policy::from_artifact(actpol_compiler::compile(&changed, self.hash)?)?
                .with_limits(limits),
        )
    }

    /// The probes that say which parts of the policy's conditions an
    /// envelope reached, and which way each went.
    pub fn conditions(&self) -> Result<Conditions, CompileFailure> {
        let probes = actpol_mutate::probes(&self.checked, &self.root);
        let compiled = actpol_compiler::compile(&probes.policy, self.hash)?;
        let meta = &self.checked.meta;
        let budgets = meta
            .budgets
            .iter()
            .enumerate()
            .filter(|(index, _)| {
                self.checked
                    .rules
                    .iter()
                    .any(|r| r.consumes.iter().any(|c| c.budget.index() == *index))
            })
            .map(|(_, (name, def))| Exhaustion {
                name: name.clone(),
                reason: def.on_exhausted.reason.clone(),
            })
            .collect();
        Ok(Conditions {
            probe: Policy::from_artifact(compiled)?.with_limits(*self.policy.limits()),
            probes,
            budgets,
        })
    }
}

/// A budget some rule consumes, and how its exhaustion reads in a decision.
#[derive(Debug)]
struct Exhaustion {
    name: String,
    /// The `on_exhausted` reason; without one, the runtime's own wording.
    reason: Option<String>,
}

impl Exhaustion {
    fn shows_in(&self, decision: &Decision) -> bool {
        let generated = format!("budget `{}` is exhausted", self.name);
        decision.reasons.iter().any(|r| match &self.reason {
            Some(own) => r == own,
            None => r.starts_with(&generated),
        })
    }
}

/// What condition coverage counts besides rules: the parts of conditions,
/// scope predicates, budget exhaustion and the `on_error` path.
#[derive(Debug)]
pub struct Conditions {
    probe: Policy,
    probes: Probes,
    budgets: Vec<Exhaustion>,
}

/// What one decided envelope showed of the policy's conditions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Observation {
    /// Sites reached, and whether the part held (a record admitted).
    pub parts: Vec<(usize, bool)>,
    /// Sites whose evaluation failed.
    pub errors: Vec<usize>,
    /// Indices into [`Conditions::budgets`] of budgets whose exhaustion
    /// decided the envelope.
    pub exhausted: Vec<usize>,
    /// Whether the decision took the policy's `on_error` outcome.
    pub on_error: bool,
}

impl Conditions {
    /// Every site, indexed as [`Observation::parts`] names them.
    pub fn sites(&self) -> &[Site] {
        &self.probes.sites
    }

    /// Where each rule is, by rule id.
    pub fn rule_locations(&self) -> &[Location] {
        &self.probes.rules
    }

    /// The budgets some rule consumes, by name.
    pub fn budgets(&self) -> Vec<&str> {
        self.budgets.iter().map(|b| b.name.as_str()).collect()
    }

    /// What deciding `envelope` showed. `decided` is the policy's own
    /// decision on it, explained: parts of rules and raises count only
    /// when the policy admitted the envelope and ran its rules.
    pub fn observe(
        &self,
        decided: &Decision,
        envelope: &[u8],
        state: &dyn StateView,
    ) -> Observation {
        let admitted = decided
            .explanation
            .as_ref()
            .is_some_and(|e| e.stage == Stage::Rules);
        let probed = self.probe.decide(Request::new(envelope).explained(), state);
        let mut seen = Observation {
            on_error: !decided.errors.is_empty(),
            exhausted: (0..self.budgets.len())
                .filter(|b| self.budgets[*b].shows_in(decided))
                .collect(),
            ..Observation::default()
        };
        for trace in traces(&probed) {
            let Some((site, held)) = self.probes.probe(&trace.rule) else {
                continue;
            };
            // Record predicates run before any rule; the parts of rules and
            // raises only when the policy let the envelope get to its rules.
            let counts = admitted || matches!(self.probes.sites[site].owner, Owner::Scope { .. });
            if !counts {
                continue;
            }
            if trace.error.is_some() {
                if !seen.errors.contains(&site) {
                    seen.errors.push(site);
                }
            } else if trace.matched {
                seen.parts.push((site, held));
            }
        }
        seen
    }
}

fn traces(decision: &Decision) -> &[RuleTrace] {
    decision
        .explanation
        .as_deref()
        .map(|e| e.rules.as_slice())
        .unwrap_or_default()
}
