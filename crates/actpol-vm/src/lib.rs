//! The runtime: loads a verified program and decides on action envelopes
//! in microseconds, failing closed.
//!
//! A decision binds the envelope to the schema, checks identity (C2) and
//! scope (C3), runs only the candidate rules the index names for the
//! action and agent, each under fuel, and settles the outcomes with
//! [`actpol_core::Combiner`] (C6). Explanations (C11) come from a second,
//! slower pass over the same candidates.
//!
//! Architecture invariant: this crate links neither the parser nor the
//! checker nor the IR; it knows the bytecode and the core contracts only.

use actpol_bytecode::artifact::{hash_text, Artifact, ArtifactError, VerifyingKey};
use actpol_bytecode::{verify, BlockId, Program, VerifyError};
use actpol_core::decision::{
    self, ErrorOut, EvalError, Hit, ParamLimit, PolicyRef, Probe, Settle, ValueOut,
};
use actpol_core::ids::{AgentId, RaiseId, RuleId};
use actpol_core::reads::Names;
use actpol_core::{BoundEnvelope, Combiner, Decision, Envelope, EnvelopeError, StateView};

mod explain;
mod machine;
mod patterns;

use machine::{Machine, StackRoom};
use patterns::Patterns;

/// A loaded, verified policy, ready to decide.
#[derive(Debug)]
pub struct Runtime {
    artifact: Artifact,
    /// The policy's name and hash, shared by every decision.
    named: PolicyRef,
    /// Action and system names as values, for `action.name` and
    /// `action.system`: built once, not per read.
    names: Names,
    /// The program's regular expressions, compiled once.
    patterns: Patterns,
}

impl Runtime {
    /// Reads an `.actpolc` artifact: checks the header and checksum, decodes,
    /// and verifies the program.
    pub fn load(bytes: &[u8]) -> Result<Runtime, ArtifactError> {
        Runtime::load_with(bytes, None)
    }

    /// [`Runtime::load`], requiring a signature by `required` when given
    /// (checked before anything else of the artifact is read).
    pub fn load_with(
        bytes: &[u8],
        required: Option<&VerifyingKey>,
    ) -> Result<Runtime, ArtifactError> {
        Ok(Runtime::trusting_verified(Artifact::decode_with(
            bytes, required,
        )?))
    }

    /// Runs an artifact held in memory, verifying it first.
    pub fn new(artifact: Artifact) -> Result<Runtime, VerifyError> {
        verify(&artifact.program)?;
        Ok(Runtime::trusting_verified(artifact))
    }

    fn trusting_verified(artifact: Artifact) -> Runtime {
        Runtime {
            named: PolicyRef::new(
                &artifact.program.meta.name,
                &hash_text(&artifact.source_hash),
            ),
            names: Names::of(&artifact.program.schema),
            patterns: Patterns::of(&artifact.program),
            artifact,
        }
    }

    pub fn artifact(&self) -> &Artifact {
        &self.artifact
    }

    pub fn program(&self) -> &Program {
        &self.artifact.program
    }

    /// `sha256:<hex>` of the policy's sources.
    pub fn hash(&self) -> &str {
        &self.named.hash
    }

    fn settle_ctx(&self) -> Settle<'_> {
        Settle {
            schema: &self.program().schema,
            meta: &self.program().meta,
            policy: &self.named,
        }
    }

    /// Binds an envelope to this policy's schema.
    pub fn bind(&self, env: Envelope) -> Result<BoundEnvelope, actpol_core::EnvelopeError> {
        BoundEnvelope::bind(env, &self.program().schema)
    }

    /// Decides on JSON bytes. A malformed or ill-typed envelope yields the
    /// policy's `on_error` decision with the error's JSON path.
    pub fn decide_json(&self, bytes: &[u8], state: &dyn StateView) -> Decision {
        match BoundEnvelope::from_json(bytes, &self.program().schema) {
            Ok(env) => self.decide(&env, state),
            Err(err) => self.refuse(&err),
        }
    }

    /// Decides on an envelope built in Rust.
    pub fn decide_envelope(&self, env: Envelope, state: &dyn StateView) -> Decision {
        match self.bind(env) {
            Ok(env) => self.decide(&env, state),
            Err(err) => self.refuse(&err),
        }
    }

    /// Decides on a bound envelope.
    pub fn decide(&self, env: &BoundEnvelope, state: &dyn StateView) -> Decision {
        if let Err(foreign) = self.owns(env) {
            return *foreign;
        }
        let room = StackRoom::new();
        let machine = match Machine::new(
            self.program(),
            &self.names,
            &self.patterns,
            env,
            state,
            &room,
        ) {
            Ok(machine) => machine,
            Err(err) => {
                return decision::failed(self.settle_ctx(), vec![ErrorOut::eval(&err, None)])
            }
        };
        match self.admit(&machine, env) {
            Ok(agent) => self.run_rules(&machine, env, state, agent),
            Err(decision) => *decision,
        }
    }

    /// Like [`Runtime::decide`], with an explanation of every candidate rule.
    pub fn explain(&self, env: &BoundEnvelope, state: &dyn StateView) -> Decision {
        let mut decision = self.decide(env, state);
        if self.owns(env).is_ok() {
            decision.explanation = explain::explain(self, env, state).map(Box::new);
        }
        decision
    }

    /// The policy's `on_error` decision for an envelope that does not fit:
    /// never `allow`, with the error and its JSON path.
    pub fn refuse(&self, err: &EnvelopeError) -> Decision {
        decision::failed(self.settle_ctx(), vec![ErrorOut::from(err)])
    }

    /// The policy's `on_error` decision for a bound envelope refused before
    /// evaluation (its time is too far from the host's clock): with the
    /// exception packet when the decision escalates.
    pub fn refuse_bound(&self, env: &BoundEnvelope, err: &EnvelopeError) -> Decision {
        let errors = vec![ErrorOut::from(err)];
        match self.owns(env) {
            Ok(()) => decision::failed_bound(self.settle_ctx(), env, errors),
            Err(_) => decision::failed(self.settle_ctx(), errors),
        }
    }

    /// An envelope bound against another policy's schema has slots this
    /// program cannot read: it is refused, never read out of range.
    fn owns(&self, env: &BoundEnvelope) -> Result<(), Box<Decision>> {
        if env.is_bound_to(&self.program().schema) {
            return Ok(());
        }
        let error = EnvelopeError::foreign(&env.action_name);
        Err(Box::new(self.refuse(&error)))
    }

    /// Identity (C2) and scope (C3): the agent, or the refusal.
    fn admit(&self, machine: &Machine<'_>, env: &BoundEnvelope) -> Result<AgentId, Box<Decision>> {
        let p = self.program();
        let agent = decision::identify(&p.meta, env)
            .map_err(|reason| Box::new(decision::refused(self.settle_ctx(), reason)))?;
        decision::scope_admits(&p.meta, &p.schema, agent, env)
            .map_err(|reason| Box::new(decision::refused(self.settle_ctx(), reason)))?;
        let object = p.schema.action(env.action).object;
        for (entity, block) in p.scopes.get(agent.index()).into_iter().flatten() {
            if *entity != object {
                continue;
            }
            match machine.truth(*block) {
                Ok(true) => {}
                Ok(false) => {
                    let reason = decision::out_of_scope_record(&p.schema, env);
                    return Err(Box::new(decision::refused(self.settle_ctx(), reason)));
                }
                Err(err) => {
                    let out = ErrorOut::eval(&err, None);
                    return Err(Box::new(decision::failed_bound(
                        self.settle_ctx(),
                        env,
                        vec![out],
                    )));
                }
            }
        }
        Ok(agent)
    }

    /// The rules the index names for this action and agent, in rule order.
    pub(crate) fn candidates(
        &self,
        env: &BoundEnvelope,
        agent: AgentId,
    ) -> impl Iterator<Item = RuleId> + '_ {
        let (any, pinned) = self.program().candidates(env.action, agent);
        let workflow = env.workflow.clone();
        merge_sorted(any, pinned).filter(move |r| {
            self.program().rules[r.index()]
                .workflows
                .as_ref()
                .is_none_or(|list| list.iter().any(|w| **w == *workflow))
        })
    }

    fn run_rules(
        &self,
        machine: &Machine<'_>,
        env: &BoundEnvelope,
        state: &dyn StateView,
        agent: AgentId,
    ) -> Decision {
        let mut combiner = Combiner::new();
        for rule in self.candidates(env, agent) {
            match self.fire(machine, rule) {
                Ok(Some(hit)) => combiner.hit(hit),
                Ok(None) => {}
                Err(err) => combiner.fail(Some(rule), err),
            }
        }
        let mut probe = VmProbe {
            runtime: self,
            machine,
            env,
        };
        combiner.settle(self.settle_ctx(), env, state, &mut probe)
    }

    /// Runs one rule: its hit if the condition holds.
    pub(crate) fn fire(
        &self,
        machine: &Machine<'_>,
        rule: RuleId,
    ) -> Result<Option<Hit<'_>>, EvalError> {
        let code = &self.program().rules[rule.index()];
        if let Some(when) = code.when {
            if !machine.truth(when)? {
                return Ok(None);
            }
        }
        let mut limits = Vec::with_capacity(code.limits.len());
        for (param, op, block) in &code.limits {
            limits.push(ParamLimit {
                param: *param,
                op: *op,
                value: machine.run(*block)?,
            });
        }
        let mut consumes = Vec::with_capacity(code.consumes.len());
        for (budget, block) in &code.consumes {
            consumes.push((*budget, machine.run(*block)?));
        }
        Ok(Some(Hit {
            rule,
            level: code.level,
            approver: code.approver,
            reason: code.reason.as_deref(),
            limits,
            requires: &code.requires,
            consumes,
        }))
    }
}

/// Two ascending lists of rule ids as one ascending sequence.
fn merge_sorted<'a>(a: &'a [RuleId], b: &'a [RuleId]) -> impl Iterator<Item = RuleId> + 'a {
    let (mut i, mut j) = (0, 0);
    std::iter::from_fn(move || {
        let next = match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) if x <= y => {
                i += 1;
                *x
            }
            (_, Some(y)) => {
                j += 1;
                *y
            }
            (Some(x), None) => {
                i += 1;
                *x
            }
            (None, None) => return None,
        };
        Some(next)
    })
}

struct VmProbe<'a> {
    runtime: &'a Runtime,
    machine: &'a Machine<'a>,
    env: &'a BoundEnvelope,
}

impl Probe for VmProbe<'_> {
    fn raise_holds(&mut self, raise: RaiseId) -> Result<bool, EvalError> {
        let block: BlockId = *self
            .runtime
            .program()
            .raises
            .get(raise.index())
            .ok_or(EvalError::BadRaise)?;
        self.machine.truth(block)
    }

    fn risk_factors(&mut self) -> Vec<(String, ValueOut)> {
        let p = self.runtime.program();
        p.meta
            .risks
            .iter()
            .zip(&p.risks)
            .filter(|(meta, _)| {
                meta.actions
                    .as_ref()
                    .is_none_or(|a| a.binary_search(&self.env.action).is_ok())
            })
            .filter_map(|(meta, block)| {
                let value = self.machine.run(*block).ok()?;
                Some((meta.name.clone(), value.to_out(&meta.ty, &p.schema)))
            })
            .collect()
    }
}
