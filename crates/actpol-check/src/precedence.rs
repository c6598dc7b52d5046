//! Precedence (`overrides a, b` on an escalating rule): each name must be a
//! rule of the policy that denies, and only a rule that escalates may stand
//! above denials. Resolved to rule ids for the policy's rule metadata.

use actpol_core::ids::RuleId;
use actpol_core::Level;
use actpol_syntax::ast::NameList;

use crate::checker::Checker;
use crate::diag::{suggest, CheckError};

impl Checker<'_> {
    /// The rules each rule's `overrides` names, by rule, sorted.
    pub(crate) fn precedence(&mut self) -> Vec<Vec<RuleId>> {
        (0..self.decls.rules.len())
            .map(|index| {
                let d = &self.decls.rules[index];
                match &d.node.overrides {
                    Some(list) => self.overrides(index, list),
                    None => Vec::new(),
                }
            })
            .collect()
    }

    fn overrides(&mut self, index: usize, list: &NameList) -> Vec<RuleId> {
        let d = &self.decls.rules[index];
        let (file, name) = (d.file, d.node.name.name.clone());
        if d.node.outcome.level() != Level::Escalate {
            self.unit.report(
                file,
                CheckError::InvalidPrecedence {
                    message: format!("rule `{name}` takes precedence but does not escalate"),
                    span: list.span.into(),
                    label: "only an escalation can stand above denials".into(),
                    help: format!(
                        "give rule `{name}` an `escalate to …` outcome, or remove `overrides`"
                    ),
                },
            );
            return Vec::new();
        }
        let mut ids = Vec::new();
        for target in &list.names {
            let found = self
                .decls
                .rules
                .iter()
                .position(|r| r.node.name.name == target.name);
            let Some(found) = found else {
                let help = suggest(
                    &target.name,
                    self.decls.rules.iter().map(|r| r.node.name.name.as_str()),
                    || "`overrides` names rules of this policy that deny".to_string(),
                );
                self.unit.report(
                    file,
                    CheckError::UnknownRule {
                        name: target.name.clone(),
                        span: target.span.into(),
                        help,
                    },
                );
                continue;
            };
            let level = self.decls.rules[found].node.outcome.level();
            if level != Level::Deny {
                self.unit.report(
                    file,
                    CheckError::InvalidPrecedence {
                        message: format!(
                            "rule `{name}` overrides `{}`, which does not deny",
                            target.name
                        ),
                        span: target.span.into(),
                        label: format!("this rule decides `{level}`"),
                        help: format!(
                            "an escalation stands above denials only: remove `{}` from `overrides`",
                            target.name
                        ),
                    },
                );
                continue;
            }
            ids.push(RuleId::from_index(found));
        }
        ids.sort();
        ids.dedup();
        ids
    }
}
