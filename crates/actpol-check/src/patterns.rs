//! Action patterns resolved through maps, so that resolving the patterns of
//! thousands of rules costs no more than reading them.

use std::collections::HashMap;

use actpol_core::ids::ActionId;
use actpol_core::schema::Schema;
use actpol_syntax::ast::PatternKind;

#[derive(Debug, Default)]
pub(crate) struct PatternIndex {
    /// `crm` and `crm.billing` of `crm.billing.refund`: every dotted prefix
    /// to the actions under it, in id order.
    namespaces: HashMap<String, Vec<ActionId>>,
    all: Vec<ActionId>,
}

impl PatternIndex {
    pub(crate) fn new(schema: &Schema) -> Self {
        let mut namespaces: HashMap<String, Vec<ActionId>> = HashMap::new();
        for (i, name) in schema.actions.keys().enumerate() {
            let id = ActionId::from_index(i);
            for (dot, _) in name.match_indices('.') {
                namespaces
                    .entry(name[..dot].to_string())
                    .or_default()
                    .push(id);
            }
        }
        PatternIndex {
            namespaces,
            all: (0..schema.actions.len())
                .map(ActionId::from_index)
                .collect(),
        }
    }

    /// The actions a pattern names, sorted.
    pub(crate) fn resolve(&self, schema: &Schema, pattern: &PatternKind) -> Vec<ActionId> {
        match pattern {
            PatternKind::Exact(name) => schema.action_id(name).into_iter().collect(),
            PatternKind::Namespace(ns) => self.namespaces.get(ns).cloned().unwrap_or_default(),
            PatternKind::Any => self.all.clone(),
        }
    }

    pub(crate) fn all(&self) -> &[ActionId] {
        &self.all
    }

    /// Namespaces, for "did you mean" on a pattern that matches nothing.
    pub(crate) fn namespaces(&self) -> impl Iterator<Item = &str> {
        self.namespaces.keys().map(String::as_str)
    }
}

/// A window target as written (`crm.*`, `*`, `crm.update_owner`) as a pattern.
pub(crate) fn parse_pattern(text: &str) -> PatternKind {
    if text == "*" {
        PatternKind::Any
    } else if let Some(ns) = text.strip_suffix(".*") {
        PatternKind::Namespace(ns.to_string())
    } else {
        PatternKind::Exact(text.to_string())
    }
}

/// The union of sorted id lists, sorted and without duplicates.
pub(crate) fn union(mut lists: Vec<Vec<ActionId>>) -> Vec<ActionId> {
    if lists.len() == 1 {
        return lists.pop().unwrap_or_default();
    }
    let mut all: Vec<ActionId> = lists.into_iter().flatten().collect();
    all.sort_unstable();
    all.dedup();
    all
}

/// Whether every id of sorted `inner` is in sorted `outer`.
pub(crate) fn is_subset(inner: &[ActionId], outer: &[ActionId]) -> bool {
    inner.len() <= outer.len() && inner.iter().all(|a| outer.binary_search(a).is_ok())
}
