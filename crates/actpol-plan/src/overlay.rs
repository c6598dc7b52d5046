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
//!
//! Upstream windows (`upstream.reads(pii)`) are the one read that follows
//! the plan's edges: they count only the earlier nodes that are ancestors
//! of the node being decided ([`PlanState::focus`]), where a store, which
//! knows no edges, counts every earlier step of the plan.

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::sync::Arc;

use actpol_core::envelope::BoundEnvelope;
use actpol_core::schema::{KeyKind, Window};
use actpol_core::state::{pattern_matches, StateError, StateView, WindowKind, WindowQuery};
use actpol_core::{Decimal, Decision, Schema};

/// The base state with a plan's earlier nodes added.
pub struct PlanState<'a> {
    base: &'a dyn StateView,
    /// What earlier nodes consume, by budget, key and time: a budget read
    /// sums the times in its window, not every earlier node.
    budgets: HashMap<String, HashMap<String, BTreeMap<i64, Decimal>>>,
    /// Earlier nodes as actions, for windows.
    events: Vec<PlanEvent>,
    /// `events` by key (`agent:growth-bot`, `plan:p-7`…), then by action
    /// and time: a window read matches each distinct action once and
    /// visits only the times in its span.
    by_key: HashMap<Box<str>, Vec<ActionTimes>>,
    /// The ancestors of the node being decided, by node index, one bit
    /// each: what upstream windows count.
    upstream: Vec<u64>,
}

impl std::fmt::Debug for PlanState<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlanState")
            .field("budgets", &self.budgets)
            .field("events", &self.events.len())
            .finish_non_exhaustive()
    }
}

/// An action's events under one key, by time: indices into `events`.
type ActionTimes = (Arc<str>, BTreeMap<i64, Vec<usize>>);

#[derive(Debug)]
struct PlanEvent {
    /// The envelope as sent: sums read its parameters.
    params: Arc<actpol_core::Envelope>,
    /// The node it is, by index in the plan.
    node: usize,
}

impl<'a> PlanState<'a> {
    /// Nothing added yet to `base`.
    pub fn new(base: &'a dyn StateView) -> Self {
        PlanState {
            base,
            budgets: HashMap::new(),
            events: Vec::new(),
            by_key: HashMap::new(),
            upstream: Vec::new(),
        }
    }

    /// The node decided next, among nodes with these predecessors:
    /// upstream windows count only its ancestors.
    pub(crate) fn focus(&mut self, node: usize, parents: &[Vec<usize>]) {
        crate::graph::ancestors(parents, node, &mut self.upstream);
    }

    fn is_upstream(&self, node: usize) -> bool {
        self.upstream
            .get(node / 64)
            .is_some_and(|word| word & (1 << (node % 64)) != 0)
    }

    /// Adds what `decision` on `env` consumes, and the action itself, as a
    /// store would once the action ran. A decision that does not proceed
    /// adds nothing.
    pub fn record(
        &mut self,
        node: usize,
        env: &BoundEnvelope,
        decision: &Decision,
        schema: &Schema,
    ) {
        if !decision.decision.proceeds() {
            return;
        }
        for used in &decision.budgets {
            let delta = used.delta.value();
            if delta > Decimal::ZERO {
                self.add_budget(&used.name, &used.key, env.time, delta);
            }
        }
        let index = self.events.len();
        self.events.push(PlanEvent {
            params: env.raw(),
            node,
        });
        for kind in KEY_KINDS {
            let Ok(key) = env.key(kind, schema) else {
                continue;
            };
            // Look up by `&str` first: a key seen before costs no allocation.
            let actions = match self.by_key.get_mut(key) {
                Some(actions) => actions,
                None => self.by_key.entry(key.into()).or_default(),
            };
            let at = match actions.iter().position(|(a, _)| *a == env.action_name) {
                Some(at) => at,
                None => {
                    actions.push((env.action_name.clone(), BTreeMap::new()));
                    actions.len() - 1
                }
            };
            actions[at].1.entry(env.time).or_default().push(index);
        }
    }

    fn add_budget(&mut self, budget: &str, key: &str, time: i64, amount: Decimal) {
        if !self.budgets.contains_key(budget) {
            self.budgets.insert(budget.to_string(), HashMap::new());
        }
        let Some(keys) = self.budgets.get_mut(budget) else {
            return;
        };
        if !keys.contains_key(key) {
            keys.insert(key.to_string(), BTreeMap::new());
        }
        if let Some(times) = keys.get_mut(key) {
            *times.entry(time).or_default() += amount;
        }
    }

    /// Earlier nodes under the query's key, of an action its pattern
    /// names, at a time in `(from, to]`, as lists of event indices.
    fn matching<'q>(
        &'q self,
        q: &'q WindowQuery<'_>,
        from: i64,
        to: i64,
    ) -> impl Iterator<Item = &'q [usize]> + 'q {
        self.by_key
            .get(q.key_value)
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .filter(move |(action, _)| pattern_matches(q.pattern, action))
            .flat_map(move |(_, times)| {
                times
                    .range((Bound::Excluded(from), Bound::Included(to)))
                    .map(|(_, events)| events.as_slice())
            })
    }

    /// The matching events a query counts: for an upstream window, only
    /// the focused node's ancestors.
    fn counted<'q>(
        &'q self,
        q: &'q WindowQuery<'_>,
        from: i64,
        to: i64,
    ) -> impl Iterator<Item = usize> + 'q {
        let upstream = matches!(q.window, Window::Upstream(_));
        self.matching(q, from, to)
            .flatten()
            .copied()
            .filter(move |&i| !upstream || self.is_upstream(self.events[i].node))
    }

    fn count(&self, q: &WindowQuery<'_>, from: i64, to: i64) -> usize {
        if matches!(q.window, Window::Upstream(_)) {
            return self.counted(q, from, to).count();
        }
        self.matching(q, from, to).map(<[usize]>::len).sum()
    }

    /// What earlier nodes add to a window query.
    fn added(&self, q: &WindowQuery<'_>) -> Result<Decimal, StateError> {
        let (from, to) = q.range();
        match q.kind {
            WindowKind::Count => Ok(Decimal::from(self.count(q, from, to) as u64)),
            WindowKind::Sum => {
                let param = q.param.unwrap_or_default();
                q.sum_of(
                    self.counted(q, from, to)
                        .filter_map(|i| self.events[i].params.action.params.get(param)),
                )
            }
            WindowKind::Baseline => {
                q.baseline(|from, to| Ok::<_, StateError>(self.count(q, from, to) as u64))
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
        let Some(times) = self.budgets.get(budget).and_then(|keys| keys.get(key)) else {
            return Ok(base);
        };
        let (start, end) = window.bucket(now);
        let added: Decimal = times.range(start..end).map(|(_, amount)| *amount).sum();
        Ok(base + added)
    }

    fn window(&self, query: &WindowQuery<'_>) -> Result<Decimal, StateError> {
        let (base, added) = (self.base.window(query)?, self.added(query)?);
        base.checked_add(added).ok_or_else(|| StateError::Overflow {
            what: format!(
                "the {} of `{}` with the plan's earlier steps",
                query.kind.as_str(),
                query.pattern
            ),
        })
    }

    fn approval(
        &self,
        id: &str,
    ) -> Result<Option<actpol_core::approval::ApprovalGrant>, StateError> {
        self.base.approval(id)
    }
}
