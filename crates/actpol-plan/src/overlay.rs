//! [`PlanState`]: the state a node of a plan is decided against — the
//! host's state, plus what the nodes decided before it in the plan would
//! consume and do.
//!
//! Budgets read the base consumption plus the amounts earlier nodes that
//! proceed consume in the same window; windows (`count`, `sum`,
//! `baseline`) count earlier nodes as actions at their envelope's time,
//! under every key (agent, workflow, owner, object, plan). So a node sees
//! what a store would hold had every earlier node run, and the plan's
//! decisions are those of deciding its steps one at a time in order.

use std::collections::HashMap;

use actpol_core::amount;
use actpol_core::envelope::BoundEnvelope;
use actpol_core::schema::{KeyKind, Window};
use actpol_core::state::{
    pattern_matches, StateError, StateView, WindowKind, WindowQuery, BASELINE_SPAN_MS,
};
use actpol_core::{Decimal, Decision, Schema};

/// The base state with a plan's earlier nodes added.
pub struct PlanState<'a> {
    base: &'a dyn StateView,
    /// What earlier nodes consume, by budget and key: `(time, amount)`.
    budgets: HashMap<(String, String), Vec<(i64, Decimal)>>,
    /// Earlier nodes as actions, for windows.
    events: Vec<PlanEvent>,
    /// Indices into `events` by key (`agent:growth-bot`, `plan:p-7`…).
    by_key: HashMap<Box<str>, Vec<usize>>,
}

impl std::fmt::Debug for PlanState<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlanState")
            .field("budgets", &self.budgets)
            .field("events", &self.events.len())
            .finish_non_exhaustive()
    }
}

#[derive(Debug)]
struct PlanEvent {
    action: std::sync::Arc<str>,
    time: i64,
    params: serde_json::Map<String, serde_json::Value>,
}

impl<'a> PlanState<'a> {
    /// Nothing added yet to `base`.
    pub fn new(base: &'a dyn StateView) -> Self {
        PlanState {
            base,
            budgets: HashMap::new(),
            events: Vec::new(),
            by_key: HashMap::new(),
        }
    }

    /// Adds what `decision` on `env` consumes, and the action itself, as a
    /// store would once the action ran. A decision that does not proceed
    /// adds nothing.
    pub fn record(&mut self, env: &BoundEnvelope, decision: &Decision, schema: &Schema) {
        if !decision.decision.proceeds() {
            return;
        }
        for used in &decision.budgets {
            let delta = used.delta.value();
            if delta > Decimal::ZERO {
                self.budgets
                    .entry((used.name.clone(), used.key.clone()))
                    .or_default()
                    .push((env.time, delta));
            }
        }
        let index = self.events.len();
        self.events.push(PlanEvent {
            action: env.action_name.clone(),
            time: env.time,
            params: env.raw().action.params.clone(),
        });
        for kind in KEY_KINDS {
            if let Ok(key) = env.key(kind, schema) {
                self.by_key.entry(key.into()).or_default().push(index);
            }
        }
    }

    fn matching<'q>(
        &'q self,
        q: &'q WindowQuery<'_>,
        from: i64,
        to: i64,
    ) -> impl Iterator<Item = &'q PlanEvent> + 'q {
        self.by_key
            .get(q.key_value)
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .map(|&i| &self.events[i])
            .filter(move |e| e.time > from && e.time <= to && pattern_matches(q.pattern, &e.action))
    }

    /// What earlier nodes add to a window query.
    fn added(&self, q: &WindowQuery<'_>) -> Result<Decimal, StateError> {
        let (from, to) = match q.window {
            Window::Span(span) => (q.now.saturating_sub(span), q.now),
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

const KEY_KINDS: [KeyKind; 5] = [
    KeyKind::Agent,
    KeyKind::Workflow,
    KeyKind::Owner,
    KeyKind::Object,
    KeyKind::Plan,
];

impl StateView for PlanState<'_> {
    fn consumed(
        &self,
        budget: &str,
        key: &str,
        window: Window,
        now: i64,
    ) -> Result<Decimal, StateError> {
        let base = self.base.consumed(budget, key, window, now)?;
        let Some(entries) = self.budgets.get(&(budget.to_string(), key.to_string())) else {
            return Ok(base);
        };
        let (start, end) = window.bucket(now);
        let added: Decimal = entries
            .iter()
            .filter(|(t, _)| *t >= start && *t < end)
            .map(|(_, amount)| *amount)
            .sum();
        Ok(base + added)
    }

    fn window(&self, query: &WindowQuery<'_>) -> Result<Decimal, StateError> {
        Ok(self.base.window(query)? + self.added(query)?)
    }

    fn approval(
        &self,
        id: &str,
    ) -> Result<Option<actpol_core::approval::ApprovalGrant>, StateError> {
        self.base.approval(id)
    }
}
