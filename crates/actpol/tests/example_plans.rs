//! The example sets' plans: each shows a risk that only the whole plan
//! reveals. Every step is checked alone (against the same empty state)
//! as well as in the plan, so the tests hold that the plan, not the step,
//! is what the policy catches.

use std::path::{Path, PathBuf};

use actpol::plan::{NodeDecision, PlanDecision};
use actpol::{Level, MemoryState, Policy};

fn set_dir(set: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(set)
}

/// The policy of `set`, the plan `name` decided, and each written node's
/// decision when its envelope is decided alone.
fn decide(set: &str, name: &str) -> (PlanDecision, Vec<(String, Level)>) {
    let policy = Policy::from_paths(&[set_dir(set)]).expect("the example compiles");
    let path = set_dir(set).join("plans").join(format!("{name}.plan.json"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let plan = policy
        .read_plan(&bytes)
        .unwrap_or_else(|e| panic!("{name}: {e:?}"));
    let alone = plan
        .nodes
        .iter()
        .filter(|n| n.implied_by.is_none())
        .map(|n| {
            let env = n.envelope.as_ref().expect("a written node binds");
            (
                n.id.clone(),
                policy.decide(env, &MemoryState::default()).decision,
            )
        })
        .collect();
    (policy.decide_plan(&plan, &MemoryState::default()), alone)
}

fn node<'a>(decided: &'a PlanDecision, id: &str) -> &'a NodeDecision {
    decided
        .nodes
        .iter()
        .find(|n| n.id == id)
        .unwrap_or_else(|| panic!("no node `{id}` in {}", decided.plan))
}

/// The node escalated by `rule` alone, to `approver`.
fn assert_escalated_to(node: &NodeDecision, rule: &str, approver: &str) {
    assert_eq!(node.decision, Level::Escalate);
    assert_eq!(node.rules, [rule]);
    assert_eq!(node.approver.as_deref(), Some(approver));
}

fn assert_each_alone_proceeds(alone: &[(String, Level)]) {
    for (id, level) in alone {
        assert!(level.proceeds(), "`{id}` alone is {level:?}");
    }
}

#[test]
fn growth_sends_each_allowed_exceed_the_daily_budget_together() {
    let (decided, alone) = decide("growth", "cumulative-sends");
    assert_each_alone_proceeds(&alone);
    assert!(alone.iter().all(|(_, l)| *l == Level::Allow));
    let levels: Vec<Level> = (1..=7)
        .map(|i| node(&decided, &format!("send-{i}")).decision)
        .collect();
    use Level::*;
    assert_eq!(
        levels,
        [Allow, Allow, Allow, Allow, Allow, Constrain, Escalate]
    );
    let consumed: Vec<String> = (1..=6)
        .map(|i| {
            node(&decided, &format!("send-{i}")).budgets[0]
                .consumed
                .value()
                .to_string()
        })
        .collect();
    assert_eq!(consumed, ["800", "1600", "2400", "3200", "4000", "4800"]);
    let last = node(&decided, "send-7");
    assert_eq!(last.reasons, ["the agent's daily send budget is spent"]);
    assert_eq!(last.approver.as_deref(), Some("growth-lead"));
    assert_eq!(decided.decision, Escalate);
}

#[test]
fn growth_sends_trigger_the_activity_log_as_implied_steps() {
    let (decided, _) = decide("growth", "cumulative-sends");
    for i in 1..=7 {
        let implied = node(&decided, &format!("send-{i}~crm.log_activity"));
        assert_eq!(
            implied.implied_by.as_deref(),
            Some(format!("send-{i}").as_str())
        );
        assert_eq!(implied.decision, Level::Allow);
        assert_eq!(implied.rules, ["log_activity"]);
        assert_eq!(
            node(&decided, &format!("send-{i}")).effects,
            ["system analytics"]
        );
    }
    // The last send escalates: its activity log waits on it.
    assert_eq!(
        node(&decided, "send-7~crm.log_activity").blocked_by,
        ["send-7"]
    );
    assert!(node(&decided, "send-6~crm.log_activity")
        .blocked_by
        .is_empty());
}

#[test]
fn growth_audience_export_then_send_is_a_leak_escalated() {
    let (decided, alone) = decide("growth", "pii-then-send");
    assert_each_alone_proceeds(&alone);
    assert_eq!(node(&decided, "export-audience").decision, Level::Allow);
    let send = node(&decided, "send");
    assert_escalated_to(send, "pii_sent_outside", "privacy-officer");
    let packet = decided.packet.as_ref().expect("a packet");
    assert_eq!(packet.escalated.len(), 1);
    assert_eq!(packet.escalated[0].node, "send");
}

#[test]
fn growth_irreversible_merge_waits_behind_an_escalated_reassignment() {
    let (decided, alone) = decide("growth", "merge-behind-escalation");
    let merge_alone = alone.iter().find(|(id, _)| id == "merge").unwrap().1;
    assert!(merge_alone.proceeds(), "the merge alone is {merge_alone:?}");
    assert_eq!(node(&decided, "reassign").decision, Level::Escalate);
    let merge = node(&decided, "merge");
    assert_eq!(merge.action, "crm.merge_accounts");
    assert_eq!(merge.blocked_by, ["reassign"]);
    assert!(!merge.runs());
    let packet = decided.packet.as_ref().expect("a packet");
    assert_eq!(packet.escalated[0].blocks, ["merge"]);
    assert_eq!(decided.decision, Level::Escalate);
}

#[test]
fn support_sla_credits_each_allowed_exceed_the_daily_budget_together() {
    let (decided, alone) = decide("support", "sla-credits-over-budget");
    assert!(alone.iter().all(|(_, l)| *l == Level::Allow), "{alone:?}");
    for i in 1..=20 {
        assert_eq!(
            node(&decided, &format!("credit-{i}")).decision,
            Level::Allow,
            "credit-{i}"
        );
    }
    let last = node(&decided, "credit-21");
    assert_eq!(last.decision, Level::Escalate);
    assert_eq!(last.reasons, ["today's standard credit budget is spent"]);
    let before = node(&decided, "credit-20");
    assert_eq!(before.budgets[0].consumed.value().to_string(), "2000");
    assert_eq!(decided.decision, Level::Escalate);
}

#[test]
fn support_irreversible_refund_waits_behind_an_escalated_correction_and_triggers_a_revoke() {
    let (decided, _) = decide("support", "refund-behind-escalation");
    assert_eq!(node(&decided, "correct-invoice").decision, Level::Escalate);
    let refund = node(&decided, "refund-seats");
    assert_eq!(refund.action, "billing.refund.issue");
    assert_eq!(refund.blocked_by, ["correct-invoice"]);
    let revoke = node(&decided, "refund-seats~billing.credit.revoke");
    assert_eq!(revoke.implied_by.as_deref(), Some("refund-seats"));
    assert_eq!(revoke.decision, Level::Allow);
    assert_eq!(revoke.blocked_by, ["correct-invoice", "refund-seats"]);
    let packet = decided.packet.as_ref().expect("a packet");
    let approvers: Vec<&str> = packet.approvers.iter().map(String::as_str).collect();
    assert_eq!(approvers, ["billing-manager", "support-lead"]);
    assert_eq!(
        packet.escalated[0].blocks,
        ["refund-seats", "refund-seats~billing.credit.revoke"]
    );
}

#[test]
fn support_thread_export_then_vendor_handover_is_a_leak_escalated() {
    let (decided, alone) = decide("support", "thread-to-vendor");
    assert_each_alone_proceeds(&alone);
    assert_eq!(node(&decided, "export-thread").decision, Level::Allow);
    let handover = node(&decided, "hand-to-processor");
    assert_escalated_to(handover, "pii_to_vendor", "support-lead");
    assert_eq!(decided.decision, Level::Escalate);
}

#[test]
fn finance_payments_each_proceeding_exceed_the_vendor_cap_together_and_trigger_reconciliation() {
    let (decided, alone) = decide("finance", "vendor-cap-over-run");
    assert_each_alone_proceeds(&alone);
    assert!(
        alone.iter().all(|(_, l)| *l == Level::Constrain),
        "{alone:?}"
    );
    assert_eq!(node(&decided, "pay-1").decision, Level::Constrain);
    assert_eq!(node(&decided, "pay-2").decision, Level::Constrain);
    let third = node(&decided, "pay-3");
    assert_eq!(third.decision, Level::Escalate);
    assert_eq!(third.approver.as_deref(), Some("controller"));
    assert_eq!(
        third.reasons,
        ["this vendor has been paid $50,000 in the last 30 days"]
    );
    let consumed = |id: &str| {
        node(&decided, id)
            .budgets
            .iter()
            .find(|b| b.name == "vendor_payouts")
            .expect("the vendor budget")
            .consumed
            .value()
            .to_string()
    };
    assert_eq!(consumed("pay-1"), "20000");
    assert_eq!(consumed("pay-2"), "40000");
    // Each payment's reconciliation is an implied step after it.
    for i in 1..=3 {
        let reconcile = node(&decided, &format!("pay-{i}~erp.invoice.reconcile"));
        assert_eq!(
            reconcile.implied_by.as_deref(),
            Some(format!("pay-{i}").as_str())
        );
        assert_eq!(reconcile.decision, Level::Allow);
        assert_eq!(reconcile.rules, ["reconcile_run_payment"]);
    }
    assert_eq!(
        node(&decided, "pay-3~erp.invoice.reconcile").blocked_by,
        ["pay-3"]
    );
    assert_eq!(decided.decision, Level::Escalate);
}

#[test]
fn finance_irreversible_wire_waits_behind_an_escalated_first_payment() {
    let (decided, _) = decide("finance", "wire-behind-new-vendor");
    let first = node(&decided, "first-payment");
    assert_eq!(first.decision, Level::Escalate);
    assert_eq!(first.approver.as_deref(), Some("controller"));
    let wire = node(&decided, "wire-balance");
    assert_eq!(wire.action, "payments.wire.send");
    assert_eq!(wire.blocked_by, ["first-payment"]);
    let packet = decided.packet.as_ref().expect("a packet");
    assert_eq!(packet.escalated[0].node, "first-payment");
    assert!(packet.escalated[0]
        .blocks
        .contains(&"wire-balance".to_string()));
}

#[test]
fn finance_vendor_record_then_remittance_is_a_leak_escalated() {
    let (decided, alone) = decide("finance", "bank-details-leak");
    assert_each_alone_proceeds(&alone);
    assert_eq!(node(&decided, "check-vendor").decision, Level::Allow);
    let send = node(&decided, "send-remittance");
    assert_escalated_to(send, "bank_details_leave", "treasury-lead");
    assert_eq!(decided.decision, Level::Escalate);
}

#[test]
fn assistant_statement_then_mail_to_the_accountant_is_a_leak_escalated() {
    let (decided, alone) = decide("assistant", "statement-to-accountant");
    assert_each_alone_proceeds(&alone);
    assert!(alone.iter().all(|(_, l)| *l == Level::Allow), "{alone:?}");
    assert_eq!(node(&decided, "download").decision, Level::Allow);
    let mail = node(&decided, "mail-accountant");
    assert_escalated_to(mail, "financial_leaves", "claire");
    assert_eq!(decided.decision, Level::Escalate);
}

#[test]
fn assistant_bills_each_inside_the_limit_pass_it_together() {
    let (decided, alone) = decide("assistant", "bills-over-daily-limit");
    assert!(
        alone.iter().all(|(_, l)| *l == Level::Constrain),
        "{alone:?}"
    );
    use Level::*;
    let levels: Vec<Level> = (1..=3)
        .map(|i| node(&decided, &format!("batch-{i}")).decision)
        .collect();
    assert_eq!(levels, [Constrain, Constrain, Escalate]);
    let consumed = |id: &str| node(&decided, id).budgets[0].consumed.value().to_string();
    assert_eq!(consumed("batch-1"), "600.00");
    assert_eq!(consumed("batch-2"), "1100.00");
    let last = node(&decided, "batch-3");
    assert_eq!(last.reasons, ["more than 1,500 EUR paid out today"]);
    assert_eq!(last.approver.as_deref(), Some("claire"));
    assert_eq!(decided.decision, Escalate);
}

#[test]
fn assistant_agenda_waits_behind_the_invitation_it_announces() {
    let (decided, alone) = decide("assistant", "invite-then-agenda");
    let agenda_alone = alone.iter().find(|(id, _)| id == "agenda").unwrap().1;
    assert_eq!(agenda_alone, Level::Allow);
    let invite = node(&decided, "invite");
    assert_eq!(invite.decision, Level::Escalate);
    assert_eq!(invite.rules, ["new_invitee"]);
    let agenda = node(&decided, "agenda");
    assert_eq!(agenda.decision, Level::Allow);
    assert_eq!(agenda.blocked_by, ["invite"]);
    assert!(!agenda.runs());
    let packet = decided
        .packet
        .as_ref()
        .expect("an escalated plan has a packet");
    assert_eq!(packet.escalated[0].blocks, ["agenda"]);
    assert_eq!(decided.decision, Level::Escalate);
}
