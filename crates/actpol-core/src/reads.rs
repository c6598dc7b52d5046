//! What an expression can read of an envelope and of the state, named the
//! same way by the IR and by bytecode, and how those reads are answered
//! ([`Reader`]): both evaluators read envelopes through it, so they cannot
//! drift apart on what `now.hour` or `has rollback.action` means.

use serde::{Deserialize, Serialize};

use crate::collections::{self, PartKind};
use crate::envelope::BoundEnvelope;
use crate::error::EvalError;
use crate::ids::{EntityId, NameId};
use crate::schema::{ActionDef, EntityDef, FieldDef, ReversibilityClass, Schema};
use crate::value::{time_of_day, weekday, Value, HOUR_MS};

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

/// Which of the envelope's typed objects a field read is of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldKind {
    /// `params.x`
    Param,
    /// `object.x`
    Attr,
    /// `context.x`
    Context,
}

impl FieldKind {
    /// How policies write the object: `params`, `object`, `context`.
    pub fn prefix(self) -> &'static str {
        match self {
            FieldKind::Param => "params",
            FieldKind::Attr => "object",
            FieldKind::Context => "context",
        }
    }
}

/// Action and system names as values, built once per schema, so reading
/// `action.name` allocates nothing.
#[derive(Debug)]
pub struct Names {
    actions: Vec<Value>,
    systems: Vec<Value>,
}

impl Names {
    /// The names of `schema`'s actions and systems.
    pub fn of(schema: &Schema) -> Names {
        Names {
            actions: schema.actions.keys().map(|n| Value::str(n)).collect(),
            systems: schema.systems.keys().map(|n| Value::str(n)).collect(),
        }
    }
}

/// Reads one bound envelope: its fields, with its action's and object's
/// declarations looked up once.
#[derive(Clone, Copy, Debug)]
pub struct Reader<'a> {
    env: &'a BoundEnvelope,
    schema: &'a Schema,
    names: &'a Names,
    action: &'a ActionDef,
    entity: &'a EntityDef,
}

impl<'a> Reader<'a> {
    /// A reader of `env`, which was bound against `schema`; `names` are
    /// `schema`'s. An envelope whose action or object is not in `schema` is
    /// an error, never an out-of-range read.
    #[inline]
    pub fn new(
        env: &'a BoundEnvelope,
        schema: &'a Schema,
        names: &'a Names,
    ) -> Result<Self, EvalError> {
        let (_, action) = schema
            .actions
            .get_index(env.action.index())
            .ok_or_else(|| {
                EvalError::Malformed("the envelope's action is not in the policy's schema".into())
            })?;
        let (_, entity) = schema
            .entities
            .get_index(action.object.index())
            .ok_or_else(|| {
                EvalError::Malformed(
                    "the action's object entity is not in the policy's schema".into(),
                )
            })?;
        Ok(Reader {
            env,
            schema,
            names,
            action,
            entity,
        })
    }

    /// The envelope read.
    #[inline]
    pub fn envelope(&self) -> &'a BoundEnvelope {
        self.env
    }

    /// The declaration of the envelope's action.
    #[inline]
    pub fn action(&self) -> &'a ActionDef {
        self.action
    }

    /// The declaration of the envelope's object's entity.
    #[inline]
    pub fn entity(&self) -> &'a EntityDef {
        self.entity
    }

    /// A parameter, attribute or context field: `Ok(None)` when the
    /// envelope left an optional one out. A field not declared there is an
    /// error, not an absence: `has` of it must not quietly be false, or
    /// `not has …` would hold on a program the checker never produced.
    #[inline]
    pub fn slot(&self, kind: FieldKind, name: NameId) -> Result<Option<&'a Value>, EvalError> {
        match self.lookup(kind, name) {
            Some(value) => Ok(value.as_ref()),
            None => Err(self.undeclared(kind, name)),
        }
    }

    /// The envelope's slot for a field, `None` when the field is not
    /// declared there. Errors are built apart, so the path every condition
    /// takes carries none of their weight.
    #[inline]
    fn lookup(&self, kind: FieldKind, name: NameId) -> Option<&'a Option<Value>> {
        let (defs, values): (&[FieldDef], &'a [Option<Value>]) = match kind {
            FieldKind::Param => (&self.action.params, &self.env.params),
            FieldKind::Attr => (&self.entity.attrs, &self.env.attrs),
            FieldKind::Context => (&self.schema.context, &self.env.context),
        };
        let index = defs.iter().position(|d| d.name == name)?;
        values.get(index)
    }

    #[cold]
    fn undeclared(&self, kind: FieldKind, name: NameId) -> EvalError {
        EvalError::Malformed(format!("`{}` is not declared here", self.path(kind, name)))
    }

    #[cold]
    fn absent(&self, kind: FieldKind, name: NameId) -> EvalError {
        EvalError::absent(self.path(kind, name))
    }

    /// The related entity of type `entity` that `reference` names, as a
    /// record of its attributes: `Ok(None)` when the envelope does not
    /// carry it.
    #[inline]
    pub fn related(&self, entity: EntityId, reference: &Value) -> Result<Option<Value>, EvalError> {
        match reference {
            Value::Ref(id) => Ok(self.env.entities.get(entity, id).cloned()),
            _ => Err(EvalError::Type(
                "a related entity read through a non-reference".into(),
            )),
        }
    }

    /// A part that may be absent (`xs.first()`, `r.note`, the entity a
    /// reference names): `Ok(None)` when it is.
    #[inline]
    pub fn part(
        &self,
        kind: PartKind,
        slot: u32,
        args: &[Value],
    ) -> Result<Option<Value>, EvalError> {
        match (kind, args) {
            (PartKind::Related, [reference]) => self.related(EntityId(slot), reference),
            _ => collections::part(kind, slot, args),
        }
    }

    /// A field's value, or the `absent` error naming it.
    #[inline]
    pub fn value(&self, kind: FieldKind, name: NameId) -> Result<&'a Value, EvalError> {
        match self.lookup(kind, name) {
            Some(Some(value)) => Ok(value),
            Some(None) => Err(self.absent(kind, name)),
            None => Err(self.undeclared(kind, name)),
        }
    }

    /// `params.x`, `object.x`, `context.x`, as policies write it.
    fn path(&self, kind: FieldKind, name: NameId) -> String {
        format!("{}.{}", kind.prefix(), self.schema.field_name(name))
    }

    /// Whether what `has …` asks about is in the envelope.
    #[inline]
    pub fn has(&self, presence: Presence) -> Result<bool, EvalError> {
        let env = self.env;
        Ok(match presence {
            Presence::Param(n) => self.slot(FieldKind::Param, n)?.is_some(),
            Presence::Attr(n) => self.slot(FieldKind::Attr, n)?.is_some(),
            Presence::Context(n) => self.slot(FieldKind::Context, n)?.is_some(),
            Presence::Intent => env.intent.is_some(),
            Presence::Rollback => env.rollback.is_some(),
            Presence::RollbackAction => env.rollback.as_ref().is_some_and(|r| r.action.is_some()),
            Presence::RollbackWithin => env.rollback.as_ref().is_some_and(|r| r.within.is_some()),
            Presence::Plan => env.plan.is_some(),
        })
    }

    /// One of the envelope's simple fields.
    #[inline]
    pub fn field(&self, field: EnvField) -> Result<Value, EvalError> {
        let env = self.env;
        let intent = || {
            env.intent
                .as_ref()
                .ok_or_else(|| EvalError::absent("intent"))
        };
        let rollback = || {
            env.rollback
                .as_ref()
                .ok_or_else(|| EvalError::absent("rollback"))
        };
        let plan = || env.plan.as_ref().ok_or_else(|| EvalError::absent("plan"));
        Ok(match field {
            EnvField::AgentId => Value::String(env.agent_id.clone()),
            EnvField::AgentOwner => Value::String(env.owner.clone()),
            EnvField::AgentWorkflow => Value::String(env.workflow.clone()),
            EnvField::ActionName => self
                .names
                .actions
                .get(env.action.index())
                .cloned()
                .ok_or_else(|| EvalError::Malformed("the action has no name".into()))?,
            EnvField::ActionSystem => self
                .names
                .systems
                .get(self.action.system.index())
                .cloned()
                .ok_or_else(|| EvalError::Malformed("the action's system has no name".into()))?,
            EnvField::ActionReversibility => Value::Enum(self.action.reversibility.variant()),
            EnvField::ObjectId => Value::String(env.object_id.clone()),
            EnvField::IntentGoal => Value::String(intent()?.0.clone()),
            EnvField::IntentConfidence => Value::Decimal(intent()?.1),
            EnvField::RollbackKind => Value::String(rollback()?.kind.clone()),
            // What is absent is what `has` must prove: `rollback.action`,
            // whether the envelope lacks the whole rollback plan or only
            // its action (likewise `within`).
            EnvField::RollbackAction => Value::String(
                env.rollback
                    .as_ref()
                    .and_then(|r| r.action.clone())
                    .ok_or_else(|| EvalError::absent("rollback.action"))?,
            ),
            EnvField::RollbackWithin => Value::Duration(
                env.rollback
                    .as_ref()
                    .and_then(|r| r.within)
                    .ok_or_else(|| EvalError::absent("rollback.within"))?,
            ),
            EnvField::PlanId => Value::String(plan()?.0.clone()),
            EnvField::PlanStep => Value::Int(plan()?.1),
            EnvField::Now => Value::Timestamp(env.time),
            EnvField::NowHour => Value::Int(time_of_day(env.time) / HOUR_MS),
            EnvField::NowWeekday => Value::Enum(weekday(env.time)),
            EnvField::NowTimeOfDay => Value::Duration(time_of_day(env.time)),
            EnvField::Reversible => Value::Bool(match self.action.reversibility {
                ReversibilityClass::Reversible => true,
                ReversibilityClass::Compensable { .. } => env.rollback.is_some(),
                ReversibilityClass::Irreversible => false,
            }),
        })
    }
}
