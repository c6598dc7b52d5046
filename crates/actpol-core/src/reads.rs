//! What an expression can read of an envelope and of the state, named the
//! same way by the IR and by bytecode.

use serde::{Deserialize, Serialize};

use crate::ids::NameId;

/// Simple reads of the envelope.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EnvField {
    /// `agent.id`: String
    AgentId,
    /// `agent.owner`: String
    AgentOwner,
    /// `agent.workflow`: String
    AgentWorkflow,
    /// `action.name`: String
    ActionName,
    /// `action.system`: String
    ActionSystem,
    /// `action.reversibility`: the built-in enum `Reversibility`
    ActionReversibility,
    /// `object.id`: String
    ObjectId,
    /// `intent.goal`: String (needs `has intent`)
    IntentGoal,
    /// `intent.confidence`: Decimal (needs `has intent`)
    IntentConfidence,
    /// `rollback.kind`: String (needs `has rollback`)
    RollbackKind,
    /// `rollback.action`: String (needs `has rollback.action`)
    RollbackAction,
    /// `rollback.within`: Duration (needs `has rollback.within`)
    RollbackWithin,
    /// `plan.id`: String (needs `has plan`)
    PlanId,
    /// `plan.step`: Int (needs `has plan`)
    PlanStep,
    /// `now`: Timestamp (the envelope's `time`)
    Now,
    /// `now.hour`: Int, 0–23 UTC
    NowHour,
    /// `now.weekday`: the built-in enum `Weekday`
    NowWeekday,
    /// `now.time_of_day`: Duration since midnight UTC
    NowTimeOfDay,
    /// `reversible`: Bool. The action's class is `reversible`, or it is
    /// `compensable` and the envelope carries a rollback plan.
    Reversible,
}

/// What `has …` asks about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Presence {
    Param(NameId),
    Attr(NameId),
    Context(NameId),
    Intent,
    Rollback,
    RollbackAction,
    RollbackWithin,
    Plan,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum BudgetField {
    Limit,
    Consumed,
    Remaining,
}

impl EnvField {
    /// How the field is written in policy source.
    pub fn source(self) -> &'static str {
        match self {
            EnvField::AgentId => "agent.id",
            EnvField::AgentOwner => "agent.owner",
            EnvField::AgentWorkflow => "agent.workflow",
            EnvField::ActionName => "action.name",
            EnvField::ActionSystem => "action.system",
            EnvField::ActionReversibility => "action.reversibility",
            EnvField::ObjectId => "object.id",
            EnvField::IntentGoal => "intent.goal",
            EnvField::IntentConfidence => "intent.confidence",
            EnvField::RollbackKind => "rollback.kind",
            EnvField::RollbackAction => "rollback.action",
            EnvField::RollbackWithin => "rollback.within",
            EnvField::PlanId => "plan.id",
            EnvField::PlanStep => "plan.step",
            EnvField::Now => "now",
            EnvField::NowHour => "now.hour",
            EnvField::NowWeekday => "now.weekday",
            EnvField::NowTimeOfDay => "now.time_of_day",
            EnvField::Reversible => "reversible",
        }
    }
}

impl Presence {
    /// How the presence is written after `has` in policy source.
    pub fn source(self, schema: &crate::schema::Schema) -> String {
        match self {
            Presence::Param(n) => format!("params.{}", schema.field_name(n)),
            Presence::Attr(n) => format!("object.{}", schema.field_name(n)),
            Presence::Context(n) => format!("context.{}", schema.field_name(n)),
            Presence::Intent => "intent".into(),
            Presence::Rollback => "rollback".into(),
            Presence::RollbackAction => "rollback.action".into(),
            Presence::RollbackWithin => "rollback.within".into(),
            Presence::Plan => "plan".into(),
        }
    }
}
