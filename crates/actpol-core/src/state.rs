//! What a decision reads from the world besides the envelope: how much of a
//! budget is spent, and what happened in a time window (C4, C5).
//!
//! The host supplies a [`StateView`]. Reads happen during evaluation;
//! consumption is reported in the decision as deltas, which a store applies
//! with an atomic reserve / commit / release (see [`BudgetLedger`]).

use std::sync::Arc;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};

use crate::amount;
use crate::error::ErrorCode;
use crate::schema::{KeyKind, Window};
use crate::value::parse_timestamp;

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
    /// An event whose time is not a timestamp.
    #[error("state file at `events[{index}].time`: `{text}` is not an RFC 3339 timestamp")]
    BadTimestamp {
        /// The event's position in `events`.
        index: usize,
        /// The time as written.
        text: String,
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
            StateError::Invalid { .. } | StateError::BadTimestamp { .. } => ErrorCode::StateInvalid,
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
            StateError::NotANumber { .. } => "give summed event parameters as numbers",
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
}

/// How a store applies a decision's budget deltas. A reservation holds the
/// amounts until the action is done (commit) or abandoned (release); two
/// concurrent reservations never overspend a limit.
pub trait BudgetLedger {
    type Reservation;

    fn reserve(
        &self,
        deltas: &[crate::decision::BudgetUse],
    ) -> Result<Self::Reservation, StateError>;
    fn commit(&self, reservation: Self::Reservation) -> Result<(), StateError>;
    fn release(&self, reservation: Self::Reservation) -> Result<(), StateError>;
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
/// {"budgets": [{"name": "sends", "key": "agent:growth-bot", "consumed": 120}],
///  "events": [{"action": "crm.update_owner", "agent": "growth-bot",
///              "time": "2026-11-25T13:30:00Z", "params": {}}]}
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemoryState {
    #[serde(default)]
    pub budgets: Vec<BudgetEntry>,
    #[serde(default)]
    pub events: Vec<Event>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BudgetEntry {
    pub name: String,
    pub key: String,
    pub consumed: Decimal,
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

impl Event {
    fn key(&self, kind: KeyKind) -> Option<String> {
        Some(match kind {
            KeyKind::Agent => format!("agent:{}", self.agent),
            KeyKind::Workflow => format!("workflow:{}", self.workflow.as_ref()?),
            KeyKind::Owner => format!("owner:{}", self.owner.as_ref()?),
            KeyKind::Object => format!("object:{}", self.object.as_ref()?),
            KeyKind::Plan => format!("plan:{}", self.plan.as_ref()?),
        })
    }
}

impl MemoryState {
    pub fn from_json(bytes: &[u8]) -> Result<MemoryState, StateError> {
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let state: MemoryState =
            serde_path_to_error::deserialize(&mut de).map_err(|e| StateError::Invalid {
                path: e.path().to_string(),
                source: Arc::new(e.into_inner()),
            })?;
        for (index, event) in state.events.iter().enumerate() {
            if parse_timestamp(&event.time).is_none() {
                return Err(StateError::BadTimestamp {
                    index,
                    text: event.time.clone(),
                });
            }
        }
        Ok(state)
    }

    /// Records consumption, as a store would after a decision proceeds.
    pub fn add_consumed(&mut self, name: &str, key: &str, amount: Decimal) {
        match self
            .budgets
            .iter_mut()
            .find(|b| b.name == name && b.key == key)
        {
            Some(entry) => entry.consumed += amount,
            None => self.budgets.push(BudgetEntry {
                name: name.to_string(),
                key: key.to_string(),
                consumed: amount,
            }),
        }
    }

    fn matching<'a>(
        &'a self,
        q: &'a WindowQuery<'_>,
        from: i64,
        to: i64,
    ) -> impl Iterator<Item = &'a Event> + 'a {
        self.events.iter().filter(move |e| {
            pattern_matches(q.pattern, &e.action)
                && e.key(q.key).as_deref() == Some(q.key_value)
                && parse_timestamp(&e.time).is_some_and(|t| t > from && t <= to)
        })
    }
}

impl StateView for MemoryState {
    fn consumed(
        &self,
        budget: &str,
        key: &str,
        _window: Window,
        _now: i64,
    ) -> Result<Decimal, StateError> {
        Ok(self
            .budgets
            .iter()
            .filter(|b| b.name == budget && b.key == key)
            .map(|b| b.consumed)
            .sum())
    }

    fn window(&self, q: &WindowQuery<'_>) -> Result<Decimal, StateError> {
        let (from, to) = match q.window {
            Window::Span(span) => (q.now.saturating_sub(span), q.now),
            // Key `plan` already narrows to this plan's events.
            Window::Plan => (i64::MIN, q.now),
        };
        match q.kind {
            WindowKind::Count => Ok(Decimal::from(self.matching(q, from, to).count() as u64)),
            WindowKind::Sum => {
                let param = q.param.unwrap_or_default();
                let mut total = Decimal::ZERO;
                for e in self.matching(q, from, to) {
                    if let Some(v) = e.params.get(param) {
                        total += amount::from_json(v).ok_or_else(|| StateError::NotANumber {
                            param: param.to_string(),
                            value: v.to_string(),
                        })?;
                    }
                }
                Ok(total)
            }
            WindowKind::Baseline => {
                let Window::Span(span) = q.window else {
                    return Ok(Decimal::ZERO);
                };
                if span <= 0 {
                    return Ok(Decimal::ZERO);
                }
                let end = q.now.saturating_sub(span);
                let seen = self
                    .matching(q, end.saturating_sub(BASELINE_SPAN_MS), end)
                    .count();
                Ok(Decimal::from(seen as u64) * Decimal::from(span)
                    / Decimal::from(BASELINE_SPAN_MS))
            }
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
}
