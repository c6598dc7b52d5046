//! A group of decisions in one transaction, each with its own result.
//!
//! A decision the store fails on is taken out and the group decided again
//! without it, in a new transaction (the failed one rolled back): its
//! failure costs a retry, while the common case pays for no savepoints.

use actpol_core::state::StateView;
use actpol_core::Decision;

use super::{flows, Ledger, LedgerSql};
use crate::{Proposal, StoreError, Stored};

/// The decisions of a group, and those the store failed on so far.
#[derive(Debug)]
pub struct Group<'p, 'e> {
    proposals: &'p [Proposal<'e>],
    failed: Vec<Option<StoreError>>,
}

impl<'p, 'e> Group<'p, 'e> {
    pub fn new(proposals: &'p [Proposal<'e>]) -> Group<'p, 'e> {
        Group {
            proposals,
            failed: proposals.iter().map(|_| None).collect(),
        }
    }

    /// Decides every proposal not failed yet in `ledger`. `None` when one
    /// failed: the caller drops `ledger` (rolling it back) and tries again
    /// in a new transaction; otherwise the decisions, for the caller to
    /// commit and hand to [`Group::results`].
    pub fn attempt<T: LedgerSql>(
        &mut self,
        ledger: &mut Ledger<T>,
        decide: &mut dyn FnMut(usize, &dyn StateView) -> Decision,
    ) -> Option<Vec<Option<Stored>>> {
        let mut stored: Vec<Option<Stored>> = Vec::with_capacity(self.proposals.len());
        for (i, p) in self.proposals.iter().enumerate() {
            if self.failed[i].is_some() {
                stored.push(None);
                continue;
            }
            match flows::decide_one(ledger, p, &mut |view| decide(i, view)) {
                Ok(s) => stored.push(Some(s)),
                Err(err) => {
                    self.failed[i] = Some(err);
                    return None;
                }
            }
        }
        Some(stored)
    }

    /// Each proposal's result, once the group committed.
    pub fn results(self, stored: Vec<Option<Stored>>) -> Vec<Result<Stored, StoreError>> {
        stored
            .into_iter()
            .zip(self.failed)
            .map(|(stored, failed)| match (stored, failed) {
                (Some(s), _) => Ok(s),
                (None, Some(err)) => Err(err),
                // INVARIANT: a proposal either failed or was stored.
                (None, None) => Err(StoreError::backend(
                    "decide",
                    std::io::Error::other("a decision was neither stored nor failed"),
                )),
            })
            .collect()
    }
}
