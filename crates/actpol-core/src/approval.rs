//! Approvals bound to the action. An escalated decision names an approver;
//! a store records a pending approval for it, bound to the envelope's
//! canonical hash ([`crate::envelope::canonical_hash`]) and to the grounds
//! of the escalation ([`Grounds`]: the rules and raises that escalated, and
//! the budgets the action would pass). Once the approver grants it, the
//! agent resubmits the same envelope with the approval's id in `approval`,
//! and the decision is settled again with the grant.
//!
//! A grant satisfies the escalation only if all of these hold:
//! - the decision, settled without the grant, is `escalate` and has no
//!   evaluation errors: a grant never overrides `deny`, an identity or scope
//!   refusal (decided before rules run), or an error;
//! - the grant is `granted` (not pending, rejected, used or expired) and
//!   its expiry is after the decision's `now`;
//! - the envelope's canonical hash is the one the approval was made for: a
//!   changed parameter, object, intent or context is refused;
//! - every cause that escalates names the grant's approver (an action
//!   escalated to two approvers needs both to have been asked separately,
//!   and is refused with one);
//! - every cause that escalates is one the approval was given for: a rule
//!   or raise it named, or a budget it was told the action would pass. A
//!   budget that only became exhausted since (others spent meanwhile) is
//!   not approved by an approval of a rule: the action is escalated again,
//!   with the budget among its grounds.
//!
//! The approved decision is what the other causes make it: `constrain`
//! (with the merged constraints, which must all hold) if a rule constrains,
//! otherwise `allow`; raises are applied again from that level, so an
//! approval never skips a raise that would lift the approved action
//! (a raise that escalates it again is approved only if the approval named
//! it). It proceeds, so every matched rule's `consume` applies, the
//! escalating rules' included. Budgets are checked with all of it: a
//! budget it would pass is passed only if the approval was given for that
//! budget's own `on_exhausted` escalation; a budget whose `on_exhausted`
//! denies stops it, approval or not. The store marks the approval used in
//! the same transaction, so it is single use.
//!
//! The rules here only read what a state view returns; whether a grant is
//! current is the store's to keep true under concurrency.

use serde::{Deserialize, Serialize};

/// Where an approval stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ApprovalStatus {
    /// Waiting for the approver.
    Pending,
    /// Granted, not yet used.
    Granted,
    /// Refused by the approver.
    Rejected,
    /// Granted and used by a decision.
    Used,
    /// Past its expiry before it was used.
    Expired,
}

impl ApprovalStatus {
    /// The status as written: `pending`, `granted`…
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalStatus::Pending => "pending",
            ApprovalStatus::Granted => "granted",
            ApprovalStatus::Rejected => "rejected",
            ApprovalStatus::Used => "used",
            ApprovalStatus::Expired => "expired",
        }
    }

    /// The status written `text`.
    pub fn parse(text: &str) -> Option<ApprovalStatus> {
        Some(match text {
            "pending" => ApprovalStatus::Pending,
            "granted" => ApprovalStatus::Granted,
            "rejected" => ApprovalStatus::Rejected,
            "used" => ApprovalStatus::Used,
            "expired" => ApprovalStatus::Expired,
            _ => return None,
        })
    }
}

impl std::fmt::Display for ApprovalStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an escalation asks its approver to let through: the rules and
/// raises whose escalation decided it, and the budgets whose `on_exhausted`
/// escalated because the action would pass their limit. Neither: the
/// policy's default escalated.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grounds {
    /// Rule and raise names, as the decision's `rules` lists them.
    pub rules: Vec<String>,
    /// Budget names, as the escalation's `budgets` lists them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub budgets: Vec<String>,
}

impl Grounds {
    /// The grounds of an escalated decision.
    pub fn of(decision: &crate::Decision) -> Grounds {
        Grounds {
            rules: decision.rules.clone(),
            budgets: decision
                .escalation
                .as_ref()
                .map(|e| e.budgets.clone())
                .unwrap_or_default(),
        }
    }

    /// Whether the policy's default decided the escalation.
    pub fn is_default(&self) -> bool {
        self.rules.is_empty() && self.budgets.is_empty()
    }
}

/// An approval as a state view reports it, for the decision to judge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApprovalGrant {
    /// `apr-…`.
    pub id: String,
    /// The approver the escalation named.
    pub approver: String,
    /// `sha256:<hex>`: the canonical hash of the escalated envelope.
    pub envelope_hash: String,
    /// What the escalation asked to let through.
    pub grounds: Grounds,
    /// Where it stands.
    pub status: ApprovalStatus,
    /// Milliseconds since the epoch.
    pub expires_at: i64,
}

/// What a decision says about an approval.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalOut {
    /// `apr-…`.
    pub id: String,
    /// `pending` (a new approval waits for the approver), `used` (the
    /// envelope's approval satisfied this decision) or `refused` (it did
    /// not; `reason` says why).
    pub status: ApprovalUse,
    /// The approver it waits on or was given by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approver: Option<String>,
    /// When a pending approval expires (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    /// Why a presented approval was refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// How a decision used an approval.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ApprovalUse {
    /// A new approval waits for its approver.
    Pending,
    /// The presented approval satisfied the escalation, and is spent.
    Used,
    /// The presented approval did not apply.
    Refused,
}

/// Why a presented approval does not satisfy a decision, or `Ok` if it
/// does. `approvers` are the approvers every escalating cause names.
pub fn review(
    grant: Option<&ApprovalGrant>,
    id: &str,
    envelope_hash: &str,
    approvers: &[&str],
    now: i64,
) -> Result<(), String> {
    let Some(grant) = grant else {
        return Err(format!("approval `{id}` does not exist"));
    };
    match grant.status {
        ApprovalStatus::Granted => {}
        ApprovalStatus::Pending => {
            return Err(format!(
                "approval `{id}` is still waiting for `{}`",
                grant.approver
            ))
        }
        ApprovalStatus::Rejected => {
            return Err(format!(
                "approval `{id}` was rejected by `{}`",
                grant.approver
            ))
        }
        ApprovalStatus::Used => return Err(format!("approval `{id}` was already used")),
        ApprovalStatus::Expired => return Err(format!("approval `{id}` has expired")),
    }
    if grant.expires_at <= now {
        return Err(format!("approval `{id}` has expired"));
    }
    if grant.envelope_hash != envelope_hash {
        return Err(format!(
            "approval `{id}` was given for a different action: the envelope changed since it was escalated"
        ));
    }
    if let Some(other) = approvers.iter().find(|a| **a != grant.approver) {
        return Err(format!(
            "approval `{id}` is from `{}`, and this action needs `{other}`",
            grant.approver
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant() -> ApprovalGrant {
        ApprovalGrant {
            id: "apr-1".into(),
            approver: "growth-lead".into(),
            envelope_hash: "sha256:aa".into(),
            grounds: Grounds::default(),
            status: ApprovalStatus::Granted,
            expires_at: 1_000,
        }
    }

    #[test]
    fn a_current_grant_for_this_envelope_and_approver_applies() {
        assert_eq!(
            review(Some(&grant()), "apr-1", "sha256:aa", &["growth-lead"], 999),
            Ok(())
        );
    }

    #[test]
    fn every_failed_condition_is_refused_with_its_reason() {
        let cases: Vec<(ApprovalGrant, &str, &[&str], i64, &str)> = vec![
            (
                grant(),
                "sha256:bb",
                &["growth-lead"],
                0,
                "different action",
            ),
            (
                grant(),
                "sha256:aa",
                &["revops-lead"],
                0,
                "needs `revops-lead`",
            ),
            (grant(), "sha256:aa", &["growth-lead"], 1_000, "expired"),
            (
                ApprovalGrant {
                    status: ApprovalStatus::Used,
                    ..grant()
                },
                "sha256:aa",
                &["growth-lead"],
                0,
                "already used",
            ),
            (
                ApprovalGrant {
                    status: ApprovalStatus::Pending,
                    ..grant()
                },
                "sha256:aa",
                &["growth-lead"],
                0,
                "still waiting",
            ),
            (
                ApprovalGrant {
                    status: ApprovalStatus::Rejected,
                    ..grant()
                },
                "sha256:aa",
                &["growth-lead"],
                0,
                "rejected",
            ),
        ];
        for (g, hash, approvers, now, why) in cases {
            let err = review(Some(&g), "apr-1", hash, approvers, now).unwrap_err();
            assert!(err.contains(why), "{err} should say {why}");
        }
        assert!(review(None, "apr-9", "sha256:aa", &[], 0)
            .unwrap_err()
            .contains("does not exist"));
    }
}
