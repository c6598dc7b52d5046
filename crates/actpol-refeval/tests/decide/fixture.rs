//! A small hand-built policy: the schema, identities and budget every test
//! starts from, plus helpers to write IR expressions and outcomes briefly.
//!
//! The policy in outline (abridged, not exact source):
//!
//! ```text
//! system crm, outreach, billing; data_class pii, financial
//! entity Account { name: String  region?: String  arr: Money<USD>  data pii  system crm }
//! entity Sequence { audience: Int  system outreach }
//! entity Contact { email: String  data pii  system crm }
//! action crm.update_owner { system crm  object Account  params { owner: String }  reversible }
//! action crm.merge_contacts { system crm  object Contact  irreversible }
//! action outbound.send { system outreach  object Sequence
//!     params { recipients: Int  template: String  discount?: Decimal }
//!     compensable by outbound.recall within 15m  data pii }
//! action outbound.recall { system outreach  object Sequence  reversible }
//! action billing.credit { system billing  object Account  params { amount: Money<USD> }
//!     irreversible  data financial }
//! context { incident_mode?: Bool }
//! agent growth-bot { owner "maria@acme.example"  workflow lead-routing
//!     scope { systems crm, outreach  objects Account, Sequence
//!             records Account where not has object.region or object.region != "apac" } }
//! agent ops-bot { owner "ops@acme.example"  workflow billing-ops }
//! approver growth-lead { title "Head of Growth"  contact "dana@acme.example" }
//! approver security-oncall
//! budget sends: Int { limit 500  window 1d  per agent
//!     on_exhausted escalate to growth-lead "the daily send budget is spent" }
//! policy growth { default deny "no rule covers this action"
//!     on_error escalate to security-oncall "the policy could not be evaluated" }
//! ```

use actpol_core::decision::{ConstraintOp, Decision, Level, Requirement};
use actpol_core::ids::*;
use actpol_core::ops::{ArithOp, CmpOp};
use actpol_core::schema::*;
use actpol_core::state::MemoryState;
use actpol_core::types::{Currency, Type};
use actpol_core::value::Value;
use actpol_core::{Decimal, Envelope};
use actpol_ir::{
    Consume, EnvField, Expr, ExprKind, Limit, Outcome, Policy, Presence, Rule, SrcSpan,
};
use serde_json::{json, Value as Json};

pub const HASH: &str = "sha256:fixture";

pub fn usd() -> Type {
    Type::Money(Currency::parse("USD").expect("USD is a currency"))
}

pub struct Fx {
    pub policy: Policy,
}

fn field(schema: &mut Schema, name: &str, ty: Type, optional: bool) -> FieldDef {
    FieldDef {
        name: schema.intern_field(name),
        ty,
        optional,
        bounds: None,
        zone: None,
    }
}

fn action(
    s: &mut Schema,
    name: &str,
    system: SystemId,
    object: EntityId,
    params: Vec<FieldDef>,
    reversibility: ReversibilityClass,
    data_classes: Vec<DataClassId>,
) {
    let def = ActionDef {
        system,
        object,
        params,
        reversibility,
        data_classes,
        reads: Vec::new(),
        sends: Vec::new(),
        triggers: vec![],
    };
    s.actions.insert(name.into(), def);
}

fn described() -> Described {
    Described::default()
}

impl Fx {
    pub fn new() -> Fx {
        let mut s = Schema::new();
        for system in ["crm", "outreach", "billing"] {
            s.systems.insert(system.into(), described());
        }
        for class in ["pii", "financial"] {
            s.data_classes.insert(class.into(), described());
        }
        let (crm, outreach, billing) = (SystemId(0), SystemId(1), SystemId(2));
        let (pii, financial) = (DataClassId(0), DataClassId(1));
        let (account, sequence, contact) = (EntityId(0), EntityId(1), EntityId(2));

        let attrs = vec![
            field(&mut s, "name", Type::String, false),
            field(&mut s, "region", Type::String, true),
            field(&mut s, "arr", usd(), false),
        ];
        s.entities.insert(
            "Account".into(),
            EntityDef {
                attrs,
                data_classes: vec![pii],
                system: Some(crm),
            },
        );
        let attrs = vec![field(&mut s, "audience", Type::Int, false)];
        s.entities.insert(
            "Sequence".into(),
            EntityDef {
                attrs,
                data_classes: vec![],
                system: Some(outreach),
            },
        );
        let attrs = vec![field(&mut s, "email", Type::String, false)];
        s.entities.insert(
            "Contact".into(),
            EntityDef {
                attrs,
                data_classes: vec![pii],
                system: Some(crm),
            },
        );

        let recall = ActionId(3);
        let params = vec![field(&mut s, "owner", Type::String, false)];
        action(
            &mut s,
            "crm.update_owner",
            crm,
            account,
            params,
            ReversibilityClass::Reversible,
            vec![],
        );
        action(
            &mut s,
            "crm.merge_contacts",
            crm,
            contact,
            vec![],
            ReversibilityClass::Irreversible,
            vec![],
        );
        let params = vec![
            field(&mut s, "recipients", Type::Int, false),
            field(&mut s, "template", Type::String, false),
            field(&mut s, "discount", Type::Decimal, true),
        ];
        let compensable = ReversibilityClass::Compensable {
            by: recall,
            within: Some(15 * 60_000),
        };
        action(
            &mut s,
            "outbound.send",
            outreach,
            sequence,
            params,
            compensable,
            vec![pii],
        );
        action(
            &mut s,
            "outbound.recall",
            outreach,
            sequence,
            vec![],
            ReversibilityClass::Reversible,
            vec![],
        );
        let params = vec![field(&mut s, "amount", usd(), false)];
        action(
            &mut s,
            "billing.credit",
            billing,
            account,
            params,
            ReversibilityClass::Irreversible,
            vec![financial],
        );
        s.context = vec![field(&mut s, "incident_mode", Type::Bool, true)];

        let mut meta = PolicyMeta {
            name: "growth".into(),
            agents: Default::default(),
            approvers: Default::default(),
            budgets: Default::default(),
            default: spec(Level::Deny, None, "no rule covers this action"),
            on_error: spec(
                Level::Escalate,
                Some(ApproverId(1)),
                "the policy could not be evaluated",
            ),
            rules: vec![],
            raises: vec![],
            risks: vec![],
            timing: Default::default(),
        };
        meta.agents.insert(
            "growth-bot".to_string(),
            AgentDef {
                owner: "maria@acme.example".into(),
                workflow: "lead-routing".into(),
                scope: Some(ScopeDef {
                    systems: Some(vec![crm, outreach]),
                    objects: Some(vec![account, sequence]),
                }),
            },
        );
        meta.agents.insert(
            "ops-bot".to_string(),
            AgentDef {
                owner: "ops@acme.example".into(),
                workflow: "billing-ops".into(),
                scope: None,
            },
        );
        meta.approvers.insert(
            "growth-lead".to_string(),
            ApproverDef {
                title: Some("Head of Growth".into()),
                contact: Some("dana@acme.example".into()),
            },
        );
        meta.approvers
            .insert("security-oncall".to_string(), ApproverDef::default());
        meta.budgets.insert(
            "sends".to_string(),
            BudgetDef {
                ty: Type::Int,
                limit: Value::Int(500),
                window: Window::Span(86_400_000),
                key: KeyKind::Agent,
                on_exhausted: spec(
                    Level::Escalate,
                    Some(ApproverId(0)),
                    "the daily send budget is spent",
                ),
            },
        );
        let mut fx = Fx {
            policy: Policy {
                schema: s,
                meta,
                scopes: vec![],
                rules: vec![],
                raises: vec![],
                risks: vec![],
                files: vec![],
            },
        };
        let region = fx.attr("region", Type::String);
        let record = or(
            not(e(
                ExprKind::Has(Presence::Attr(fx.name("region"))),
                Type::Bool,
            )),
            cmp(CmpOp::Ne, region, string("apac")),
        );
        fx.policy.scopes = vec![vec![(account, record)], vec![]];
        fx
    }

    pub fn name(&self, field: &str) -> NameId {
        let index = self.policy.schema.field_names.get_index_of(field);
        NameId::from_index(index.expect("a field of the fixture"))
    }

    pub fn action(&self, name: &str) -> ActionId {
        self.policy
            .schema
            .action_id(name)
            .expect("an action of the fixture")
    }

    pub fn approver(&self, name: &str) -> ApproverId {
        ApproverId::from_index(
            self.policy
                .meta
                .approvers
                .get_index_of(name)
                .expect("an approver"),
        )
    }

    pub fn param(&self, name: &str, ty: Type) -> Expr {
        e(ExprKind::Param(self.name(name)), ty)
    }

    pub fn attr(&self, name: &str, ty: Type) -> Expr {
        e(ExprKind::Attr(self.name(name)), ty)
    }

    /// Adds a rule on `actions` and returns it, to narrow it further.
    pub fn rule(
        &mut self,
        name: &str,
        actions: &[&str],
        when: Option<Expr>,
        outcome: Outcome,
    ) -> &mut Rule {
        let mut ids: Vec<ActionId> = actions.iter().map(|a| self.action(a)).collect();
        ids.sort();
        self.policy.meta.rules.push(RuleMeta {
            name: name.into(),
            doc: None,
            overrides: Vec::new(),
        });
        self.policy.rules.push(Rule {
            id: RuleId::from_index(self.policy.rules.len()),
            actions: ids,
            agents: None,
            workflows: None,
            when,
            outcome,
            consumes: vec![],
            span: SrcSpan::default(),
        });
        self.policy.rules.last_mut().expect("just pushed")
    }

    pub fn consume(&mut self, rule: &str, budget: &str, amount: Expr) {
        let budget = BudgetId::from_index(
            self.policy
                .meta
                .budgets
                .get_index_of(budget)
                .expect("a budget"),
        );
        let index = self
            .policy
            .meta
            .rules
            .iter()
            .position(|r| r.name == rule)
            .expect("a rule");
        self.policy.rules[index]
            .consumes
            .push(Consume { budget, amount });
    }

    /// Adds a raise on every action with one arm.
    pub fn raise(&mut self, name: &str, when: Expr, from: Level, to: OutcomeSpec) {
        self.policy.meta.raises.push(RaiseDef {
            name: name.into(),
            actions: None,
            arms: vec![(from, to)],
        });
        self.policy.raises.push(when);
    }

    pub fn risk(&mut self, name: &str, actions: Option<&[&str]>, value: Expr) -> RiskId {
        let actions = actions.map(|list| {
            let mut ids: Vec<ActionId> = list.iter().map(|a| self.action(a)).collect();
            ids.sort();
            ids
        });
        self.policy.meta.risks.push(RiskMeta {
            name: name.into(),
            ty: value.ty.clone(),
            actions,
        });
        self.policy.risks.push(value);
        RiskId::from_index(self.policy.risks.len() - 1)
    }

    pub fn decide(&self, envelope: Json) -> Decision {
        self.decide_in(envelope, &MemoryState::default())
    }

    pub fn decide_in(&self, envelope: Json, state: &MemoryState) -> Decision {
        let envelope: Envelope =
            serde_json::from_value(envelope).expect("the envelope fits the contract");
        actpol_refeval::decide(&self.policy, envelope, state, HASH)
    }
}

pub fn spec(level: Level, approver: Option<ApproverId>, reason: &str) -> OutcomeSpec {
    OutcomeSpec {
        level,
        approver,
        reason: Some(reason.into()),
        requires: vec![],
    }
}

// Envelopes. All at 2026-11-25T14:00:00Z, a Wednesday.

pub const NOW: &str = "2026-11-25T14:00:00Z";

pub fn growth_bot() -> Json {
    json!({"id": "growth-bot", "owner": "maria@acme.example", "workflow": "lead-routing"})
}

pub fn ops_bot() -> Json {
    json!({"id": "ops-bot", "owner": "ops@acme.example", "workflow": "billing-ops"})
}

/// growth-bot sends sequence `seq-42` to `recipients` people.
pub fn send(recipients: i64) -> Json {
    json!({
        "agent": growth_bot(),
        "action": {"name": "outbound.send", "params": {"recipients": recipients, "template": "q4-winback"}},
        "object": {"type": "Sequence", "id": "seq-42", "attrs": {"audience": 5000}},
        "time": NOW,
    })
}

/// growth-bot reassigns account `acc-7`, in `region` if given.
pub fn update_owner(region: Option<&str>) -> Json {
    let mut attrs = json!({"name": "Initech", "arr": "125000 USD"});
    if let Some(region) = region {
        attrs["region"] = json!(region);
    }
    json!({
        "agent": growth_bot(),
        "action": {"name": "crm.update_owner", "params": {"owner": "sam@acme.example"}},
        "object": {"type": "Account", "id": "acc-7", "attrs": attrs},
        "time": NOW,
    })
}

/// ops-bot credits account `acc-7`.
pub fn credit(amount: &str) -> Json {
    json!({
        "agent": ops_bot(),
        "action": {"name": "billing.credit", "params": {"amount": amount}},
        "object": {"type": "Account", "id": "acc-7", "attrs": {"name": "Initech", "arr": "125000 USD"}},
        "time": NOW,
    })
}

// Expressions.

pub fn e(kind: ExprKind, ty: Type) -> Expr {
    Expr {
        kind,
        ty,
        span: SrcSpan::default(),
    }
}

pub fn int(i: i64) -> Expr {
    e(ExprKind::Const(Value::Int(i)), Type::Int)
}

pub fn boolean(b: bool) -> Expr {
    e(ExprKind::Const(Value::Bool(b)), Type::Bool)
}

pub fn string(s: &str) -> Expr {
    e(ExprKind::Const(Value::str(s)), Type::String)
}

pub fn decimal(text: &str) -> Expr {
    let d: Decimal = text.parse().expect("a decimal");
    e(ExprKind::Const(Value::Decimal(d)), Type::Decimal)
}

pub fn strings(items: &[&str]) -> Expr {
    let values = items.iter().map(|s| Value::str(s)).collect();
    e(
        ExprKind::Const(Value::set(values)),
        Type::Set(Box::new(Type::String)),
    )
}

pub fn env(field: EnvField, ty: Type) -> Expr {
    e(ExprKind::Env(field), ty)
}

pub fn cmp(op: CmpOp, a: Expr, b: Expr) -> Expr {
    e(ExprKind::Cmp(op, Box::new(a), Box::new(b)), Type::Bool)
}

pub fn gt(a: Expr, b: Expr) -> Expr {
    cmp(CmpOp::Gt, a, b)
}

pub fn eq(a: Expr, b: Expr) -> Expr {
    cmp(CmpOp::Eq, a, b)
}

pub fn arith(op: ArithOp, a: Expr, b: Expr) -> Expr {
    let ty = a.ty.clone();
    e(ExprKind::Arith(op, Box::new(a), Box::new(b)), ty)
}

pub fn and(a: Expr, b: Expr) -> Expr {
    e(ExprKind::And(Box::new(a), Box::new(b)), Type::Bool)
}

pub fn or(a: Expr, b: Expr) -> Expr {
    e(ExprKind::Or(Box::new(a), Box::new(b)), Type::Bool)
}

pub fn not(a: Expr) -> Expr {
    e(ExprKind::Not(Box::new(a)), Type::Bool)
}

/// `1 / 0 > 0`: a condition that always fails to evaluate.
pub fn failing() -> Expr {
    gt(arith(ArithOp::Div, int(1), int(0)), int(0))
}

// Outcomes.

fn outcome(level: Level, approver: Option<ApproverId>, reason: Option<&str>) -> Outcome {
    Outcome {
        level,
        approver,
        reason: reason.map(String::from),
        limits: vec![],
        requires: vec![],
    }
}

pub fn allow(reason: &str) -> Outcome {
    outcome(Level::Allow, None, Some(reason))
}

pub fn deny(reason: &str) -> Outcome {
    outcome(Level::Deny, None, Some(reason))
}

pub fn escalate(approver: ApproverId, reason: &str) -> Outcome {
    outcome(Level::Escalate, Some(approver), Some(reason))
}

pub fn constrain(reason: &str, limits: Vec<Limit>, requires: Vec<Requirement>) -> Outcome {
    Outcome {
        limits,
        requires,
        ..outcome(Level::Constrain, None, Some(reason))
    }
}

pub fn limit(fx: &Fx, param: &str, op: ConstraintOp, value: Expr) -> Limit {
    Limit {
        param: fx.name(param),
        op,
        value,
    }
}
