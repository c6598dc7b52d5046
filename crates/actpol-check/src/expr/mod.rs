//! Expressions: names resolved, types checked, IR built.
//!
//! A mistake is reported once, where it is made: the expression then has
//! the error type (`ty: None`), which every operation accepts silently, so
//! one misspelt attribute does not also make its comparison and its
//! condition wrong.
//!
//! This module holds the frame an expression is checked in and the entry
//! points; by concern: [`reads`] (envelope, parameters, attributes, context,
//! budgets, risks, variants), [`calls`] (methods and functions),
//! [`windows`], [`operations`] (operators and their mismatches), and
//! [`presence`] (`has` and what conditions prove).

use actpol_core::ids::{ActionId, BudgetId, EntityId, EnumId, NameId};
use actpol_core::ops::{ArithOp, Builtin, CmpOp};
use actpol_core::schema::{KeyKind, Window};
use actpol_core::state::WindowKind;
use actpol_core::types::{Currency, Type};
use actpol_core::value::Value;
use actpol_ir::{self as ir, EnvField, Presence, WindowRead};
use actpol_syntax::ast::{
    self, BinaryOp, BudgetKey, ExprKind, Ident, Literal, Span, UnaryOp, WindowCall, WindowFn,
    WindowSpan,
};

use crate::builtins::{
    env_fields, methods_of, Arg, Receiver, BUDGET_FIELDS, DURATION_UNITS, ENVELOPE_PRESENCE,
    FUNCTIONS, METHODS, ROOTS, ROOT_HELP,
};
use crate::checker::Checker;
use crate::diag::{list, suggest, CheckError};
use crate::literal::{self, Invalid};
use crate::operators::{self, clash, Clash};
use crate::outcome::widen_decimal;
use crate::patterns::parse_pattern;
use crate::schema::{field_lookup, FieldInfo};

mod calls;
mod collections;
mod entities;
mod operations;
mod presence;
mod reads;
mod strings;
mod time;
mod windows;

/// Why part of the envelope cannot be read where an expression stands.
#[derive(Clone, Debug)]
pub(crate) struct Denial {
    pub message: String,
    pub help: String,
}

/// Where an expression stands: which actions it may see (for `params`,
/// `object` and the scope of risks) and what it may not read.
#[derive(Debug)]
pub(crate) struct Frame<'f> {
    pub file: u32,
    pub actions: &'f [ActionId],
    /// The entities `object` may be: those of the actions, or the one a
    /// scope's `records` clause names.
    pub objects: Vec<EntityId>,
    pub params_denied: Option<Denial>,
    pub object_denied: Option<Denial>,
    /// An exact action name in the declaration's patterns is unknown (an
    /// error already): reads that find no action then say nothing more.
    pub unresolved: bool,
}

impl<'f> Frame<'f> {
    /// A rule, raise or risk over these actions.
    pub(crate) fn over(checker: &Checker<'_>, file: u32, actions: &'f [ActionId]) -> Self {
        let mut objects: Vec<EntityId> = actions
            .iter()
            .filter_map(|a| checker.tables.actions[a.index()].object)
            .collect();
        objects.sort_unstable();
        objects.dedup();
        Frame {
            file,
            actions,
            objects,
            params_denied: None,
            object_denied: None,
            unresolved: false,
        }
    }
}

/// What `has` proved present: a part of the envelope, or a part of a
/// value (`xs.first()`, `t.birth_date`) by its path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Fact {
    Present(Presence),
    Part(String),
}

/// The state of checking one expression tree: its frame, what `has` has
/// proven present at the current point, and the variables quantifiers
/// bound around it.
#[derive(Debug)]
pub(crate) struct Cx<'f> {
    pub frame: &'f Frame<'f>,
    pub facts: Vec<Fact>,
    pub vars: Vec<collections::Bound>,
}

impl<'f> Cx<'f> {
    pub(crate) fn new(frame: &'f Frame<'f>) -> Self {
        Cx {
            frame,
            facts: Vec::new(),
            vars: Vec::new(),
        }
    }

    fn proves(&self, p: Presence) -> bool {
        self.facts.contains(&Fact::Present(p))
    }

    fn proves_part(&self, key: &str) -> bool {
        self.facts
            .iter()
            .any(|f| matches!(f, Fact::Part(k) if k == key))
    }

    fn file(&self) -> u32 {
        self.frame.file
    }
}

/// A checked expression; `ty: None` is the error type.
#[derive(Clone, Debug)]
pub(crate) struct Typed {
    pub expr: ir::Expr,
    pub ty: Option<Type>,
}

/// How a field is used, which decides the code of a mistake.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Usage {
    Read,
    Constraint,
}

/// A field looked up over several holders (actions or entities).
enum Lookup {
    Found {
        name: NameId,
        ty: Option<Type>,
        optional: bool,
    },
    /// Not declared on the holder at this index.
    Missing(usize),
    /// Declared with two types.
    Differs(usize, Type, usize, Type),
    /// No holders: nothing to look in.
    Empty,
}

fn lookup(holders: &[&[FieldInfo]], name: Option<NameId>) -> Lookup {
    if holders.is_empty() {
        return Lookup::Empty;
    }
    let Some(name) = name else {
        return Lookup::Missing(0);
    };
    let mut seen: Option<(usize, Type)> = None;
    let mut optional = false;
    for (i, fields) in holders.iter().enumerate() {
        let Some(f) = field_lookup(fields, name) else {
            return Lookup::Missing(i);
        };
        optional |= f.optional;
        match (&seen, &f.ty) {
            (None, Some(t)) => seen = Some((i, t.clone())),
            (Some((j, u)), Some(t)) if u != t => {
                return Lookup::Differs(*j, u.clone(), i, t.clone())
            }
            _ => {}
        }
    }
    Lookup::Found {
        name,
        ty: seen.map(|(_, t)| t),
        optional,
    }
}

fn presence_text(p: Presence) -> &'static str {
    match p {
        Presence::Intent => "intent",
        Presence::Rollback => "rollback",
        Presence::RollbackAction => "rollback.action",
        Presence::RollbackWithin => "rollback.within",
        Presence::Plan => "plan",
        Presence::Param(_) | Presence::Attr(_) | Presence::Context(_) => "the field",
    }
}

/// `Int` operands the runtime must see as `Decimal`.
fn widen(expr: ir::Expr, yes: bool) -> ir::Expr {
    if yes {
        widen_decimal(expr)
    } else {
        expr
    }
}

fn strip_parens(e: &ast::Expr) -> &ast::Expr {
    match &e.kind {
        ExprKind::Paren(inner) => strip_parens(inner),
        _ => e,
    }
}

pub(crate) fn key_kind(key: BudgetKey) -> KeyKind {
    match key {
        BudgetKey::Agent => KeyKind::Agent,
        BudgetKey::Workflow => KeyKind::Workflow,
        BudgetKey::Owner => KeyKind::Owner,
        BudgetKey::Object => KeyKind::Object,
        BudgetKey::Plan => KeyKind::Plan,
    }
}

impl Checker<'_> {
    fn make(&self, cx: &Cx<'_>, span: Span, kind: ir::ExprKind, ty: Option<Type>) -> Typed {
        let span = self.unit.tight(cx.file(), span);
        Typed {
            expr: ir::Expr {
                kind,
                ty: ty.clone().unwrap_or(Type::Bool),
                span: self.unit.src(cx.file(), span),
            },
            ty,
        }
    }

    fn error_typed(&self, cx: &Cx<'_>, span: Span) -> Typed {
        self.make(cx, span, ir::ExprKind::Const(Value::Bool(false)), None)
    }

    fn type_name(&self, ty: &Type) -> String {
        self.schema.type_name(ty)
    }

    fn type_mismatch(
        &mut self,
        file: u32,
        span: Span,
        message: String,
        label: String,
        help: String,
    ) {
        let span = self.unit.tight(file, span);
        self.unit.report(
            file,
            CheckError::TypeMismatch {
                message,
                span: span.into(),
                label,
                also: None,
                also_label: String::new(),
                help,
            },
        );
    }

    fn unknown_name(&mut self, file: u32, span: Span, message: String, label: &str, help: String) {
        let span = self.unit.tight(file, span);
        self.unit.report(
            file,
            CheckError::UnknownName {
                message,
                span: span.into(),
                label: label.to_string(),
                help,
            },
        );
    }

    pub(crate) fn invalid_literal(&mut self, file: u32, span: Span, invalid: Invalid) {
        let span = self.unit.tight(file, span);
        self.unit.report(
            file,
            CheckError::InvalidLiteral {
                message: invalid.message,
                span: span.into(),
                label: invalid.label.to_string(),
                help: invalid.help.to_string(),
            },
        );
    }

    /// Checks an expression.
    pub(crate) fn expr(&mut self, cx: &mut Cx<'_>, e: &ast::Expr) -> Typed {
        match &e.kind {
            ExprKind::Lit(lit) => self.literal(cx, lit, e.span),
            ExprKind::Name(name) => self.name(cx, name),
            ExprKind::Field(base, field) => self.field(cx, e, base, field),
            ExprKind::Method(base, name, args) => self.method(cx, e, base, name, args),
            ExprKind::Call(name, args) => self.call(cx, e, name, args),
            ExprKind::Window(w) => self.window(cx, e, w),
            ExprKind::Unary(op, a) => self.unary(cx, e, *op, a),
            ExprKind::Binary(op, a, b) => self.binary(cx, e, *op, a, b),
            ExprKind::Has(term) => self.has(cx, e, term),
            ExprKind::If(c, a, b) => self.if_expr(cx, e, c, a, b),
            ExprKind::Set(items) => self.set(cx, e, items, None),
            ExprKind::Paren(inner) => self.expr(cx, inner),
        }
    }

    /// Checks an expression where a type is expected: only an empty set
    /// `[]` needs it, to know what it holds.
    pub(crate) fn expect(&mut self, cx: &mut Cx<'_>, e: &ast::Expr, hint: Option<&Type>) -> Typed {
        match (&strip_parens(e).kind, hint) {
            (ExprKind::Set(items), _) => self.set(cx, e, items, hint),
            // `"on time"` where an enum is expected: the variant written
            // as a string, checked like `Status.on_time`.
            (ExprKind::Lit(Literal::String(text)), Some(Type::Enum(id))) => {
                let variant = Ident {
                    name: text.clone(),
                    span: e.span,
                };
                self.variant(cx, *id, &variant, e.span)
            }
            _ => self.expr(cx, e),
        }
    }

    /// Checks a `Bool` expression: a rule's `when`, a raise's, a scope's.
    pub(crate) fn condition(&mut self, cx: &mut Cx<'_>, e: &ast::Expr, what: &str) -> Typed {
        let typed = self.expr(cx, e);
        if let Some(ty) = &typed.ty {
            if *ty != Type::Bool {
                let name = self.type_name(ty);
                self.type_mismatch(
                    cx.file(),
                    e.span,
                    format!("the condition of {what} must be `Bool`, not `{name}`"),
                    format!("this is `{name}`"),
                    "compare the value with something, as in `params.recipients > 100`".into(),
                );
            }
        }
        typed
    }

    fn literal(&mut self, cx: &Cx<'_>, lit: &Literal, span: Span) -> Typed {
        let converted = match lit {
            Literal::Int(text) => literal::int(text).map(|v| (Value::Int(v), Type::Int)),
            Literal::Decimal(text) => {
                literal::decimal(text).map(|v| (Value::Decimal(v), Type::Decimal))
            }
            Literal::Money { amount, currency } => match Currency::parse(currency) {
                Some(c) => literal::decimal(amount).map(|v| (Value::Money(v), Type::Money(c))),
                None => Err(Invalid {
                    message: format!("`{currency}` is not a currency code"),
                    label: "not a currency",
                    help: "write three capital letters, as in `500 USD`",
                }),
            },
            Literal::Duration(d) => {
                literal::duration(&d.text).map(|v| (Value::Duration(v), Type::Duration))
            }
            Literal::TimeOfDay(text) => {
                literal::time_of_day(text).map(|v| (Value::Duration(v), Type::Duration))
            }
            Literal::String(s) => Ok((Value::str(s), Type::String)),
            Literal::Bool(b) => Ok((Value::Bool(*b), Type::Bool)),
        };
        match converted {
            Ok((value, ty)) => self.make(cx, span, ir::ExprKind::Const(value), Some(ty)),
            Err(invalid) => {
                self.invalid_literal(cx.file(), span, invalid);
                self.error_typed(cx, span)
            }
        }
    }

    fn name(&mut self, cx: &Cx<'_>, name: &Ident) -> Typed {
        if let Some(var) = self.variable(cx, name) {
            return var;
        }
        let text = name.name.as_str();
        let env = match text {
            "now" => Some((EnvField::Now, Type::Timestamp)),
            "reversible" => Some((EnvField::Reversible, Type::Bool)),
            _ => None,
        };
        if let Some((field, ty)) = env {
            return self.make(cx, name.span, ir::ExprKind::Env(field), Some(ty));
        }
        if let Some((_, help)) = ROOT_HELP.iter().find(|(root, _)| *root == text) {
            self.unknown_name(
                cx.file(),
                name.span,
                format!("`{text}` is not a value on its own"),
                "needs a field",
                help.to_string(),
            );
        } else if let Some(def) = self.schema.enums.get(text) {
            let first = def.variants.first().map_or("…", String::as_str);
            self.unknown_name(
                cx.file(),
                name.span,
                format!("enum `{text}` is a type, not a value"),
                "a type",
                format!("write one of its variants, as in `{text}.{first}`"),
            );
        } else {
            let help = self.unknown_name_help(text);
            self.unknown_name(
                cx.file(),
                name.span,
                format!("unknown name `{text}`"),
                "not known here",
                help,
            );
        }
        self.error_typed(cx, name.span)
    }

    fn unknown_name_help(&self, text: &str) -> String {
        if self.risk_ids.contains_key(text) {
            return format!("to read the risk, write `risk.{text}`");
        }
        if self.budgets.contains_key(text) {
            return format!("to read the budget, write `budget.{text}.remaining`");
        }
        let owners: Vec<&str> = self
            .schema
            .enums
            .iter()
            .filter(|(_, def)| def.variants.iter().any(|v| v == text))
            .map(|(name, _)| name.as_str())
            .collect();
        if let [owner] = owners[..] {
            return format!("`{text}` is a variant of enum `{owner}`: write `{owner}.{text}`");
        }
        if !owners.is_empty() {
            let written: Vec<String> = owners.iter().map(|o| format!("{o}.{text}")).collect();
            return format!(
                "`{text}` is a variant of several enums: write one of {}",
                list(written.iter().map(String::as_str), 5)
            );
        }
        let candidates = ROOTS
            .iter()
            .copied()
            .chain(self.schema.enums.keys().map(String::as_str));
        suggest(text, candidates, || {
            "an expression reads `params`, `object`, `context`, `agent`, `action`, `now`, `budget`, `risk`, an enum, or a literal".into()
        })
    }

    fn if_expr(
        &mut self,
        cx: &mut Cx<'_>,
        e: &ast::Expr,
        c: &ast::Expr,
        a: &ast::Expr,
        b: &ast::Expr,
    ) -> Typed {
        let cond = self.condition(cx, c, "`if`");
        let mark = cx.facts.len();
        self.facts_if(c, true, &mut cx.facts);
        let then = self.expr(cx, a);
        cx.facts.truncate(mark);
        self.facts_if(c, false, &mut cx.facts);
        let other = self.expect(cx, b, then.ty.as_ref());
        cx.facts.truncate(mark);
        let (Some(x), Some(y)) = (then.ty.clone(), other.ty.clone()) else {
            return self.error_typed(cx, e.span);
        };
        let Some(t) = operators::join(&x, &y) else {
            self.mismatch(cx.file(), "if … then … else", (a, &x), (b, &y));
            return self.error_typed(cx, e.span);
        };
        let kind = ir::ExprKind::If(
            Box::new(cond.expr),
            Box::new(widen(then.expr, t.widen_left)),
            Box::new(widen(other.expr, t.widen_right)),
        );
        self.make(cx, e.span, kind, Some(t.result))
    }

    fn set(
        &mut self,
        cx: &mut Cx<'_>,
        e: &ast::Expr,
        items: &[ast::Expr],
        hint: Option<&Type>,
    ) -> Typed {
        let Some((first, rest)) = items.split_first() else {
            if let Some(Type::Set(elem)) = hint {
                let ty = Type::Set(elem.clone());
                return self.make(
                    cx,
                    e.span,
                    ir::ExprKind::Const(Value::set(Vec::new())),
                    Some(ty),
                );
            }
            self.type_mismatch(
                cx.file(),
                e.span,
                "cannot tell what `[]` holds here".into(),
                "an empty set of unknown type".into(),
                "compare it with a value of known set type, as in `object.tags == []`".into(),
            );
            return self.error_typed(cx, e.span);
        };
        let elem_hint = match hint {
            Some(Type::Set(elem) | Type::List(elem)) => Some(&**elem),
            _ => None,
        };
        let head = self.expect(cx, first, elem_hint);
        let mut elem = head.ty.clone();
        let mut exprs = vec![head.expr];
        for item in rest {
            let typed = self.expect(cx, item, elem.as_ref().or(elem_hint));
            match (&elem, &typed.ty) {
                (Some(t), Some(u)) if t != u => {
                    let (tn, un) = (self.type_name(t), self.type_name(u));
                    self.type_mismatch(
                        cx.file(),
                        item.span,
                        format!(
                            "a set's elements share one type; this is `{un}`, the first is `{tn}`"
                        ),
                        format!("this is `{un}`"),
                        format!("make every element a `{tn}`"),
                    );
                }
                (None, Some(_)) => elem = typed.ty.clone(),
                _ => {}
            }
            exprs.push(typed.expr);
        }
        let Some(elem) = elem else {
            return self.error_typed(cx, e.span);
        };
        if !elem.is_set_element() {
            let name = self.type_name(&elem);
            self.invalid_type(
                cx.file(),
                self.unit.tight(cx.file(), e.span),
                format!("a set cannot hold `{name}` values"),
                &format!("a set of `{name}`"),
                "sets hold strings, numbers, money, durations, timestamps, enums, entities and records",
            );
            return self.error_typed(cx, e.span);
        }
        let ty = Type::Set(Box::new(elem));
        self.make(cx, e.span, ir::ExprKind::SetLit(exprs), Some(ty))
    }
}

/// `has intent`, `has rollback.action`…: parts of the envelope that are
/// optional by nature.
fn envelope_presence(term: &ast::Expr) -> Option<Presence> {
    let (root, field) = match &term.kind {
        ExprKind::Name(n) => (n.name.as_str(), None),
        ExprKind::Field(base, f) => match &base.kind {
            ExprKind::Name(n) => (n.name.as_str(), Some(f.name.as_str())),
            _ => return None,
        },
        _ => return None,
    };
    ENVELOPE_PRESENCE
        .iter()
        .find(|(r, f, _)| *r == root && *f == field)
        .map(|(_, _, p)| *p)
}
