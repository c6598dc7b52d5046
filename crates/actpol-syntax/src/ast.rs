//! The syntax tree of one `.actpol` file.
//!
//! Every node a diagnostic may point at carries a [`Span`]. Literals keep
//! the text as written: turning text into typed values is the checker's work,
//! because only the checker knows what a number means where it stands.

use std::fmt;

/// The decision words the syntax tree shares with decisions.
pub use actpol_vocab::{ConstraintOp, Level, Requirement};

/// A byte range `start..end` into one source file.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        // INVARIANT: sources are capped at `u32::MAX` bytes by `parse_file`.
        Span {
            start: start as u32,
            end: end as u32,
        }
    }

    pub fn len(self) -> usize {
        (self.end - self.start) as usize
    }

    pub fn is_empty(self) -> bool {
        self.start == self.end
    }

    /// The smallest span holding both.
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

impl fmt::Debug for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.start, self.end)
    }
}

impl From<Span> for miette::SourceSpan {
    fn from(span: Span) -> Self {
        miette::SourceSpan::new((span.start as usize).into(), span.len())
    }
}

/// A parsed file: its declarations in source order, and every comment.
#[derive(Clone, Debug, PartialEq)]
pub struct File {
    pub items: Vec<Item>,
    /// All `//` and `///` comments in source order (the formatter keeps them).
    pub comments: Vec<Comment>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Comment {
    /// The whole comment, slashes included, without the line break.
    pub text: String,
    pub span: Span,
}

impl Comment {
    /// `///` (but not `////`) documents the declaration that follows.
    pub fn is_doc(&self) -> bool {
        self.text.starts_with("///") && !self.text.starts_with("////")
    }
}

/// A name as written: an identifier, an agent or approver name (which may
/// hold dashes), or a dotted action name.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StrLit {
    /// The value with escapes resolved.
    pub value: String,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    /// The `///` lines right above the declaration, without the slashes.
    pub doc: Option<String>,
    pub kind: ItemKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ItemKind {
    Import(Import),
    Policy(PolicyDecl),
    Enum(EnumDecl),
    DataClass(DescribedDecl),
    System(DescribedDecl),
    Context(ContextDecl),
    Entity(EntityDecl),
    Record(RecordDecl),
    Action(ActionDecl),
    Agent(AgentDecl),
    Approver(ApproverDecl),
    Budget(BudgetDecl),
    Risk(RiskDecl),
    Rule(RuleDecl),
    Raise(RaiseDecl),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Import {
    pub path: StrLit,
}

#[derive(Clone, Debug, PartialEq)]
pub struct PolicyDecl {
    pub name: Ident,
    pub entries: Vec<PolicyEntry>,
    pub timing: Vec<TimingEntry>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyEntryKind {
    Default,
    OnError,
}

/// The header's time declarations: each takes a duration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimingKind {
    /// `max_skew 5m`: how far an envelope's `time` may be from the clock.
    MaxSkew,
    /// `reservation_ttl 15m`: how long a reservation holds.
    ReservationTtl,
    /// `approval_ttl 1d`: how long an approval stays usable.
    ApprovalTtl,
}

impl TimingKind {
    pub fn keyword(self) -> &'static str {
        match self {
            TimingKind::MaxSkew => "max_skew",
            TimingKind::ReservationTtl => "reservation_ttl",
            TimingKind::ApprovalTtl => "approval_ttl",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct PolicyEntry {
    pub kind: PolicyEntryKind,
    pub outcome: Outcome,
    pub span: Span,
}

/// `max_skew 5m` and the like, in a policy header.
#[derive(Clone, Debug, PartialEq)]
pub struct TimingEntry {
    pub kind: TimingKind,
    pub duration: DurationLit,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct EnumDecl {
    pub name: Ident,
    /// Written as names or as strings (`"on time"`): the name is the text.
    pub variants: Vec<Ident>,
}

/// `data_class pii "…"` and `system crm "…"`.
#[derive(Clone, Debug, PartialEq)]
pub struct DescribedDecl {
    pub name: Ident,
    pub description: Option<StrLit>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ContextDecl {
    pub fields: Vec<Field>,
}

/// `name: Type` or `name?: Type` (optional), with bounds on a number
/// (`amount: Money<USD> in 0 USD..`).
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    pub name: Ident,
    pub optional: bool,
    pub ty: TypeExpr,
    pub bounds: Option<Bounds>,
    pub span: Span,
}

/// `in 1..10_000`: the least and the most a field's number may be, both
/// inclusive; one end may be open.
#[derive(Clone, Debug, PartialEq)]
pub struct Bounds {
    pub least: Option<BoundLit>,
    pub most: Option<BoundLit>,
    pub span: Span,
}

/// One end of [`Bounds`] as written: `-5`, `0.5`, `10_000 USD`.
#[derive(Clone, Debug, PartialEq)]
pub struct BoundLit {
    /// The number, with its sign: `-5`, `10_000`.
    pub amount: String,
    /// The currency of an amount of money.
    pub currency: Option<String>,
    pub span: Span,
}

impl BoundLit {
    /// As written in the canonical layout: `-5`, `0 USD`.
    pub fn text(&self) -> String {
        match &self.currency {
            Some(c) => format!("{} {c}", self.amount),
            None => self.amount.clone(),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct TypeExpr {
    pub kind: TypeExprKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum TypeExprKind {
    /// `Int`, `String`, an enum or an entity name.
    Named(Ident),
    Set(Box<TypeExpr>),
    List(Box<TypeExpr>),
    Money(Ident),
    /// `Timestamp<"Europe/Paris">`: a type with a time zone. Only a
    /// `Timestamp` takes one, quoted; the checker says so of the rest.
    Zoned(Ident, Box<ZoneArg>),
}

/// The zone argument of a type, as written between its `<` and `>`.
#[derive(Clone, Debug, PartialEq)]
pub struct ZoneArg {
    /// The name: the text between the quotes (kept as written), or the bare
    /// word when it was not quoted.
    pub name: String,
    pub quoted: bool,
    pub span: Span,
}

impl ZoneArg {
    /// As written in the canonical layout: `"Europe/Paris"`.
    pub fn text(&self) -> String {
        if self.quoted {
            format!("\"{}\"", self.name)
        } else {
            self.name.clone()
        }
    }
}

/// `record Traveller { name: String  birth_date?: Timestamp }`
#[derive(Clone, Debug, PartialEq)]
pub struct RecordDecl {
    pub name: Ident,
    pub fields: Vec<Field>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct EntityDecl {
    pub name: Ident,
    pub members: Vec<EntityMember>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum EntityMember {
    Field(Field),
    Data(NameList),
    System(Ident, Span),
}

/// A comma-separated list of names, with the span of the whole clause.
#[derive(Clone, Debug, PartialEq)]
pub struct NameList {
    pub names: Vec<Ident>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ActionDecl {
    pub name: Ident,
    pub members: Vec<ActionMember>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ActionMember {
    System(Ident, Span),
    Object(Ident, Span),
    Params(Vec<Field>, Span),
    Reversibility(Reversibility),
    Data(NameList),
    /// `reads pii, financial`: what flows downstream of the action.
    Reads(NameList),
    /// `sends external`: where the action sends.
    Sends(NameList),
    Triggers(Vec<Trigger>, Span),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Reversibility {
    pub kind: ReversibilityKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ReversibilityKind {
    Reversible,
    Compensable {
        by: Ident,
        within: Option<DurationLit>,
    },
    Irreversible,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Trigger {
    Action(Ident),
    System(Ident),
}

#[derive(Clone, Debug, PartialEq)]
pub struct AgentDecl {
    pub name: Ident,
    pub members: Vec<AgentMember>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum AgentMember {
    Owner(StrLit, Span),
    Workflow(Ident, Span),
    Scope(Vec<ScopeItem>, Span),
}

#[derive(Clone, Debug, PartialEq)]
pub enum ScopeItem {
    Systems(NameList),
    Objects(NameList),
    Records {
        entity: Ident,
        predicate: Expr,
        span: Span,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct ApproverDecl {
    pub name: Ident,
    pub members: Vec<ApproverMember>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ApproverMember {
    Title(StrLit, Span),
    Contact(StrLit, Span),
}

#[derive(Clone, Debug, PartialEq)]
pub struct BudgetDecl {
    pub name: Ident,
    pub ty: TypeExpr,
    pub members: Vec<BudgetMember>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum BudgetMember {
    Limit(Expr, Span),
    Window(WindowSpan, Span),
    Per(BudgetKeyLit, Span),
    OnExhausted(Outcome, Span),
}

/// A window: a duration back from the envelope's time, or the agent's plan.
#[derive(Clone, Debug, PartialEq)]
pub enum WindowSpan {
    Duration(DurationLit),
    Plan(Span),
}

impl WindowSpan {
    pub fn span(&self) -> Span {
        match self {
            WindowSpan::Duration(d) => d.span,
            WindowSpan::Plan(s) => *s,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BudgetKey {
    Agent,
    Workflow,
    Owner,
    Object,
    Plan,
}

impl BudgetKey {
    pub const ALL: [BudgetKey; 5] = [
        BudgetKey::Agent,
        BudgetKey::Workflow,
        BudgetKey::Owner,
        BudgetKey::Object,
        BudgetKey::Plan,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            BudgetKey::Agent => "agent",
            BudgetKey::Workflow => "workflow",
            BudgetKey::Owner => "owner",
            BudgetKey::Object => "object",
            BudgetKey::Plan => "plan",
        }
    }

    pub fn parse(text: &str) -> Option<BudgetKey> {
        BudgetKey::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct BudgetKeyLit {
    pub key: BudgetKey,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RiskDecl {
    pub name: Ident,
    pub on: Option<Vec<ActionPattern>>,
    pub expr: Expr,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RuleDecl {
    pub name: Ident,
    pub on: Vec<ActionPattern>,
    pub agents: Option<NameList>,
    pub workflows: Option<NameList>,
    pub when: Option<Expr>,
    pub outcome: Outcome,
    /// `overrides a, b`: the rules whose denials this rule's escalation
    /// stands above.
    pub overrides: Option<NameList>,
    pub consumes: Vec<Consume>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Consume {
    pub budget: Ident,
    pub amount: Expr,
    pub span: Span,
}

/// `crm.update_owner`, `crm.*` or `*`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActionPattern {
    pub kind: PatternKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PatternKind {
    Exact(String),
    /// Every action whose name starts with the namespace and a dot.
    Namespace(String),
    Any,
}

impl fmt::Display for ActionPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            PatternKind::Exact(name) => f.write_str(name),
            PatternKind::Namespace(ns) => write!(f, "{ns}.*"),
            PatternKind::Any => f.write_str("*"),
        }
    }
}

impl PatternKind {
    /// Whether `action` (a dotted action name) is one this pattern names.
    pub fn matches(&self, action: &str) -> bool {
        match self {
            PatternKind::Exact(name) => name == action,
            PatternKind::Namespace(ns) => action
                .strip_prefix(ns.as_str())
                .is_some_and(|rest| rest.starts_with('.')),
            PatternKind::Any => true,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct RaiseDecl {
    pub name: Ident,
    pub on: Option<Vec<ActionPattern>>,
    pub when: Expr,
    pub arms: Vec<RaiseArm>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RaiseArm {
    pub from: Level,
    pub from_span: Span,
    pub outcome: Outcome,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    pub kind: OutcomeKind,
    pub reason: Option<StrLit>,
    pub span: Span,
}

impl Outcome {
    pub fn level(&self) -> Level {
        match self.kind {
            OutcomeKind::Allow => Level::Allow,
            OutcomeKind::Constrain(_) => Level::Constrain,
            OutcomeKind::Escalate(_) => Level::Escalate,
            OutcomeKind::Deny => Level::Deny,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum OutcomeKind {
    Allow,
    Deny,
    /// `escalate to <approver>`.
    Escalate(Ident),
    Constrain(Vec<Constraint>),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Constraint {
    /// `require dry_run` / `require rollback`.
    Require(Requirement, Span),
    /// `params.recipients <= 100`.
    Param {
        param: Ident,
        op: ConstraintOp,
        value: Expr,
        span: Span,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Lit(Literal),
    /// A bare name: `params`, `object`, `now`, an enum name, a risk…
    Name(Ident),
    /// `base.field`
    Field(Box<Expr>, Ident),
    /// `base.method(args)`
    Method(Box<Expr>, Ident, Vec<Expr>),
    /// `min(a, b)`, `timestamp("…")`
    Call(Ident, Vec<Expr>),
    Window(WindowCall),
    Unary(UnaryOp, Box<Expr>),
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    /// `has object.region`
    Has(Box<Expr>),
    If(Box<Expr>, Box<Expr>, Box<Expr>),
    /// `[a, b, c]`
    Set(Vec<Expr>),
    /// Parentheses as written (kept so `fmt` keeps them).
    Paren(Box<Expr>),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    /// Digits as written, `_` separators included.
    Int(String),
    Decimal(String),
    Money {
        amount: String,
        currency: String,
    },
    Duration(DurationLit),
    /// `09:30`
    TimeOfDay(String),
    String(String),
    Bool(bool),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DurationLit {
    /// As written: `15m`, `1h30m`.
    pub text: String,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    Not,
    Neg,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

impl BinaryOp {
    pub fn as_str(self) -> &'static str {
        match self {
            BinaryOp::Or => "or",
            BinaryOp::And => "and",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::In => "in",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Rem => "%",
        }
    }

    /// Binding strength; higher binds tighter. `not` sits at 3.
    pub fn precedence(self) -> u8 {
        match self {
            BinaryOp::Or => 1,
            BinaryOp::And => 2,
            BinaryOp::Eq
            | BinaryOp::Ne
            | BinaryOp::Lt
            | BinaryOp::Le
            | BinaryOp::Gt
            | BinaryOp::Ge
            | BinaryOp::In => 4,
            BinaryOp::Add | BinaryOp::Sub => 5,
            BinaryOp::Mul | BinaryOp::Div | BinaryOp::Rem => 6,
        }
    }

    pub fn is_comparison(self) -> bool {
        self.precedence() == 4
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WindowFn {
    Count,
    Sum,
    Baseline,
}

impl WindowFn {
    pub fn as_str(self) -> &'static str {
        match self {
            WindowFn::Count => "count",
            WindowFn::Sum => "sum",
            WindowFn::Baseline => "baseline",
        }
    }
}

/// `count(crm.* over 1h by agent)`: what the state view saw in a window.
#[derive(Clone, Debug, PartialEq)]
pub struct WindowCall {
    pub func: WindowFn,
    /// An action pattern, or for `sum` an action name and a parameter.
    pub target: Ident,
    pub over: WindowSpan,
    pub by: Option<BudgetKeyLit>,
}
