//! Precedence: an escalating rule declared to stand above the denials of
//! named rules (`overrides a, b`). When it matches, those rules' denials
//! are held behind its escalation instead of deciding. Only a rule's own
//! denial is held: identity and scope refuse before any rule runs, an error
//! contributes `on_error` rather than a denial, and a denial held this way
//! is never lifted by an approval (see `combine`), so no action proceeds
//! past it.

use crate::ids::RuleId;
use crate::schema::PolicyMeta;

use super::Level;

/// A denial held behind an escalation: the denying rule and the escalating
/// rule that stands above it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Held {
    pub denial: RuleId,
    pub by: RuleId,
}

/// The denials that the matched escalations hold, from the matched rules
/// and their levels, in rule order; each denial held once (by the first
/// escalation that names it).
///
/// The matched rules are an iterator rather than a list, so settling reads
/// them from its hits without copying them out.
pub fn held_denials<I>(meta: &PolicyMeta, matched: I) -> Vec<Held>
where
    I: IntoIterator<Item = (RuleId, Level)>,
    I::IntoIter: Clone,
{
    let matched = matched.into_iter();
    let mut held: Vec<Held> = Vec::new();
    for (by, level) in matched.clone() {
        if level != Level::Escalate {
            continue;
        }
        let Some(rule) = meta.rules.get(by.index()) else {
            continue;
        };
        for denial in &rule.overrides {
            let denies = matched
                .clone()
                .any(|(r, l)| r == *denial && l == Level::Deny);
            if denies && !held.iter().any(|h| h.denial == *denial) {
                held.push(Held {
                    denial: *denial,
                    by,
                });
            }
        }
    }
    held.sort_by_key(|h| h.denial);
    held
}
