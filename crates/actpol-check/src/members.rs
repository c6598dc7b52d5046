//! Members of a declaration's body that may be given at most once (an
//! action's `system`, a budget's `limit`, an agent's `owner`…).

use actpol_syntax::ast::Span;

use crate::diag::CheckError;
use crate::unit::Unit;

#[derive(Debug)]
pub(crate) struct Members<'o> {
    /// How the declaration reads in messages: "action `crm.update`".
    owner: &'o str,
    seen: Vec<(&'static str, Span)>,
}

impl<'o> Members<'o> {
    pub(crate) fn new(owner: &'o str) -> Self {
        Members {
            owner,
            seen: Vec::new(),
        }
    }

    /// Records `member` at `span`; reports it and returns `false` when it
    /// was already given, so only the first is used.
    pub(crate) fn once(
        &mut self,
        unit: &mut Unit<'_>,
        file: u32,
        member: &'static str,
        span: Span,
    ) -> bool {
        match self.seen.iter().find(|(m, _)| *m == member) {
            None => {
                self.seen.push((member, span));
                true
            }
            Some((_, first)) => {
                unit.report(
                    file,
                    CheckError::DuplicateMember {
                        member: member.to_string(),
                        owner: self.owner.to_string(),
                        span: span.into(),
                        first: Some((*first).into()),
                        help: format!("keep one `{member}`"),
                    },
                );
                false
            }
        }
    }

    pub(crate) fn has(&self, member: &str) -> bool {
        self.seen.iter().any(|(m, _)| *m == member)
    }

    /// Reports each of `required` (a member and an example of it) that was
    /// not given; `help` words the advice from the example.
    pub(crate) fn require(
        &self,
        unit: &mut Unit<'_>,
        file: u32,
        at: Span,
        required: &[(&str, &str)],
        help: impl Fn(&str) -> String,
    ) {
        for (member, example) in required {
            if !self.has(member) {
                unit.report(
                    file,
                    CheckError::MissingMember {
                        member: member.to_string(),
                        owner: self.owner.to_string(),
                        span: at.into(),
                        help: help(example),
                    },
                );
            }
        }
    }
}
