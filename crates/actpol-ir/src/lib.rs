//! The typed IR: a checked policy, every name resolved to an id, every
//! expression typed. The checker produces it; the compiler lowers it to
//! bytecode; the reference evaluator walks it.
//!
//! The IR knows the schema and values (from `actpol-core`) but nothing of
//! source text, syntax or bytecode. An [`Expr`] keeps its source location
//! ([`SrcSpan`]) only so explanations can quote the policy.

use std::sync::Arc;

use actpol_core::collections::{CollOp, LoopKind, PartKind};
use actpol_core::decision::{ConstraintOp, Level, Requirement};
use actpol_core::ids::*;
use actpol_core::ops::{ArithOp, Builtin, CmpOp};
use actpol_core::schema::{Destination, KeyKind, PolicyMeta, Schema, Window};
use actpol_core::state::WindowKind;
use actpol_core::types::Type;
use actpol_core::value::Value;

pub use actpol_core::reads::{BudgetField, EnvField, Presence};

pub mod fold;
pub mod visit;

/// A checked policy.
#[derive(Clone, Debug)]
pub struct Policy {
    pub schema: Schema,
    /// Name, identities, budgets, default and `on_error`, and the names of
    /// rules, raises and risks in declaration order.
    pub meta: PolicyMeta,
    /// Record predicates of each agent's scope, indexed by [`AgentId`]:
    /// for an object of that entity, the predicate must hold.
    pub scopes: Vec<Vec<(EntityId, Expr)>>,
    /// Indexed by [`RuleId`].
    pub rules: Vec<Rule>,
    /// Raise conditions, indexed by [`RaiseId`].
    pub raises: Vec<Expr>,
    /// Named risk expressions, indexed by [`RiskId`].
    pub risks: Vec<Expr>,
    /// Source files, for quoting conditions in explanations.
    pub files: Vec<SourceFile>,
}

#[derive(Clone, Debug)]
pub struct SourceFile {
    pub path: String,
    pub text: Arc<str>,
}

impl Policy {
    /// The source text of `span`, if the file is known.
    pub fn text(&self, span: SrcSpan) -> Option<&str> {
        self.files
            .get(span.file as usize)?
            .text
            .get(span.start as usize..span.end as usize)
    }
}

/// A location in one of [`Policy::files`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SrcSpan {
    pub file: u32,
    pub start: u32,
    pub end: u32,
}

#[derive(Clone, Debug)]
pub struct Rule {
    pub id: RuleId,
    /// The actions the rule's patterns name, sorted.
    pub actions: Vec<ActionId>,
    /// `for agent …`: only these agents. `None`: any agent.
    pub agents: Option<Vec<AgentId>>,
    /// `for workflow …`: only these workflows. `None`: any workflow.
    pub workflows: Option<Vec<String>>,
    /// `None`: the rule always fires for its actions.
    pub when: Option<Expr>,
    pub outcome: Outcome,
    pub consumes: Vec<Consume>,
    pub span: SrcSpan,
}

impl Rule {
    /// Whether the rule is a candidate for this action, agent and workflow
    /// (before its condition is read).
    pub fn applies(&self, action: ActionId, agent: Option<AgentId>, workflow: &str) -> bool {
        self.actions.binary_search(&action).is_ok()
            && self
                .agents
                .as_ref()
                .is_none_or(|list| agent.is_some_and(|a| list.contains(&a)))
            && self
                .workflows
                .as_ref()
                .is_none_or(|list| list.iter().any(|w| w == workflow))
    }
}

#[derive(Clone, Debug)]
pub struct Outcome {
    pub level: Level,
    /// For `escalate`.
    pub approver: Option<ApproverId>,
    pub reason: Option<String>,
    /// For `constrain`: limits on parameters.
    pub limits: Vec<Limit>,
    /// For `constrain`: `require dry_run`, `require rollback`.
    pub requires: Vec<Requirement>,
}

#[derive(Clone, Debug)]
pub struct Limit {
    pub param: NameId,
    pub op: ConstraintOp,
    /// Of the parameter's type (a set of it for `in`).
    pub value: Expr,
}

#[derive(Clone, Debug)]
pub struct Consume {
    pub budget: BudgetId,
    /// Of the budget's type.
    pub amount: Expr,
}

#[derive(Clone, Debug)]
pub struct Expr {
    pub kind: ExprKind,
    pub ty: Type,
    pub span: SrcSpan,
}

/// A read of the state view over a window.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct WindowRead {
    pub kind: WindowKind,
    /// The action pattern as written: `crm.*`.
    pub pattern: String,
    /// For `sum`: the parameter summed.
    pub param: Option<NameId>,
    pub window: Window,
    pub key: KeyKind,
}

#[derive(Clone, Debug)]
pub enum ExprKind {
    Const(Value),
    Env(EnvField),
    /// `params.x`: the parameter of this name on whichever action runs.
    Param(NameId),
    /// `object.x`
    Attr(NameId),
    /// `context.x`
    Context(NameId),
    /// `action.touches(pii)`: the action or its object's entity holds it.
    Touches(DataClassId),
    /// `upstream.reads(pii)`: a step upstream of this one, in its plan,
    /// reads the class (see [`Window::Upstream`]); with a span
    /// (`upstream.reads(pii, 30d)`), one within it. False without a plan.
    Upstream(DataClassId, Option<i64>),
    /// `action.sends(external)`: the action declares it sends there.
    Sends(Destination),
    Has(Presence),
    Budget(BudgetId, BudgetField),
    Window(WindowRead),
    Risk(RiskId),
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    /// Operands of the same type (`Int` operands mixed with `Decimal` are
    /// wrapped in [`ExprKind::ToDecimal`] by the checker).
    Cmp(CmpOp, Box<Expr>, Box<Expr>),
    Arith(ArithOp, Box<Expr>, Box<Expr>),
    Neg(Box<Expr>),
    /// `elem in set`
    In(Box<Expr>, Box<Expr>),
    Call(Builtin, Vec<Expr>),
    If(Box<Expr>, Box<Expr>, Box<Expr>),
    /// A set built from values known only at run time.
    SetLit(Vec<Expr>),
    /// An `Int` promoted to `Decimal`.
    ToDecimal(Box<Expr>),
    /// A variable a quantifier binds, by its slot: quantifiers number the
    /// variables they bind from 0 at the outermost, the index (when bound)
    /// before the element.
    Var(u32),
    /// `over.all(x, body)`, `over.count(i, x, body)`…: the body evaluated
    /// once per element, with the element (and, when `indexed`, its index
    /// first) bound to the next slots.
    Loop {
        kind: LoopKind,
        indexed: bool,
        over: Box<Expr>,
        body: Box<Expr>,
    },
    /// An operation on collections that always has a value.
    Coll(CollOp, Vec<Expr>),
    /// A part that may be absent (`xs.first()`, `r.note`), read where the
    /// checker proved it present; the `u32` is a record field's slot.
    Part(PartKind, u32, Vec<Expr>),
    /// Whether that part is present: `has xs.first()`.
    HasPart(PartKind, u32, Vec<Expr>),
}

impl Expr {
    pub fn constant(value: Value, ty: Type, span: SrcSpan) -> Expr {
        Expr {
            kind: ExprKind::Const(value),
            ty,
            span,
        }
    }

    pub fn as_const(&self) -> Option<&Value> {
        match &self.kind {
            ExprKind::Const(v) => Some(v),
            _ => None,
        }
    }
}
