//! Change impact: which envelopes of a corpus two versions of a policy
//! decide differently, grouped by transition (`allow → escalate`), with the
//! rules responsible on each side. What a reviewer reads before a policy
//! change merges.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use actpol::{Level, MemoryState, Policy};
use serde_json::{json, Value as Json};

use crate::corpus::{self, Entry};
use crate::diagnostic::TestDiagnostic;
use crate::record::{differences, Difference, Record};

/// One envelope decided differently.
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    /// The envelope's path, as the corpus was named plus its path under it.
    pub envelope: String,
    pub old: Record,
    pub new: Record,
}

impl Change {
    pub fn differences(&self) -> Vec<Difference> {
        differences(&self.old, &self.new)
    }
}

/// The impact of a policy change on a corpus.
#[derive(Clone, Debug, PartialEq)]
pub struct DiffReport {
    /// Envelopes decided.
    pub envelopes: usize,
    pub changes: Vec<Change>,
}

impl DiffReport {
    /// Changes grouped by (old, new) decision, the groups from the most
    /// permissive old decision, then the most permissive new one. A change
    /// that keeps the decision but moves its rules, reasons, constraints,
    /// approver or budgets forms a group such as `constrain → constrain`.
    pub fn transitions(&self) -> BTreeMap<(Level, Level), Vec<&Change>> {
        let mut groups: BTreeMap<(Level, Level), Vec<&Change>> = BTreeMap::new();
        for change in &self.changes {
            groups
                .entry((change.old.decision, change.new.decision))
                .or_default()
                .push(change);
        }
        groups
    }

    /// For people: a headline, then each transition with its envelopes and
    /// what decided them before and after.
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        if self.changes.is_empty() {
            let _ = writeln!(
                out,
                "no decision changes across {} envelope(s)",
                self.envelopes
            );
            return out;
        }
        let _ = writeln!(
            out,
            "{} of {} envelope(s) decided differently",
            self.changes.len(),
            self.envelopes
        );
        for ((from, to), changes) in self.transitions() {
            let _ = writeln!(out, "\n{from} → {to} ({})", changes.len());
            for change in changes {
                let _ = writeln!(out, "  {}", change.envelope);
                let _ = writeln!(out, "    old: {}", change.old.headline());
                let _ = writeln!(out, "    new: {}", change.new.headline());
                for d in change
                    .differences()
                    .iter()
                    .filter(|d| d.field != "decision")
                {
                    let _ = writeln!(out, "      {}: {} → {}", d.field, d.expected, d.actual);
                }
            }
        }
        out
    }

    /// For tools: one JSON document.
    pub fn render_json(&self) -> Json {
        let transitions: Vec<Json> = self
            .transitions()
            .into_iter()
            .map(|((from, to), changes)| {
                let envelopes: Vec<Json> = changes
                    .iter()
                    .map(|c| {
                        json!({
                            "envelope": c.envelope,
                            "old": c.old,
                            "new": c.new,
                            "changed": c.differences().iter().map(|d| d.field).collect::<Vec<_>>(),
                        })
                    })
                    .collect();
                json!({"from": from, "to": to, "count": envelopes.len(), "envelopes": envelopes})
            })
            .collect();
        json!({
            "envelopes": self.envelopes,
            "changed": self.changes.len(),
            "transitions": transitions,
        })
    }
}

/// Decides every envelope of `entries` under both policies.
pub fn diff(
    old: &Policy,
    new: &Policy,
    corpus_name: &str,
    entries: &[Entry],
    fallback: &MemoryState,
) -> Result<DiffReport, TestDiagnostic> {
    let mut changes = Vec::new();
    for entry in entries {
        let before = corpus::decide(old, entry, fallback)?;
        let after = corpus::decide(new, entry, fallback)?;
        if before != after {
            changes.push(Change {
                envelope: format!("{}/{}", corpus_name.trim_end_matches('/'), entry.name),
                old: before,
                new: after,
            });
        }
    }
    Ok(DiffReport {
        envelopes: entries.len(),
        changes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(decision: Level, rule: &str) -> Record {
        Record {
            decision,
            approver: None,
            rules: vec![rule.to_string()],
            reasons: vec![],
            constraints: vec![],
            budgets: vec![],
            errors: vec![],
            nodes: vec![],
        }
    }

    fn change(name: &str, old: Level, new: Level) -> Change {
        Change {
            envelope: name.into(),
            old: record(old, "a"),
            new: record(new, "b"),
        }
    }

    #[test]
    fn changes_group_by_transition() {
        let report = DiffReport {
            envelopes: 5,
            changes: vec![
                change("e/1.json", Level::Escalate, Level::Deny),
                change("e/2.json", Level::Allow, Level::Escalate),
                change("e/3.json", Level::Allow, Level::Escalate),
            ],
        };
        let groups = report.transitions();
        let keys: Vec<&(Level, Level)> = groups.keys().collect();
        assert_eq!(
            keys,
            [
                &(Level::Allow, Level::Escalate),
                &(Level::Escalate, Level::Deny)
            ]
        );
        let text = report.render_text();
        assert!(
            text.starts_with("3 of 5 envelope(s) decided differently"),
            "{text}"
        );
        assert!(text.contains("allow → escalate (2)"), "{text}");
        assert!(text.contains("    old: allow, by a"), "{text}");
        assert!(text.contains("      rules: [a] → [b]"), "{text}");
        let j = report.render_json();
        assert_eq!(j["changed"], 3);
        assert_eq!(j["transitions"][0]["from"], "allow");
        assert_eq!(j["transitions"][0]["envelopes"][1]["envelope"], "e/3.json");
    }

    #[test]
    fn no_change_says_so() {
        let report = DiffReport {
            envelopes: 2,
            changes: vec![],
        };
        assert_eq!(
            report.render_text(),
            "no decision changes across 2 envelope(s)\n"
        );
    }
}
