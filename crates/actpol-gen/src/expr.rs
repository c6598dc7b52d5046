//! Random well-typed expressions: every kind of [`ExprKind`], typed as the
//! checker types them, reading only what the place they sit in may read.

use actpol_core::ids::{ActionId, BudgetId, DataClassId, EntityId, NameId, RiskId};
use actpol_core::ops::{ArithOp, Builtin, CmpOp};
use actpol_core::schema::{
    Destination, FieldDef, KeyKind, PolicyMeta, Schema, Window, REVERSIBILITY, WEEKDAY,
};
use actpol_core::state::WindowKind;
use actpol_core::types::Type;
use actpol_core::value::Value;
use actpol_core::Decimal;
use actpol_ir::{BudgetField, EnvField, Expr, ExprKind, Presence, SrcSpan, WindowRead};

use crate::{Rng, BASE_TIME, DAY, HOUR, MINUTE, OBJECT_IDS, PLAN_IDS};

/// In a hundred optional reads, how many go unguarded by `has`, so that
/// the absent-read error is exercised without drowning everything else.
const UNGUARDED_PERCENT: u64 = 2;

/// Strings constants are drawn from, besides the schema's own names: some
/// are glob patterns, some are empty or not ASCII.
const STRINGS: [&str; 17] = [
    "",
    "Ana@Acme.example",
    "https://Pay.Evil.example/now",
    "see https://a.example/x and http://b.example.",
    "a",
    "emea",
    "apac",
    "q4-winback",
    "q4-*",
    "*-bot",
    "*a*",
    "?",
    "revert",
    "routing",
    "é",
    "growth-bot",
    "o1",
];

/// Regular expressions for `matches_regex`: anchored and not, classes,
/// alternation, case folding, one that matches everything.
const PATTERNS: [&str; 6] = [
    "^q4-",
    "[0-9]",
    "(?i)^ANA@",
    "example\\.?$",
    "^(emea|apac)$",
    "",
];

/// Zones for the local-time methods: two with daylight saving at opposite
/// ends of the year, a half-hour offset, a half-hour daylight saving shift,
/// and UTC.
const ZONES: [&str; 5] = [
    "America/New_York",
    "Europe/London",
    "Asia/Kolkata",
    "Australia/Lord_Howe",
    "UTC",
];

/// A zone argument: a constant, as the checker requires.
fn zone(rng: &mut Rng) -> Expr {
    mk(ExprKind::Const(Value::str(rng.pick(&ZONES))), Type::String)
}

pub(crate) fn mk(kind: ExprKind, ty: Type) -> Expr {
    Expr {
        kind,
        ty,
        span: SrcSpan::default(),
    }
}

fn boxed(kind: fn(Box<Expr>, Box<Expr>) -> ExprKind, a: Expr, b: Expr, ty: Type) -> Expr {
    mk(kind(Box::new(a), Box::new(b)), ty)
}

pub(crate) fn has(p: Presence) -> Expr {
    mk(ExprKind::Has(p), Type::Bool)
}

pub(crate) fn and(a: Expr, b: Expr) -> Expr {
    boxed(ExprKind::And, a, b, Type::Bool)
}

pub(crate) fn or(a: Expr, b: Expr) -> Expr {
    boxed(ExprKind::Or, a, b, Type::Bool)
}

pub(crate) fn not(a: Expr) -> Expr {
    mk(ExprKind::Not(Box::new(a)), Type::Bool)
}

pub(crate) fn ite(c: Expr, a: Expr, b: Expr) -> Expr {
    let ty = a.ty.clone();
    mk(ExprKind::If(Box::new(c), Box::new(a), Box::new(b)), ty)
}

fn arith(op: ArithOp, a: Expr, b: Expr, ty: Type) -> Expr {
    mk(ExprKind::Arith(op, Box::new(a), Box::new(b)), ty)
}

pub(crate) fn cmp(op: CmpOp, a: Expr, b: Expr) -> Expr {
    mk(ExprKind::Cmp(op, Box::new(a), Box::new(b)), Type::Bool)
}

fn call(f: Builtin, args: Vec<Expr>, ty: Type) -> Expr {
    mk(ExprKind::Call(f, args), ty)
}

fn to_decimal(a: Expr) -> Expr {
    mk(ExprKind::ToDecimal(Box::new(a)), Type::Decimal)
}

fn set_of(t: &Type) -> Type {
    Type::Set(Box::new(t.clone()))
}

/// A read an expression may make, and what `has` must prove first.
#[derive(Clone, Debug)]
pub(crate) struct Read {
    pub kind: ExprKind,
    pub ty: Type,
    pub needs: Option<Presence>,
}

/// What an expression at one place of a policy (a rule, a raise, a risk, a
/// scope predicate) may read.
#[derive(Clone, Debug, Default)]
pub(crate) struct Scope {
    pub reads: Vec<Read>,
    /// Risks that apply to every action of the place.
    pub risks: Vec<RiskId>,
    /// Optional parts `has` has proven present where the expression sits.
    pub proven: Vec<Presence>,
}

/// Reads of the envelope that need no declaration.
const ENV_READS: [(EnvField, Option<Presence>); 19] = [
    (EnvField::AgentId, None),
    (EnvField::AgentOwner, None),
    (EnvField::AgentWorkflow, None),
    (EnvField::ActionName, None),
    (EnvField::ActionSystem, None),
    (EnvField::ActionReversibility, None),
    (EnvField::ObjectId, None),
    (EnvField::IntentGoal, Some(Presence::Intent)),
    (EnvField::IntentConfidence, Some(Presence::Intent)),
    (EnvField::RollbackKind, Some(Presence::Rollback)),
    (EnvField::RollbackAction, Some(Presence::RollbackAction)),
    (EnvField::RollbackWithin, Some(Presence::RollbackWithin)),
    (EnvField::PlanId, Some(Presence::Plan)),
    (EnvField::PlanStep, Some(Presence::Plan)),
    (EnvField::Now, None),
    (EnvField::NowHour, None),
    (EnvField::NowWeekday, None),
    (EnvField::NowTimeOfDay, None),
    (EnvField::Reversible, None),
];

fn env_type(field: EnvField) -> Type {
    match field {
        EnvField::ActionReversibility => Type::Enum(REVERSIBILITY),
        EnvField::NowWeekday => Type::Enum(WEEKDAY),
        EnvField::IntentConfidence => Type::Decimal,
        EnvField::RollbackWithin | EnvField::NowTimeOfDay => Type::Duration,
        EnvField::PlanStep | EnvField::NowHour => Type::Int,
        EnvField::Now => Type::Timestamp,
        EnvField::Reversible => Type::Bool,
        _ => Type::String,
    }
}

/// The fields every list declares with one type; optional if any list
/// makes it optional.
fn common(lists: &[&[FieldDef]]) -> Vec<(NameId, Type, bool)> {
    let Some((first, rest)) = lists.split_first() else {
        return Vec::new();
    };
    first
        .iter()
        .filter_map(|f| {
            let mut optional = f.optional;
            for other in rest {
                let g = other.iter().find(|g| g.name == f.name)?;
                if g.ty != f.ty {
                    return None;
                }
                optional |= g.optional;
            }
            Some((f.name, f.ty.clone(), optional))
        })
        .collect()
}

impl Scope {
    /// The reads of a place that applies to `actions`: the parameters every
    /// one of them declares with one type, the attributes every one of their
    /// objects declares, the context, and the envelope.
    pub(crate) fn over(schema: &Schema, actions: &[ActionId], risks: Vec<RiskId>) -> Scope {
        let params: Vec<&[FieldDef]> = actions
            .iter()
            .map(|a| schema.action(*a).params.as_slice())
            .collect();
        let mut entities: Vec<EntityId> =
            actions.iter().map(|a| schema.action(*a).object).collect();
        entities.sort();
        entities.dedup();
        let attrs: Vec<&[FieldDef]> = entities
            .iter()
            .map(|e| schema.entity(*e).attrs.as_slice())
            .collect();
        let mut scope = Scope {
            risks,
            ..Scope::default()
        };
        for (name, ty, optional) in common(&params) {
            scope.field(
                ExprKind::Param(name),
                ty,
                optional.then_some(Presence::Param(name)),
            );
        }
        for (name, ty, optional) in common(&attrs) {
            scope.field(
                ExprKind::Attr(name),
                ty,
                optional.then_some(Presence::Attr(name)),
            );
        }
        scope.envelope(schema);
        scope
    }

    /// The reads of a record predicate on `entity`: its attributes, the
    /// context and the envelope, but no parameters, which differ between
    /// the actions on that entity.
    pub(crate) fn record(schema: &Schema, entity: EntityId) -> Scope {
        let mut scope = Scope::default();
        for a in &schema.entity(entity).attrs {
            let needs = a.optional.then_some(Presence::Attr(a.name));
            scope.field(ExprKind::Attr(a.name), a.ty.clone(), needs);
        }
        scope.envelope(schema);
        scope
    }

    fn field(&mut self, kind: ExprKind, ty: Type, needs: Option<Presence>) {
        self.reads.push(Read { kind, ty, needs });
    }

    fn envelope(&mut self, schema: &Schema) {
        for c in &schema.context {
            let needs = c.optional.then_some(Presence::Context(c.name));
            self.field(ExprKind::Context(c.name), c.ty.clone(), needs);
        }
        for (field, needs) in ENV_READS {
            self.field(ExprKind::Env(field), env_type(field), needs);
        }
    }

    /// The optional parts `has` can ask about here, proven or not.
    pub(crate) fn presences(&self) -> Vec<Presence> {
        let mut out: Vec<Presence> = Vec::new();
        for p in self.reads.iter().filter_map(|r| r.needs) {
            if !out.contains(&p) {
                out.push(p);
            }
        }
        out
    }
}

/// Generates expressions for one place of a policy.
pub(crate) struct Gen<'a> {
    pub rng: &'a mut Rng,
    pub schema: &'a Schema,
    /// The budgets and risks declared so far.
    pub meta: &'a PolicyMeta,
    /// Every type values of this schema can have.
    pub types: &'a [Type],
    /// Keep magnitudes small: for budget amounts, which the combiner adds
    /// up as plain decimals.
    pub tame: bool,
}

/// Every type values of `schema` can have.
pub(crate) fn types(schema: &Schema) -> Vec<Type> {
    let mut out = vec![
        Type::Bool,
        Type::Int,
        Type::Decimal,
        Type::String,
        Type::Duration,
        Type::Timestamp,
        set_of(&Type::String),
        set_of(&Type::Int),
    ];
    let fields = schema
        .entities
        .values()
        .flat_map(|e| e.attrs.iter())
        .chain(schema.actions.values().flat_map(|a| a.params.iter()))
        .chain(schema.context.iter());
    for f in fields {
        if matches!(f.ty, Type::Money(_)) && !out.contains(&f.ty) {
            out.push(f.ty.clone());
        }
    }
    for e in 0..schema.enums.len() {
        let ty = Type::Enum(actpol_core::ids::EnumId::from_index(e));
        out.push(set_of(&ty));
        out.push(ty);
    }
    for e in 0..schema.entities.len() {
        let ty = Type::Entity(EntityId::from_index(e));
        out.push(set_of(&ty));
        out.push(ty);
    }
    out
}

impl Gen<'_> {
    fn weighted(&mut self, weights: &[u64]) -> usize {
        let total: u64 = weights.iter().sum();
        let mut at = self.rng.next_u64() % total;
        for (i, w) in weights.iter().enumerate() {
            if at < *w {
                return i;
            }
            at -= w;
        }
        weights.len() - 1
    }

    /// A type for an operand: mostly one something in scope reads, so that
    /// comparisons look at the envelope.
    fn pick_type(&mut self, scope: &Scope, want: impl Fn(&Type) -> bool) -> Type {
        let read: Vec<&Type> = scope
            .reads
            .iter()
            .map(|r| &r.ty)
            .filter(|t| want(t))
            .collect();
        if !read.is_empty() && self.rng.chance(75) {
            return read[self.rng.below(read.len())].clone();
        }
        let all: Vec<&Type> = self.types.iter().filter(|t| want(t)).collect();
        all[self.rng.below(all.len())].clone()
    }

    // Constants.

    fn decimal(&mut self) -> Decimal {
        if self.tame {
            let (mantissa, scale) = self.rng.pick(&[(0, 0), (5, 1), (1, 0), (225, 2), (10, 0)]);
            return Decimal::new(mantissa, scale);
        }
        if self.rng.chance(8) {
            return self
                .rng
                .pick(&[Decimal::MAX, Decimal::MIN, Decimal::new(1, 28)]);
        }
        let (mantissa, scale) = self.rng.pick(&[
            (0, 0),
            (5, 1),
            (1, 0),
            (225, 2),
            (-31, 1),
            (100, 0),
            (1, 3),
            (10, 0),
        ]);
        Decimal::new(mantissa, scale)
    }

    fn int(&mut self) -> i64 {
        if self.tame {
            return self.rng.pick(&[0, 1, 2, 5, 10, 100]);
        }
        if self.rng.chance(8) {
            return self
                .rng
                .pick(&[i64::MAX, i64::MIN, i64::MAX / 2, -i64::MAX]);
        }
        self.rng
            .pick(&[0, 1, 2, 3, 5, 7, 10, 24, 100, 1000, -1, -7])
    }

    fn string(&mut self) -> String {
        if self.rng.chance(50) {
            return self.rng.pick(&STRINGS).to_string();
        }
        let s = self.schema;
        let names: Vec<&str> = s
            .actions
            .keys()
            .chain(s.systems.keys())
            .map(String::as_str)
            .chain(self.meta.agents.keys().map(String::as_str))
            .chain(self.meta.agents.values().map(|a| a.owner.as_str()))
            .chain(self.meta.agents.values().map(|a| a.workflow.as_str()))
            .chain(OBJECT_IDS)
            .chain(PLAN_IDS)
            .collect();
        self.rng.pick(&names).to_string()
    }

    pub(crate) fn constant(&mut self, ty: &Type) -> Value {
        match ty {
            Type::Bool => Value::Bool(self.rng.chance(50)),
            Type::Int => Value::Int(self.int()),
            Type::Decimal => Value::Decimal(self.decimal()),
            Type::Money(_) => Value::Money(self.decimal()),
            Type::Duration => {
                if !self.tame && self.rng.chance(5) {
                    Value::Duration(self.rng.pick(&[i64::MAX, i64::MIN]))
                } else {
                    Value::Duration(self.rng.pick(&[
                        0,
                        1000,
                        MINUTE,
                        15 * MINUTE,
                        HOUR,
                        DAY,
                        -MINUTE,
                    ]))
                }
            }
            Type::Timestamp if self.rng.chance(25) => {
                Value::Timestamp(self.rng.pick(&crate::DST_EDGES))
            }
            Type::Timestamp => {
                let day = self.rng.below(9) as i64 - 1;
                Value::Timestamp(BASE_TIME + day * DAY + self.rng.pick(&[0, 9, 14]) * HOUR)
            }
            Type::String => Value::str(&self.string()),
            Type::Enum(id) => {
                let variants = self.schema.enum_def(*id).variants.len();
                Value::Enum(self.rng.below(variants) as u32)
            }
            Type::Entity(_) => Value::Ref(self.rng.pick(&OBJECT_IDS).into()),
            Type::Set(elem) => {
                let items = (0..self.rng.below(4))
                    .map(|_| self.constant(elem))
                    .collect();
                Value::set(items)
            }
            Type::List(elem) => {
                let items: Vec<Value> = (0..self.rng.below(4))
                    .map(|_| self.constant(elem))
                    .collect();
                Value::List(items.into())
            }
            Type::Record(id) => {
                let fields = self
                    .schema
                    .record(*id)
                    .map(|d| d.fields.clone())
                    .unwrap_or_default();
                let values: Vec<Option<Value>> = fields
                    .iter()
                    .map(|f| (!f.optional || self.rng.chance(50)).then(|| self.constant(&f.ty)))
                    .collect();
                Value::Record(values.into())
            }
        }
    }

    pub(crate) fn constant_expr(&mut self, ty: &Type) -> Expr {
        let value = self.constant(ty);
        mk(ExprKind::Const(value), ty.clone())
    }

    // Leaves.

    /// A read, guarded by `has` where it needs it and nothing proves it.
    pub(crate) fn read(&mut self, scope: &Scope, read: &Read) -> Expr {
        let e = mk(read.kind.clone(), read.ty.clone());
        match read.needs {
            Some(p) if !scope.proven.contains(&p) => {
                if self.rng.chance(UNGUARDED_PERCENT) {
                    e
                } else {
                    let other = self.constant_expr(&read.ty);
                    ite(has(p), e, other)
                }
            }
            _ => e,
        }
    }

    fn window(&mut self, kind: WindowKind, sum: Option<(ActionId, NameId)>) -> WindowRead {
        let schema = self.schema;
        let pattern = match sum {
            Some((action, _)) => schema.action_name(action).to_string(),
            None => {
                let action =
                    schema.action_name(ActionId::from_index(self.rng.below(schema.actions.len())));
                match self.rng.below(3) {
                    0 => "*".to_string(),
                    1 => format!("{}.*", action.split('.').next().unwrap_or(action)),
                    _ => action.to_string(),
                }
            }
        };
        let window = if self.rng.chance(80) {
            Window::Span(self.rng.pick(&[10 * MINUTE, HOUR, DAY, 7 * DAY]))
        } else {
            Window::Plan
        };
        let key = match self.rng.below(100) {
            0..=39 => KeyKind::Agent,
            40..=54 => KeyKind::Workflow,
            55..=69 => KeyKind::Owner,
            70..=95 => KeyKind::Object,
            _ => KeyKind::Plan,
        };
        WindowRead {
            kind,
            pattern,
            param: sum.map(|(_, p)| p),
            window,
            key,
        }
    }

    fn leaf(&mut self, scope: &Scope, ty: &Type) -> Expr {
        enum Leaf {
            Const,
            Read(usize),
            Budget(BudgetId),
            Count,
            Baseline,
            Sum(ActionId, NameId),
            Risk(RiskId),
        }
        let mut options = vec![Leaf::Const, Leaf::Const];
        for (i, r) in scope.reads.iter().enumerate() {
            if r.ty == *ty {
                options.push(Leaf::Read(i));
                options.push(Leaf::Read(i));
            }
        }
        for (i, (_, def)) in self.meta.budgets.iter().enumerate() {
            if def.ty == *ty {
                options.push(Leaf::Budget(BudgetId::from_index(i)));
            }
        }
        match ty {
            Type::Int => options.push(Leaf::Count),
            Type::Decimal => options.push(Leaf::Baseline),
            _ => {}
        }
        if matches!(
            ty,
            Type::Int | Type::Decimal | Type::Money(_) | Type::Duration
        ) {
            for (a, def) in self.schema.actions.values().enumerate() {
                for p in def.params.iter().filter(|p| p.ty == *ty) {
                    options.push(Leaf::Sum(ActionId::from_index(a), p.name));
                }
            }
        }
        if !self.tame {
            for r in &scope.risks {
                if self.meta.risks[r.index()].ty == *ty {
                    options.push(Leaf::Risk(*r));
                }
            }
        }
        let kind = match &options[self.rng.below(options.len())] {
            Leaf::Const => return self.constant_expr(ty),
            Leaf::Read(i) => {
                let read = scope.reads[*i].clone();
                let e = self.read(scope, &read);
                // Envelopes carry negative numbers; a budget amount made of
                // them would mostly fail as a negative consumption.
                if self.tame && ty.is_ordered() && *ty != Type::Timestamp && self.rng.chance(70) {
                    return call(Builtin::Abs, vec![e], ty.clone());
                }
                return e;
            }
            Leaf::Budget(b) => ExprKind::Budget(
                *b,
                self.rng.pick(&[
                    BudgetField::Limit,
                    BudgetField::Consumed,
                    BudgetField::Remaining,
                ]),
            ),
            Leaf::Count => ExprKind::Window(self.window(WindowKind::Count, None)),
            Leaf::Baseline => ExprKind::Window(self.window(WindowKind::Baseline, None)),
            Leaf::Sum(a, p) => ExprKind::Window(self.window(WindowKind::Sum, Some((*a, *p)))),
            Leaf::Risk(r) => ExprKind::Risk(*r),
        };
        mk(kind, ty.clone())
    }

    // Values.

    /// An expression of type `ty`, at most `depth` operators deep.
    pub(crate) fn value(&mut self, scope: &mut Scope, ty: &Type, depth: u32) -> Expr {
        if *ty == Type::Bool {
            return self.boolean(scope, depth);
        }
        if depth > 0 && self.rng.chance(40) {
            return self.composite(scope, ty, depth - 1);
        }
        self.leaf(scope, ty)
    }

    /// A `Decimal` operand: a decimal, or an `Int` widened to one.
    pub(crate) fn number(&mut self, scope: &mut Scope, depth: u32) -> Expr {
        if self.rng.chance(40) {
            let i = self.value(scope, &Type::Int, depth);
            to_decimal(i)
        } else {
            self.value(scope, &Type::Decimal, depth)
        }
    }

    fn money_type(&mut self) -> Option<Type> {
        let money: Vec<&Type> = self
            .types
            .iter()
            .filter(|t| matches!(t, Type::Money(_)))
            .collect();
        (!money.is_empty()).then(|| money[self.rng.below(money.len())].clone())
    }

    /// One operator whose result is `ty`, over operands `depth` deep.
    fn composite(&mut self, scope: &mut Scope, ty: &Type, d: u32) -> Expr {
        use ArithOp::*;
        let t = ty.clone();
        // Multiplying and dividing make the magnitudes (and the overflows)
        // a budget amount must stay clear of.
        let wild = !self.tame;
        match ty {
            Type::Int => match self.rng.below(if wild { 8 } else { 5 }) {
                0 => {
                    let op = self.rng.pick(&[Add, Sub]);
                    let (a, b) = (self.value(scope, &t, d), self.value(scope, &t, d));
                    arith(op, a, b, t)
                }
                1 => self.min_max(scope, &t, d),
                2 => {
                    let s = self.value(scope, &Type::String, d);
                    call(Builtin::StrLen, vec![s], t)
                }
                3 => {
                    let elem = self.pick_type(scope, Type::is_set_element);
                    let s = self.value(scope, &set_of(&elem), d);
                    call(Builtin::SetLen, vec![s], t)
                }
                4 => self.branch(scope, &t, d),
                5 => {
                    let op = self.rng.pick(&[Mul, Rem]);
                    let (a, b) = (self.value(scope, &t, d), self.value(scope, &t, d));
                    arith(op, a, b, t)
                }
                6 if self.rng.chance(50) => {
                    let a = self.value(scope, &Type::Timestamp, d);
                    call(Builtin::HourIn, vec![a, zone(self.rng)], t)
                }
                6 => {
                    let a = self.value(scope, &t, d);
                    mk(ExprKind::Neg(Box::new(a)), t)
                }
                _ => {
                    let a = self.value(scope, &t, d);
                    call(Builtin::Abs, vec![a], t)
                }
            },
            Type::Decimal => match self.rng.below(if wild { 8 } else { 3 }) {
                0 => {
                    let i = self.value(scope, &Type::Int, d);
                    to_decimal(i)
                }
                1 => self.min_max(scope, &t, d),
                2 => self.branch(scope, &t, d),
                3 => {
                    // `Int` mixed with `Decimal`: the `Int` side is widened.
                    let op = self.rng.pick(&[Add, Sub, Mul]);
                    let a = self.value(scope, &t, d);
                    let b = self.number(scope, d);
                    if self.rng.chance(50) {
                        arith(op, a, b, t)
                    } else {
                        arith(op, b, a, t)
                    }
                }
                4 => {
                    // Dividing numbers always gives a decimal.
                    let (a, b) = (self.number(scope, d), self.number(scope, d));
                    arith(Div, a, b, t)
                }
                5 => match self.money_type() {
                    Some(m) => {
                        let (a, b) = (self.value(scope, &m, d), self.value(scope, &m, d));
                        arith(Div, a, b, t)
                    }
                    None => self.branch(scope, &t, d),
                },
                6 => {
                    let a = self.value(scope, &Type::Duration, d);
                    let b = self.value(scope, &Type::Duration, d);
                    arith(Div, a, b, t)
                }
                _ => self.neg_abs(scope, &t, d),
            },
            Type::Money(_) => match self.rng.below(if wild { 7 } else { 3 }) {
                0 => {
                    let op = self.rng.pick(&[Add, Sub]);
                    let (a, b) = (self.value(scope, &t, d), self.value(scope, &t, d));
                    arith(op, a, b, t)
                }
                1 => self.min_max(scope, &t, d),
                2 => self.branch(scope, &t, d),
                3 => {
                    let (a, n) = (self.value(scope, &t, d), self.number(scope, d));
                    arith(Mul, a, n, t)
                }
                4 => {
                    let (n, a) = (self.number(scope, d), self.value(scope, &t, d));
                    arith(Mul, n, a, t)
                }
                5 => {
                    let (a, n) = (self.value(scope, &t, d), self.number(scope, d));
                    arith(Div, a, n, t)
                }
                _ => self.neg_abs(scope, &t, d),
            },
            Type::Duration => match self.rng.below(if wild { 8 } else { 3 }) {
                0 => {
                    let op = self.rng.pick(&[Add, Sub]);
                    let (a, b) = (self.value(scope, &t, d), self.value(scope, &t, d));
                    arith(op, a, b, t)
                }
                1 => self.min_max(scope, &t, d),
                2 => self.branch(scope, &t, d),
                3 => {
                    let op = self.rng.pick(&[Mul, Div]);
                    let (a, n) = (self.value(scope, &t, d), self.value(scope, &Type::Int, d));
                    arith(op, a, n, t)
                }
                4 => {
                    let (n, a) = (self.value(scope, &Type::Int, d), self.value(scope, &t, d));
                    arith(Mul, n, a, t)
                }
                5 => {
                    let a = self.value(scope, &Type::Timestamp, d);
                    let b = self.value(scope, &Type::Timestamp, d);
                    arith(Sub, a, b, t)
                }
                // Each of the five ways to make a duration from a value is
                // drawn alike, so a few hundred policies call them all.
                6 if self.rng.chance(20) => {
                    let a = self.value(scope, &Type::Timestamp, d);
                    call(Builtin::TimeOfDayIn, vec![a, zone(self.rng)], t)
                }
                6 => {
                    let f = self.rng.pick(&[
                        Builtin::Hours,
                        Builtin::Minutes,
                        Builtin::Seconds,
                        Builtin::Days,
                    ]);
                    let n = self.number(scope, d);
                    call(f, vec![n], t)
                }
                _ => self.neg_abs(scope, &t, d),
            },
            Type::Timestamp => match self.rng.below(4) {
                0 => {
                    let op = self.rng.pick(&[Add, Sub]);
                    let a = self.value(scope, &t, d);
                    let b = self.value(scope, &Type::Duration, d);
                    arith(op, a, b, t)
                }
                1 => {
                    let a = self.value(scope, &Type::Duration, d);
                    let b = self.value(scope, &t, d);
                    arith(Add, a, b, t)
                }
                2 => self.min_max(scope, &t, d),
                _ => self.branch(scope, &t, d),
            },
            Type::String if self.rng.chance(15) => {
                let a = self.value(scope, &Type::Timestamp, d);
                call(Builtin::DateIn, vec![a, zone(self.rng)], t)
            }
            Type::Enum(id) if *id == WEEKDAY && self.rng.chance(50) => {
                let a = self.value(scope, &Type::Timestamp, d);
                call(Builtin::WeekdayIn, vec![a, zone(self.rng)], t)
            }
            Type::String if self.rng.chance(50) => {
                let f = self.rng.pick(&[
                    Builtin::Lower,
                    Builtin::Upper,
                    Builtin::EmailDomain,
                    Builtin::UrlHost,
                ]);
                let s = self.value(scope, &t, d);
                call(f, vec![s], t)
            }
            Type::List(elem) if **elem == Type::String && self.rng.chance(40) => {
                let s = self.value(scope, &Type::String, d);
                let separator = self.rng.pick(&[",", " ", "@", "", "://"]);
                let separator = mk(ExprKind::Const(Value::str(separator)), Type::String);
                call(Builtin::Split, vec![s, separator], t)
            }
            Type::Set(elem) if **elem == Type::String && self.rng.chance(30) => {
                let f = self.rng.pick(&[Builtin::Urls, Builtin::UrlHosts]);
                let s = self.value(scope, &Type::String, d);
                call(f, vec![s], t)
            }
            Type::Set(elem) if self.rng.chance(60) => {
                let items = (0..self.rng.range(1, 3))
                    .map(|_| self.value(scope, elem, d))
                    .collect();
                mk(ExprKind::SetLit(items), t)
            }
            _ => self.branch(scope, &t, d),
        }
    }

    fn min_max(&mut self, scope: &mut Scope, ty: &Type, d: u32) -> Expr {
        let f = self.rng.pick(&[Builtin::Min, Builtin::Max]);
        let a = self.value(scope, ty, d);
        // `min(x, 1)` with a decimal `x`: the `Int` widens.
        let b = if *ty == Type::Decimal {
            self.number(scope, d)
        } else {
            self.value(scope, ty, d)
        };
        call(f, vec![a, b], ty.clone())
    }

    fn neg_abs(&mut self, scope: &mut Scope, ty: &Type, d: u32) -> Expr {
        let a = self.value(scope, ty, d);
        if self.rng.chance(50) {
            mk(ExprKind::Neg(Box::new(a)), ty.clone())
        } else {
            call(Builtin::Abs, vec![a], ty.clone())
        }
    }

    fn branch(&mut self, scope: &mut Scope, ty: &Type, d: u32) -> Expr {
        let c = self.boolean(scope, d);
        let a = self.value(scope, ty, d);
        let b = self.value(scope, ty, d);
        ite(c, a, b)
    }

    // Conditions.

    /// A `Bool` expression at most `depth` operators deep.
    pub(crate) fn boolean(&mut self, scope: &mut Scope, depth: u32) -> Expr {
        let deep = if depth > 0 { 1 } else { 0 };
        let d = depth.saturating_sub(1);
        let weights = [
            1,
            6,
            1,
            2,
            1,
            1,
            1,
            1,
            2,
            2 * deep,
            2 * deep,
            deep,
            deep,
            3 * deep,
            3,
            2,
        ];
        match self.weighted(&weights) {
            0 => self.constant_expr(&Type::Bool),
            1 => self.compare(scope, d),
            2 => {
                let ps = scope.presences();
                if ps.is_empty() {
                    self.compare(scope, d)
                } else {
                    has(self.rng.pick(&ps))
                }
            }
            3 => {
                let elem = self.pick_type(scope, Type::is_set_element);
                let e = self.value(scope, &elem, d);
                let s = self.value(scope, &set_of(&elem), d);
                boxed(ExprKind::In, e, s, Type::Bool)
            }
            4 => {
                let f = self.rng.pick(&[
                    Builtin::StartsWith,
                    Builtin::EndsWith,
                    Builtin::StrContains,
                    Builtin::Matches,
                    Builtin::RegexMatch,
                ]);
                let s = self.value(scope, &Type::String, d);
                let p = if f == Builtin::RegexMatch {
                    // The checker takes only constant patterns that compile.
                    mk(
                        ExprKind::Const(Value::str(self.rng.pick(&PATTERNS))),
                        Type::String,
                    )
                } else if self.rng.chance(70) {
                    self.constant_expr(&Type::String)
                } else {
                    self.value(scope, &Type::String, d)
                };
                call(f, vec![s, p], Type::Bool)
            }
            5 => {
                let elem = self.pick_type(scope, Type::is_set_element);
                let s = self.value(scope, &set_of(&elem), d);
                let (f, other) = match self.rng.below(3) {
                    0 => (Builtin::SetContains, self.value(scope, &elem, d)),
                    1 => (Builtin::ContainsAny, self.value(scope, &set_of(&elem), d)),
                    _ => (Builtin::ContainsAll, self.value(scope, &set_of(&elem), d)),
                };
                call(f, vec![s, other], Type::Bool)
            }
            6 => {
                let class = DataClassId::from_index(self.rng.below(self.schema.data_classes.len()));
                let kind = match self.rng.below(3) {
                    0 => ExprKind::Touches(class),
                    1 => {
                        let within = self.rng.chance(50).then(|| self.rng.pick(&[HOUR, DAY]));
                        ExprKind::Upstream(class, within)
                    }
                    _ => ExprKind::Sends(self.rng.pick(&Destination::ALL)),
                };
                mk(kind, Type::Bool)
            }
            7 => mk(ExprKind::Env(EnvField::Reversible), Type::Bool),
            8 => self.leaf(scope, &Type::Bool),
            9 => {
                let (a, b) = (self.boolean(scope, d), self.boolean(scope, d));
                and(a, b)
            }
            10 => {
                let (a, b) = (self.boolean(scope, d), self.boolean(scope, d));
                or(a, b)
            }
            11 => not(self.boolean(scope, d)),
            12 => self.branch(scope, &Type::Bool, d),
            13 => self.guarded(scope, d),
            14 => self.collection(scope, d),
            _ => self.related(scope, d),
        }
    }

    /// `a op b` over one type (an `Int` side widened when the other is a
    /// `Decimal`).
    fn compare(&mut self, scope: &mut Scope, d: u32) -> Expr {
        let ordered = self.rng.chance(60);
        let ty = if ordered {
            self.pick_type(scope, Type::is_ordered)
        } else {
            self.pick_type(scope, |_| true)
        };
        let op = if ty.is_ordered() {
            self.rng.pick(&[
                CmpOp::Eq,
                CmpOp::Ne,
                CmpOp::Lt,
                CmpOp::Le,
                CmpOp::Gt,
                CmpOp::Ge,
            ])
        } else {
            self.rng.pick(&[CmpOp::Eq, CmpOp::Ne])
        };
        let a = self.value(scope, &ty, d);
        let b = if ty == Type::Decimal {
            self.number(scope, d)
        } else {
            self.value(scope, &ty, d)
        };
        cmp(op, a, b)
    }

    /// A test of an optional part, with what `has` proves used where it
    /// holds: `has x and <reads x>`, `not has x or <reads x>`,
    /// `if has x then <reads x> else …`.
    fn guarded(&mut self, scope: &mut Scope, d: u32) -> Expr {
        let open: Vec<Presence> = scope
            .presences()
            .into_iter()
            .filter(|p| !scope.proven.contains(p))
            .collect();
        if open.is_empty() {
            return self.compare(scope, d);
        }
        let p = self.rng.pick(&open);
        scope.proven.push(p);
        let inner = self.about(scope, p, d);
        scope.proven.pop();
        match self.rng.below(3) {
            0 => and(has(p), inner),
            1 => or(not(has(p)), inner),
            _ => {
                let other = self.boolean(scope, d);
                ite(has(p), inner, other)
            }
        }
    }

    /// A condition on one of the reads `p` guards (now proven).
    pub(crate) fn about(&mut self, scope: &mut Scope, p: Presence, d: u32) -> Expr {
        let reads: Vec<Read> = scope
            .reads
            .iter()
            .filter(|r| r.needs == Some(p))
            .cloned()
            .collect();
        if reads.is_empty() || self.rng.chance(20) {
            return self.boolean(scope, d);
        }
        let read = self.rng.pick(&reads);
        let e = mk(read.kind, read.ty.clone());
        match &read.ty {
            Type::Bool => e,
            Type::String if self.rng.chance(40) => {
                let f =
                    self.rng
                        .pick(&[Builtin::StartsWith, Builtin::Matches, Builtin::StrContains]);
                let pattern = self.constant_expr(&Type::String);
                call(f, vec![e, pattern], Type::Bool)
            }
            Type::Set(elem) => {
                let elem = (**elem).clone();
                let x = self.value(scope, &elem, d);
                call(Builtin::SetContains, vec![e, x], Type::Bool)
            }
            ty if ty.is_set_element() && self.rng.chance(40) => {
                let s = self.value(scope, &set_of(ty), d);
                boxed(ExprKind::In, e, s, Type::Bool)
            }
            ty => {
                let ty = ty.clone();
                let op = if ty.is_ordered() {
                    self.rng
                        .pick(&[CmpOp::Lt, CmpOp::Le, CmpOp::Gt, CmpOp::Ge, CmpOp::Eq])
                } else {
                    self.rng.pick(&[CmpOp::Eq, CmpOp::Ne])
                };
                let other = if ty == Type::Decimal {
                    self.number(scope, d)
                } else {
                    self.value(scope, &ty, d)
                };
                cmp(op, e, other)
            }
        }
    }
}
