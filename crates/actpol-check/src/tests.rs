//! Checks of small policies through one function, `said`: each case is a policy
//! body (after a shared prelude) and what the check must say about it.

use actpol_core::decision::{ConstraintOp, Level};
use actpol_core::ids::{ActionId, AgentId, ApproverId, EntityId, SystemId};
use actpol_core::schema::{KeyKind, Window};
use actpol_core::state::WindowKind;
use actpol_core::types::Type;
use actpol_core::value::Value;
use actpol_ir::{EnvField, Expr, ExprKind, Presence};
use rust_decimal::Decimal;

use crate::{check, check_all, require_policy, Checked, FileId, SourceDb};

const PRELUDE: &str = r#"policy p { default deny "no rule matched" }
system crm
data_class pii
enum Tier { bronze, silver, gold }
entity Account {
  name: String
  tier: Tier
  arr: Money<USD>
  region?: String
  data pii
}
action crm.rename {
  system crm
  object Account
  params { name: String  count: Int  ratio: Decimal  note?: String }
  reversible
}
approver lead
agent bot { owner "o@acme.example" workflow hygiene }
rule base on crm.rename for agent bot { when params.count > 1000 deny "too many" }
"#;

/// What a check said: codes in report order, help lines, and the IR.
struct Said {
    codes: Vec<String>,
    helps: Vec<String>,
    checked: Checked,
}

/// Checks `PRELUDE` followed by `body` as one file.
fn said(body: &str) -> Said {
    let text = format!("{PRELUDE}{body}");
    let db = SourceDb::from_sources([("case.actpol", text.as_str())]);
    let checked = check(&db, FileId(0));
    Said {
        codes: checked
            .diagnostics
            .iter()
            .map(|d| short(&d.code()))
            .collect(),
        helps: checked
            .diagnostics
            .iter()
            .map(|d| d.inner.help().map(|h| h.to_string()).unwrap_or_default())
            .collect(),
        checked,
    }
}

/// `actpol::check::unknown_param` as `unknown_param`.
fn short(code: &str) -> String {
    code.rsplit("::").next().unwrap_or(code).to_string()
}

#[test]
fn each_mistake_is_reported_with_its_code() {
    let cases: &[(&str, &[&str])] = &[
        ("rule r on crm.rename { allow }", &[]),
        ("entity E { x: Strng }", &["unknown_type"]),
        ("action crm.x { system crm object Acount reversible }", &["unknown_entity"]),
        ("rule r on crm.rename { when object.nme == \"\" allow }", &["unknown_attribute"]),
        ("action crm.x { system crm object Account compensable by crm.nope }", &["unknown_action"]),
        ("rule r on crm.rename { when count(crm.nope over 1h) > 1 allow }", &["unknown_action"]),
        ("rule r on crm.rename { when object.tier == Tier.gld allow }", &["unknown_variant"]),
        ("rule r on crm.rename { allow consume nope by 1 }", &["unknown_budget"]),
        ("rule r on crm.rename for agent bto { allow }", &["unknown_agent"]),
        ("rule r on crm.rename { escalate to led \"x\" }", &["unknown_approver"]),
        ("rule r on crm.rename for workflow hygeine { allow }", &["unknown_workflow"]),
        ("action crm.x { system crn object Account reversible }", &["unknown_system"]),
        ("rule r on crm.rename { when action.touches(pi) allow }", &["unknown_data_class"]),
        ("rule r on crm.rename { when params.cont > 1 allow }", &["unknown_param"]),
        ("rule r on crm.rename { when context.x == 1 allow }", &["unknown_context"]),
        ("rule r on crm.rename { when foo allow }", &["unknown_name"]),
        ("rule r on crm.rename { when agent.nope == \"\" allow }", &["unknown_name"]),
        ("rule r on crm.rename { when risk.nope allow }", &["unknown_name"]),
        ("rule r on crm.rename { when object.tier == params.name allow }", &["type_mismatch"]),
        ("rule r on crm.rename { when object.tier == \"golden\" allow }", &["unknown_variant"]),
        ("rule r on crm.rename { when params.count allow }", &["type_mismatch"]),
        ("rule r on crm.rename { when object.arr > 5 allow }", &["unit_mismatch"]),
        ("rule r on crm.rename { when object.arr > 5 EUR allow }", &["unit_mismatch"]),
        ("rule r on crm.rename { when now.time_of_day > 9 allow }", &["unit_mismatch"]),
        ("rule r on crm.rename { when params.note == \"\" allow }", &["optional_without_has"]),
        ("rule r on crm.rename { when has params.note and params.note == \"\" allow }", &[]),
        ("rule r on crm.rename { when not has params.note or params.note == \"\" allow }", &[]),
        // What the condition proves holds in the consumes.
        ("budget b: Int { limit 9 window 1d per agent }\nrule r on crm.rename { when has params.note allow consume b by params.note.len() }", &[]),
        ("budget b: Int { limit 9 window 1d per agent }\nrule r on crm.rename { when params.count > 1 allow consume b by params.note.len() }", &["optional_without_has"]),
        ("rule r on crm.rename { when intent.goal == \"\" allow }", &["optional_without_has"]),
        ("rule r on crm.rename { when has rollback.action and rollback.kind == \"x\" allow }", &[]),
        ("rule r on crm.rename { constrain { params.cont <= 1 } }", &["constrain_unknown_param"]),
        ("rule r on crm.rename { constrain { params.name <= 1 } }", &["type_mismatch"]),
        ("rule r on crm.rename { constrain { params.count in [\"a\"] } }", &["type_mismatch"]),
        ("rule r on crm.rename { constrain { params.ratio <= 1 } }", &[]),
        ("rule r on crm.rename { constrain { params.count <= 1.5 } }", &["type_mismatch"]),
        ("budget b: Int { limit 1 window 1d per agent }\nrule r on crm.rename { allow consume b by params.ratio }", &["consume_type"]),
        ("budget b: Decimal { limit 1 window 1d per agent }\nrule r on crm.rename { allow consume b by params.count }", &[]),
        ("system crm", &["duplicate_name"]),
        ("enum Tier { a }", &["duplicate_name"]),
        ("enum E { a, a }", &["duplicate_name"]),
        ("entity E { id: String }", &["duplicate_name"]),
        ("rule r on crm.rename { allow }\nraise r when true { allow -> deny \"x\" }", &["duplicate_name"]),
        ("approver a { title \"x\" title \"y\" }", &["duplicate_member"]),
        ("action crm.x { system crm system crm object Account reversible }", &["duplicate_member"]),
        ("action crm.x { system crm object Account }", &["missing_member"]),
        ("budget b: Int { limit 1 per agent }\nrule r on crm.rename { allow consume b by 1 }", &["missing_member"]),
        ("rule r on crm.rename { deny }", &["missing_reason"]),
        ("budget b: Int { limit 1 window 1d per agent on_exhausted deny }\nrule r on crm.rename { allow consume b by 1 }", &[]),
        ("budget b: Int { limit 1 window 1d per agent on_exhausted allow }\nrule r on crm.rename { allow consume b by 1 }", &["invalid_outcome"]),
        ("raise x when true { allow -> constrain { params.count <= 1 } }", &["invalid_outcome"]),
        ("raise x when true { allow -> constrain { require dry_run } }", &[]),
        ("raise x when true { constrain -> allow }", &["raise_not_stricter"]),
        ("raise x when true { constrain -> constrain \"why\" {} }", &["raise_not_stricter"]),
        ("raise x when true { constrain -> constrain \"why\" { require rollback } }", &[]),
        ("rule r on crm.rename { when params.count > 99999999999999999999 allow }", &["invalid_literal"]),
        ("rule r on crm.rename { when now.time_of_day > 24:00 allow }", &["invalid_literal"]),
        ("budget b: Int { limit params.count window 1d per agent }\nrule r on crm.rename { allow consume b by 1 }", &["not_constant"]),
        ("budget b: Money<USD> { limit 5 window 1d per agent }\nrule r on crm.rename { allow consume b by object.arr }", &["unit_mismatch"]),
        ("rule r on crm.rename { when min(1) > 0 allow }", &["wrong_arity"]),
        ("action crm.y { system crm object Account reversible }\nrisk k on crm.rename = params.count\nrule r on crm.* { when risk.k > 1 allow }", &["risk_out_of_scope"]),
        ("risk k = params.count > 1", &["unknown_param"]),
        ("risk k = object.name == \"x\"\nrule r on crm.rename { when risk.k allow }", &[]),
        ("risk a = risk.b\nrisk b = risk.a", &["type_mismatch"]),
        ("policy q { }", &["duplicate_policy"]),
        ("entity E { s: Set<Bool> }", &["invalid_type"]),
        ("entity E { s: List<Set<String>> }", &["invalid_type"]),
        ("record R { a: Int }\nrecord S { r: R }", &["invalid_type"]),
        ("budget b: String { limit \"x\" window 1d per agent }", &["unused_budget", "invalid_type"]),
        ("rule r on crm.nope { allow }", &["unknown_action"]),
        ("rule r on crm.nope { when params.count > 1 allow }", &["unknown_action"]),
        ("rule r on crmx.* { allow }", &["unmatched_pattern"]),
        ("rule r on crm.rename { when params.count > 5 and 3 > params.count deny \"x\" }", &["never_fires"]),
        ("rule r on crm.rename { when params.count >= 5 and params.count <= 5 deny \"x\" }", &[]),
        ("rule r on crm.rename { when 1 > 2 deny \"x\" }", &["never_fires"]),
        ("rule a on crm.* { deny \"x\" }\nrule b on crm.rename { when params.count > 1 allow }", &["shadowed"]),
        // A constrain rule does not hide an allow rule's consumption.
        ("budget b: Int { limit 9 window 1d per agent }\nrule a on crm.* { constrain { require dry_run } }\nrule b on crm.rename { allow consume b by 1 }", &[]),
        ("budget b: Int { limit 9 window 1d per agent }\nrule a on crm.* { deny \"x\" }\nrule b on crm.rename { allow consume b by 1 }", &["shadowed"]),
        // A conditional rule shadows nothing.
        ("rule a on crm.* { when params.count > 1 deny \"x\" }\nrule b on crm.rename { allow }", &[]),
        ("budget b: Int { limit 9 window 1d per agent }\nrule r on crm.rename { allow }", &["unused_budget"]),
        ("budget b: Int { limit 9 window 1d per agent }\nrule r on crm.rename { when budget.b.remaining > 0 allow }", &[]),
        ("agent other { owner \"x\" workflow w2 }\nrule r on crm.rename for workflow hygiene { allow }", &["unused_agent"]),
        ("action crm.purge { system crm object Account irreversible }\nrule r on crm.purge { allow }", &["allow_irreversible"]),
        ("action crm.purge { system crm object Account irreversible }\nrule r on crm.purge { when reversible allow }", &[]),
        ("action crm.purge { system crm object Account irreversible }\nrule r on crm.purge { allow }\nraise u when not reversible { allow -> escalate to lead \"x\" }", &[]),
    ];
    for (body, expected) in cases {
        let got = said(body).codes;
        assert_eq!(&got, expected, "for `{body}`");
    }
}

#[test]
fn misspellings_get_the_right_suggestion() {
    let cases: &[(&str, &str, &str)] = &[
        ("rule r on crm.rename { when object.nmae == \"\" allow }", "unknown_attribute", "`name`"),
        ("rule r on crm.rename { when count(crm.renmae over 1h) > 1 allow }", "unknown_action", "`crm.rename`"),
        ("rule r on crm.rename { when object.tier == Tier.silvr allow }", "unknown_variant", "`silver`"),
        ("rule r on crm.rename { when params.ratoi > 1 allow }", "unknown_param", "`ratio`"),
        ("budget sends: Int { limit 1 window 1d per agent }\nrule r on crm.rename { allow consume snds by 1 }", "unknown_budget", "`sends`"),
        ("rule r on crm.rename for agent bto { allow }", "unknown_agent", "`bot`"),
        ("rule r on crm.rename { escalate to laed \"x\" }", "unknown_approver", "`lead`"),
        ("rule r on crm.renme { allow }", "unknown_action", "`crm.rename`"),
        ("rule r on crn.* { allow }", "unmatched_pattern", "`crm.*`"),
        ("rule r on crm.rename { when object.name.startswith(\"a\") allow }", "unknown_name", "`starts_with`"),
        ("rule r on crm.rename { when objcet.name == \"\" allow }", "unknown_name", "`object`"),
        ("entity E { t: Tiers }", "unknown_type", "`Tier`"),
    ];
    for (body, code, wanted) in cases {
        let s = said(body);
        let at = s.codes.iter().position(|c| c == code);
        let help = at.map(|i| s.helps[i].as_str()).unwrap_or("");
        assert!(
            help.contains("did you mean") && help.contains(wanted),
            "for `{body}`: {:?} {help}",
            s.codes
        );
    }
}

#[test]
fn unit_help_writes_the_amount_with_its_currency() {
    let s = said("rule r on crm.rename { when object.arr > 500 allow }");
    assert_eq!(s.helps, ["write the amount with its currency: `500 USD`"]);
    // A string where an enum is expected is read as its variant.
    let s = said("rule r on crm.rename { when object.tier == \"gold\" allow }");
    assert!(s.codes.is_empty(), "{:?}", s.codes);
    let s = said("rule r on crm.rename { when \"golden\" != object.tier allow }");
    assert_eq!(s.helps, ["did you mean `gold`?"]);
}

/// Whether any node of `e` satisfies `pred`.
fn any(e: &Expr, pred: &dyn Fn(&Expr) -> bool) -> bool {
    let mut found = false;
    e.walk(&mut |x| found |= pred(x));
    found
}

#[test]
fn ints_widen_where_they_meet_decimals() {
    let s = said(
        "rule r on crm.rename { when params.count > params.ratio and params.count / 2 > 1 allow }",
    );
    let policy = s.checked.policy.expect("checks clean");
    let when = policy
        .rules
        .last()
        .and_then(|r| r.when.as_ref())
        .expect("a condition");
    let ExprKind::And(a, b) = &when.kind else {
        panic!("{when:?}")
    };
    let ExprKind::Cmp(_, l, r) = &a.kind else {
        panic!("{a:?}")
    };
    assert!(matches!(&l.kind, ExprKind::ToDecimal(x) if matches!(x.kind, ExprKind::Param(_))));
    assert!(matches!(r.kind, ExprKind::Param(_)) && r.ty == Type::Decimal);
    // `/` of two numbers is a decimal division: both sides widen, and the
    // constant side folds.
    let ExprKind::Cmp(_, div, one) = &b.kind else {
        panic!("{b:?}")
    };
    assert_eq!(div.ty, Type::Decimal);
    let ExprKind::Arith(_, x, two) = &div.kind else {
        panic!("{div:?}")
    };
    assert!(matches!(x.kind, ExprKind::ToDecimal(_)));
    assert_eq!(two.as_const(), Some(&Value::Decimal(Decimal::from(2))));
    assert_eq!(one.as_const(), Some(&Value::Decimal(Decimal::from(1))));
}

fn load(paths: &[&str]) -> (SourceDb, FileId) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/");
    let texts: Vec<(String, String)> = paths
        .iter()
        .map(|p| {
            (
                p.to_string(),
                std::fs::read_to_string(format!("{dir}{p}")).expect("fixture"),
            )
        })
        .collect();
    let db = SourceDb::from_sources(texts.iter().map(|(p, t)| (p.as_str(), t.as_str())));
    (db, FileId(0))
}

#[test]
fn a_policy_using_every_construct_checks_clean_into_ir() {
    let (db, entry) = load(&["full.actpol", "full_schema.actpol"]);
    let checked = check(&db, entry);
    assert!(checked.diagnostics.is_empty(), "{:?}", checked.diagnostics);
    let p = checked.policy.expect("IR");
    let schema = &p.schema;
    let action = |n: &str| schema.action_id(n).expect(n);

    assert_eq!(p.files.len(), 2);
    assert_eq!(p.files[1].path, "full_schema.actpol");
    assert_eq!(p.meta.name, "growth");
    assert_eq!(
        p.meta.default.reason.as_deref(),
        Some("no rule covers this action")
    );
    assert_eq!(p.meta.on_error.level, Level::Escalate);
    assert_eq!(p.meta.on_error.approver, Some(ApproverId(1)));
    assert_eq!(p.meta.timing.max_skew, Some(120_000));
    assert_eq!(p.meta.timing.reservation_ttl, Some(600_000));
    assert_eq!(p.meta.timing.approval_ttl, Some(4 * 3_600_000));

    // Schema: built-in enums first, then declarations in closure order.
    assert_eq!(schema.enums.get_index_of("Lifecycle"), Some(2));
    assert_eq!(schema.actions.len(), 7);
    assert_eq!(
        schema.action(action("crm.update_owner")).object,
        EntityId(0)
    );

    // Identities and budgets.
    let bot = &p.meta.agents["growth-bot"];
    assert_eq!(bot.workflow, "lead-routing");
    let scope = bot.scope.as_ref().expect("a scope");
    assert_eq!(scope.systems, Some(vec![SystemId(0), SystemId(1)]));
    assert_eq!(p.scopes.len(), 2);
    assert_eq!(
        p.scopes[0].iter().map(|(e, _)| *e).collect::<Vec<_>>(),
        [EntityId(0), EntityId(1)]
    );
    assert!(p.scopes[1].is_empty());
    let credits = &p.meta.budgets["credits"];
    assert_eq!(
        credits.limit,
        Value::Money(Decimal::from(5000)),
        "2 * 2500 USD folds"
    );
    assert_eq!(
        (credits.window, credits.key),
        (Window::Span(30 * 86_400_000), KeyKind::Owner)
    );
    let discount = &p.meta.budgets["discount_total"];
    assert_eq!(
        discount.limit,
        Value::Decimal(Decimal::from(10)),
        "an Int limit widens"
    );
    assert_eq!(
        (discount.window, discount.key),
        (Window::Plan, KeyKind::Plan)
    );
    assert_eq!(discount.on_exhausted.level, Level::Deny);
    assert_eq!(discount.on_exhausted.reason, None);
    assert_eq!(p.meta.budgets["sends"].limit, Value::Int(1000));

    // Rules: ids in declaration order, actions resolved and sorted.
    let names: Vec<&str> = p.meta.rules.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names[..3], ["bulk_send", "cap_sends", "discounts"]);
    assert_eq!(
        p.meta.rules[0].doc.as_deref(),
        Some("Bulk sends reach too many people to go out unreviewed.")
    );
    for (i, rule) in p.rules.iter().enumerate() {
        assert_eq!(rule.id.index(), i);
        assert!(rule.actions.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(rule.span.file, 0);
    }
    let rule = |n: &str| &p.rules[names.iter().position(|x| *x == n).expect(n)];
    assert_eq!(
        rule("small_credit").actions,
        [action("billing.credit.issue")]
    );
    let anomalies = rule("anomalies");
    let mut crm: Vec<ActionId> = [
        "crm.update_owner",
        "crm.restore_owner",
        "crm.log_activity",
        "crm.delete_account",
    ]
    .iter()
    .map(|n| action(n))
    .collect();
    crm.sort();
    assert_eq!(anomalies.actions, crm);

    let cap = rule("cap_sends");
    assert_eq!(cap.agents, Some(vec![AgentId(0)]));
    assert_eq!(cap.outcome.level, Level::Constrain);
    assert_eq!(cap.outcome.limits.len(), 2);
    assert_eq!(cap.outcome.limits[0].op, ConstraintOp::Le);
    let channels = cap.outcome.limits[1]
        .value
        .as_const()
        .expect("a constant set");
    assert_eq!(channels, &Value::set(vec![Value::Enum(0), Value::Enum(1)]));
    assert_eq!(cap.consumes.len(), 1);
    assert_eq!(
        rule("discounts").workflows,
        Some(vec!["lead-routing".to_string()])
    );
    let discount_cap = &rule("discounts").outcome.limits[0];
    assert_eq!(
        discount_cap.value.as_const(),
        Some(&Value::Decimal(Decimal::from(1)))
    );
    assert_eq!(rule("credit").outcome.approver, Some(ApproverId(0)));

    // Window reads keep their pattern, window and key.
    let when = anomalies.when.as_ref().expect("condition");
    let window = |kind: WindowKind, key: KeyKind| {
        any(
            when,
            &|e| matches!(&e.kind, ExprKind::Window(w) if w.kind == kind && w.key == key),
        )
    };
    assert!(window(WindowKind::Count, KeyKind::Agent));
    assert!(window(WindowKind::Baseline, KeyKind::Workflow));
    assert!(window(WindowKind::Sum, KeyKind::Object));
    assert!(any(
        when,
        &|e| matches!(&e.kind, ExprKind::Window(w) if w.window == Window::Plan && w.pattern == "*")
    ));
    assert!(any(
        when,
        &|e| matches!(&e.kind, ExprKind::Window(w) if w.kind == WindowKind::Baseline)
            && e.ty == Type::Decimal
    ));

    // `7 / 2 > 3` folded away; the money division stays.
    let small = rule("small_credit").when.as_ref().expect("condition");
    assert!(!any(small, &|e| e.as_const() == Some(&Value::Int(7))));
    let owners = rule("owners").when.as_ref().expect("condition");
    assert!(any(owners, &|e| matches!(
        e.kind,
        ExprKind::Env(EnvField::RollbackWithin)
    )));
    assert!(any(owners, &|e| matches!(
        e.kind,
        ExprKind::Has(Presence::Intent)
    )));
    assert!(any(owners, &|e| matches!(e.kind, ExprKind::Touches(_))));

    // Risks and raises.
    assert_eq!(p.meta.risks[0].ty, Type::Int);
    assert_eq!(p.meta.risks[0].actions, Some(vec![action("outbound.send")]));
    assert_eq!(p.meta.risks[1].actions, None);
    assert_eq!(p.risks.len(), 2);
    assert_eq!(p.raises.len(), 3);
    assert_eq!(p.meta.raises[0].actions, None);
    assert_eq!(p.meta.raises[0].arms[0].0, Level::Allow);
    assert_eq!(p.meta.raises[1].arms[0].1.requires.len(), 1);
}

#[test]
fn a_file_imported_by_two_policies_reports_once() {
    let db = SourceDb::from_sources([
        ("a.actpol", "import \"lib.actpol\"\npolicy a { }"),
        ("b.actpol", "import \"lib.actpol\"\npolicy b { }"),
        ("lib.actpol", "entity E { x: Nope }"),
    ]);
    let all = check_all(&db);
    let codes: Vec<String> = all.iter().map(|d| short(&d.code())).collect();
    assert_eq!(codes, ["unknown_type"]);
    assert_eq!(all[0].file, FileId(2));
}

#[test]
fn a_unit_without_header_checks_but_yields_no_policy() {
    let db = SourceDb::from_sources([("lib.actpol", "system crm\nentity E { x: String }")]);
    let checked = check(&db, FileId(0));
    assert!(checked.diagnostics.is_empty() && checked.policy.is_none() && !checked.has_header);
    let missing = require_policy(&db, FileId(0), &checked).expect("no header");
    assert_eq!(missing.code(), "actpol::check::no_policy");
}

#[test]
fn ir_spans_index_the_unit_files() {
    let db = SourceDb::from_sources([
        (
            "z.actpol",
            "system crm\nentity E { x: Int }\naction crm.a { system crm object E reversible }",
        ),
        (
            "main.actpol",
            "import \"z.actpol\"\npolicy p { }\nrule r on crm.a { when object.x > 1 allow }",
        ),
    ]);
    let checked = check(&db, FileId(1));
    let p = checked.policy.expect("clean");
    assert_eq!(p.files[0].path, "main.actpol");
    let when = p.rules[0].when.as_ref().expect("condition");
    assert_eq!(when.span.file, 0);
    assert_eq!(p.text(when.span), Some("object.x > 1"));
}

#[test]
fn deep_expressions_do_not_exhaust_the_stack() {
    let depth = actpol_syntax::MAX_NESTING - 8;
    let cond = format!("{}params.count > 1{}", "(".repeat(depth), ")".repeat(depth));
    let s = said(&format!("rule r on crm.rename {{ when {cond} allow }}"));
    assert!(s.codes.is_empty(), "{:?}", s.codes);
    let sum = format!("{}1", "1 + ".repeat(depth));
    let s = said(&format!(
        "rule r on crm.rename {{ when params.count > {sum} allow }}"
    ));
    assert!(s.codes.is_empty(), "{:?}", s.codes);
}

/// A collection with one element has both ends, a least and a greatest:
/// `has` of any of them proves the others, and `at(i)` proves none of them.
#[test]
fn has_of_one_end_of_a_list_proves_the_other() {
    let action = r#"
action crm.plan {
  system crm
  object Account
  params { days: List<Int>  sizes: Set<Int> }
  reversible
}
"#;
    for (condition, codes) in [
        (
            "has params.days.first() and params.days.last() - params.days.first() > 3",
            &[][..],
        ),
        (
            "has params.days.last() and params.days.max() > params.days.first()",
            &[],
        ),
        ("not has params.days.min() or params.days.last() > 3", &[]),
        ("has params.sizes.min() and params.sizes.max() > 2", &[]),
        (
            "has params.days.at(0) and params.days.last() > 3",
            &["optional_without_has"],
        ),
        (
            "has params.days.first() and params.days.at(1) > 3",
            &["optional_without_has"],
        ),
    ] {
        let body = format!("{action}rule r on crm.plan {{\n  when {condition}\n  deny \"x\"\n}}\n");
        let said = said(&body);
        let errors: Vec<&str> = said
            .codes
            .iter()
            .map(String::as_str)
            .filter(|c| *c != "guarded_by_has")
            .collect();
        assert_eq!(errors, codes, "{condition}: {:?}", said.helps);
    }
}
