//! Expressions: names resolved, types checked, IR built.
//!
//! A mistake is reported once, where it is made: the expression then has
//! the error type (`ty: None`), which every operation accepts silently, so
//! one misspelt attribute does not also make its comparison and its
//! condition wrong.

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
    env_fields, methods_of, Arg, Receiver, BUDGET_FIELDS, ENVELOPE_PRESENCE, FUNCTIONS, METHODS,
    ROOTS, ROOT_HELP,
};
use crate::checker::Checker;
use crate::diag::{list, suggest, CheckError};
use crate::literal::{self, Invalid};
use crate::operators::{self, clash, Clash};
use crate::outcome::widen_decimal;
use crate::patterns::parse_pattern;
use crate::schema::{field_lookup, FieldInfo};

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

/// The state of checking one expression tree: its frame, and what `has`
/// has proven present at the current point.
#[derive(Debug)]
pub(crate) struct Cx<'f> {
    pub frame: &'f Frame<'f>,
    pub facts: Vec<Presence>,
}

impl<'f> Cx<'f> {
    pub(crate) fn new(frame: &'f Frame<'f>) -> Self {
        Cx {
            frame,
            facts: Vec::new(),
        }
    }

    fn proves(&self, p: Presence) -> bool {
        self.facts.contains(&p)
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

    fn invalid_literal(&mut self, file: u32, span: Span, invalid: Invalid) {
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
        match &strip_parens(e).kind {
            ExprKind::Set(items) => self.set(cx, e, items, hint),
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
        let candidates = ROOTS
            .iter()
            .copied()
            .chain(self.schema.enums.keys().map(String::as_str));
        suggest(text, candidates, || {
            "an expression reads `params`, `object`, `context`, `agent`, `action`, `now`, `budget`, `risk`, an enum, or a literal".into()
        })
    }

    fn field(&mut self, cx: &mut Cx<'_>, e: &ast::Expr, base: &ast::Expr, field: &Ident) -> Typed {
        match &base.kind {
            ExprKind::Name(root) => {
                let r = root.name.as_str();
                match r {
                    "params" => return self.read_param(cx, field, e.span),
                    "object" if field.name != "id" => return self.read_attr(cx, field, e.span),
                    "context" => return self.read_context(cx, field, e.span),
                    "budget" => return self.budget_without_field(cx, field, e.span),
                    "risk" => return self.read_risk(cx, field, e.span),
                    _ if env_fields(r).next().is_some() => {
                        return self.read_env(cx, root, field, e.span)
                    }
                    _ => {}
                }
                if let Some(id) = self.schema.enums.get_index_of(r) {
                    return self.variant(cx, EnumId::from_index(id), field, e.span);
                }
            }
            ExprKind::Field(inner, budget) => {
                if matches!(&inner.kind, ExprKind::Name(r) if r.name == "budget") {
                    return self.read_budget(cx, budget, field, e.span);
                }
            }
            _ => {}
        }
        let base_t = self.expr(cx, base);
        if let Some(ty) = &base_t.ty {
            let name = self.type_name(ty);
            let help = match ty {
                Type::Entity(_) => format!(
                    "`{}` is a reference (an id): only the object's own attributes can be read",
                    self.unit.text(cx.file(), base.span)
                ),
                _ => "only `params`, `object`, `context`, `agent`, `action`, `intent`, `rollback`, `plan`, `now`, `budget` and `risk` have fields".into(),
            };
            self.type_mismatch(
                cx.file(),
                field.span,
                format!("a `{name}` value has no field `{}`", field.name),
                "no such field".into(),
                help,
            );
        }
        self.error_typed(cx, e.span)
    }

    fn read_env(&mut self, cx: &Cx<'_>, root: &Ident, field: &Ident, span: Span) -> Typed {
        let found = env_fields(&root.name)
            .find(|r| r.field == field.name)
            .copied();
        let Some(read) = found else {
            let fields: Vec<&str> = env_fields(&root.name).map(|r| r.field).collect();
            let help = suggest(&field.name, fields.iter().copied(), || {
                format!("`{}` has {}", root.name, list(fields.iter().copied(), 5))
            });
            self.unknown_name(
                cx.file(),
                field.span,
                format!("`{}` has no field `{}`", root.name, field.name),
                "no such field",
                help,
            );
            return self.error_typed(cx, span);
        };
        if let Some(needs) = read.needs {
            if !cx.proves(needs) {
                let text = format!("{}.{}", read.root, read.field);
                self.optional_without_has(cx.file(), span, &text, presence_text(needs));
            }
        }
        self.make(cx, span, ir::ExprKind::Env(read.env), Some(read.ty.ty()))
    }

    fn optional_without_has(&mut self, file: u32, span: Span, field: &str, has: &str) {
        let span = self.unit.tight(file, span);
        self.unit.report(
            file,
            CheckError::OptionalWithoutHas {
                field: field.to_string(),
                span: span.into(),
                help: format!("test `has {has}` first, as in `has {has} and {field} …`"),
            },
        );
    }

    fn read_param(&mut self, cx: &Cx<'_>, field: &Ident, span: Span) -> Typed {
        let Some((name, ty, optional)) = self.param_field(cx.frame, field, span, Usage::Read)
        else {
            return self.error_typed(cx, span);
        };
        if optional && !cx.proves(Presence::Param(name)) {
            let text = format!("params.{}", field.name);
            self.optional_without_has(cx.file(), span, &text, &text);
        }
        self.make(cx, span, ir::ExprKind::Param(name), ty)
    }

    /// Looks up a parameter over the frame's actions, reporting a mistake
    /// (and returning `None`) when it is not declared with one type on all.
    pub(crate) fn param_field(
        &mut self,
        frame: &Frame<'_>,
        field: &Ident,
        span: Span,
        usage: Usage,
    ) -> Option<(NameId, Option<Type>, bool)> {
        let file = frame.file;
        if let Some(denial) = &frame.params_denied {
            let (message, help) = (denial.message.clone(), denial.help.clone());
            self.param_error(
                file,
                span,
                usage,
                message,
                "`params` cannot be read here".into(),
                help,
            );
            return None;
        }
        let holders: Vec<&[FieldInfo]> = frame
            .actions
            .iter()
            .map(|a| self.tables.actions[a.index()].params.as_slice())
            .collect();
        let name = self
            .schema
            .field_names
            .get_index_of(&field.name)
            .map(NameId::from_index);
        let x = &field.name;
        match lookup(&holders, name) {
            Lookup::Found { name, ty, optional } => return Some((name, ty, optional)),
            Lookup::Missing(i) => {
                let action = frame.actions[i];
                let action_name = self.schema.action_name(action).to_string();
                let declared_on = frame.actions.iter().copied().find(|a| {
                    name.is_some_and(|n| {
                        field_lookup(&self.tables.actions[a.index()].params, n).is_some()
                    })
                });
                let own: Vec<&str> = self.tables.actions[action.index()]
                    .params
                    .iter()
                    .map(|p| self.schema.field_name(p.name))
                    .collect();
                let help = match declared_on {
                    Some(other) => format!(
                        "`{x}` is declared on `{}` but not on `{action_name}`: narrow the patterns so every action declares it, or split the rule",
                        self.schema.action_name(other)
                    ),
                    None => suggest(x, own.iter().copied(), || {
                        format!("declare `{x}` in the `params {{ … }}` of action `{action_name}`; it has {}", list(own.iter().copied(), 5))
                    }),
                };
                let (message, label) = match usage {
                    Usage::Read => (
                        format!("`params.{x}` is not declared on `{action_name}`"),
                        format!("not a parameter of `{action_name}`"),
                    ),
                    Usage::Constraint => (
                        format!("cannot constrain `params.{x}`: action `{action_name}` does not declare it"),
                        format!("not a parameter of `{action_name}`"),
                    ),
                };
                self.param_error(file, field.span, usage, message, label, help);
            }
            Lookup::Differs(i, t, j, u) => {
                let (a, b) = (frame.actions[i], frame.actions[j]);
                let message = format!(
                    "`params.{x}` is `{}` on `{}` but `{}` on `{}`",
                    self.type_name(&t),
                    self.schema.action_name(a),
                    self.type_name(&u),
                    self.schema.action_name(b)
                );
                self.param_error(
                    file,
                    field.span,
                    usage,
                    message,
                    "one name, two types".into(),
                    "split the rule so the actions of each part agree on the parameter's type"
                        .into(),
                );
            }
            Lookup::Empty if frame.unresolved => {}
            Lookup::Empty => {
                self.param_error(
                    file,
                    field.span,
                    usage,
                    format!("`params.{x}` has no type here: the patterns match no declared action"),
                    "no action to read it from".into(),
                    "fix the action patterns (see the warning on them)".into(),
                );
            }
        }
        None
    }

    fn param_error(
        &mut self,
        file: u32,
        span: Span,
        usage: Usage,
        message: String,
        label: String,
        help: String,
    ) {
        let span = self.unit.tight(file, span);
        let span = span.into();
        let diag = match usage {
            Usage::Read => CheckError::UnknownParam {
                message,
                span,
                label,
                help,
            },
            Usage::Constraint => CheckError::ConstrainUnknownParam {
                message,
                span,
                label,
                help,
            },
        };
        self.unit.report(file, diag);
    }

    fn read_attr(&mut self, cx: &Cx<'_>, field: &Ident, span: Span) -> Typed {
        let Some((name, ty, optional)) = self.attr_field(cx.frame, field, span) else {
            return self.error_typed(cx, span);
        };
        if optional && !cx.proves(Presence::Attr(name)) {
            let text = format!("object.{}", field.name);
            self.optional_without_has(cx.file(), span, &text, &text);
        }
        self.make(cx, span, ir::ExprKind::Attr(name), ty)
    }

    fn attr_field(
        &mut self,
        frame: &Frame<'_>,
        field: &Ident,
        span: Span,
    ) -> Option<(NameId, Option<Type>, bool)> {
        let file = frame.file;
        let x = &field.name;
        if let Some(denial) = &frame.object_denied {
            let (message, help) = (denial.message.clone(), denial.help.clone());
            self.attr_error(
                file,
                span,
                message,
                "`object` cannot be read here".into(),
                help,
            );
            return None;
        }
        let holders: Vec<&[FieldInfo]> = frame
            .objects
            .iter()
            .map(|e| self.tables.entities[e.index()].as_slice())
            .collect();
        let name = self
            .schema
            .field_names
            .get_index_of(x)
            .map(NameId::from_index);
        match lookup(&holders, name) {
            Lookup::Found { name, ty, optional } => return Some((name, ty, optional)),
            Lookup::Missing(i) => {
                let entity = frame.objects[i];
                let entity_name = self.schema.entity_name(entity).to_string();
                let own: Vec<&str> = self.tables.entities[entity.index()]
                    .iter()
                    .map(|f| self.schema.field_name(f.name))
                    .collect();
                let help = suggest(x, own.iter().copied(), || {
                    let shown = list(own.iter().copied().chain(["id"]), 6);
                    if frame.objects.len() > 1 {
                        format!("a rule reads only attributes every object type of its actions declares; `{entity_name}` has {shown}")
                    } else {
                        format!("`{entity_name}` has {shown}")
                    }
                });
                self.attr_error(
                    file,
                    field.span,
                    format!("`{entity_name}` has no attribute `{x}`"),
                    format!("not an attribute of `{entity_name}`"),
                    help,
                );
            }
            Lookup::Differs(i, t, j, u) => {
                let message = format!(
                    "`object.{x}` is `{}` on `{}` but `{}` on `{}`",
                    self.type_name(&t),
                    self.schema.entity_name(frame.objects[i]),
                    self.type_name(&u),
                    self.schema.entity_name(frame.objects[j])
                );
                self.attr_error(
                    file,
                    field.span,
                    message,
                    "one name, two types".into(),
                    "split the rule so the object types of each part agree on the attribute's type"
                        .into(),
                );
            }
            // Actions whose object is unknown were reported where declared.
            Lookup::Empty if !frame.actions.is_empty() || frame.unresolved => {}
            Lookup::Empty => self.attr_error(
                file,
                field.span,
                format!("`object.{x}` has no type here: the patterns match no declared action"),
                "no object type to read it from".into(),
                "fix the action patterns (see the warning on them)".into(),
            ),
        }
        None
    }

    fn attr_error(&mut self, file: u32, span: Span, message: String, label: String, help: String) {
        let span = self.unit.tight(file, span);
        self.unit.report(
            file,
            CheckError::UnknownAttribute {
                message,
                span: span.into(),
                label,
                help,
            },
        );
    }

    fn context_field(&mut self, file: u32, field: &Ident) -> Option<&FieldInfo> {
        let name = self
            .schema
            .field_names
            .get_index_of(&field.name)
            .map(NameId::from_index);
        let found = name
            .and_then(|n| field_lookup(&self.tables.context, n))
            .is_some();
        if !found {
            let names: Vec<&str> = self
                .tables
                .context
                .iter()
                .map(|f| self.schema.field_name(f.name))
                .collect();
            let help = suggest(&field.name, names.iter().copied(), || {
                format!(
                    "declare it in the policy's `context {{ … }}` block, as in `{}: String`",
                    field.name
                )
            });
            self.unit.report(
                file,
                CheckError::UnknownContext {
                    name: field.name.clone(),
                    span: field.span.into(),
                    help,
                },
            );
            return None;
        }
        name.and_then(|n| field_lookup(&self.tables.context, n))
    }

    fn read_context(&mut self, cx: &Cx<'_>, field: &Ident, span: Span) -> Typed {
        let Some(f) = self.context_field(cx.file(), field).cloned() else {
            return self.error_typed(cx, span);
        };
        if f.optional && !cx.proves(Presence::Context(f.name)) {
            let text = format!("context.{}", field.name);
            self.optional_without_has(cx.file(), span, &text, &text);
        }
        self.make(cx, span, ir::ExprKind::Context(f.name), f.ty)
    }

    /// Resolves a budget name, reporting an unknown one.
    pub(crate) fn budget_id(&mut self, file: u32, name: &Ident) -> Option<BudgetId> {
        if let Some(i) = self.budgets.get_index_of(&name.name) {
            self.budget_used[i] = true;
            return Some(BudgetId::from_index(i));
        }
        let help = suggest(&name.name, self.budgets.keys().map(String::as_str), || {
            format!(
                "declare it with `budget {}: Int {{ limit … window … per … }}`",
                name.name
            )
        });
        self.unit.report(
            file,
            CheckError::UnknownBudget {
                name: name.name.clone(),
                span: name.span.into(),
                help,
            },
        );
        None
    }

    fn read_budget(&mut self, cx: &Cx<'_>, budget: &Ident, field: &Ident, span: Span) -> Typed {
        let Some(id) = self.budget_id(cx.file(), budget) else {
            return self.error_typed(cx, span);
        };
        let Some((_, which)) = BUDGET_FIELDS.iter().find(|(n, _)| *n == field.name) else {
            let help = suggest(&field.name, BUDGET_FIELDS.iter().map(|(n, _)| *n), || {
                "a budget has `remaining`, `consumed` and `limit`".into()
            });
            self.unknown_name(
                cx.file(),
                field.span,
                format!("budget `{}` has no field `{}`", budget.name, field.name),
                "no such field",
                help,
            );
            return self.error_typed(cx, span);
        };
        let ty = self.budget_types[id.index()].clone();
        self.make(cx, span, ir::ExprKind::Budget(id, *which), ty)
    }

    fn budget_without_field(&mut self, cx: &Cx<'_>, budget: &Ident, span: Span) -> Typed {
        if self.budget_id(cx.file(), budget).is_some() {
            self.unknown_name(
                cx.file(),
                span,
                format!("`budget.{}` is not a value on its own", budget.name),
                "needs a field",
                format!(
                    "read `budget.{0}.remaining`, `budget.{0}.consumed` or `budget.{0}.limit`",
                    budget.name
                ),
            );
        }
        self.error_typed(cx, span)
    }

    fn read_risk(&mut self, cx: &Cx<'_>, name: &Ident, span: Span) -> Typed {
        let Some(&id) = self.risk_ids.get(&name.name) else {
            let help = suggest(&name.name, self.risk_ids.keys().map(String::as_str), || {
                format!("declare it with `risk {} = <expression>`", name.name)
            });
            self.unknown_name(
                cx.file(),
                name.span,
                format!("unknown risk `{}`", name.name),
                "no risk is called this",
                help,
            );
            return self.error_typed(cx, span);
        };
        let ty = self.risk_type(id, cx.file(), span);
        let uncovered = self.risks[id.index()].actions.as_ref().and_then(|covers| {
            cx.frame
                .actions
                .iter()
                .find(|a| covers.binary_search(a).is_err())
                .copied()
        });
        if let Some(action) = uncovered {
            let action = self.schema.action_name(action).to_string();
            self.unit.report(
                cx.file(),
                CheckError::RiskOutOfScope {
                    risk: name.name.clone(),
                    action: action.clone(),
                    span: self.unit.tight(cx.file(), span).into(),
                    help: format!(
                        "add `{action}` to the risk's `on` patterns, or narrow this rule to the actions the risk covers"
                    ),
                },
            );
        }
        self.make(cx, span, ir::ExprKind::Risk(id), ty)
    }

    fn variant(&mut self, cx: &Cx<'_>, id: EnumId, variant: &Ident, span: Span) -> Typed {
        let def = self.schema.enum_def(id);
        if let Some(index) = def.variant(&variant.name) {
            return self.make(
                cx,
                span,
                ir::ExprKind::Const(Value::Enum(index)),
                Some(Type::Enum(id)),
            );
        }
        let enum_name = self.schema.enum_name(id).to_string();
        let help = suggest(
            &variant.name,
            def.variants.iter().map(String::as_str),
            || {
                format!(
                    "the variants are {}",
                    list(def.variants.iter().map(String::as_str), 8)
                )
            },
        );
        self.unit.report(
            cx.file(),
            CheckError::UnknownVariant {
                enum_name,
                variant: variant.name.clone(),
                span: variant.span.into(),
                help,
            },
        );
        self.error_typed(cx, span)
    }

    fn method(
        &mut self,
        cx: &mut Cx<'_>,
        e: &ast::Expr,
        base: &ast::Expr,
        name: &Ident,
        args: &[ast::Expr],
    ) -> Typed {
        if matches!(&base.kind, ExprKind::Name(r) if r.name == "action") {
            if name.name == "touches" {
                return self.touches(cx, e, name, args);
            }
            let help = suggest(&name.name, ["touches"], || {
                "`action` has one method, `touches(<data class>)`".into()
            });
            self.unknown_name(
                cx.file(),
                name.span,
                format!("`action` has no method `{}`", name.name),
                "no such method",
                help,
            );
            return self.error_typed(cx, e.span);
        }
        let recv = self.expr(cx, base);
        let Some(recv_ty) = recv.ty.clone() else {
            self.check_args(cx, args);
            return self.error_typed(cx, e.span);
        };
        let found =
            Receiver::of(&recv_ty).and_then(|on| methods_of(on).find(|m| m.name == name.name));
        let Some(m) = found.copied() else {
            self.unknown_method(cx.file(), name, &recv_ty);
            self.check_args(cx, args);
            return self.error_typed(cx, e.span);
        };
        let arity = usize::from(m.arg != Arg::None);
        if args.len() != arity {
            self.wrong_arity(
                cx.file(),
                e.span,
                &format!(".{}", m.name),
                arity,
                args.len(),
            );
            self.check_args(cx, args);
            return self.error_typed(cx, e.span);
        }
        let wanted = match (&m.arg, &recv_ty) {
            (Arg::String, _) => Some(Type::String),
            (Arg::Element, Type::Set(elem)) => Some((**elem).clone()),
            (Arg::SameSet, _) => Some(recv_ty.clone()),
            _ => None,
        };
        let mut call_args = vec![recv.expr];
        if let (Some(arg), Some(wanted)) = (args.first(), wanted) {
            let typed = self.expect(cx, arg, Some(&wanted));
            if let Some(found) = &typed.ty {
                if *found != wanted {
                    let (w, f) = (self.type_name(&wanted), self.type_name(found));
                    self.type_mismatch(
                        cx.file(),
                        arg.span,
                        format!(
                            "`.{}` on `{}` takes `{w}`, not `{f}`",
                            m.name,
                            self.type_name(&recv_ty)
                        ),
                        format!("this is `{f}`"),
                        format!("pass a value of type `{w}`"),
                    );
                }
            }
            call_args.push(typed.expr);
        }
        let ty = if m.yields_bool { Type::Bool } else { Type::Int };
        self.make(
            cx,
            e.span,
            ir::ExprKind::Call(m.builtin, call_args),
            Some(ty),
        )
    }

    fn unknown_method(&mut self, file: u32, name: &Ident, recv_ty: &Type) {
        let ty_name = self.type_name(recv_ty);
        let help = match Receiver::of(recv_ty) {
            Some(on) => suggest(&name.name, methods_of(on).map(|m| m.name), || {
                format!("`{ty_name}` has {}", list(methods_of(on).map(|m| m.name), 6))
            }),
            None => "methods apply to strings (`starts_with`, `ends_with`, `contains`, `matches`, `len`) and sets (`contains`, `contains_any`, `contains_all`, `len`)".into(),
        };
        self.unknown_name(
            file,
            name.span,
            format!("`{ty_name}` has no method `{}`", name.name),
            "no such method",
            help,
        );
    }

    /// Checks arguments of a call that failed, for their own mistakes.
    fn check_args(&mut self, cx: &mut Cx<'_>, args: &[ast::Expr]) {
        for arg in args {
            self.expr(cx, arg);
        }
    }

    fn wrong_arity(&mut self, file: u32, span: Span, func: &str, expected: usize, found: usize) {
        let span = self.unit.tight(file, span);
        let count = |n: usize| match n {
            0 => "no argument".to_string(),
            1 => "1 argument".to_string(),
            n => format!("{n} arguments"),
        };
        let (expected, found) = (count(expected), count(found));
        self.unit.report(
            file,
            CheckError::WrongArity {
                func: func.to_string(),
                help: format!("give `{func}` {expected}"),
                expected,
                found: match found.as_str() {
                    "no argument" => "none is".into(),
                    "1 argument" => "1 is".into(),
                    _ => format!("{} are", found.trim_end_matches(" arguments")),
                },
                span: span.into(),
            },
        );
    }

    fn touches(&mut self, cx: &Cx<'_>, e: &ast::Expr, name: &Ident, args: &[ast::Expr]) -> Typed {
        let [arg] = args else {
            self.wrong_arity(cx.file(), e.span, "action.touches", 1, args.len());
            return self.error_typed(cx, e.span);
        };
        let ExprKind::Name(class) = &strip_parens(arg).kind else {
            self.type_mismatch(
                cx.file(),
                arg.span,
                format!("`action.{}` takes the name of a data class", name.name),
                "not a data class name".into(),
                "write a declared data class, as in `action.touches(pii)`".into(),
            );
            return self.error_typed(cx, e.span);
        };
        match self.data_class_id(cx.file(), class) {
            Some(id) => self.make(cx, e.span, ir::ExprKind::Touches(id), Some(Type::Bool)),
            None => self.error_typed(cx, e.span),
        }
    }

    fn call(&mut self, cx: &mut Cx<'_>, e: &ast::Expr, name: &Ident, args: &[ast::Expr]) -> Typed {
        let Some(&(func, arity)) = FUNCTIONS.iter().find(|(f, _)| *f == name.name) else {
            let text = name.name.as_str();
            let help = if METHODS.iter().any(|m| m.name == text) {
                format!("`{text}` is a method: write `<value>.{text}(…)`")
            } else if matches!(text, "count" | "sum" | "baseline") {
                format!("`{text}` reads a window: write `{text}(<actions> over <window>)`, as in `count(crm.* over 1h)`")
            } else {
                suggest(text, FUNCTIONS.iter().map(|(f, _)| *f), || {
                    "the functions are `min`, `max`, `abs` and `timestamp`".into()
                })
            };
            self.unknown_name(
                cx.file(),
                name.span,
                format!("unknown function `{text}`"),
                "no such function",
                help,
            );
            self.check_args(cx, args);
            return self.error_typed(cx, e.span);
        };
        if args.len() != arity {
            self.wrong_arity(cx.file(), e.span, func, arity, args.len());
            self.check_args(cx, args);
            return self.error_typed(cx, e.span);
        }
        match func {
            "timestamp" => self.timestamp(cx, e, &args[0]),
            "abs" => self.abs(cx, e, &args[0]),
            _ => {
                let builtin = if func == "min" {
                    Builtin::Min
                } else {
                    Builtin::Max
                };
                self.min_max(cx, e, builtin, &args[0], &args[1])
            }
        }
    }

    fn timestamp(&mut self, cx: &Cx<'_>, e: &ast::Expr, arg: &ast::Expr) -> Typed {
        let ExprKind::Lit(Literal::String(text)) = &strip_parens(arg).kind else {
            self.unit.report(
                cx.file(),
                CheckError::NotConstant {
                    message: "`timestamp(…)` needs a constant string".into(),
                    span: self.unit.tight(cx.file(), arg.span).into(),
                    help: "write the instant as text, as in `timestamp(\"2026-11-25T14:00:00Z\")`"
                        .into(),
                },
            );
            return self.error_typed(cx, e.span);
        };
        match literal::timestamp(text) {
            Ok(ms) => self.make(
                cx,
                e.span,
                ir::ExprKind::Const(Value::Timestamp(ms)),
                Some(Type::Timestamp),
            ),
            Err(invalid) => {
                self.invalid_literal(cx.file(), arg.span, invalid);
                self.error_typed(cx, e.span)
            }
        }
    }

    fn abs(&mut self, cx: &mut Cx<'_>, e: &ast::Expr, arg: &ast::Expr) -> Typed {
        let typed = self.expr(cx, arg);
        let Some(ty) = typed.ty.clone() else {
            return self.error_typed(cx, e.span);
        };
        if !operators::negatable(&ty) {
            let name = self.type_name(&ty);
            self.type_mismatch(
                cx.file(),
                arg.span,
                format!("`abs` takes a number, an amount or a duration, not `{name}`"),
                format!("this is `{name}`"),
                "pass an `Int`, `Decimal`, `Money<…>` or `Duration`".into(),
            );
            return self.error_typed(cx, e.span);
        }
        self.make(
            cx,
            e.span,
            ir::ExprKind::Call(Builtin::Abs, vec![typed.expr]),
            Some(ty),
        )
    }

    fn min_max(
        &mut self,
        cx: &mut Cx<'_>,
        e: &ast::Expr,
        f: Builtin,
        a: &ast::Expr,
        b: &ast::Expr,
    ) -> Typed {
        let at = self.expr(cx, a);
        let bt = self.expect(cx, b, at.ty.as_ref());
        let (Some(x), Some(y)) = (at.ty.clone(), bt.ty.clone()) else {
            return self.error_typed(cx, e.span);
        };
        let Some(t) = operators::join(&x, &y) else {
            self.mismatch(cx.file(), f.name(), (a, &x), (b, &y));
            return self.error_typed(cx, e.span);
        };
        if !t.result.is_ordered() {
            let name = self.type_name(&t.result);
            self.type_mismatch(
                cx.file(),
                e.span,
                format!("`{}` needs ordered values; `{name}` has no order", f.name()),
                format!("`{name}` values"),
                "pass numbers, amounts, durations or timestamps".into(),
            );
            return self.error_typed(cx, e.span);
        }
        let args = vec![widen(at.expr, t.widen_left), widen(bt.expr, t.widen_right)];
        self.make(cx, e.span, ir::ExprKind::Call(f, args), Some(t.result))
    }

    fn window(&mut self, cx: &Cx<'_>, e: &ast::Expr, w: &WindowCall) -> Typed {
        let file = cx.file();
        let window = self.window_span(file, w);
        let key = w.by.as_ref().map_or(KeyKind::Agent, |b| key_kind(b.key));
        let target = match w.func {
            WindowFn::Count => self
                .window_pattern(file, &w.target)
                .map(|p| (p, None, Type::Int)),
            WindowFn::Baseline => self
                .window_pattern(file, &w.target)
                .map(|p| (p, None, Type::Decimal)),
            WindowFn::Sum => self.sum_target(file, &w.target),
        };
        let (Some(window), Some((pattern, param, ty))) = (window, target) else {
            return self.error_typed(cx, e.span);
        };
        let kind = match w.func {
            WindowFn::Count => WindowKind::Count,
            WindowFn::Sum => WindowKind::Sum,
            WindowFn::Baseline => WindowKind::Baseline,
        };
        let read = WindowRead {
            kind,
            pattern,
            param,
            window,
            key,
        };
        self.make(cx, e.span, ir::ExprKind::Window(read), Some(ty))
    }

    fn window_span(&mut self, file: u32, w: &WindowCall) -> Option<Window> {
        match &w.over {
            WindowSpan::Duration(d) => match literal::duration(&d.text) {
                Ok(0) => {
                    self.invalid_literal(
                        file,
                        d.span,
                        Invalid {
                            message: format!("a window of `{}` holds nothing", d.text),
                            label: "zero length",
                            help: "give the window a length, as in `over 1h`",
                        },
                    );
                    None
                }
                Ok(ms) => Some(Window::Span(ms)),
                Err(invalid) => {
                    self.invalid_literal(file, d.span, invalid);
                    None
                }
            },
            WindowSpan::Plan(span) if w.func == WindowFn::Baseline => {
                self.type_mismatch(
                    file,
                    *span,
                    "`baseline` needs a duration window, not `plan`".into(),
                    "a plan has no usual size".into(),
                    "a baseline compares with past windows of one length: write `over 1h`, or use `count(… over plan)`".into(),
                );
                None
            }
            WindowSpan::Plan(_) => Some(Window::Plan),
        }
    }

    /// `count` and `baseline` name actions by pattern; it must match one.
    fn window_pattern(&mut self, file: u32, target: &Ident) -> Option<String> {
        let pattern = parse_pattern(&target.name);
        if !self.patterns.resolve(&self.schema, &pattern).is_empty() {
            return Some(target.name.clone());
        }
        let text = target.name.as_str();
        let help = match text.strip_suffix(".*") {
            Some(ns) => match actpol_core::suggest::did_you_mean(ns, self.patterns.namespaces()) {
                Some(close) => format!("did you mean `{close}.*`?"),
                None => format!("no declared action is in namespace `{ns}`"),
            },
            None => suggest(text, self.schema.actions.keys().map(String::as_str), || {
                "name a declared action, a namespace such as `crm.*`, or `*`".into()
            }),
        };
        self.unit.report(
            file,
            CheckError::UnknownAction {
                name: text.to_string(),
                span: target.span.into(),
                help,
            },
        );
        None
    }

    /// `sum(<action>.<param> over …)`: one numeric parameter of one action.
    fn sum_target(&mut self, file: u32, target: &Ident) -> Option<(String, Option<NameId>, Type)> {
        let text = target.name.as_str();
        if text == "*" || text.ends_with(".*") || self.schema.action_id(text).is_some() {
            let example = if self.schema.action_id(text).is_some() {
                format!("write `sum({text}.<param> over …)`")
            } else {
                "write `sum(<action>.<param> over …)`, as in `sum(billing.refund.amount over 30d)`"
                    .into()
            };
            self.type_mismatch(
                file,
                target.span,
                "`sum` adds up one parameter of one action".into(),
                "not an action's parameter".into(),
                example,
            );
            return None;
        }
        let Some((action, param)) = text.rsplit_once('.') else {
            self.unknown_action(file, text, target.span);
            return None;
        };
        let start = target.span.start as usize;
        let action_span = Span::new(start, start + action.len());
        let param_span = Span::new(start + action.len() + 1, target.span.end as usize);
        let Some(id) = self.schema.action_id(action) else {
            self.unknown_action(file, action, action_span);
            return None;
        };
        let params = &self.tables.actions[id.index()].params;
        let name = self
            .schema
            .field_names
            .get_index_of(param)
            .map(NameId::from_index);
        let Some(field) = name.and_then(|n| field_lookup(params, n)).cloned() else {
            let own: Vec<&str> = params
                .iter()
                .map(|p| self.schema.field_name(p.name))
                .collect();
            let help = suggest(param, own.iter().copied(), || {
                format!("`{action}` has {}", list(own.iter().copied(), 6))
            });
            self.param_error(
                file,
                param_span,
                Usage::Read,
                format!("`params.{param}` is not declared on `{action}`"),
                format!("not a parameter of `{action}`"),
                help,
            );
            return None;
        };
        let ty = field.ty?;
        if !matches!(
            ty,
            Type::Int | Type::Decimal | Type::Money(_) | Type::Duration
        ) {
            let ty_name = self.type_name(&ty);
            self.type_mismatch(
                file,
                param_span,
                format!("`sum` adds numbers, amounts or durations; `{param}` is `{ty_name}`"),
                format!("this is `{ty_name}`"),
                "sum an `Int`, `Decimal`, `Money<…>` or `Duration` parameter, or count the actions with `count(…)`".into(),
            );
            return None;
        }
        Some((action.to_string(), Some(field.name), ty))
    }

    fn unary(&mut self, cx: &mut Cx<'_>, e: &ast::Expr, op: UnaryOp, a: &ast::Expr) -> Typed {
        match op {
            UnaryOp::Not => {
                let inner = self.bool_operand(cx, a, "not");
                self.make(
                    cx,
                    e.span,
                    ir::ExprKind::Not(Box::new(inner.expr)),
                    Some(Type::Bool),
                )
            }
            UnaryOp::Neg => {
                let inner = self.expr(cx, a);
                let Some(ty) = inner.ty.clone() else {
                    return self.error_typed(cx, e.span);
                };
                if !operators::negatable(&ty) {
                    let name = self.type_name(&ty);
                    self.type_mismatch(
                        cx.file(),
                        a.span,
                        format!("`-` cannot negate `{name}`"),
                        format!("this is `{name}`"),
                        "negate a number, an amount or a duration".into(),
                    );
                    return self.error_typed(cx, e.span);
                }
                self.make(
                    cx,
                    e.span,
                    ir::ExprKind::Neg(Box::new(inner.expr)),
                    Some(ty),
                )
            }
        }
    }

    fn bool_operand(&mut self, cx: &mut Cx<'_>, a: &ast::Expr, op: &str) -> Typed {
        let typed = self.expr(cx, a);
        if let Some(ty) = &typed.ty {
            if *ty != Type::Bool {
                let name = self.type_name(ty);
                self.type_mismatch(
                    cx.file(),
                    a.span,
                    format!("`{op}` takes `Bool` operands, not `{name}`"),
                    format!("this is `{name}`"),
                    "compare the value with something, as in `params.recipients > 100`".into(),
                );
            }
        }
        typed
    }

    fn binary(
        &mut self,
        cx: &mut Cx<'_>,
        e: &ast::Expr,
        op: BinaryOp,
        a: &ast::Expr,
        b: &ast::Expr,
    ) -> Typed {
        if let Some(cmp) = operators::comparison(op) {
            return self.compare(cx, e, cmp, a, b);
        }
        if let Some(arith) = operators::arithmetic(op) {
            return self.arith(cx, e, arith, a, b);
        }
        match op {
            BinaryOp::In => self.membership(cx, e, a, b),
            _ => self.logic(cx, e, op == BinaryOp::And, a, b),
        }
    }

    fn logic(
        &mut self,
        cx: &mut Cx<'_>,
        e: &ast::Expr,
        is_and: bool,
        a: &ast::Expr,
        b: &ast::Expr,
    ) -> Typed {
        let op = if is_and { "and" } else { "or" };
        let left = self.bool_operand(cx, a, op);
        // `has x and x…` and `not has x or x…`: the right side runs only
        // when the left proved x present.
        let mark = cx.facts.len();
        self.facts_if(a, is_and, &mut cx.facts);
        let right = self.bool_operand(cx, b, op);
        cx.facts.truncate(mark);
        let (l, r) = (Box::new(left.expr), Box::new(right.expr));
        let kind = if is_and {
            ir::ExprKind::And(l, r)
        } else {
            ir::ExprKind::Or(l, r)
        };
        self.make(cx, e.span, kind, Some(Type::Bool))
    }

    fn compare(
        &mut self,
        cx: &mut Cx<'_>,
        e: &ast::Expr,
        cmp: CmpOp,
        a: &ast::Expr,
        b: &ast::Expr,
    ) -> Typed {
        let at = self.expr(cx, a);
        let bt = self.expect(cx, b, at.ty.as_ref());
        let bool_result = |this: &Self, kind| this.make(cx, e.span, kind, Some(Type::Bool));
        let (Some(x), Some(y)) = (at.ty.clone(), bt.ty.clone()) else {
            return bool_result(self, ir::ExprKind::Const(Value::Bool(false)));
        };
        let Some(t) = operators::join(&x, &y) else {
            self.mismatch(cx.file(), cmp.as_str(), (a, &x), (b, &y));
            return bool_result(self, ir::ExprKind::Const(Value::Bool(false)));
        };
        let ordering = !matches!(cmp, CmpOp::Eq | CmpOp::Ne);
        if ordering && !t.result.is_ordered() {
            let name = self.type_name(&t.result);
            let help = match t.result {
                Type::String => "compare strings with `==`, `!=`, `.starts_with(…)` or `.matches(…)`",
                _ => "order applies to numbers, amounts, durations and timestamps; compare with `==` or `!=`",
            };
            self.type_mismatch(
                cx.file(),
                e.span,
                format!(
                    "`{}` needs ordered values; `{name}` has no order",
                    cmp.as_str()
                ),
                format!("`{name}` values"),
                help.into(),
            );
        }
        let kind = ir::ExprKind::Cmp(
            cmp,
            Box::new(widen(at.expr, t.widen_left)),
            Box::new(widen(bt.expr, t.widen_right)),
        );
        bool_result(self, kind)
    }

    fn arith(
        &mut self,
        cx: &mut Cx<'_>,
        e: &ast::Expr,
        op: ArithOp,
        a: &ast::Expr,
        b: &ast::Expr,
    ) -> Typed {
        let at = self.expr(cx, a);
        let bt = self.expr(cx, b);
        let (Some(x), Some(y)) = (at.ty.clone(), bt.ty.clone()) else {
            return self.error_typed(cx, e.span);
        };
        let Some(t) = operators::arith(op, &x, &y) else {
            self.mismatch(cx.file(), op.as_str(), (a, &x), (b, &y));
            return self.error_typed(cx, e.span);
        };
        let kind = ir::ExprKind::Arith(
            op,
            Box::new(widen(at.expr, t.widen_left)),
            Box::new(widen(bt.expr, t.widen_right)),
        );
        self.make(cx, e.span, kind, Some(t.result))
    }

    fn membership(
        &mut self,
        cx: &mut Cx<'_>,
        e: &ast::Expr,
        a: &ast::Expr,
        b: &ast::Expr,
    ) -> Typed {
        let at = self.expr(cx, a);
        let hint = at.ty.clone().map(|t| Type::Set(Box::new(t)));
        let bt = self.expect(cx, b, hint.as_ref());
        if let (Some(x), Some(s)) = (&at.ty, &bt.ty) {
            match s {
                Type::Set(elem) if **elem == *x => {}
                Type::Set(elem) => {
                    let elem = (**elem).clone();
                    self.mismatch(cx.file(), "in", (a, x), (b, &elem));
                }
                other => {
                    let name = self.type_name(other);
                    let help = if *other == Type::String {
                        "to find text in a string, write `<string>.contains(…)`"
                    } else {
                        "write a set, as in `[\"emea\", \"na\"]`, or a `Set<…>` field"
                    };
                    self.type_mismatch(
                        cx.file(),
                        b.span,
                        format!("`in` needs a set on its right, not `{name}`"),
                        format!("this is `{name}`"),
                        help.into(),
                    );
                }
            }
        }
        let kind = ir::ExprKind::In(Box::new(at.expr), Box::new(bt.expr));
        self.make(cx, e.span, kind, Some(Type::Bool))
    }

    /// Reports two operand types that do not go together under `op`.
    pub(crate) fn mismatch(
        &mut self,
        file: u32,
        op: &str,
        (a, x): (&ast::Expr, &Type),
        (b, y): (&ast::Expr, &Type),
    ) {
        let (xn, yn) = (self.type_name(x), self.type_name(y));
        let span = self.unit.tight(file, a.span).into();
        let also = Some(self.unit.tight(file, b.span).into());
        let (label, also_label) = (format!("this is `{xn}`"), format!("this is `{yn}`"));
        match clash(x, y) {
            Clash::Unit => {
                let help = self.unit_help(file, (a, x), (b, y));
                self.unit.report(
                    file,
                    CheckError::UnitMismatch {
                        message: format!("`{op}` mixes `{xn}` with `{yn}`"),
                        span,
                        label,
                        also,
                        also_label,
                        help,
                    },
                );
            }
            Clash::Type => {
                let help = self.type_help((a, x), (b, y));
                self.unit.report(
                    file,
                    CheckError::TypeMismatch {
                        message: format!("`{op}` does not apply to `{xn}` and `{yn}`"),
                        span,
                        label,
                        also,
                        also_label,
                        help,
                    },
                );
            }
        }
    }

    fn unit_help(
        &self,
        file: u32,
        (a, x): (&ast::Expr, &Type),
        (b, y): (&ast::Expr, &Type),
    ) -> String {
        if let (Type::Money(c), Type::Money(d)) = (x, y) {
            return format!(
                "money in `{c}` and `{d}` never mixes: write both amounts in one currency"
            );
        }
        // One side is a plain number, the other has a unit.
        let (num, unit_ty) = if x.is_numeric() { (a, y) } else { (b, x) };
        let text = self.unit.text(file, num.span);
        let literal = matches!(
            strip_parens(num).kind,
            ExprKind::Lit(Literal::Int(_) | Literal::Decimal(_))
        );
        match (unit_ty, literal) {
            (Type::Money(c), true) => format!("write the amount with its currency: `{text} {c}`"),
            (Type::Money(c), false) => format!("turn the number into an amount: `{text} * 1 {c}`"),
            (Type::Duration, true) => format!("write the number with a unit: `{text}m`, `{text}h` or `{text}d`"),
            (Type::Duration, false) => format!("turn the number into a duration: `{text} * 1m`"),
            _ => "compare a time with a time, as in `timestamp(\"2026-01-01T00:00:00Z\")`, or a duration with `now - <time>`".into(),
        }
    }

    fn type_help(&self, (a, x): (&ast::Expr, &Type), (b, y): (&ast::Expr, &Type)) -> String {
        let enum_and_text = match (x, y) {
            (Type::Enum(id), Type::String) => Some((*id, b)),
            (Type::String, Type::Enum(id)) => Some((*id, a)),
            _ => None,
        };
        if let Some((id, text_side)) = enum_and_text {
            let def = self.schema.enum_def(id);
            let enum_name = self.schema.enum_name(id);
            if let ExprKind::Lit(Literal::String(s)) = &strip_parens(text_side).kind {
                if def.variant(s).is_some() {
                    return format!("write the variant, not a string: `{enum_name}.{s}`");
                }
            }
            let first = def.variants.first().map_or("…", String::as_str);
            return format!("compare with a variant of `{enum_name}`, as in `{enum_name}.{first}`");
        }
        let (xn, yn) = (self.type_name(x), self.type_name(y));
        format!("both operands must have one type; here one is `{xn}` and the other `{yn}`")
    }

    fn has(&mut self, cx: &Cx<'_>, e: &ast::Expr, term: &ast::Expr) -> Typed {
        match self.presence_checked(cx, term) {
            Some(p) => self.make(cx, e.span, ir::ExprKind::Has(p), Some(Type::Bool)),
            None => self.make(
                cx,
                e.span,
                ir::ExprKind::Const(Value::Bool(false)),
                Some(Type::Bool),
            ),
        }
    }

    fn presence_checked(&mut self, cx: &Cx<'_>, term: &ast::Expr) -> Option<Presence> {
        let file = cx.file();
        if let Some(p) = envelope_presence(term) {
            return Some(p);
        }
        if let ExprKind::Field(base, field) = &term.kind {
            if let ExprKind::Name(root) = &base.kind {
                match root.name.as_str() {
                    "params" => {
                        let (name, _, _) =
                            self.param_field(cx.frame, field, term.span, Usage::Read)?;
                        return Some(Presence::Param(name));
                    }
                    "object" if field.name != "id" => {
                        let (name, _, _) = self.attr_field(cx.frame, field, term.span)?;
                        return Some(Presence::Attr(name));
                    }
                    "context" => {
                        let f = self.context_field(file, field)?;
                        return Some(Presence::Context(f.name));
                    }
                    _ => {}
                }
            }
        }
        self.type_mismatch(
            file,
            term.span,
            format!("`has` cannot test `{}`", self.unit.text(file, term.span)),
            "not an optional field".into(),
            "`has` takes `params.<name>`, `object.<name>`, `context.<name>`, `intent`, `rollback`, `rollback.action`, `rollback.within` or `plan`".into(),
        );
        None
    }

    /// What `has term` proves, found without reporting anything (the
    /// check of the `has` itself reports).
    fn presence_quiet(&self, term: &ast::Expr) -> Option<Presence> {
        if let Some(p) = envelope_presence(term) {
            return Some(p);
        }
        let ExprKind::Field(base, field) = &term.kind else {
            return None;
        };
        let ExprKind::Name(root) = &base.kind else {
            return None;
        };
        let name = NameId::from_index(self.schema.field_names.get_index_of(&field.name)?);
        match root.name.as_str() {
            "params" => Some(Presence::Param(name)),
            "object" => Some(Presence::Attr(name)),
            "context" => Some(Presence::Context(name)),
            _ => None,
        }
    }

    /// Adds to `out` what `e` proves present when it evaluates to `truth`.
    pub(crate) fn facts_if(&self, e: &ast::Expr, truth: bool, out: &mut Vec<Presence>) {
        match &e.kind {
            ExprKind::Has(term) if truth => {
                if let Some(p) = self.presence_quiet(term) {
                    out.push(p);
                    // A rollback's action or window implies the rollback.
                    if matches!(p, Presence::RollbackAction | Presence::RollbackWithin) {
                        out.push(Presence::Rollback);
                    }
                }
            }
            ExprKind::Paren(inner) => self.facts_if(inner, truth, out),
            ExprKind::Unary(UnaryOp::Not, inner) => self.facts_if(inner, !truth, out),
            ExprKind::Binary(BinaryOp::And, a, b) if truth => {
                self.facts_if(a, true, out);
                self.facts_if(b, true, out);
            }
            ExprKind::Binary(BinaryOp::Or, a, b) if !truth => {
                self.facts_if(a, false, out);
                self.facts_if(b, false, out);
            }
            _ => {}
        }
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
        let head = self.expr(cx, first);
        let mut elem = head.ty.clone();
        let mut exprs = vec![head.expr];
        for item in rest {
            let typed = self.expr(cx, item);
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
            self.unit.report(
                cx.file(),
                CheckError::InvalidType {
                    message: format!("a set cannot hold `{name}` values"),
                    span: self.unit.tight(cx.file(), e.span).into(),
                    label: format!("a set of `{name}`"),
                    help: "sets hold `String`, `Int`, an enum or an entity".into(),
                },
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
