//! Decisions of hand-built IR policies, against docs/language.md "How a
//! decision is made".

mod fixture;

use actpol_core::decision::{
    Amount, BudgetUse, ConstraintOp, ConstraintOut, Decision, ErrorOut, Level, Requirement,
};
use actpol_core::envelope::BoundEnvelope;
use actpol_core::ids::{AgentId, BudgetId, DataClassId, NameId, RiskId};
use actpol_core::ops::{ArithOp, Builtin, CmpOp};
use actpol_core::schema::{KeyKind, Window};
use actpol_core::state::{MemoryState, WindowKind};
use actpol_core::types::Type;
use actpol_core::value::Value;
use actpol_core::{Decimal, Envelope, ErrorCode};
use actpol_ir::{BudgetField, EnvField, ExprKind, Presence, WindowRead};
use fixture::*;
use serde_json::json;

const EVERY_ACTION: &[&str] = &[
    "crm.update_owner",
    "crm.merge_contacts",
    "outbound.send",
    "outbound.recall",
    "billing.credit",
];

/// A fixture whose one rule allows everything: what it refuses, the rule
/// did not.
fn allowing() -> Fx {
    let mut fx = Fx::new();
    fx.rule("allow_all", EVERY_ACTION, None, allow("fine"));
    fx
}

fn assert_refused(decision: &Decision, reason: &str) {
    assert_eq!(decision.decision, Level::Deny, "{decision:#?}");
    assert_eq!(decision.reasons, vec![reason.to_string()]);
    assert!(decision.rules.is_empty(), "no rule ran: {decision:#?}");
    assert!(decision.errors.is_empty(), "{decision:#?}");
}

/// The policy's `on_error`: escalate to security-oncall, never allow.
fn assert_failed(decision: &Decision) {
    assert_eq!(decision.decision, Level::Escalate, "{decision:#?}");
    assert_eq!(
        decision.reasons,
        vec!["the policy could not be evaluated".to_string()]
    );
    let escalation = decision.escalation.as_ref().expect("an escalation");
    assert_eq!(escalation.approver, "security-oncall");
    assert!(!decision.errors.is_empty(), "the error is reported");
}

// 2. Identity.

#[test]
fn undeclared_or_mismatched_agents_are_refused() {
    let fx = allowing();
    let cases = [
        (
            json!({"id": "rogue-bot", "owner": "maria@acme.example", "workflow": "lead-routing"}),
            "agent `rogue-bot` is not declared",
        ),
        (
            json!({"id": "growth-bot", "owner": "eve@acme.example", "workflow": "lead-routing"}),
            "agent `growth-bot` belongs to `maria@acme.example`, not `eve@acme.example`",
        ),
        (
            json!({"id": "growth-bot", "owner": "maria@acme.example", "workflow": "churn-save"}),
            "agent `growth-bot` runs workflow `lead-routing`, not `churn-save`",
        ),
    ];
    for (agent, reason) in cases {
        let mut envelope = send(10);
        envelope["agent"] = agent;
        let decision = fx.decide(envelope);
        assert_refused(&decision, reason);
        assert_eq!(&*decision.policy.name, "growth");
        assert_eq!(&*decision.policy.hash, HASH);
    }
    assert_eq!(
        fx.decide(send(10)).decision,
        Level::Allow,
        "the declared agent passes"
    );
}

// 3. Scope.

#[test]
fn scope_refuses_other_systems_objects_and_records() {
    let fx = allowing();
    let mut merge = update_owner(None);
    merge["action"] = json!({"name": "crm.merge_contacts"});
    merge["object"] = json!({"type": "Contact", "id": "c-1", "attrs": {"email": "a@b.example"}});
    let mut credit_by_growth = credit("10");
    credit_by_growth["agent"] = growth_bot();
    let cases = [
        (
            credit_by_growth,
            "agent `growth-bot` may not touch system `billing`",
        ),
        (merge, "agent `growth-bot` may not touch `Contact` objects"),
        (
            update_owner(Some("apac")),
            "agent `growth-bot` may not touch this `Account` record",
        ),
    ];
    for (envelope, reason) in cases {
        assert_refused(&fx.decide(envelope), reason);
    }
    for admitted in [
        update_owner(Some("emea")),
        update_owner(None),
        send(10),
        credit("10"),
    ] {
        assert_eq!(fx.decide(admitted).decision, Level::Allow);
    }
}

#[test]
fn a_failing_record_predicate_fails_closed() {
    let mut fx = allowing();
    // Unguarded, as the checker would not allow: the region may be absent.
    let region = fx.attr("region", Type::String);
    fx.policy.scopes[0][0].1 = cmp(CmpOp::Ne, region, string("apac"));

    let decision = fx.decide(update_owner(None));
    assert_failed(&decision);
    assert_eq!(decision.errors.len(), 1);
    let error = &decision.errors[0];
    assert_eq!(error.code, ErrorCode::EvalAbsent);
    assert!(error.message.contains("object.region"), "{}", error.message);
    assert_eq!((error.path.as_deref(), error.rule.as_deref()), (None, None));

    assert_eq!(fx.decide(update_owner(Some("emea"))).decision, Level::Allow);
    assert_refused(
        &fx.decide(update_owner(Some("apac"))),
        "agent `growth-bot` may not touch this `Account` record",
    );
}

#[test]
fn a_scoped_agent_without_its_predicates_fails_closed() {
    let mut fx = allowing();
    fx.policy.scopes.clear();
    let decision = fx.decide(update_owner(Some("emea")));
    assert_failed(&decision);
    assert_eq!(decision.errors[0].code, ErrorCode::EvalMalformed);
    // An agent without a scope needs no entry.
    assert_eq!(fx.decide(credit("10")).decision, Level::Allow);
}

// 4 and 5. Rules and how their outcomes combine.

#[test]
fn each_outcome_level_decides() {
    let lead = Fx::new().approver("growth-lead");
    let cases = [
        (allow("routine send"), Level::Allow),
        (
            constrain("capped", vec![], vec![Requirement::DryRun]),
            Level::Constrain,
        ),
        (escalate(lead, "needs a look"), Level::Escalate),
        (deny("never"), Level::Deny),
    ];
    for (outcome, level) in cases {
        let mut fx = Fx::new();
        let reason = outcome.reason.clone().expect("every case has a reason");
        fx.rule("r", &["outbound.send"], None, outcome);
        let decision = fx.decide(send(10));
        assert_eq!(decision.decision, level);
        assert_eq!(decision.rules, vec!["r".to_string()]);
        assert_eq!(decision.reasons, vec![reason]);
        assert!(decision.errors.is_empty());
        let approver = decision.escalation.as_ref().map(|e| e.approver.as_str());
        assert_eq!(
            approver,
            (level == Level::Escalate).then_some("growth-lead")
        );
        let constraints = (level == Level::Constrain)
            .then_some(ConstraintOut::Require {
                require: Requirement::DryRun,
            })
            .into_iter()
            .collect::<Vec<_>>();
        assert_eq!(decision.constraints, constraints);
    }
}

#[test]
fn the_strictest_level_wins_and_every_rule_is_read() {
    let mut fx = Fx::new();
    let lead = fx.approver("growth-lead");
    let recipients = fx.param("recipients", Type::Int);
    fx.rule("routine", &["outbound.send"], None, allow("routine"));
    fx.rule(
        "look",
        &["outbound.send"],
        None,
        escalate(lead, "have a look"),
    );
    fx.rule(
        "huge",
        &["outbound.send"],
        Some(gt(recipients, int(1000))),
        deny("too many"),
    );
    fx.rule(
        "look_again",
        &["outbound.send"],
        None,
        escalate(lead, "look again"),
    );

    let decision = fx.decide(send(10));
    assert_eq!(decision.decision, Level::Escalate);
    assert_eq!(decision.rules, vec!["look", "look_again"]);
    assert_eq!(decision.reasons, vec!["have a look", "look again"]);
    assert_eq!(
        decision.escalation.expect("escalated").approver,
        "growth-lead"
    );

    let decision = fx.decide(send(5000));
    assert_eq!(decision.decision, Level::Deny);
    assert_eq!(decision.rules, vec!["huge"]);
    assert_eq!(decision.reasons, vec!["too many"]);
}

#[test]
fn constraints_merge_to_the_tightest() {
    let mut fx = Fx::new();
    let cap_100 = constrain(
        "cap at 100",
        vec![
            limit(&fx, "recipients", ConstraintOp::Le, int(100)),
            limit(&fx, "template", ConstraintOp::In, strings(&["a", "b", "c"])),
        ],
        vec![Requirement::DryRun],
    );
    let cap_50 = constrain(
        "cap below 50",
        vec![
            limit(&fx, "recipients", ConstraintOp::Lt, int(50)),
            limit(&fx, "template", ConstraintOp::In, strings(&["b", "c", "d"])),
            limit(&fx, "recipients", ConstraintOp::Ge, int(5)),
        ],
        vec![Requirement::Rollback, Requirement::DryRun],
    );
    fx.rule("cap_100", &["outbound.send"], None, cap_100);
    fx.rule("cap_50", &["outbound.send"], None, cap_50);

    let decision = fx.decide(send(80));
    assert_eq!(decision.decision, Level::Constrain);
    assert_eq!(decision.rules, vec!["cap_100", "cap_50"]);
    assert_eq!(decision.reasons, vec!["cap at 100", "cap below 50"]);
    // Written as the decision JSON writes them.
    let bound = |param: &str, op: &str, value: serde_json::Value| -> ConstraintOut {
        serde_json::from_value(json!({"param": param, "op": op, "value": value})).unwrap()
    };
    let require =
        |r: &str| -> ConstraintOut { serde_json::from_value(json!({ "require": r })).unwrap() };
    assert_eq!(
        decision.constraints,
        vec![
            bound("recipients", ">=", json!(5)),
            bound("recipients", "<", json!(50)),
            bound("template", "in", json!(["b", "c"])),
            require("dry_run"),
            require("rollback"),
        ]
    );
}

#[test]
fn constraints_that_admit_no_value_deny() {
    let cases = [
        (
            vec![
                ("recipients", ConstraintOp::Ge, int(100)),
                ("recipients", ConstraintOp::Le, int(50)),
            ],
            "constraints on `recipients` cannot all hold",
        ),
        (
            vec![
                ("recipients", ConstraintOp::Lt, int(50)),
                ("recipients", ConstraintOp::Ge, int(50)),
            ],
            "constraints on `recipients` cannot all hold",
        ),
        (
            vec![
                ("template", ConstraintOp::In, strings(&["a"])),
                ("template", ConstraintOp::In, strings(&["b"])),
            ],
            "constraints on `template` leave no allowed value",
        ),
    ];
    for (limits, reason) in cases {
        let mut fx = Fx::new();
        for (i, (param, op, value)) in limits.into_iter().enumerate() {
            let outcome = constrain("limited", vec![limit(&fx, param, op, value)], vec![]);
            fx.rule(&format!("limit_{i}"), &["outbound.send"], None, outcome);
        }
        let decision = fx.decide(send(10));
        assert_eq!(decision.decision, Level::Deny, "{reason}");
        assert_eq!(decision.reasons, vec![reason.to_string()]);
        assert!(decision.constraints.is_empty());
    }
}

/// Narrows a fresh fixture for one case.
type Setup = fn(&mut Fx);

#[test]
fn the_default_applies_when_no_rule_matches() {
    let setups: [(&str, Setup); 5] = [
        ("no rules", |_| {}),
        ("a condition that does not hold", |fx| {
            fx.rule(
                "never",
                &["outbound.send"],
                Some(boolean(false)),
                allow("never"),
            );
        }),
        ("a rule for another agent", |fx| {
            fx.rule("other_agent", &["outbound.send"], None, allow("ops"))
                .agents = Some(vec![AgentId(1)]);
        }),
        ("a rule for another workflow", |fx| {
            fx.rule("other_flow", &["outbound.send"], None, allow("billing"))
                .workflows = Some(vec!["billing-ops".into()]);
        }),
        ("a rule on another action", |fx| {
            fx.rule("recall", &["outbound.recall"], None, allow("recall"));
        }),
    ];
    for (what, setup) in setups {
        let mut fx = Fx::new();
        setup(&mut fx);
        let decision = fx.decide(send(10));
        assert_eq!(decision.decision, Level::Deny, "{what}");
        assert_eq!(
            decision.reasons,
            vec!["no rule covers this action"],
            "{what}"
        );
        assert!(decision.rules.is_empty(), "{what}");
        assert!(decision.errors.is_empty(), "{what}");
    }
    // The narrowed rules do apply where they should.
    let mut fx = Fx::new();
    fx.rule("growth", &["outbound.send"], None, allow("growth"))
        .agents = Some(vec![AgentId(0)]);
    fx.rule("routing", &["outbound.send"], None, allow("routing"))
        .workflows = Some(vec!["lead-routing".into()]);
    assert_eq!(fx.decide(send(10)).rules, vec!["growth", "routing"]);
}

// 6. Budgets.

fn budget_use(consumed: i64, delta: i64) -> BudgetUse {
    BudgetUse {
        name: "sends".into(),
        key: "agent:growth-bot".into(),
        limit: Amount::from(500),
        consumed: Amount::from(consumed),
        remaining: Amount::from(500 - consumed),
        delta: Amount::from(delta),
    }
}

#[test]
fn budgets_are_consumed_until_exhausted() {
    let mut fx = Fx::new();
    fx.rule("sends", &["outbound.send"], None, allow("routine send"));
    let recipients = fx.param("recipients", Type::Int);
    fx.consume("sends", "sends", recipients);

    let mut state = MemoryState::default();
    state.add_consumed("sends", "agent:growth-bot", Decimal::from(450));

    let decision = fx.decide_in(send(40), &state);
    assert_eq!(decision.decision, Level::Allow);
    assert_eq!(decision.budgets, vec![budget_use(490, 40)]);
    // A store applies the delta; the next send no longer fits.
    state.add_consumed("sends", "agent:growth-bot", Decimal::from(40));

    let decision = fx.decide_in(send(40), &state);
    assert_eq!(decision.decision, Level::Escalate);
    assert_eq!(decision.reasons, vec!["the daily send budget is spent"]);
    assert_eq!(
        decision.escalation.expect("escalated").approver,
        "growth-lead"
    );
    assert_eq!(
        decision.budgets,
        vec![budget_use(490, 0)],
        "nothing is consumed"
    );

    assert_eq!(
        fx.decide_in(send(10), &state).decision,
        Level::Allow,
        "exactly the limit fits"
    );
}

#[test]
fn conditions_read_budgets_from_the_state() {
    let mut fx = Fx::new();
    let sends = BudgetId(0);
    let budget = |field| e(ExprKind::Budget(sends, field), Type::Int);
    let recipients = fx.param("recipients", Type::Int);
    let fits = and(
        cmp(CmpOp::Ge, budget(BudgetField::Remaining), recipients),
        and(
            eq(budget(BudgetField::Limit), int(500)),
            eq(budget(BudgetField::Consumed), int(480)),
        ),
    );
    fx.rule("fits", &["outbound.send"], Some(fits), allow("fits"));

    let mut state = MemoryState::default();
    state.add_consumed("sends", "agent:growth-bot", Decimal::from(480));
    state.add_consumed("sends", "agent:other-bot", Decimal::from(1));
    assert_eq!(fx.decide_in(send(20), &state).decision, Level::Allow);
    assert_eq!(fx.decide_in(send(21), &state).decision, Level::Deny);
}

// 7. Raises.

#[test]
fn a_raise_lifts_allow_to_escalate() {
    let mut fx = Fx::new();
    let lead = fx.approver("growth-lead");
    fx.rule("allow_all", EVERY_ACTION, None, allow("fine"));
    let reversible = env(EnvField::Reversible, Type::Bool);
    fx.raise(
        "unrecoverable",
        not(reversible),
        Level::Allow,
        spec(Level::Escalate, Some(lead), "this action cannot be undone"),
    );

    let decision = fx.decide(credit("10"));
    assert_eq!(decision.decision, Level::Escalate);
    assert_eq!(decision.reasons, vec!["this action cannot be undone"]);
    assert_eq!(decision.rules, vec!["unrecoverable"]);
    let escalation = decision.escalation.expect("escalated");
    assert_eq!(escalation.approver, "growth-lead");
    let packet = serde_json::to_value(escalation.packet.expect("a packet")).unwrap();
    assert_eq!(packet["approver"]["name"], "growth-lead");
    assert_eq!(packet["approver"]["title"], "Head of Growth");
    assert_eq!(packet["raised_from"], json!(["allow_all"]));
    assert_eq!(packet["action"]["reversibility"], "irreversible");

    // `reversible`: declared so, or compensable with a rollback plan.
    let mut with_rollback = send(10);
    with_rollback["rollback"] = json!({"kind": "revert"});
    let cases = [
        ("reversible action", update_owner(None), Level::Allow),
        ("compensable without a plan", send(10), Level::Escalate),
        ("compensable with a plan", with_rollback, Level::Allow),
    ];
    for (what, envelope, level) in cases {
        assert_eq!(fx.decide(envelope).decision, level, "{what}");
    }
}

#[test]
fn escalation_packets_carry_the_risks_that_apply() {
    let mut fx = Fx::new();
    let lead = fx.approver("growth-lead");
    let recipients = fx.param("recipients", Type::Int);
    let reach = fx.risk(
        "reach",
        Some(&["outbound.send"]),
        arith(ArithOp::Mul, recipients, int(2)),
    );
    fx.risk("broken", None, arith(ArithOp::Div, int(1), int(0)));
    fx.risk("owner_change", Some(&["crm.update_owner"]), boolean(true));
    fx.risk("always", None, string("on"));
    let wide = gt(e(ExprKind::Risk(reach), Type::Int), int(100));
    fx.rule(
        "wide",
        &["outbound.send"],
        Some(wide),
        escalate(lead, "wide reach"),
    );

    assert_eq!(
        fx.decide(send(50)).decision,
        Level::Deny,
        "reach 100 is not wide"
    );
    let decision = fx.decide(send(51));
    assert_eq!(decision.decision, Level::Escalate);
    let packet = decision.escalation.expect("escalated").packet;
    let packet = serde_json::to_value(packet.expect("a packet")).unwrap();
    assert_eq!(
        packet["risk"],
        json!([{"name": "reach", "value": 102}, {"name": "always", "value": "on"}]),
        "the failing risk and the one on another action are left out"
    );
}

// Expression semantics.

/// What `expr` evaluates to as the one rule's condition: `Ok` of its truth,
/// or `Err` of the error code reported.
fn verdict(
    fx: &mut Fx,
    expr: actpol_ir::Expr,
    envelope: serde_json::Value,
) -> Result<bool, ErrorCode> {
    fx.policy.rules.clear();
    fx.policy.meta.rules.clear();
    fx.rule("probe", EVERY_ACTION, Some(expr), allow("holds"));
    let decision = fx.decide(envelope);
    match (decision.decision, decision.errors.first()) {
        (_, Some(error)) => {
            assert_ne!(decision.decision, Level::Allow, "an error never allows");
            Err(error.code)
        }
        (Level::Allow, None) => Ok(true),
        (Level::Deny, None) if decision.reasons == ["no rule covers this action"] => Ok(false),
        _ => panic!("unexpected decision {decision:#?}"),
    }
}

#[test]
fn and_or_stop_early() {
    let mut fx = Fx::new();
    let cases = [
        (and(boolean(false), failing()), Ok(false)),
        (or(boolean(true), failing()), Ok(true)),
        (
            and(boolean(true), failing()),
            Err(ErrorCode::EvalDivisionByZero),
        ),
        (
            or(boolean(false), failing()),
            Err(ErrorCode::EvalDivisionByZero),
        ),
        (
            and(failing(), boolean(false)),
            Err(ErrorCode::EvalDivisionByZero),
        ),
    ];
    for (i, (expr, expected)) in cases.into_iter().enumerate() {
        assert_eq!(verdict(&mut fx, expr, send(10)), expected, "case {i}");
    }
}

#[test]
fn an_overflow_in_a_condition_fails_closed_naming_the_rule() {
    let mut fx = Fx::new();
    let recipients = fx.param("recipients", Type::Int);
    fx.rule("allow_all", &["outbound.send"], None, allow("fine"));
    let overflowing = gt(arith(ArithOp::Mul, recipients, int(i64::MAX)), int(0));
    fx.rule("big", &["outbound.send"], Some(overflowing), allow("big"));

    let decision = fx.decide(send(2));
    assert_failed(&decision);
    assert_eq!(decision.rules, vec!["big"]);
    assert_eq!(
        decision.errors,
        vec![ErrorOut {
            code: ErrorCode::EvalOverflow,
            message: "arithmetic overflow in `*`".into(),
            path: None,
            rule: Some("big".into()),
            help: None,
        }]
    );
    assert_eq!(
        fx.decide(send(1)).decision,
        Level::Allow,
        "1 × MAX does not overflow"
    );
}

#[test]
fn errors_in_outcomes_fail_the_rule() {
    let mut fx = Fx::new();
    let outcome = constrain(
        "capped",
        vec![limit(
            &fx,
            "recipients",
            ConstraintOp::Le,
            arith(ArithOp::Div, int(1), int(0)),
        )],
        vec![],
    );
    fx.rule("capped", &["outbound.send"], None, outcome);
    fx.rule("counted", &["crm.update_owner"], None, allow("counted"));
    fx.consume(
        "counted",
        "sends",
        arith(ArithOp::Sub, int(i64::MIN), int(1)),
    );
    for (envelope, rule) in [(send(10), "capped"), (update_owner(None), "counted")] {
        let decision = fx.decide(envelope);
        assert_failed(&decision);
        assert_eq!(decision.errors[0].rule.as_deref(), Some(rule));
        assert!(decision.constraints.is_empty() && decision.budgets.is_empty());
    }
}

#[test]
fn expressions_read_the_envelope() {
    let mut fx = Fx::new();
    let weekday = Type::Enum(actpol_core::schema::WEEKDAY);
    let reversibility = Type::Enum(actpol_core::schema::REVERSIBILITY);
    let touches = |class: u32| e(ExprKind::Touches(DataClassId(class)), Type::Bool);
    let has = |presence| e(ExprKind::Has(presence), Type::Bool);
    let enum_const = |v: u32, ty: &Type| e(ExprKind::Const(Value::Enum(v)), ty.clone());
    let hours = |h: i64| {
        e(
            ExprKind::Const(Value::Duration(h * 3_600_000)),
            Type::Duration,
        )
    };
    let min = |a, b| e(ExprKind::Call(Builtin::Min, vec![a, b]), Type::Int);
    let mut intent = send(10);
    intent["intent"] = json!({"goal": "win back q4 leads", "confidence": 0.75});
    let mut discounted = send(10);
    discounted["action"]["params"]["discount"] = json!("0.15");
    discounted["context"] = json!({"incident_mode": true});

    let discount = fx.name("discount");
    let incident = fx.name("incident_mode");
    let cases: Vec<(
        &str,
        actpol_ir::Expr,
        serde_json::Value,
        Result<bool, ErrorCode>,
    )> = vec![
        (
            "now.hour",
            eq(env(EnvField::NowHour, Type::Int), int(14)),
            send(1),
            Ok(true),
        ),
        (
            "now.weekday is wednesday",
            eq(
                env(EnvField::NowWeekday, weekday.clone()),
                enum_const(2, &weekday),
            ),
            send(1),
            Ok(true),
        ),
        (
            "now.time_of_day",
            eq(env(EnvField::NowTimeOfDay, Type::Duration), hours(14)),
            send(1),
            Ok(true),
        ),
        (
            "now - 1h",
            cmp(
                CmpOp::Lt,
                arith(ArithOp::Sub, env(EnvField::Now, Type::Timestamp), hours(1)),
                env(EnvField::Now, Type::Timestamp),
            ),
            send(1),
            Ok(true),
        ),
        (
            "action.reversibility is compensable",
            eq(
                env(EnvField::ActionReversibility, reversibility.clone()),
                enum_const(1, &reversibility),
            ),
            send(1),
            Ok(true),
        ),
        (
            "action.name",
            eq(
                env(EnvField::ActionName, Type::String),
                string("outbound.send"),
            ),
            send(1),
            Ok(true),
        ),
        (
            "action.system",
            eq(
                env(EnvField::ActionSystem, Type::String),
                string("outreach"),
            ),
            send(1),
            Ok(true),
        ),
        (
            "agent.owner",
            eq(
                env(EnvField::AgentOwner, Type::String),
                string("maria@acme.example"),
            ),
            send(1),
            Ok(true),
        ),
        (
            "agent.workflow",
            eq(
                env(EnvField::AgentWorkflow, Type::String),
                string("lead-routing"),
            ),
            send(1),
            Ok(true),
        ),
        (
            "object.id",
            eq(env(EnvField::ObjectId, Type::String), string("seq-42")),
            send(1),
            Ok(true),
        ),
        (
            "object attribute",
            eq(fx.attr("audience", Type::Int), int(5000)),
            send(1),
            Ok(true),
        ),
        (
            "money attribute",
            gt(
                fx.attr("arr", usd()),
                e(ExprKind::Const(Value::Money(Decimal::from(100_000))), usd()),
            ),
            update_owner(None),
            Ok(true),
        ),
        ("touches its own class", touches(0), send(1), Ok(true)),
        (
            "touches its object's class",
            touches(0),
            update_owner(None),
            Ok(true),
        ),
        ("touches nothing else", touches(1), send(1), Ok(false)),
        (
            "has an absent param",
            has(Presence::Param(discount)),
            send(1),
            Ok(false),
        ),
        (
            "has a present param",
            has(Presence::Param(discount)),
            discounted.clone(),
            Ok(true),
        ),
        (
            "has an absent context field",
            has(Presence::Context(incident)),
            send(1),
            Ok(false),
        ),
        (
            "reads context",
            e(ExprKind::Context(incident), Type::Bool),
            discounted.clone(),
            Ok(true),
        ),
        (
            "has intent",
            has(Presence::Intent),
            intent.clone(),
            Ok(true),
        ),
        (
            "has no plan",
            has(Presence::Plan),
            intent.clone(),
            Ok(false),
        ),
        (
            "intent.confidence",
            eq(
                env(EnvField::IntentConfidence, Type::Decimal),
                decimal("0.75"),
            ),
            intent,
            Ok(true),
        ),
        (
            "an absent param read",
            gt(fx.param("discount", Type::Decimal), decimal("0")),
            send(1),
            Err(ErrorCode::EvalAbsent),
        ),
        (
            "an absent intent read",
            eq(env(EnvField::IntentGoal, Type::String), string("x")),
            send(1),
            Err(ErrorCode::EvalAbsent),
        ),
        (
            "a param the action does not declare",
            eq(fx.param("owner", Type::String), string("x")),
            send(1),
            Err(ErrorCode::EvalMalformed),
        ),
        (
            "has of a param the action does not declare",
            not(has(Presence::Param(fx.name("owner")))),
            send(1),
            Err(ErrorCode::EvalMalformed),
        ),
        (
            "in a set",
            e(
                ExprKind::In(
                    Box::new(fx.param("template", Type::String)),
                    Box::new(strings(&["q4-winback", "x"])),
                ),
                Type::Bool,
            ),
            send(1),
            Ok(true),
        ),
        (
            "a set built at run time",
            e(
                ExprKind::In(
                    Box::new(string("q4-winback")),
                    Box::new(e(
                        ExprKind::SetLit(vec![string("y"), fx.param("template", Type::String)]),
                        Type::Set(Box::new(Type::String)),
                    )),
                ),
                Type::Bool,
            ),
            send(1),
            Ok(true),
        ),
        (
            "min",
            eq(min(fx.param("recipients", Type::Int), int(5)), int(5)),
            send(10),
            Ok(true),
        ),
        (
            "if",
            e(
                ExprKind::If(
                    Box::new(gt(fx.param("recipients", Type::Int), int(5))),
                    Box::new(boolean(false)),
                    Box::new(failing()),
                ),
                Type::Bool,
            ),
            send(10),
            Ok(false),
        ),
        (
            "an Int widened to Decimal",
            gt(
                e(
                    ExprKind::ToDecimal(Box::new(fx.param("recipients", Type::Int))),
                    Type::Decimal,
                ),
                decimal("9.5"),
            ),
            send(10),
            Ok(true),
        ),
        (
            "a condition that is not a Bool",
            int(1),
            send(1),
            Err(ErrorCode::EvalType),
        ),
    ];
    for (what, expr, envelope, expected) in cases {
        assert_eq!(verdict(&mut fx, expr, envelope), expected, "{what}");
    }
}

#[test]
fn a_risk_defined_by_itself_fails_closed() {
    let mut fx = Fx::new();
    let own = RiskId(0);
    fx.risk("loop", None, gt(e(ExprKind::Risk(own), Type::Int), int(0)));
    let reads_loop = e(ExprKind::Risk(own), Type::Bool);
    assert_eq!(
        verdict(&mut fx, reads_loop, send(1)),
        Err(ErrorCode::EvalMalformed)
    );
}

// Windows.

#[test]
fn windows_count_sum_and_baseline_events() {
    let state = MemoryState::from_json(
        json!({"events": [
            {"action": "outbound.send", "agent": "growth-bot", "time": "2026-11-25T13:50:00Z", "params": {"recipients": 100}},
            {"action": "outbound.send", "agent": "growth-bot", "time": "2026-11-25T13:30:00Z", "params": {"recipients": 200}},
            {"action": "outbound.recall", "agent": "growth-bot", "time": "2026-11-25T13:10:00Z"},
            {"action": "outbound.send", "agent": "growth-bot", "time": "2026-11-25T11:00:00Z", "params": {"recipients": 300}},
            {"action": "outbound.send", "agent": "ops-bot", "time": "2026-11-25T13:55:00Z", "params": {"recipients": 4000}},
            {"action": "crm.update_owner", "agent": "growth-bot", "time": "2026-11-25T13:55:00Z"}
        ]})
        .to_string()
        .as_bytes(),
    )
    .expect("a valid state");
    let recipients = Fx::new().name("recipients");
    let window = |kind, pattern: &str, param: Option<NameId>, hours: i64, ty: Type| {
        let read = WindowRead {
            kind,
            pattern: pattern.into(),
            param,
            window: Window::Span(hours * 3_600_000),
            key: KeyKind::Agent,
        };
        e(ExprKind::Window(read), ty)
    };
    let cases = [
        (
            "count outbound.* over 1h",
            eq(
                window(WindowKind::Count, "outbound.*", None, 1, Type::Int),
                int(3),
            ),
        ),
        (
            "count outbound.send over 4h",
            eq(
                window(WindowKind::Count, "outbound.send", None, 4, Type::Int),
                int(3),
            ),
        ),
        (
            "count * over 1h",
            eq(window(WindowKind::Count, "*", None, 1, Type::Int), int(4)),
        ),
        (
            "sum over 1d",
            eq(
                window(
                    WindowKind::Sum,
                    "outbound.send",
                    Some(recipients),
                    24,
                    Type::Int,
                ),
                int(600),
            ),
        ),
        (
            // One send between 7d1h and 1h ago: 1 × 1h / 7d ≈ 0.006.
            "baseline over 1h",
            and(
                gt(
                    window(
                        WindowKind::Baseline,
                        "outbound.send",
                        None,
                        1,
                        Type::Decimal,
                    ),
                    decimal("0.005"),
                ),
                cmp(
                    CmpOp::Lt,
                    window(
                        WindowKind::Baseline,
                        "outbound.send",
                        None,
                        1,
                        Type::Decimal,
                    ),
                    decimal("0.006"),
                ),
            ),
        ),
    ];
    let mut fx = Fx::new();
    for (what, condition) in cases {
        fx.policy.rules.clear();
        fx.policy.meta.rules.clear();
        fx.rule("probe", &["outbound.send"], Some(condition), allow("holds"));
        let decision = fx.decide_in(send(10), &state);
        assert_eq!(decision.decision, Level::Allow, "{what}: {decision:#?}");
    }

    // A burst rule over the same events, and its absence on a quiet state.
    let mut fx = Fx::new();
    let lead = fx.approver("growth-lead");
    let burst = cmp(
        CmpOp::Ge,
        window(WindowKind::Count, "outbound.*", None, 1, Type::Int),
        int(3),
    );
    fx.rule("routine", &["outbound.send"], None, allow("routine"));
    fx.rule(
        "burst",
        &["outbound.send"],
        Some(burst),
        escalate(lead, "a burst of sends"),
    );
    assert_eq!(fx.decide_in(send(10), &state).decision, Level::Escalate);
    assert_eq!(
        fx.decide_in(send(10), &MemoryState::default()).decision,
        Level::Allow
    );
}

#[test]
fn a_window_kept_per_plan_needs_a_plan() {
    let mut fx = Fx::new();
    let read = WindowRead {
        kind: WindowKind::Count,
        pattern: "outbound.*".into(),
        param: None,
        window: Window::Plan,
        key: KeyKind::Plan,
    };
    let in_plan = cmp(CmpOp::Lt, e(ExprKind::Window(read), Type::Int), int(5));
    assert_eq!(
        verdict(&mut fx, in_plan.clone(), send(1)),
        Err(ErrorCode::EvalNoPlan)
    );
    let mut planned = send(1);
    planned["plan"] = json!({"id": "p-1", "step": 2});
    assert_eq!(verdict(&mut fx, in_plan, planned), Ok(true));
}

// 1. Envelopes that do not fit the schema.

#[test]
fn envelopes_that_do_not_fit_fail_closed_naming_the_path() {
    let fx = allowing();
    let mut unknown_action = send(10);
    unknown_action["action"]["name"] = json!("outbound.blast");
    let mut wrong_type = send(10);
    wrong_type["action"]["params"]["recipients"] = json!("many");
    let mut missing = send(10);
    missing["action"]["params"] = json!({"recipients": 10});
    let mut bad_time = send(10);
    bad_time["time"] = json!("yesterday");
    let cases = [
        (
            unknown_action,
            ErrorCode::EnvelopeUnknownAction,
            "$.action.name",
        ),
        (
            wrong_type,
            ErrorCode::EnvelopeWrongType,
            "$.action.params.recipients",
        ),
        (
            missing,
            ErrorCode::EnvelopeMissingField,
            "$.action.params.template",
        ),
        (bad_time, ErrorCode::EnvelopeBadValue, "$.time"),
    ];
    for (envelope, code, path) in cases {
        let decision = fx.decide(envelope);
        assert_failed(&decision);
        assert_eq!(decision.errors.len(), 1);
        assert_eq!(decision.errors[0].code, code);
        assert_eq!(decision.errors[0].path.as_deref(), Some(path));
    }
}

#[test]
fn decide_and_decide_bound_agree() {
    let mut fx = Fx::new();
    let recipients = fx.param("recipients", Type::Int);
    fx.rule(
        "small",
        &["outbound.send"],
        Some(cmp(CmpOp::Le, recipients, int(100))),
        allow("small"),
    );
    for recipients in [10, 1000] {
        let envelope: Envelope = serde_json::from_value(send(recipients)).expect("an envelope");
        let bound = BoundEnvelope::bind(envelope.clone(), &fx.policy.schema).expect("it fits");
        let state = MemoryState::default();
        assert_eq!(
            actpol_refeval::decide(&fx.policy, envelope, &state, HASH),
            actpol_refeval::decide_bound(&fx.policy, &bound, &state, HASH)
        );
    }
}

#[test]
fn a_malformed_ir_fails_closed_without_panicking() {
    // An envelope bound against a larger schema than the policy's.
    let fx = allowing();
    let envelope: Envelope = serde_json::from_value(send(10)).expect("an envelope");
    let bound = BoundEnvelope::bind(envelope, &fx.policy.schema).expect("it fits");
    let mut small = allowing();
    small.policy.schema.actions.truncate(2);
    let decision =
        actpol_refeval::decide_bound(&small.policy, &bound, &MemoryState::default(), HASH);
    assert_failed(&decision);

    // References past the end of the policy's tables.
    let mut fx = Fx::new();
    let cases = [
        e(
            ExprKind::Budget(BudgetId(7), BudgetField::Limit),
            Type::Bool,
        ),
        e(ExprKind::Risk(RiskId(7)), Type::Bool),
        e(ExprKind::Param(NameId(99)), Type::Bool),
    ];
    for expr in cases {
        assert_eq!(
            verdict(&mut fx, expr, send(1)),
            Err(ErrorCode::EvalMalformed)
        );
    }
}
