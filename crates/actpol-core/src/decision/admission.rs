//! Admission: whether the envelope's agent is who it claims (C2), and
//! whether its scope admits the action's system and object type (C3, the
//! part known without evaluating). Record predicates are code: the
//! evaluators run them.

use crate::envelope::BoundEnvelope;
use crate::ids::AgentId;
use crate::schema::{PolicyMeta, Schema};

/// C2: the envelope's agent must be declared, with the declared owner and
/// workflow. The reason for refusing otherwise.
pub fn identify(meta: &PolicyMeta, env: &BoundEnvelope) -> Result<AgentId, String> {
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
    agent: AgentId,
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
