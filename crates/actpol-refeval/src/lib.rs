//! The reference evaluator: decides an envelope by walking a checked
//! policy's typed IR ([`actpol_ir::Policy`]) directly.
//!
//! It exists to hold the bytecode VM to account: differential tests run
//! both on the same policies and envelopes and require identical decisions.
//! So it is written to be obviously right, not fast. Rules are found by a
//! plain scan in declaration order (no index, so the VM's index is checked
//! against a scan), expressions are evaluated by direct recursion over the
//! tree, and every operation on values goes through [`actpol_core::ops`].
//!
//! What it owns: the steps of "How a decision is made" (docs/language.md)
//! that find *which* outcomes apply (binding, identity, scope, rule
//! matching) and the meaning of every IR expression. What it does not own:
//! how outcomes combine, budgets are checked, raises lift and the decision
//! is rendered; that is [`actpol_core::decision::Combiner`], which both
//! evaluators feed.
//!
//! It must know nothing of policy text, the syntax tree, the checker,
//! bytecode or the VM: its only input is the IR.
//!
//! It never panics on a malformed IR (a reference out of range, a value of
//! the wrong type): that is an evaluation error, and errors fail closed to
//! the policy's `on_error`.

mod eval;

use actpol_core::decision::PolicyRef;
use actpol_core::decision::{self, Combiner, Decision, ErrorOut, EvalError, Settle};
use actpol_core::envelope::{BoundEnvelope, Envelope};
use actpol_core::ids::AgentId;
use actpol_core::reads::Names;
use actpol_core::schema::{AgentDef, PolicyMeta};
use actpol_core::state::StateView;
use actpol_ir::Policy;

use eval::Eval;

/// Decides `envelope` under `policy`, reading budgets and windows from
/// `state`. `hash` is the policy hash reported in the decision.
pub fn decide(policy: &Policy, envelope: Envelope, state: &dyn StateView, hash: &str) -> Decision {
    match BoundEnvelope::bind(envelope, &policy.schema) {
        Ok(env) => decide_bound(policy, &env, state, hash),
        Err(err) => {
            let named = PolicyRef::new(&policy.meta.name, hash);
            decision::failed(settle_ctx(policy, &named), vec![ErrorOut::from(&err)])
        }
    }
}

/// Decides an envelope already bound against `policy.schema`.
pub fn decide_bound(
    policy: &Policy,
    env: &BoundEnvelope,
    state: &dyn StateView,
    hash: &str,
) -> Decision {
    let named = PolicyRef::new(&policy.meta.name, hash);
    let ctx = settle_ctx(policy, &named);

    let (agent, agent_def) = match identify(&policy.meta, env) {
        Ok(found) => found,
        Err(reason) => return decision::refused(ctx, reason),
    };

    let names = Names::of(&policy.schema);
    let mut eval = match Eval::new(policy, &names, env, state) {
        Ok(eval) => eval,
        Err(err) => return decision::failed(ctx, vec![error_out(err)]),
    };

    match scope_refusal(policy, agent, agent_def, &mut eval) {
        Ok(None) => {}
        Ok(Some(reason)) => return decision::refused(ctx, reason),
        Err(err) => return decision::failed_bound(ctx, env, vec![error_out(err)]),
    }

    let mut combiner = Combiner::new();
    for rule in &policy.rules {
        if !rule.applies(env.action, Some(agent), &env.workflow) {
            continue;
        }
        match eval.hit(rule) {
            Ok(Some(hit)) => combiner.hit(hit),
            Ok(None) => {}
            Err(err) => combiner.fail(Some(rule.id), err),
        }
    }
    combiner.settle(ctx, env, state, &mut eval)
}

fn settle_ctx<'a>(policy: &'a Policy, named: &'a PolicyRef) -> Settle<'a> {
    Settle {
        schema: &policy.schema,
        meta: &policy.meta,
        policy: named,
    }
}

/// An error met before any rule ran. It names no JSON path: the envelope
/// fit the schema, and what failed was the policy's own evaluation.
fn error_out(err: EvalError) -> ErrorOut {
    ErrorOut::eval(&err, None)
}

/// C2: the agent must be declared, with the owner and workflow it claims.
/// `Err` holds the reason of the refusal.
///
/// Identity and scope are worked out here from the declarations, not taken
/// from the helpers in `actpol_core::decision` the VM uses: a mistake in
/// those would otherwise look the same from both sides of a differential
/// test.
fn identify<'m>(
    meta: &'m PolicyMeta,
    env: &BoundEnvelope,
) -> Result<(AgentId, &'m AgentDef), String> {
    let name = &*env.agent_id;
    let Some((index, _, def)) = meta.agents.get_full(name) else {
        return Err(format!("agent `{name}` is not declared"));
    };
    if def.owner != *env.owner {
        return Err(format!(
            "agent `{name}` belongs to `{}`, not `{}`",
            def.owner, env.owner
        ));
    }
    if def.workflow != *env.workflow {
        return Err(format!(
            "agent `{name}` runs workflow `{}`, not `{}`",
            def.workflow, env.workflow
        ));
    }
    Ok((AgentId::from_index(index), def))
}

/// C3: the reason the agent's scope refuses this envelope, if it does.
/// Checked from the cheapest to the costliest: system, object type, then
/// the record predicates of the object's entity.
fn scope_refusal(
    policy: &Policy,
    agent: AgentId,
    agent_def: &AgentDef,
    eval: &mut Eval<'_>,
) -> Result<Option<String>, EvalError> {
    let Some(scope) = &agent_def.scope else {
        return Ok(None);
    };
    let schema = &policy.schema;
    let name = &*eval.env().agent_id;
    let action = eval.action_def();
    if let Some(systems) = &scope.systems {
        if !systems.contains(&action.system) {
            let system = schema.system_name(action.system);
            return Ok(Some(format!(
                "agent `{name}` may not touch system `{system}`"
            )));
        }
    }
    let entity = schema.entity_name(action.object);
    if let Some(objects) = &scope.objects {
        if !objects.contains(&action.object) {
            return Ok(Some(format!(
                "agent `{name}` may not touch `{entity}` objects"
            )));
        }
    }
    // `scopes` is indexed by agent; a scoped agent without an entry means
    // the IR lost its predicates, and admitting the record would fail open.
    let predicates = policy.scopes.get(agent.index()).ok_or_else(|| {
        eval::malformed(format!(
            "the record predicates of agent `{name}` are missing"
        ))
    })?;
    // The language allows one predicate per entity; should an IR hold
    // several, each must hold, which is the stricter reading.
    for (_, predicate) in predicates.iter().filter(|(e, _)| *e == action.object) {
        if !eval.truth(predicate)? {
            return Ok(Some(format!(
                "agent `{name}` may not touch this `{entity}` record"
            )));
        }
    }
    Ok(None)
}
