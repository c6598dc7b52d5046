//! What a decision reads from the world besides the envelope: how much of a
//! budget is spent, what happened in a time window (C4, C5), and where an
//! approval stands.
//!
//! The host supplies a [`StateView`]. Reads happen during evaluation;
//! consumption is reported in the decision as deltas. A store (the
//! `actpol-store` crate) reads and applies them in one transaction per
//! decision, holding them in a reservation that is committed or released
//! ([`BudgetLedger`]). [`MemoryState`] is the view for tests and replays: a
//! JSON file, checked against the policy it is used with
//! ([`MemoryState::check`]).

use std::sync::Arc;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};

use crate::amount;
use crate::approval::ApprovalGrant;
use crate::error::ErrorCode;
use crate::schema::{KeyKind, Window};
use crate::suggest::did_you_mean_clause;
use crate::value::parse_timestamp;

mod index;

use index::{BudgetIndex, EventIndex, EventKeys};

/// A state view that cannot answer, or a state file that does not read.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// The store or service behind the view failed. `source` is its error,
    /// when it has one.
    #[error("{message}")]
    Unavailable {
        /// What failed, for people.
        message: String,
        /// The underlying error.
        #[source]
        source: Option<Arc<dyn std::error::Error + Send + Sync>>,
    },
    /// A state file that is not JSON of the state's shape.
    #[error("state file at `{path}`: {source}")]
    Invalid {
        /// Where in the file, as serde names it (`budgets[0].consumed`).
        path: String,
        /// The JSON error.
        #[source]
        source: Arc<serde_json::Error>,
    },
    /// An event's or a budget entry's time that is not a timestamp.
    #[error("state file at `{path}`: `{text}` is not an RFC 3339 timestamp")]
    BadTimestamp {
        /// Where in the file: `events[2].time`, `budgets[0].time`.
        path: String,
        /// The time as written.
        text: String,
    },
    /// A budget entry consuming a negative amount, which would hand back
    /// budget that was spent.
    #[error("state file at `budgets[{index}].consumed`: {amount} is negative; consumption is never below zero")]
    Negative {
        /// The entry's position in `budgets`.
        index: usize,
        /// The amount as read.
        amount: Decimal,
    },
    /// A state file naming what the policy it is used with does not
    /// declare (a budget, a key, an agent, an action, a parameter), or a
    /// value of another type or currency than the policy's.
    #[error("state file at `{path}`: {message}")]
    Mismatch {
        /// Where in the file: `budgets[0].name`, `events[1].params.amount`.
        path: String,
        /// What does not fit, with a "did you mean" where one applies.
        message: String,
        /// The envelope error a parameter's value met, if that is why.
        #[source]
        source: Option<Arc<crate::envelope::EnvelopeError>>,
    },
    /// A sum of budget entries or event parameters past what a decimal
    /// holds: the view cannot say how much was spent, so the decision
    /// fails closed rather than guess.
    #[error("{what} passes the largest amount a decimal holds")]
    Overflow {
        /// What was being summed: `budget `sends` under `agent:growth-bot``.
        what: String,
    },
    /// A summed event parameter that is not a number.
    #[error("event param `{param}` is not a number: {value}")]
    NotANumber {
        /// The parameter summed.
        param: String,
        /// Its value, as JSON.
        value: String,
    },
}

impl StateError {
    /// The view could not answer: `message` says why.
    pub fn unavailable(message: impl Into<String>) -> Self {
        StateError::Unavailable {
            message: message.into(),
            source: None,
        }
    }

    /// The view could not answer because `source` failed.
    pub fn backend(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        StateError::Unavailable {
            message: message.into(),
            source: Some(Arc::new(source)),
        }
    }

    /// The error's stable code: a view that cannot answer during a
    /// decision is `unavailable`; a state file that does not read is
    /// `invalid`.
    pub fn code(&self) -> ErrorCode {
        match self {
            StateError::Unavailable { .. } | StateError::NotANumber { .. } => {
                ErrorCode::StateUnavailable
            }
            StateError::Overflow { .. } => ErrorCode::StateOutOfRange,
            StateError::Invalid { .. }
            | StateError::BadTimestamp { .. }
            | StateError::Negative { .. }
            | StateError::Mismatch { .. } => ErrorCode::StateInvalid,
        }
    }
}

impl miette::Diagnostic for StateError {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(StateError::code(self)))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        let help = match self {
            StateError::Invalid { .. } | StateError::BadTimestamp { .. } => {
                "the state file holds {\"budgets\": [...], \"events\": [...]}"
            }
            StateError::Negative { .. } => "give what a budget has consumed, zero or more",
            StateError::Mismatch { .. } => {
                "a state file may name only the policy's budgets, agents, actions and parameters"
            }
            StateError::NotANumber { .. } => "give summed event parameters as numbers",
            StateError::Overflow { .. } => {
                "no budget or window can hold this total; check the amounts the state holds"
            }
            StateError::Unavailable { .. } => return None,
        };
        Some(Box::new(help))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum WindowKind {
    /// How many matching actions.
    Count,
    /// The total of one parameter over matching actions.
    Sum,
    /// How many matching actions a window of this length usually holds.
    Baseline,
}

impl WindowKind {
    pub fn as_str(self) -> &'static str {
        match self {
            WindowKind::Count => "count",
            WindowKind::Sum => "sum",
            WindowKind::Baseline => "baseline",
        }
    }
}

/// One window read: `count(crm.* over 1h by agent)` and the like.
#[derive(Clone, Copy, Debug)]
pub struct WindowQuery<'a> {
    pub kind: WindowKind,
    /// An action pattern: `crm.update_owner`, `crm.*` or `*`.
    pub pattern: &'a str,
    /// The parameter summed, for [`WindowKind::Sum`].
    pub param: Option<&'a str>,
    pub window: Window,
    pub key: KeyKind,
    /// The key's value for this envelope: `agent:growth-bot`…
    pub key_value: &'a str,
    /// The envelope's time, in milliseconds since the epoch.
    pub now: i64,
}

impl WindowQuery<'_> {
    /// The times a count or sum reads, `(from, to]`: the span back from
    /// `now`, or everything up to `now` for a plan window (whose key, the
    /// plan, already narrows it to the plan's events).
    pub fn range(&self) -> (i64, i64) {
        match self.window {
            Window::Span(span) | Window::Upstream(Some(span)) => {
                (self.now.saturating_sub(span), self.now)
            }
            Window::Plan | Window::Upstream(None) => (i64::MIN, self.now),
        }
    }

    /// A baseline: how many matching actions a window of this span usually
    /// holds, from `count` over the [`BASELINE_SPAN_MS`] before the window,
    /// scaled to the span. Zero for a plan window or an empty span.
    pub fn baseline<E>(
        &self,
        count: impl FnOnce(i64, i64) -> Result<u64, E>,
    ) -> Result<Decimal, E> {
        let Window::Span(span) = self.window else {
            return Ok(Decimal::ZERO);
        };
        if span <= 0 {
            return Ok(Decimal::ZERO);
        }
        let end = self.now.saturating_sub(span);
        let seen = count(end.saturating_sub(BASELINE_SPAN_MS), end)?;
        Ok(Decimal::from(seen) * Decimal::from(span) / Decimal::from(BASELINE_SPAN_MS))
    }

    /// The total of the summed parameter's values, as events hold them:
    /// a value that is not a number, or a total out of range, is an error.
    /// The answer does not depend on the order of the values (see
    /// [`Summed`]).
    pub fn sum_of<'v>(
        &self,
        values: impl IntoIterator<Item = &'v Json>,
    ) -> Result<Decimal, StateError> {
        let mut sum = Summed::default();
        for v in values {
            sum.add_json(v);
        }
        sum.total(self)
    }
}

/// A sum of event parameters whose answer does not depend on the order the
/// values are met in, so a window reads the same from a state however it
/// is stored or indexed, and a decision replayed from the same state
/// decides the same.
///
/// Positive and negative values are added apart: a total is out of range
/// only when the positives or the negatives alone pass what a decimal holds,
/// whatever the order (one sum would overflow or not by the order of
/// `MAX`, `-MAX`, `MAX`). A value that is not a number is the error
/// whatever else was met. Decimal addition still rounds past 28 significant
/// digits, so values that far apart in magnitude (`10` and `5e-28`) can
/// sum differently in another order.
#[derive(Clone, Debug, Default)]
pub struct Summed {
    positive: Decimal,
    negative: Decimal,
    overflow: bool,
    /// The first value met that is not a number.
    not_a_number: Option<String>,
}

impl Summed {
    /// Adds a value as an event holds it: a number, or money as text.
    pub fn add_json(&mut self, value: &Json) {
        match amount::from_json(value) {
            Some(amount) => self.add(amount),
            None => {
                if self.not_a_number.is_none() {
                    self.not_a_number = Some(value.to_string());
                }
            }
        }
    }

    /// Adds a number.
    pub fn add(&mut self, amount: Decimal) {
        let side = if amount.is_sign_negative() {
            &mut self.negative
        } else {
            &mut self.positive
        };
        match side.checked_add(amount) {
            Some(total) => *side = total,
            None => self.overflow = true,
        }
    }

    /// Adds another sum's values to this one's.
    pub fn merge(&mut self, other: &Summed) {
        self.add(other.positive);
        self.add(other.negative);
        self.overflow |= other.overflow;
        if self.not_a_number.is_none() {
            self.not_a_number.clone_from(&other.not_a_number);
        }
    }

    /// The total for the window `q` reads, or why there is none.
    pub fn total(&self, q: &WindowQuery<'_>) -> Result<Decimal, StateError> {
        let param = q.param.unwrap_or_default();
        if let Some(value) = &self.not_a_number {
            return Err(StateError::NotANumber {
                param: param.to_string(),
                value: value.clone(),
            });
        }
        if self.overflow {
            return Err(StateError::Overflow {
                what: format!("the sum of `{param}` over `{}`", q.pattern),
            });
        }
        // Opposite signs, each in range: the sum is in range.
        Ok(self.positive + self.negative)
    }
}

pub trait StateView {
    /// How much of budget `budget` is consumed under `key` in the window
    /// that contains `now`.
    fn consumed(
        &self,
        budget: &str,
        key: &str,
        window: Window,
        now: i64,
    ) -> Result<Decimal, StateError>;

    /// The count, sum or baseline a window query asks for.
    fn window(&self, query: &WindowQuery<'_>) -> Result<Decimal, StateError>;

    /// The approval with this id, as it stands: a store reads it in the
    /// decision's transaction. A view that keeps no approvals has none.
    fn approval(&self, id: &str) -> Result<Option<ApprovalGrant>, StateError> {
        let _ = id;
        Ok(None)
    }
}

/// How a store settles what a decision reserved: a reservation holds the
/// decision's budget amounts (and counts in windows) until the action ran
/// (commit) or did not (release). Reserving happens inside the decision's
/// transaction, so it is not part of this trait.
pub trait BudgetLedger {
    type Reservation: ?Sized;
    type Error;

    /// The action ran: the amounts stay consumed.
    fn commit(&self, reservation: &Self::Reservation, now: i64) -> Result<(), Self::Error>;
    /// The action did not run, or was rolled back: the amounts return.
    fn release(&self, reservation: &Self::Reservation, now: i64) -> Result<(), Self::Error>;
}

/// Whether `action` is one the pattern names.
pub fn pattern_matches(pattern: &str, action: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    match pattern.strip_suffix(".*") {
        Some(ns) => action
            .strip_prefix(ns)
            .is_some_and(|rest| rest.starts_with('.')),
        None => pattern == action,
    }
}

/// How far back a baseline looks.
pub const BASELINE_SPAN_MS: i64 = 7 * 86_400_000;

/// A state held in memory, read from JSON: budget consumption as numbers,
/// and past actions as events from which windows are counted.
///
/// ```json
/// {"budgets": [{"name": "sends", "key": "agent:growth-bot", "consumed": 120,
///               "time": "2026-11-25T09:00:00Z"}],
///  "events": [{"action": "crm.update_owner", "agent": "growth-bot",
///              "time": "2026-11-25T13:30:00Z", "params": {}}]}
/// ```
///
/// A budget entry with a `time` counts only in the budget's window that
/// holds that time (see [`Window::bucket`]); one without counts in every
/// window, as a snapshot of the current one.
///
/// Entries and events are added through [`MemoryState::push_budget`],
/// [`MemoryState::push_event`] and [`MemoryState::apply`], which keep the
/// tables reads use: a window read costs the distinct times it finds, not
/// the number of events held, so a long batch decided against one state
/// stays linear.
#[derive(Clone, Debug, Default)]
pub struct MemoryState {
    budgets: Vec<BudgetEntry>,
    events: Vec<Event>,
    budget_index: BudgetIndex,
    event_index: EventIndex,
}

/// The state file's shape, as read.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StateFile {
    #[serde(default)]
    budgets: Vec<BudgetEntry>,
    #[serde(default)]
    events: Vec<Event>,
}

/// The state file's shape, as written from a state without copying it.
#[derive(Serialize)]
struct StateFileRef<'a> {
    budgets: &'a [BudgetEntry],
    events: &'a [Event],
}

impl Serialize for MemoryState {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        StateFileRef {
            budgets: &self.budgets,
            events: &self.events,
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for MemoryState {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let file = StateFile::deserialize(deserializer)?;
        MemoryState::from_file(file).map_err(serde::de::Error::custom)
    }
}

impl PartialEq for MemoryState {
    fn eq(&self, other: &Self) -> bool {
        self.budgets == other.budgets && self.events == other.events
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BudgetEntry {
    pub name: String,
    pub key: String,
    pub consumed: Decimal,
    /// When it was consumed (RFC 3339); absent: in the current window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Event {
    pub action: String,
    pub agent: String,
    #[serde(default)]
    pub workflow: Option<String>,
    #[serde(default)]
    pub owner: Option<String>,
    /// `Type/id`.
    #[serde(default)]
    pub object: Option<String>,
    #[serde(default)]
    pub plan: Option<String>,
    pub time: String,
    #[serde(default)]
    pub params: Map<String, Json>,
}

impl MemoryState {
    pub fn from_json(bytes: &[u8]) -> Result<MemoryState, StateError> {
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let file: StateFile =
            serde_path_to_error::deserialize(&mut de).map_err(|e| StateError::Invalid {
                path: e.path().to_string(),
                source: Arc::new(e.into_inner()),
            })?;
        MemoryState::from_file(file)
    }

    fn from_file(file: StateFile) -> Result<MemoryState, StateError> {
        let mut state = MemoryState::default();
        for entry in file.budgets {
            state.push_budget(entry)?;
        }
        for event in file.events {
            state.push_event(event)?;
        }
        Ok(state)
    }

    /// The budget entries, in the order they were added.
    pub fn budgets(&self) -> &[BudgetEntry] {
        &self.budgets
    }

    /// The events, in the order they were added.
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// Adds a budget entry: its time, if it has one, must be a timestamp,
    /// and its amount zero or more.
    pub fn push_budget(&mut self, entry: BudgetEntry) -> Result<(), StateError> {
        let index = self.budgets.len();
        let time = match &entry.time {
            None => None,
            Some(text) => Some(
                parse_timestamp(text).ok_or_else(|| StateError::BadTimestamp {
                    path: format!("budgets[{index}].time"),
                    text: text.clone(),
                })?,
            ),
        };
        if entry.consumed < Decimal::ZERO {
            return Err(StateError::Negative {
                index,
                amount: entry.consumed,
            });
        }
        self.keep_budget(entry, time);
        Ok(())
    }

    /// Keeps a checked budget entry, and its place in the tables.
    fn keep_budget(&mut self, entry: BudgetEntry, time: Option<i64>) {
        self.budget_index
            .insert(&entry.name, &entry.key, time, self.budgets.len());
        self.budgets.push(entry);
    }

    /// Adds an event: its time must be a timestamp.
    pub fn push_event(&mut self, event: Event) -> Result<(), StateError> {
        let time = parse_timestamp(&event.time).ok_or_else(|| StateError::BadTimestamp {
            path: format!("events[{}].time", self.events.len()),
            text: event.time.clone(),
        })?;
        self.keep_event(event, time);
        Ok(())
    }

    /// Keeps an event whose time reads as `time`, and its tallies.
    fn keep_event(&mut self, event: Event, time: i64) {
        let keys = EventKeys {
            agent: &event.agent,
            workflow: event.workflow.as_deref(),
            owner: event.owner.as_deref(),
            object: event.object.as_deref(),
            plan: event.plan.as_deref(),
        };
        self.event_index
            .insert(keys, &event.action, time, &event.params);
        self.events.push(event);
    }

    /// Records consumption in the current window (no time), as a snapshot.
    pub fn add_consumed(&mut self, name: &str, key: &str, amount: Decimal) {
        self.add_consumed_at(name, key, amount, None);
    }

    /// Records consumption at `time` (milliseconds), as a store would after
    /// a decision proceeds: it counts in the window that holds `time`.
    pub fn add_consumed_at(&mut self, name: &str, key: &str, amount: Decimal, time: Option<i64>) {
        match self.budget_index.find(name, key, time) {
            // Saturating: a total past the range then fails every read of it
            // (`StateError::Overflow`) instead of handing budget back.
            Some(position) => {
                let entry = &mut self.budgets[position];
                entry.consumed = entry.consumed.saturating_add(amount);
            }
            None => self.keep_budget(
                BudgetEntry {
                    name: name.to_string(),
                    key: key.to_string(),
                    consumed: amount,
                    time: time.map(crate::value::format_timestamp),
                },
                time,
            ),
        }
    }

    /// Records what a decision that proceeded consumed, and the action as
    /// an event for windows: deciding a batch against one state sees each
    /// earlier decision, as a store would.
    pub fn apply(
        &mut self,
        env: &crate::envelope::BoundEnvelope,
        decision: &crate::Decision,
        schema: &crate::Schema,
    ) {
        if !decision.decision.proceeds() {
            return;
        }
        for used in &decision.budgets {
            let delta = used.delta.value();
            if delta > Decimal::ZERO {
                self.add_consumed_at(&used.name, &used.key, delta, Some(env.time));
            }
        }
        let raw = env.raw();
        let object = env
            .key(KeyKind::Object, schema)
            .ok()
            .map(|k| k.strip_prefix("object:").unwrap_or(k).to_string());
        let event = Event {
            action: raw.action.name.clone(),
            agent: raw.agent.id.clone(),
            workflow: Some(raw.agent.workflow.clone()),
            owner: Some(raw.agent.owner.clone()),
            object,
            plan: raw.plan.as_ref().map(|p| p.id.clone()),
            time: crate::value::format_timestamp(env.time),
            params: raw.action.params.clone(),
        };
        self.keep_event(event, env.time);
    }

    /// Checks the state against the policy it is used with: every budget
    /// entry names a declared budget, under a key of the budget's kind for
    /// a declared agent, workflow, owner or entity; every event names a
    /// declared action and agent, and its parameters have the action's
    /// types (money in the parameter's currency). What does not fit is an
    /// error with a "did you mean", never read as zero.
    pub fn check(
        &self,
        schema: &crate::Schema,
        meta: &crate::PolicyMeta,
    ) -> Result<(), StateError> {
        let mismatch = |path: String, message: String| StateError::Mismatch {
            path,
            message,
            source: None,
        };
        for (i, entry) in self.budgets.iter().enumerate() {
            let Some(def) = meta.budgets.get(&entry.name) else {
                return Err(mismatch(
                    format!("budgets[{i}].name"),
                    format!(
                        "no budget `{}`{}",
                        entry.name,
                        did_you_mean_clause(&entry.name, meta.budgets.keys().map(String::as_str))
                    ),
                ));
            };
            check_key(&entry.key, def.key, schema, meta)
                .map_err(|why| mismatch(format!("budgets[{i}].key"), why))?;
        }
        for (i, event) in self.events.iter().enumerate() {
            let Some(action) = schema.action_id(&event.action) else {
                return Err(mismatch(
                    format!("events[{i}].action"),
                    format!(
                        "no action `{}`{}",
                        event.action,
                        did_you_mean_clause(
                            &event.action,
                            schema.actions.keys().map(String::as_str)
                        )
                    ),
                ));
            };
            if !meta.agents.contains_key(&event.agent) {
                return Err(mismatch(
                    format!("events[{i}].agent"),
                    format!(
                        "no agent `{}`{}",
                        event.agent,
                        did_you_mean_clause(&event.agent, meta.agents.keys().map(String::as_str))
                    ),
                ));
            }
            let def = schema.action(action);
            for (name, value) in &event.params {
                let path = format!("events[{i}].params.{name}");
                let Some(field) = def
                    .params
                    .iter()
                    .find(|p| schema.field_name(p.name) == name)
                else {
                    return Err(mismatch(
                        path,
                        format!(
                            "action `{}` has no parameter `{name}`{}",
                            event.action,
                            did_you_mean_clause(
                                name,
                                def.params.iter().map(|p| schema.field_name(p.name))
                            )
                        ),
                    ));
                };
                crate::envelope::bind_value(value, field, schema, &format!("$.{path}")).map_err(
                    |e| StateError::Mismatch {
                        path: path.clone(),
                        message: e.message.clone(),
                        source: Some(Arc::new(e)),
                    },
                )?;
            }
        }
        Ok(())
    }
}

/// Whether `key` is a key of kind `kind` for something the policy declares.
fn check_key(
    key: &str,
    kind: KeyKind,
    schema: &crate::Schema,
    meta: &crate::PolicyMeta,
) -> Result<(), String> {
    let prefix = kind.as_str();
    let Some(name) = key
        .strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix(':'))
    else {
        return Err(format!("`{key}` is not a key of this budget, which is kept per {prefix}: write `{prefix}:<name>`"));
    };
    let known: Vec<&str> = match kind {
        KeyKind::Agent => meta.agents.keys().map(String::as_str).collect(),
        KeyKind::Workflow => meta.agents.values().map(|a| a.workflow.as_str()).collect(),
        KeyKind::Owner => meta.agents.values().map(|a| a.owner.as_str()).collect(),
        KeyKind::Object => {
            let entity = name.split_once('/').map(|(e, _)| e).unwrap_or("");
            if schema.entities.contains_key(entity) && name.len() > entity.len() + 1 {
                return Ok(());
            }
            return Err(format!(
                "`{key}` does not name an object as `object:<Entity>/<id>`{}",
                did_you_mean_clause(entity, schema.entities.keys().map(String::as_str))
            ));
        }
        // Plans are not declared: any id is a plan's.
        KeyKind::Plan => {
            return if name.is_empty() {
                Err(format!("`{key}` names no plan"))
            } else {
                Ok(())
            }
        }
    };
    if known.contains(&name) {
        Ok(())
    } else {
        Err(format!(
            "no {prefix} `{name}` is declared{}",
            did_you_mean_clause(name, known)
        ))
    }
}

impl StateView for MemoryState {
    fn consumed(
        &self,
        budget: &str,
        key: &str,
        window: Window,
        now: i64,
    ) -> Result<Decimal, StateError> {
        let (start, end) = window.bucket(now);
        self.budget_index
            .in_period(budget, key, start, end)
            .try_fold(Decimal::ZERO, |total, p| {
                total.checked_add(self.budgets[p].consumed)
            })
            .ok_or_else(|| StateError::Overflow {
                what: format!("budget `{budget}` under `{key}`"),
            })
    }

    fn window(&self, q: &WindowQuery<'_>) -> Result<Decimal, StateError> {
        let (from, to) = q.range();
        match q.kind {
            WindowKind::Count => Ok(Decimal::from(self.event_index.count(q, from, to))),
            WindowKind::Sum => self.event_index.sum(q, from, to),
            WindowKind::Baseline => q.baseline(|from, to| Ok(self.event_index.count(q, from, to))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_name_actions() {
        assert!(pattern_matches("*", "crm.update_owner"));
        assert!(pattern_matches("crm.*", "crm.update_owner"));
        assert!(!pattern_matches("crm.*", "crmx.update_owner"));
        assert!(pattern_matches("crm.update_owner", "crm.update_owner"));
        assert!(!pattern_matches("crm.update", "crm.update_owner"));
    }

    #[test]
    fn windows_count_and_sum_recent_events() {
        let state = MemoryState::from_json(
            br#"{"events": [
                {"action": "crm.update_owner", "agent": "a", "time": "2026-11-25T13:30:00Z", "params": {"n": 2}},
                {"action": "crm.update_owner", "agent": "a", "time": "2026-11-25T12:30:00Z", "params": {"n": 5}},
                {"action": "crm.update_owner", "agent": "b", "time": "2026-11-25T13:45:00Z", "params": {"n": 7}}
            ]}"#,
        )
        .unwrap();
        let now = parse_timestamp("2026-11-25T14:00:00Z").unwrap();
        let q = WindowQuery {
            kind: WindowKind::Count,
            pattern: "crm.*",
            param: None,
            window: Window::Span(3_600_000),
            key: KeyKind::Agent,
            key_value: "agent:a",
            now,
        };
        assert_eq!(state.window(&q).unwrap(), Decimal::from(1));
        let sum = WindowQuery {
            kind: WindowKind::Sum,
            param: Some("n"),
            window: Window::Span(2 * 3_600_000),
            ..q
        };
        assert_eq!(state.window(&sum).unwrap(), Decimal::from(7));
    }

    /// What a window reads, by scanning every event: the tables must
    /// answer the same.
    fn scanned(state: &MemoryState, q: &WindowQuery<'_>, from: i64, to: i64) -> Vec<Event> {
        state
            .events()
            .iter()
            .filter(|e| {
                let name = match q.key {
                    KeyKind::Agent => Some(&e.agent),
                    KeyKind::Workflow => e.workflow.as_ref(),
                    KeyKind::Owner => e.owner.as_ref(),
                    KeyKind::Object => e.object.as_ref(),
                    KeyKind::Plan => e.plan.as_ref(),
                };
                name.is_some_and(|n| q.key_value == format!("{}:{n}", q.key.as_str()))
                    && pattern_matches(q.pattern, &e.action)
                    && parse_timestamp(&e.time).is_some_and(|t| t > from && t <= to)
            })
            .cloned()
            .collect()
    }

    /// What a sum came to, errors by kind: the value a `NotANumber` names
    /// is the first met, which depends on the order read.
    fn sum_kind(r: Result<Decimal, StateError>) -> Result<Decimal, &'static str> {
        r.map_err(|e| match e {
            StateError::NotANumber { .. } => "not a number",
            StateError::Overflow { .. } => "overflow",
            _ => "another error",
        })
    }

    /// A value of parameter `n` (small, signed, with cents, or not a
    /// number) and of `big` (whole, near the edge of a decimal, so two
    /// of one sign overflow and a mixed run may not): neither mixes
    /// magnitudes that would round, so any order of adding is exact.
    fn param_values() -> impl proptest::strategy::Strategy<Value = (Option<Json>, Option<Json>)> {
        use proptest::prelude::*;
        let n = prop_oneof![
            (-3i64..4).prop_map(Json::from),
            (-300i64..300).prop_map(|c| Json::from(format!("{}", Decimal::new(c, 2)))),
            Just(Json::from("lots")),
        ];
        let big = prop_oneof![
            (-2i64..3).prop_map(Json::from),
            Just(Json::from("40000000000000000000000000000")),
            Just(Json::from("-40000000000000000000000000000")),
        ];
        (proptest::option::of(n), proptest::option::of(big))
    }

    /// Minutes from the base time: mostly near it, some around the far
    /// edge of a baseline's span.
    fn minutes() -> impl proptest::strategy::Strategy<Value = i64> {
        use proptest::prelude::*;
        const WEEK: i64 = BASELINE_SPAN_MS / 60_000;
        prop_oneof![4 => 0i64..40, 1 => (-WEEK - 12)..(-WEEK + 2)]
    }

    proptest::proptest! {
        /// Counts, sums and baselines read from the tables equal those of
        /// a scan over every event, for events added in any time order:
        /// sums with signed, fractional and edge-of-range values, errors
        /// of the same kind, under every kind of key.
        #[test]
        fn windows_read_from_tables_equal_a_scan(
            events in proptest::collection::vec(
                (0usize..3, 0usize..3, proptest::option::of(0usize..2), minutes(), param_values(), 0usize..2),
                0..60,
            ),
            queries in proptest::collection::vec(
                (0usize..4, 0usize..7, 0usize..6, minutes(), 0usize..3, 0usize..2),
                1..20,
            ),
        ) {
            const ACTIONS: [&str; 3] = ["crm.update_owner", "crm.route_lead", "pay.send"];
            const AGENTS: [&str; 3] = ["a", "b", "c"];
            const MINUTE: i64 = 60_000;
            let base = parse_timestamp("2026-11-25T00:00:00Z").unwrap();
            let mut state = MemoryState::default();
            for (action, agent, plan, minute, (n, big), object) in &events {
                let mut params = Map::new();
                if let Some(n) = n {
                    params.insert("n".into(), n.clone());
                }
                if let Some(big) = big {
                    params.insert("big".into(), big.clone());
                }
                state.push_event(Event {
                    action: ACTIONS[*action].into(),
                    agent: AGENTS[*agent].into(),
                    workflow: Some("w".into()),
                    owner: (*agent != 2).then(|| "u".into()),
                    object: Some(format!("o{object}")),
                    plan: plan.map(|p| format!("p{p}")),
                    time: crate::value::format_timestamp(base + minute * MINUTE),
                    params,
                }).unwrap();
            }
            let patterns = ["*", "crm.*", "crm.update_owner", "pay.*"];
            let keys = [
                (KeyKind::Agent, "agent:a"),
                (KeyKind::Agent, "agent:b"),
                (KeyKind::Workflow, "workflow:w"),
                (KeyKind::Plan, "plan:p1"),
                (KeyKind::Owner, "agent:a"),
                (KeyKind::Owner, "owner:u"),
                (KeyKind::Object, "object:o1"),
            ];
            let windows = [
                Window::Span(10 * MINUTE),
                Window::Span(0),
                Window::Plan,
                Window::Upstream(Some(5 * MINUTE)),
                Window::Upstream(None),
                Window::Span(-MINUTE),
            ];
            for (pattern, key, window, minute, kind, param) in queries {
                let (key, key_value) = keys[key];
                let q = WindowQuery {
                    kind: [WindowKind::Count, WindowKind::Sum, WindowKind::Baseline][kind],
                    pattern: patterns[pattern],
                    param: Some(["n", "big"][param]),
                    window: windows[window],
                    key,
                    key_value,
                    now: base + minute * MINUTE,
                };
                let (from, to) = q.range();
                let got = state.window(&q);
                match q.kind {
                    WindowKind::Count => proptest::prop_assert_eq!(
                        got.unwrap(),
                        Decimal::from(scanned(&state, &q, from, to).len())
                    ),
                    WindowKind::Sum => {
                        let seen = scanned(&state, &q, from, to);
                        let want = q.sum_of(seen.iter().filter_map(|e| e.params.get(q.param.unwrap())));
                        proptest::prop_assert_eq!(sum_kind(got), sum_kind(want));
                    }
                    WindowKind::Baseline => {
                        let want = q
                            .baseline(|f, t| Ok::<_, StateError>(scanned(&state, &q, f, t).len() as u64))
                            .unwrap();
                        proptest::prop_assert_eq!(got.unwrap(), want);
                    }
                }
            }
        }

        /// A sum's answer does not depend on the order of its values.
        #[test]
        fn a_sum_does_not_depend_on_order(
            values in proptest::collection::vec(param_values(), 0..12),
            big in proptest::prelude::any::<bool>(),
            seed in proptest::prelude::any::<u64>(),
        ) {
            let q = WindowQuery {
                kind: WindowKind::Sum,
                pattern: "*",
                param: Some("n"),
                window: Window::Plan,
                key: KeyKind::Agent,
                key_value: "agent:a",
                now: 0,
            };
            // One parameter's values: cents beside the edge of a decimal
            // would round, which no order can avoid (see `Summed`).
            let flat: Vec<Json> = values
                .into_iter()
                .filter_map(|(n, b)| if big { b } else { n })
                .collect();
            let mut shuffled = flat.clone();
            // A deterministic shuffle from the seed.
            let mut x = seed | 1;
            for i in (1..shuffled.len()).rev() {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                shuffled.swap(i, (x % (i as u64 + 1)) as usize);
            }
            proptest::prop_assert_eq!(sum_kind(q.sum_of(&flat)), sum_kind(q.sum_of(&shuffled)));
        }
    }

    /// Budget reads from the tables: untimed entries count in every
    /// period, timed ones only in theirs, and a later amount at the same
    /// time and key adds to its entry.
    #[test]
    fn budgets_count_in_their_period() {
        let hour = Window::Span(3_600_000);
        let at = |t: &str| parse_timestamp(t).unwrap();
        let mut state = MemoryState::from_json(
            br#"{"budgets": [
                {"name": "sends", "key": "agent:a", "consumed": 5},
                {"name": "sends", "key": "agent:a", "consumed": 7, "time": "2026-11-25T09:10:00Z"},
                {"name": "sends", "key": "agent:b", "consumed": 100, "time": "2026-11-25T09:20:00Z"},
                {"name": "other", "key": "agent:a", "consumed": 100, "time": "2026-11-25T09:20:00Z"}
            ]}"#,
        )
        .unwrap();
        let read = |s: &MemoryState, t: &str| s.consumed("sends", "agent:a", hour, at(t)).unwrap();
        assert_eq!(read(&state, "2026-11-25T09:59:59Z"), Decimal::from(12));
        assert_eq!(read(&state, "2026-11-25T10:00:00Z"), Decimal::from(5));
        // The same instant written with an offset is the same entry.
        state.add_consumed_at(
            "sends",
            "agent:a",
            Decimal::from(3),
            Some(at("2026-11-25T10:10:00+01:00")),
        );
        assert_eq!(state.budgets().len(), 4);
        assert_eq!(read(&state, "2026-11-25T09:30:00Z"), Decimal::from(15));
        state.add_consumed_at(
            "sends",
            "agent:a",
            Decimal::from(1),
            Some(at("2026-11-25T10:30:00Z")),
        );
        assert_eq!(state.budgets().len(), 5);
        assert_eq!(read(&state, "2026-11-25T10:45:00Z"), Decimal::from(6));
    }

    /// A state read from a file and written again is the same file, and
    /// the tables are rebuilt when it is read back.
    #[test]
    fn a_state_writes_back_what_it_read() {
        let text = br#"{"budgets": [{"name": "sends", "key": "agent:a", "consumed": 5}],
            "events": [{"action": "crm.update_owner", "agent": "a", "time": "2026-11-25T13:30:00Z", "params": {"n": 2}}]}"#;
        let state = MemoryState::from_json(text).unwrap();
        let written = serde_json::to_vec(&state).unwrap();
        let again = MemoryState::from_json(&written).unwrap();
        assert_eq!(again, state);
        let q = WindowQuery {
            kind: WindowKind::Count,
            pattern: "crm.*",
            param: None,
            window: Window::Span(3_600_000),
            key: KeyKind::Agent,
            key_value: "agent:a",
            now: parse_timestamp("2026-11-25T14:00:00Z").unwrap(),
        };
        assert_eq!(again.window(&q).unwrap(), Decimal::ONE);
        let bad: Result<MemoryState, _> = serde_json::from_str(
            r#"{"events": [{"action": "x.y", "agent": "a", "time": "yesterday"}]}"#,
        );
        assert!(bad.unwrap_err().to_string().contains("events[0].time"));
    }

    /// Sums past the decimal range are an error the decision fails closed
    /// on, in the library as in the command: an embedder never panics.
    #[test]
    fn sums_past_the_decimal_range_are_errors() {
        let max = "79228162514264337593543950335";
        let state = MemoryState::from_json(
            format!(
                r#"{{"budgets": [
                    {{"name": "b", "key": "agent:a", "consumed": "{max}"}},
                    {{"name": "b", "key": "agent:a", "consumed": "{max}"}}
                ], "events": [
                    {{"action": "x.y", "agent": "a", "time": "2026-11-25T13:30:00Z", "params": {{"n": "{max}"}}}},
                    {{"action": "x.y", "agent": "a", "time": "2026-11-25T13:40:00Z", "params": {{"n": "{max}"}}}}
                ]}}"#
            )
            .as_bytes(),
        )
        .unwrap();
        let now = parse_timestamp("2026-11-25T14:00:00Z").unwrap();
        let consumed = state.consumed("b", "agent:a", Window::Span(86_400_000), now);
        assert_eq!(consumed.unwrap_err().code(), ErrorCode::StateOutOfRange);
        let sum = WindowQuery {
            kind: WindowKind::Sum,
            pattern: "x.*",
            param: Some("n"),
            window: Window::Span(3_600_000),
            key: KeyKind::Agent,
            key_value: "agent:a",
            now,
        };
        assert_eq!(
            state.window(&sum).unwrap_err().code(),
            ErrorCode::StateOutOfRange
        );
        let mut state = state;
        state.add_consumed("b", "agent:a", Decimal::MAX);
        state.add_consumed("b", "agent:a", Decimal::MAX);
    }
}
