//! The schema of business objects (C1): enums, data classes, systems,
//! entities, actions and the envelope's context, with the identities
//! (agents, approvers) and budgets a policy declares.
//!
//! Tables are [`IndexMap`]s keyed by name: an id is the entry's index, so
//! declaration order is observable and stable.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::decision::Level;
use crate::ids::*;
use crate::types::Type;
use crate::value::Value;

/// The enum every schema starts with: `now.weekday` has this type.
pub const WEEKDAY: EnumId = EnumId(0);
/// The enum of `action.reversibility`.
pub const REVERSIBILITY: EnumId = EnumId(1);

const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const REVERSIBILITY_CLASSES: [&str; 3] = ["reversible", "compensable", "irreversible"];

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Schema {
    pub enums: IndexMap<String, EnumDef>,
    pub data_classes: IndexMap<String, Described>,
    pub systems: IndexMap<String, Described>,
    pub entities: IndexMap<String, EntityDef>,
    /// `record` types: named fields a parameter, attribute or context
    /// field may hold (one traveller, one payment).
    pub records: IndexMap<String, RecordDef>,
    pub actions: IndexMap<String, ActionDef>,
    /// Fields of the envelope's `context` object.
    pub context: Vec<FieldDef>,
    /// Every field name used by a parameter, attribute or context field.
    pub field_names: indexmap::IndexSet<String>,
}

impl Default for Schema {
    fn default() -> Self {
        Schema::new()
    }
}

impl Schema {
    /// An empty schema holding the built-in enums `Weekday` and
    /// `Reversibility`.
    pub fn new() -> Schema {
        let mut enums = IndexMap::new();
        let builtin = |variants: &[&str]| EnumDef {
            variants: variants.iter().map(|v| v.to_string()).collect(),
            builtin: true,
        };
        enums.insert("Weekday".to_string(), builtin(&WEEKDAYS));
        enums.insert("Reversibility".to_string(), builtin(&REVERSIBILITY_CLASSES));
        Schema {
            enums,
            data_classes: IndexMap::new(),
            systems: IndexMap::new(),
            entities: IndexMap::new(),
            records: IndexMap::new(),
            actions: IndexMap::new(),
            context: Vec::new(),
            field_names: indexmap::IndexSet::new(),
        }
    }

    pub fn intern_field(&mut self, name: &str) -> NameId {
        NameId::from_index(self.field_names.insert_full(name.to_string()).0)
    }

    pub fn field_name(&self, id: NameId) -> &str {
        self.field_names
            .get_index(id.index())
            .map_or("?", String::as_str)
    }

    pub fn action_id(&self, name: &str) -> Option<ActionId> {
        self.actions.get_index_of(name).map(ActionId::from_index)
    }

    pub fn action(&self, id: ActionId) -> &ActionDef {
        &self.actions[id.index()]
    }

    pub fn action_name(&self, id: ActionId) -> &str {
        self.actions
            .get_index(id.index())
            .map_or("?", |(n, _)| n.as_str())
    }

    pub fn entity(&self, id: EntityId) -> &EntityDef {
        &self.entities[id.index()]
    }

    pub fn entity_name(&self, id: EntityId) -> &str {
        self.entities
            .get_index(id.index())
            .map_or("?", |(n, _)| n.as_str())
    }

    pub fn record(&self, id: RecordId) -> Option<&RecordDef> {
        self.records.get_index(id.index()).map(|(_, d)| d)
    }

    pub fn record_name(&self, id: RecordId) -> &str {
        self.records
            .get_index(id.index())
            .map_or("?", |(n, _)| n.as_str())
    }

    pub fn enum_def(&self, id: EnumId) -> &EnumDef {
        &self.enums[id.index()]
    }

    pub fn enum_name(&self, id: EnumId) -> &str {
        self.enums
            .get_index(id.index())
            .map_or("?", |(n, _)| n.as_str())
    }

    pub fn system_name(&self, id: SystemId) -> &str {
        self.systems
            .get_index(id.index())
            .map_or("?", |(n, _)| n.as_str())
    }

    pub fn data_class_name(&self, id: DataClassId) -> &str {
        self.data_classes
            .get_index(id.index())
            .map_or("?", |(n, _)| n.as_str())
    }

    /// How a type is written in policy source.
    pub fn type_name(&self, ty: &Type) -> String {
        match ty {
            Type::Bool => "Bool".into(),
            Type::Int => "Int".into(),
            Type::Decimal => "Decimal".into(),
            Type::String => "String".into(),
            Type::Money(c) => format!("Money<{c}>"),
            Type::Duration => "Duration".into(),
            Type::Timestamp => "Timestamp".into(),
            Type::Set(elem) => format!("Set<{}>", self.type_name(elem)),
            Type::Enum(id) => self.enum_name(*id).to_string(),
            Type::Entity(id) => self.entity_name(*id).to_string(),
            Type::List(elem) => format!("List<{}>", self.type_name(elem)),
            Type::Record(id) => self.record_name(*id).to_string(),
        }
    }

    /// The data classes an action touches: its own, those it reads and
    /// its object's.
    pub fn touches(&self, action: ActionId, class: DataClassId) -> bool {
        let def = self.action(action);
        def.data_classes.contains(&class)
            || def.reads.contains(&class)
            || self.entity(def.object).data_classes.contains(&class)
    }

    /// Whether an action declares it sends to `destination`.
    pub fn sends(&self, action: ActionId, destination: Destination) -> bool {
        self.action(action).sends.contains(&destination)
    }

    /// The actions that declare they read `class`, in declaration order:
    /// a step downstream of any of them has `class` flowing into it.
    pub fn readers(&self, class: DataClassId) -> impl Iterator<Item = (&str, &ActionDef)> {
        self.actions
            .iter()
            .filter(move |(_, def)| def.reads.contains(&class))
            .map(|(name, def)| (name.as_str(), def))
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EnumDef {
    pub variants: Vec<String>,
    /// `Weekday` and `Reversibility` come with every schema.
    pub builtin: bool,
}

impl EnumDef {
    pub fn variant(&self, name: &str) -> Option<u32> {
        self.variants
            .iter()
            .position(|v| v == name)
            .map(|i| i as u32)
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Described {
    pub description: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldDef {
    pub name: NameId,
    pub ty: Type,
    pub optional: bool,
    /// The least and most a number may be (`in 0 USD..`), checked when an
    /// envelope is bound.
    pub bounds: Option<Bounds>,
    /// The zone an offset-less timestamp of the field is local time in
    /// (`Timestamp<"Europe/Paris">`, or the elements of a
    /// `List<Timestamp<"Europe/Paris">>`); without one, a timestamp must
    /// carry its offset.
    pub zone: Option<crate::zones::Zone>,
}

impl FieldDef {
    /// The field's type as a policy writes it, its zone included:
    /// `List<Timestamp<"Europe/Paris">>`.
    pub fn type_text(&self, schema: &Schema) -> String {
        let name = schema.type_name(&self.ty);
        match self.zone {
            // A zone is declared only on a timestamp or a collection of
            // them, whose name holds `Timestamp` once.
            Some(zone) => name.replacen("Timestamp", &format!("Timestamp<\"{zone}\">"), 1),
            None => name,
        }
    }

    /// Whether `value` is within the field's bounds (anything is, without
    /// bounds; only numbers are bounded).
    pub fn admits(&self, value: &Value) -> bool {
        match (&self.bounds, value.as_amount()) {
            (Some(bounds), Some(n)) => bounds.admits(n),
            _ => true,
        }
    }
}

/// The least and the most a number may be, both inclusive; `None` leaves
/// that end open. Held as decimals: an `Int` bound is a whole number, a
/// `Money` bound an amount in the field's currency.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bounds {
    #[serde(with = "rust_decimal::serde::str_option")]
    pub least: Option<rust_decimal::Decimal>,
    #[serde(with = "rust_decimal::serde::str_option")]
    pub most: Option<rust_decimal::Decimal>,
}

impl Bounds {
    pub fn admits(&self, n: rust_decimal::Decimal) -> bool {
        self.least.is_none_or(|least| n >= least) && self.most.is_none_or(|most| n <= most)
    }

    /// As a policy writes them: `0 USD..`, `1..10000`.
    pub fn text(&self, ty: &Type) -> String {
        let end = |n: Option<rust_decimal::Decimal>| match (n, ty) {
            (None, _) => String::new(),
            (Some(n), Type::Money(c)) => format!("{n} {c}"),
            (Some(n), _) => n.to_string(),
        };
        format!("{}..{}", end(self.least), end(self.most))
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EntityDef {
    pub attrs: Vec<FieldDef>,
    pub data_classes: Vec<DataClassId>,
    pub system: Option<SystemId>,
}

impl EntityDef {
    pub fn attr_slot(&self, name: NameId) -> Option<usize> {
        self.attrs.iter().position(|a| a.name == name)
    }
}

/// A `record` type: its fields in declaration order, which is the order
/// of a record value's slots.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecordDef {
    pub fields: Vec<FieldDef>,
}

impl RecordDef {
    pub fn field_slot(&self, name: NameId) -> Option<usize> {
        self.fields.iter().position(|f| f.name == name)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActionDef {
    pub system: SystemId,
    pub object: EntityId,
    pub params: Vec<FieldDef>,
    pub reversibility: ReversibilityClass,
    pub data_classes: Vec<DataClassId>,
    /// `reads pii`: the classes that flow from this action to the steps
    /// downstream of it.
    pub reads: Vec<DataClassId>,
    /// `sends external`: where the action sends.
    pub sends: Vec<Destination>,
    pub triggers: Vec<TriggerDef>,
}

/// Where an action sends: inside the organisation or outside it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Destination {
    Internal,
    External,
}

impl Destination {
    /// Every destination, in the order of their text forms.
    pub const ALL: [Destination; 2] = [Destination::Internal, Destination::External];

    pub fn as_str(self) -> &'static str {
        match self {
            Destination::Internal => "internal",
            Destination::External => "external",
        }
    }

    pub fn from_name(name: &str) -> Option<Destination> {
        Destination::ALL.into_iter().find(|d| d.as_str() == name)
    }
}

impl ActionDef {
    pub fn param_slot(&self, name: NameId) -> Option<usize> {
        self.params.iter().position(|p| p.name == name)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReversibilityClass {
    Reversible,
    Compensable {
        by: ActionId,
        /// Milliseconds within which compensation works, if bounded.
        within: Option<i64>,
    },
    Irreversible,
}

impl ReversibilityClass {
    /// The variant of the built-in `Reversibility` enum.
    pub fn variant(self) -> u32 {
        match self {
            ReversibilityClass::Reversible => 0,
            ReversibilityClass::Compensable { .. } => 1,
            ReversibilityClass::Irreversible => 2,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TriggerDef {
    Action(ActionId),
    System(SystemId),
}

/// How budget consumption and window sums are keyed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KeyKind {
    Agent,
    Workflow,
    Owner,
    Object,
    Plan,
}

impl KeyKind {
    /// How many kinds there are ([`KeyKind::index`] is below it).
    pub const COUNT: usize = 5;

    /// A dense index, for tables with a slot per kind.
    pub fn index(self) -> usize {
        match self {
            KeyKind::Agent => 0,
            KeyKind::Workflow => 1,
            KeyKind::Owner => 2,
            KeyKind::Object => 3,
            KeyKind::Plan => 4,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            KeyKind::Agent => "agent",
            KeyKind::Workflow => "workflow",
            KeyKind::Owner => "owner",
            KeyKind::Object => "object",
            KeyKind::Plan => "plan",
        }
    }
}

/// A window back from the envelope's time, or the envelope's whole plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Window {
    /// Milliseconds.
    Span(i64),
    Plan,
    /// The steps upstream of this one in its plan, as data flows
    /// (`upstream.reads(pii)`), within the span when it has one
    /// (`upstream.reads(pii, 30d)`, in milliseconds). A store cannot know a
    /// plan's edges, so it reads every earlier step of the plan, as
    /// [`Window::Plan`] (or a span back); a plan's evaluation reads only
    /// the step's ancestors that run.
    Upstream(Option<i64>),
}

/// Milliseconds in a day and in a week.
const DAY_MS: i64 = 86_400_000;
const WEEK_MS: i64 = 7 * DAY_MS;
/// 1970-01-01 was a Thursday: weeks start four days later, on Monday.
const FIRST_MONDAY_MS: i64 = 4 * DAY_MS;

impl Window {
    /// The calendar period a budget's consumption at `now` counts in:
    /// `[start, end)` in milliseconds since the epoch, UTC.
    ///
    /// Budgets reset at fixed boundaries, so a counter per period holds
    /// their state: `window 1h` is the clock hour, `window 1d` the UTC day,
    /// a span of whole weeks (`7d`, `2w`) starts on a Monday at 00:00 UTC,
    /// and any other span (`30d`, `90m`) is a run of equal periods counted
    /// from 1970-01-01T00:00:00Z. `window plan` is one period for all time:
    /// its key (the plan) already keeps plans apart. Window expressions
    /// (`count`, `sum`, `baseline`) are rolling instead: they look back
    /// exactly their span from `now`.
    pub fn bucket(self, now: i64) -> (i64, i64) {
        let Window::Span(span) = self else {
            return (i64::MIN, i64::MAX);
        };
        if span <= 0 {
            return (i64::MIN, i64::MAX);
        }
        let offset = if span % WEEK_MS == 0 {
            FIRST_MONDAY_MS
        } else {
            0
        };
        let start = (now - offset).div_euclid(span) * span + offset;
        (start, start.saturating_add(span))
    }
}

/// An outcome that needs no expression: defaults, `on_error`, exhaustion.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutcomeSpec {
    pub level: Level,
    pub approver: Option<ApproverId>,
    pub reason: Option<String>,
    /// For `constrain` (raise arms only): `require dry_run`, `require rollback`.
    #[serde(default)]
    pub requires: Vec<crate::decision::Requirement>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgentDef {
    pub owner: String,
    pub workflow: String,
    pub scope: Option<ScopeDef>,
}

/// The static part of an agent's scope (C3). Record predicates are code and
/// live with the compiled program.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ScopeDef {
    /// `None`: any system.
    pub systems: Option<Vec<SystemId>>,
    /// `None`: any object type.
    pub objects: Option<Vec<EntityId>>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ApproverDef {
    pub title: Option<String>,
    pub contact: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BudgetDef {
    pub ty: Type,
    pub limit: Value,
    pub window: Window,
    pub key: KeyKind,
    pub on_exhausted: OutcomeSpec,
}

/// What a policy declares besides rules: its name, identities, budgets,
/// and the outcomes used when no rule decides or evaluation fails.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PolicyMeta {
    pub name: String,
    pub agents: IndexMap<String, AgentDef>,
    pub approvers: IndexMap<String, ApproverDef>,
    pub budgets: IndexMap<String, BudgetDef>,
    pub default: OutcomeSpec,
    pub on_error: OutcomeSpec,
    /// Rules in declaration order (a [`RuleId`] indexes this).
    pub rules: Vec<RuleMeta>,
    /// Raises in declaration order (a [`RaiseId`] indexes this).
    pub raises: Vec<RaiseDef>,
    /// Named risks in declaration order (a [`RiskId`] indexes this).
    pub risks: Vec<RiskMeta>,
    /// What the header declares about time and holds, for a store.
    #[serde(default)]
    pub timing: Timing,
}

/// The header's time declarations, each in milliseconds: how far an
/// envelope's `time` may stray from the host's clock, how long a
/// reservation holds before it releases itself, and how long an approval
/// stays usable. `None`: not declared (a store applies its default).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timing {
    pub max_skew: Option<i64>,
    pub reservation_ttl: Option<i64>,
    pub approval_ttl: Option<i64>,
}

impl Timing {
    /// Without a declaration, an envelope's time may be 5 minutes off.
    pub const DEFAULT_MAX_SKEW: i64 = 5 * 60_000;
    /// Without a declaration, a reservation holds for 15 minutes.
    pub const DEFAULT_RESERVATION_TTL: i64 = 15 * 60_000;
    /// Without a declaration, an approval is usable for a day.
    pub const DEFAULT_APPROVAL_TTL: i64 = DAY_MS;

    pub fn max_skew_or_default(&self) -> i64 {
        self.max_skew.unwrap_or(Timing::DEFAULT_MAX_SKEW)
    }

    pub fn reservation_ttl_or_default(&self) -> i64 {
        self.reservation_ttl
            .unwrap_or(Timing::DEFAULT_RESERVATION_TTL)
    }

    pub fn approval_ttl_or_default(&self) -> i64 {
        self.approval_ttl.unwrap_or(Timing::DEFAULT_APPROVAL_TTL)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RuleMeta {
    pub name: String,
    pub doc: Option<String>,
    /// Precedence: when this (escalating) rule matches, the denials of these
    /// rules stand behind its escalation rather than deciding. Sorted.
    pub overrides: Vec<RuleId>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RiskMeta {
    pub name: String,
    pub ty: Type,
    /// `None`: every action.
    pub actions: Option<Vec<ActionId>>,
}

/// C7: when its condition holds, a raise lifts a decision level to a
/// stricter outcome (`allow -> escalate to …`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RaiseDef {
    pub name: String,
    /// Sorted. `None`: every action.
    pub actions: Option<Vec<ActionId>>,
    /// From-level and the stricter outcome it becomes.
    pub arms: Vec<(Level, OutcomeSpec)>,
}

impl RaiseDef {
    pub fn applies_to(&self, action: ActionId) -> bool {
        self.actions
            .as_ref()
            .is_none_or(|list| list.binary_search(&action).is_ok())
    }
}

impl PolicyMeta {
    /// The agent of this name. Every decision asks once; a policy usually
    /// declares a handful of agents, and comparing a few short names costs
    /// less than hashing one with SipHash, so only a longer list is hashed.
    pub fn agent_id(&self, name: &str) -> Option<AgentId> {
        const SCAN_AGENTS: usize = 8;
        let at = if self.agents.len() <= SCAN_AGENTS {
            self.agents.keys().position(|agent| agent == name)
        } else {
            self.agents.get_index_of(name)
        };
        at.map(AgentId::from_index)
    }

    pub fn approver_name(&self, id: ApproverId) -> &str {
        self.approvers
            .get_index(id.index())
            .map_or("?", |(n, _)| n.as_str())
    }

    pub fn budget_name(&self, id: BudgetId) -> &str {
        self.budgets
            .get_index(id.index())
            .map_or("?", |(n, _)| n.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::parse_timestamp;

    fn at(text: &str) -> i64 {
        parse_timestamp(text).unwrap()
    }

    fn bucket(window: Window, now: &str) -> (String, String) {
        let (start, end) = window.bucket(at(now));
        (
            crate::value::format_timestamp(start),
            crate::value::format_timestamp(end),
        )
    }

    /// An agent is found by name whether the policy declares a few (a
    /// scan) or many (a hash).
    #[test]
    fn agents_are_found_by_name_among_few_and_many() {
        for declared in [1usize, 3, 8, 9, 40] {
            let spec = OutcomeSpec {
                level: crate::decision::Level::Deny,
                approver: None,
                reason: None,
                requires: Vec::new(),
            };
            let meta = PolicyMeta {
                name: "p".into(),
                agents: (0..declared)
                    .map(|i| {
                        let def = AgentDef {
                            owner: "o".into(),
                            workflow: "w".into(),
                            scope: None,
                        };
                        (format!("bot-{i}"), def)
                    })
                    .collect(),
                approvers: IndexMap::new(),
                budgets: IndexMap::new(),
                default: spec.clone(),
                on_error: spec,
                rules: Vec::new(),
                raises: Vec::new(),
                risks: Vec::new(),
                timing: Timing::default(),
            };
            for i in 0..declared {
                let found = meta.agent_id(&format!("bot-{i}"));
                assert_eq!(found.map(AgentId::index), Some(i), "{declared} agents");
            }
            assert_eq!(meta.agent_id("bot-"), None);
            assert_eq!(meta.agent_id(&format!("bot-{declared}")), None);
        }
    }

    #[test]
    fn budget_windows_are_calendar_periods_in_utc() {
        let hour = Window::Span(3_600_000);
        let day = Window::Span(DAY_MS);
        let week = Window::Span(WEEK_MS);
        let thirty = Window::Span(30 * DAY_MS);
        assert_eq!(
            bucket(hour, "2026-11-25T14:59:59.999Z"),
            ("2026-11-25T14:00:00Z".into(), "2026-11-25T15:00:00Z".into())
        );
        assert_eq!(
            bucket(hour, "2026-11-25T15:00:00Z").0,
            "2026-11-25T15:00:00Z"
        );
        assert_eq!(
            bucket(day, "2026-11-25T23:59:59.999Z"),
            ("2026-11-25T00:00:00Z".into(), "2026-11-26T00:00:00Z".into())
        );
        assert_eq!(
            bucket(day, "2026-11-26T00:00:00Z").0,
            "2026-11-26T00:00:00Z"
        );
        // 2026-11-23 is a Monday: the week runs Monday to Monday.
        assert_eq!(
            bucket(week, "2026-11-29T23:59:59Z"),
            ("2026-11-23T00:00:00Z".into(), "2026-11-30T00:00:00Z".into())
        );
        assert_eq!(
            bucket(week, "2026-11-30T00:00:00Z").0,
            "2026-11-30T00:00:00Z"
        );
        // Thirty days: equal periods from the epoch (20,580 days to here).
        let (start, end) = thirty.bucket(at("2026-11-25T12:00:00Z"));
        assert_eq!(start % (30 * DAY_MS), 0);
        assert_eq!(end - start, 30 * DAY_MS);
        assert!(start <= at("2026-11-25T12:00:00Z") && at("2026-11-25T12:00:00Z") < end);
        // Before the epoch too, periods do not overlap or leave gaps.
        assert_eq!(day.bucket(-1), (-DAY_MS, 0));
        assert_eq!(Window::Plan.bucket(12), (i64::MIN, i64::MAX));
    }

    #[test]
    fn timing_defaults_apply_only_when_undeclared() {
        let declared = Timing {
            max_skew: Some(0),
            reservation_ttl: Some(60_000),
            approval_ttl: None,
        };
        assert_eq!(declared.max_skew_or_default(), 0);
        assert_eq!(declared.reservation_ttl_or_default(), 60_000);
        assert_eq!(
            declared.approval_ttl_or_default(),
            Timing::DEFAULT_APPROVAL_TTL
        );
    }
}
