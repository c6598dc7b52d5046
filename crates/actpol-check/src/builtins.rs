//! Methods and functions of the language (docs/language.md "Functions and
//! methods") and the reads of the envelope that need no declaration.

use actpol_core::ops::Builtin;
use actpol_core::schema::{REVERSIBILITY, WEEKDAY};
use actpol_core::types::Type;
use actpol_ir::{EnvField, Presence};

/// What a method is called on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Receiver {
    String,
    Set,
    Timestamp,
}

impl Receiver {
    pub(crate) fn of(ty: &Type) -> Option<Receiver> {
        match ty {
            Type::String => Some(Receiver::String),
            Type::Set(_) => Some(Receiver::Set),
            Type::Timestamp => Some(Receiver::Timestamp),
            _ => None,
        }
    }
}

/// The one argument a method takes, if any, relative to the receiver.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Arg {
    None,
    String,
    /// An element of the receiving set.
    Element,
    /// A set of the receiver's element type.
    SameSet,
    /// A constant regular expression, compiled by the checker.
    Pattern,
    /// A constant IANA time zone name, resolved by the checker.
    Zone,
}

/// What a method yields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Yields {
    Bool,
    Int,
    String,
    StringSet,
    StringList,
    Duration,
    Weekday,
}

impl Yields {
    pub(crate) fn ty(self) -> Type {
        match self {
            Yields::Bool => Type::Bool,
            Yields::Int => Type::Int,
            Yields::String => Type::String,
            Yields::StringSet => Type::Set(Box::new(Type::String)),
            Yields::StringList => Type::List(Box::new(Type::String)),
            Yields::Duration => Type::Duration,
            Yields::Weekday => Type::Enum(WEEKDAY),
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Method {
    pub name: &'static str,
    pub on: Receiver,
    pub builtin: Builtin,
    pub arg: Arg,
    pub yields: Yields,
}

const fn method(
    name: &'static str,
    on: Receiver,
    builtin: Builtin,
    arg: Arg,
    yields: Yields,
) -> Method {
    Method {
        name,
        on,
        builtin,
        arg,
        yields,
    }
}

pub(crate) const METHODS: [Method; 21] = [
    method(
        "starts_with",
        Receiver::String,
        Builtin::StartsWith,
        Arg::String,
        Yields::Bool,
    ),
    method(
        "ends_with",
        Receiver::String,
        Builtin::EndsWith,
        Arg::String,
        Yields::Bool,
    ),
    method(
        "contains",
        Receiver::String,
        Builtin::StrContains,
        Arg::String,
        Yields::Bool,
    ),
    method(
        "matches",
        Receiver::String,
        Builtin::Matches,
        Arg::String,
        Yields::Bool,
    ),
    method(
        "len",
        Receiver::String,
        Builtin::StrLen,
        Arg::None,
        Yields::Int,
    ),
    method(
        "contains",
        Receiver::Set,
        Builtin::SetContains,
        Arg::Element,
        Yields::Bool,
    ),
    method(
        "contains_any",
        Receiver::Set,
        Builtin::ContainsAny,
        Arg::SameSet,
        Yields::Bool,
    ),
    method(
        "contains_all",
        Receiver::Set,
        Builtin::ContainsAll,
        Arg::SameSet,
        Yields::Bool,
    ),
    method(
        "len",
        Receiver::Set,
        Builtin::SetLen,
        Arg::None,
        Yields::Int,
    ),
    method(
        "lower",
        Receiver::String,
        Builtin::Lower,
        Arg::None,
        Yields::String,
    ),
    method(
        "upper",
        Receiver::String,
        Builtin::Upper,
        Arg::None,
        Yields::String,
    ),
    method(
        "email_domain",
        Receiver::String,
        Builtin::EmailDomain,
        Arg::None,
        Yields::String,
    ),
    method(
        "url_host",
        Receiver::String,
        Builtin::UrlHost,
        Arg::None,
        Yields::String,
    ),
    method(
        "urls",
        Receiver::String,
        Builtin::Urls,
        Arg::None,
        Yields::StringSet,
    ),
    method(
        "url_hosts",
        Receiver::String,
        Builtin::UrlHosts,
        Arg::None,
        Yields::StringSet,
    ),
    method(
        "split",
        Receiver::String,
        Builtin::Split,
        Arg::String,
        Yields::StringList,
    ),
    method(
        "matches_regex",
        Receiver::String,
        Builtin::RegexMatch,
        Arg::Pattern,
        Yields::Bool,
    ),
    method(
        "hour_in",
        Receiver::Timestamp,
        Builtin::HourIn,
        Arg::Zone,
        Yields::Int,
    ),
    method(
        "time_of_day_in",
        Receiver::Timestamp,
        Builtin::TimeOfDayIn,
        Arg::Zone,
        Yields::Duration,
    ),
    method(
        "weekday_in",
        Receiver::Timestamp,
        Builtin::WeekdayIn,
        Arg::Zone,
        Yields::Weekday,
    ),
    method(
        "date_in",
        Receiver::Timestamp,
        Builtin::DateIn,
        Arg::Zone,
        Yields::String,
    ),
];

pub(crate) fn methods_of(on: Receiver) -> impl Iterator<Item = &'static Method> {
    METHODS.iter().filter(move |m| m.on == on)
}

/// Functions called by name, with their number of arguments.
pub(crate) const FUNCTIONS: [(&str, usize); 8] = [
    ("min", 2),
    ("max", 2),
    ("abs", 1),
    ("timestamp", 1),
    ("hours", 1),
    ("minutes", 1),
    ("seconds", 1),
    ("days", 1),
];

/// Functions that build a duration from a count of their unit.
pub(crate) const DURATION_UNITS: [(&str, Builtin); 4] = [
    ("hours", Builtin::Hours),
    ("minutes", Builtin::Minutes),
    ("seconds", Builtin::Seconds),
    ("days", Builtin::Days),
];

/// The names an expression may start with, besides enums.
pub(crate) const ROOTS: [&str; 13] = [
    "params",
    "object",
    "context",
    "agent",
    "action",
    "intent",
    "rollback",
    "plan",
    "now",
    "budget",
    "risk",
    "reversible",
    "upstream",
];

/// What to write instead of a root used as a value on its own.
pub(crate) const ROOT_HELP: [(&str, &str); 11] = [
    ("params", "read a parameter: `params.<name>`"),
    ("object", "read an attribute, `object.<name>`, or the object's id, `object.id`"),
    ("context", "read a context field: `context.<name>`"),
    ("agent", "read `agent.id`, `agent.owner` or `agent.workflow`"),
    ("action", "read `action.name`, `action.system`, `action.reversibility`, `action.touches(<data class>)` or `action.sends(external)`"),
    ("intent", "test it with `has intent`, then read `intent.goal` or `intent.confidence`"),
    ("rollback", "test it with `has rollback`, then read `rollback.kind`"),
    ("plan", "test it with `has plan`, then read `plan.id` or `plan.step`"),
    ("budget", "read a budget as `budget.<name>.remaining`, `.consumed` or `.limit`"),
    ("risk", "read a named risk as `risk.<name>`"),
    ("upstream", "ask what flows into this step: `upstream.reads(<data class>)`"),
];

/// A type with no declaration behind it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fixed {
    Int,
    Decimal,
    String,
    Duration,
    Weekday,
    Reversibility,
}

impl Fixed {
    pub(crate) fn ty(self) -> Type {
        match self {
            Fixed::Int => Type::Int,
            Fixed::Decimal => Type::Decimal,
            Fixed::String => Type::String,
            Fixed::Duration => Type::Duration,
            Fixed::Weekday => Type::Enum(WEEKDAY),
            Fixed::Reversibility => Type::Enum(REVERSIBILITY),
        }
    }
}

/// `root.field` reads of the envelope.
#[derive(Clone, Copy, Debug)]
pub(crate) struct EnvRead {
    pub root: &'static str,
    pub field: &'static str,
    pub env: EnvField,
    pub ty: Fixed,
    /// What `has` must prove first.
    pub needs: Option<Presence>,
}

const fn env(
    root: &'static str,
    field: &'static str,
    env: EnvField,
    ty: Fixed,
    needs: Option<Presence>,
) -> EnvRead {
    EnvRead {
        root,
        field,
        env,
        ty,
        needs,
    }
}

pub(crate) const ENV_READS: [EnvRead; 17] = [
    env("agent", "id", EnvField::AgentId, Fixed::String, None),
    env("agent", "owner", EnvField::AgentOwner, Fixed::String, None),
    env(
        "agent",
        "workflow",
        EnvField::AgentWorkflow,
        Fixed::String,
        None,
    ),
    env("action", "name", EnvField::ActionName, Fixed::String, None),
    env(
        "action",
        "system",
        EnvField::ActionSystem,
        Fixed::String,
        None,
    ),
    env(
        "action",
        "reversibility",
        EnvField::ActionReversibility,
        Fixed::Reversibility,
        None,
    ),
    env(
        "intent",
        "goal",
        EnvField::IntentGoal,
        Fixed::String,
        Some(Presence::Intent),
    ),
    env(
        "intent",
        "confidence",
        EnvField::IntentConfidence,
        Fixed::Decimal,
        Some(Presence::Intent),
    ),
    env(
        "rollback",
        "kind",
        EnvField::RollbackKind,
        Fixed::String,
        Some(Presence::Rollback),
    ),
    env(
        "rollback",
        "action",
        EnvField::RollbackAction,
        Fixed::String,
        Some(Presence::RollbackAction),
    ),
    env(
        "rollback",
        "within",
        EnvField::RollbackWithin,
        Fixed::Duration,
        Some(Presence::RollbackWithin),
    ),
    env(
        "plan",
        "id",
        EnvField::PlanId,
        Fixed::String,
        Some(Presence::Plan),
    ),
    env(
        "plan",
        "step",
        EnvField::PlanStep,
        Fixed::Int,
        Some(Presence::Plan),
    ),
    env("now", "hour", EnvField::NowHour, Fixed::Int, None),
    env(
        "now",
        "time_of_day",
        EnvField::NowTimeOfDay,
        Fixed::Duration,
        None,
    ),
    env("now", "weekday", EnvField::NowWeekday, Fixed::Weekday, None),
    // `object.id` is the one attribute no entity declares.
    env("object", "id", EnvField::ObjectId, Fixed::String, None),
];

pub(crate) fn env_fields(root: &str) -> impl Iterator<Item = &'static EnvRead> + '_ {
    ENV_READS.iter().filter(move |r| r.root == root)
}

/// What `has <root>[.<field>]` asks, for the parts of the envelope that
/// are optional by nature.
pub(crate) const ENVELOPE_PRESENCE: [(&str, Option<&str>, Presence); 5] = [
    ("intent", None, Presence::Intent),
    ("rollback", None, Presence::Rollback),
    ("rollback", Some("action"), Presence::RollbackAction),
    ("rollback", Some("within"), Presence::RollbackWithin),
    ("plan", None, Presence::Plan),
];

/// The budget fields a condition reads.
pub(crate) const BUDGET_FIELDS: [(&str, actpol_ir::BudgetField); 3] = [
    ("limit", actpol_ir::BudgetField::Limit),
    ("consumed", actpol_ir::BudgetField::Consumed),
    ("remaining", actpol_ir::BudgetField::Remaining),
];
