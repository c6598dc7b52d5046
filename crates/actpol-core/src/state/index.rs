//! The tables [`MemoryState`](super::MemoryState) reads windows and budgets
//! from, so that a read costs what it finds and not what the state holds.
//!
//! Deciding a batch against one state records every decision that proceeds,
//! so a state grows by one event a decision. Scanning every event for every
//! window read made a batch quadratic in its length. Here events are kept
//! per key (`agent:growth-bot`), per action, in time order, and what windows
//! read of them (how many, and the total of each numeric parameter) is added
//! up per distinct time when the event arrives. A window read walks the
//! distinct times of the matching actions inside its range; a budget read
//! walks the entries of one budget and key inside its calendar period.

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;

use rust_decimal::Decimal;
use serde_json::{Map, Value as Json};

use super::{pattern_matches, StateError, Summed, WindowQuery};
use crate::schema::KeyKind;

/// Events by kind of key, then key name, then action, then time.
#[derive(Clone, Debug, Default)]
pub(super) struct EventIndex {
    by_key: [HashMap<String, ByAction>; KeyKind::COUNT],
}

/// Actions in name order, so a window over several of them reads its
/// tallies in the same order in every run.
type ByAction = BTreeMap<String, BTreeMap<i64, Tally>>;

/// What the events of one action under one key at one time add up to.
#[derive(Clone, Debug, Default)]
struct Tally {
    count: u64,
    /// Per parameter name: an event may carry many, and a hostile state
    /// file thousands, so they are found by a search, not a scan.
    sums: BTreeMap<String, Summed>,
}

/// The key names an event is kept under, one per kind it has.
pub(super) struct EventKeys<'a> {
    pub agent: &'a str,
    pub workflow: Option<&'a str>,
    pub owner: Option<&'a str>,
    pub object: Option<&'a str>,
    pub plan: Option<&'a str>,
}

impl EventIndex {
    /// Adds one event, at `time`, with its parameters.
    pub(super) fn insert(
        &mut self,
        keys: EventKeys<'_>,
        action: &str,
        time: i64,
        params: &Map<String, Json>,
    ) {
        let kinds = [
            (KeyKind::Agent, Some(keys.agent)),
            (KeyKind::Workflow, keys.workflow),
            (KeyKind::Owner, keys.owner),
            (KeyKind::Object, keys.object),
            (KeyKind::Plan, keys.plan),
        ];
        for (kind, name) in kinds {
            let Some(name) = name else { continue };
            let keys = &mut self.by_key[kind.index()];
            let actions = match keys.get_mut(name) {
                Some(actions) => actions,
                None => keys.entry(name.to_string()).or_default(),
            };
            let times = match actions.get_mut(action) {
                Some(times) => times,
                None => actions.entry(action.to_string()).or_default(),
            };
            times.entry(time).or_default().add(params);
        }
    }

    /// The times of the actions `q` names under its key, in `(from, to]`.
    fn tallies<'a>(
        &'a self,
        q: &'a WindowQuery<'_>,
        from: i64,
        to: i64,
    ) -> impl Iterator<Item = &'a Tally> + 'a {
        let actions =
            key_name(q.key, q.key_value).and_then(|name| self.by_key[q.key.index()].get(name));
        // `BTreeMap::range` refuses an empty range written backwards.
        let range = (from < to).then_some((Bound::Excluded(from), Bound::Included(to)));
        actions
            .into_iter()
            .flat_map(|actions| actions.iter())
            .filter(move |(action, _)| pattern_matches(q.pattern, action))
            .flat_map(move |(_, times)| range.into_iter().flat_map(move |r| times.range(r)))
            .map(|(_, tally)| tally)
    }

    /// How many events of `q`'s actions under its key fall in `(from, to]`.
    pub(super) fn count(&self, q: &WindowQuery<'_>, from: i64, to: i64) -> u64 {
        self.tallies(q, from, to).map(|t| t.count).sum()
    }

    /// The total of `q`'s parameter over its events in `(from, to]`.
    pub(super) fn sum(
        &self,
        q: &WindowQuery<'_>,
        from: i64,
        to: i64,
    ) -> Result<Decimal, StateError> {
        let param = q.param.unwrap_or_default();
        let mut total = Summed::default();
        for tally in self.tallies(q, from, to) {
            if let Some(sum) = tally.sums.get(param) {
                total.merge(sum);
            }
        }
        total.total(q)
    }
}

impl Tally {
    fn add(&mut self, params: &Map<String, Json>) {
        self.count += 1;
        for (name, value) in params {
            match self.sums.get_mut(name) {
                Some(sum) => sum.add_json(value),
                None => {
                    let mut sum = Summed::default();
                    sum.add_json(value);
                    self.sums.insert(name.clone(), sum);
                }
            }
        }
    }
}

/// The name in a key of `kind` (`growth-bot` in `agent:growth-bot`), or
/// none when the key is of another kind: no event is kept under it.
fn key_name(kind: KeyKind, key: &str) -> Option<&str> {
    key.strip_prefix(kind.as_str())
        .and_then(|rest| rest.strip_prefix(':'))
}

/// Budget entries by budget and key: the untimed ones (a snapshot of the
/// current window) and the timed ones by time. Values are positions in the
/// state's list of entries.
#[derive(Clone, Debug, Default)]
pub(super) struct BudgetIndex {
    by_budget: HashMap<String, HashMap<String, BudgetEntries>>,
}

#[derive(Clone, Debug, Default)]
struct BudgetEntries {
    untimed: Vec<usize>,
    timed: BTreeMap<i64, Vec<usize>>,
}

impl BudgetIndex {
    pub(super) fn insert(&mut self, name: &str, key: &str, time: Option<i64>, position: usize) {
        let entries = self
            .by_budget
            .entry(name.to_string())
            .or_default()
            .entry(key.to_string())
            .or_default();
        match time {
            None => entries.untimed.push(position),
            Some(time) => entries.timed.entry(time).or_default().push(position),
        }
    }

    fn entries(&self, name: &str, key: &str) -> Option<&BudgetEntries> {
        self.by_budget.get(name)?.get(key)
    }

    /// The first entry of this budget and key at exactly `time`.
    pub(super) fn find(&self, name: &str, key: &str, time: Option<i64>) -> Option<usize> {
        let entries = self.entries(name, key)?;
        match time {
            None => entries.untimed.first().copied(),
            Some(time) => entries.timed.get(&time).and_then(|p| p.first().copied()),
        }
    }

    /// The entries of this budget and key that count in `[start, end)`:
    /// every untimed one, and the timed ones in the period.
    pub(super) fn in_period<'a>(
        &'a self,
        name: &str,
        key: &str,
        start: i64,
        end: i64,
    ) -> impl Iterator<Item = usize> + 'a {
        let entries = self.entries(name, key);
        let range = (start < end).then_some(start..end);
        entries.into_iter().flat_map(move |e| {
            let timed = range
                .clone()
                .into_iter()
                .flat_map(|r| e.timed.range(r))
                .flat_map(|(_, positions)| positions.iter().copied());
            e.untimed.iter().copied().chain(timed)
        })
    }
}
