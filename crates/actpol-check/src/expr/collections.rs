//! Collections: lists, sets and records. Quantifiers bind a variable
//! (`xs.all(x, …)`, `xs.count(i, x, …)`), aggregates fold a list (`sum`,
//! `distinct`), set algebra builds sets (`union`, `intersect`, `minus`), and
//! parts that may be absent (`first`, `last`, `at`, `min`, `max`, a record's
//! optional field) are read only where `has` proved them present.

use actpol_core::collections::{self, CollOp, LoopKind, PartKind};

use super::*;

/// A variable a quantifier bound, visible in its body.
#[derive(Clone, Debug)]
pub(crate) struct Bound {
    pub name: String,
    pub ty: Type,
    pub slot: u32,
}

/// Methods of lists and sets this module answers; the others (`len` and
/// `contains` of a set…) are in the method table.
const LOOPS: [(&str, LoopKind); 5] = [
    ("all", LoopKind::All),
    ("any", LoopKind::Any),
    ("count", LoopKind::Count),
    ("filter", LoopKind::Filter),
    ("map", LoopKind::Map),
];
const PARTS: [(&str, PartKind); 5] = [
    ("first", PartKind::First),
    ("last", PartKind::Last),
    ("at", PartKind::At),
    ("min", PartKind::Min),
    ("max", PartKind::Max),
];
const SET_ALGEBRA: [(&str, CollOp); 3] = [
    ("union", CollOp::Union),
    ("intersect", CollOp::Intersect),
    ("minus", CollOp::Minus),
];
/// Methods only a list has (a set's `len` and `contains` are its own).
const LIST_ONLY: [(&str, CollOp); 4] = [
    ("len", CollOp::Len),
    ("sum", CollOp::Sum),
    ("distinct", CollOp::Distinct),
    ("contains", CollOp::Contains),
];

/// Every method a list has, for "did you mean": the names of the tables
/// above, in their order.
pub(crate) fn list_methods() -> impl Iterator<Item = &'static str> {
    let loops = LOOPS.iter().map(|(n, _)| *n);
    let parts = PARTS.iter().map(|(n, _)| *n);
    let algebra = SET_ALGEBRA.iter().map(|(n, _)| *n);
    let list_only = LIST_ONLY.iter().map(|(n, _)| *n);
    loops.chain(parts).chain(algebra).chain(list_only)
}

/// Whether this module answers `name` on a receiver of type `ty`.
pub(crate) fn answers(ty: &Type, name: &str) -> bool {
    let general = LOOPS.iter().any(|(n, _)| *n == name)
        || PARTS.iter().any(|(n, _)| *n == name)
        || SET_ALGEBRA.iter().any(|(n, _)| *n == name)
        || name == "sum";
    match ty {
        Type::List(_) => general || LIST_ONLY.iter().any(|(n, _)| *n == name),
        Type::Set(_) => general,
        _ => false,
    }
}

fn part_kind(name: &str) -> Option<PartKind> {
    PARTS.iter().find(|(n, _)| *n == name).map(|(_, k)| *k)
}

/// A canonical key for a read made only of names, fields and method calls
/// (with names or integers as arguments): `has` proves such a read present,
/// and a later read of the same key is then allowed. Variables are never
/// rebound inside their scope, so a key means one thing wherever it holds.
pub(crate) fn path_key(e: &ast::Expr) -> Option<String> {
    match &e.kind {
        ExprKind::Name(n) => Some(n.name.clone()),
        ExprKind::Paren(inner) => path_key(inner),
        ExprKind::Field(base, f) => Some(format!("{}.{}", path_key(base)?, f.name)),
        ExprKind::Method(base, m, args) => {
            let args = args
                .iter()
                .map(|a| match &a.kind {
                    ExprKind::Lit(Literal::Int(text)) => Some(text.replace('_', "")),
                    _ => path_key(a),
                })
                .collect::<Option<Vec<_>>>()?;
            Some(format!(
                "{}.{}({})",
                path_key(base)?,
                m.name,
                args.join(",")
            ))
        }
        _ => None,
    }
}

/// Whether `has term` asks about a part (not an envelope field).
pub(crate) fn is_part_term(term: &ast::Expr) -> bool {
    match &strip_parens(term).kind {
        ExprKind::Method(_, m, _) => part_kind(&m.name).is_some(),
        ExprKind::Field(base, _) => !matches!(&base.kind, ExprKind::Name(r)
            if ROOTS.contains(&r.name.as_str())),
        _ => false,
    }
}

impl Checker<'_> {
    /// A bound variable named `name`, read.
    pub(super) fn variable(&self, cx: &Cx<'_>, name: &Ident) -> Option<Typed> {
        let bound = cx.vars.iter().rev().find(|b| b.name == name.name)?;
        Some(self.make(
            cx,
            name.span,
            ir::ExprKind::Var(bound.slot),
            Some(bound.ty.clone()),
        ))
    }

    /// A method of a list or set this module answers (see [`answers`]).
    pub(super) fn collection_method(
        &mut self,
        cx: &mut Cx<'_>,
        e: &ast::Expr,
        recv: Typed,
        recv_ty: Type,
        name: &Ident,
        args: &[ast::Expr],
    ) -> Typed {
        let m = name.name.as_str();
        if let Some((_, kind)) = LOOPS.iter().find(|(n, _)| *n == m) {
            return self.quantifier(cx, e, recv, &recv_ty, *kind, args);
        }
        if let Some(kind) = part_kind(m) {
            return self.read_part(cx, e, recv, &recv_ty, kind, args);
        }
        if let Some((_, op)) = SET_ALGEBRA.iter().find(|(n, _)| *n == m) {
            return self.set_algebra(cx, e, recv, &recv_ty, *op, args);
        }
        let op = LIST_ONLY
            .iter()
            .find(|(n, _)| *n == m)
            .map_or(CollOp::Sum, |(_, op)| *op);
        self.list_op(cx, e, recv, &recv_ty, op, args)
    }

    fn quantifier(
        &mut self,
        cx: &mut Cx<'_>,
        e: &ast::Expr,
        recv: Typed,
        recv_ty: &Type,
        kind: LoopKind,
        args: &[ast::Expr],
    ) -> Typed {
        let Some(elem) = recv_ty.element().cloned() else {
            return self.error_typed(cx, e.span);
        };
        let is_list = matches!(recv_ty, Type::List(_));
        let (names, body) = match args {
            [x, body] => (vec![(x, elem.clone())], body),
            [i, x, body] if is_list => (vec![(i, Type::Int), (x, elem.clone())], body),
            _ => {
                let form = if is_list {
                    format!("`.{}(x, …)` or `.{}(i, x, …)`", kind.name(), kind.name())
                } else {
                    format!("`.{}(x, …)`", kind.name())
                };
                self.type_mismatch(
                    cx.file(),
                    e.span,
                    format!(
                        "`.{}` takes a variable and an expression, as in {form}",
                        kind.name()
                    ),
                    format!("{} argument(s) given", args.len()),
                    format!(
                        "name each element, then say what must hold of it: `.{}(t, t.age >= 18)`",
                        kind.name()
                    ),
                );
                self.check_args(cx, args);
                return self.error_typed(cx, e.span);
            }
        };
        let indexed = names.len() == 2;
        let mark = cx.vars.len();
        for (var, ty) in names {
            let Some(ident) = self.variable_name(cx, var) else {
                cx.vars.truncate(mark);
                self.check_args(cx, std::slice::from_ref(body));
                return self.error_typed(cx, e.span);
            };
            let slot = cx.vars.len() as u32;
            cx.vars.push(Bound {
                name: ident.name.clone(),
                ty,
                slot,
            });
        }
        let facts = cx.facts.len();
        let body_t = if kind.body_is_condition() {
            self.condition(cx, body, &format!("`.{}`", kind.name()))
        } else {
            self.expr(cx, body)
        };
        cx.facts.truncate(facts);
        cx.vars.truncate(mark);
        let result = match kind {
            LoopKind::All | LoopKind::Any => Some(Type::Bool),
            LoopKind::Count => Some(Type::Int),
            LoopKind::Filter => Some(recv_ty.clone()),
            LoopKind::Map => match &body_t.ty {
                Some(t) if t.is_list_element() => Some(Type::List(Box::new(t.clone()))),
                Some(t) => {
                    let name = self.type_name(t);
                    self.invalid_type(
                        cx.file(),
                        self.unit.tight(cx.file(), body.span),
                        format!("`.map` cannot make a list of `{name}` values"),
                        &format!("this is `{name}`"),
                        "map each element to one value: a scalar, an enum, an entity or a record",
                    );
                    None
                }
                None => None,
            },
        };
        if body_t.ty.is_none() || result.is_none() {
            return self.error_typed(cx, e.span);
        }
        let kind = ir::ExprKind::Loop {
            kind,
            indexed,
            over: Box::new(recv.expr),
            body: Box::new(body_t.expr),
        };
        self.make(cx, e.span, kind, result)
    }

    /// The variable a quantifier binds: a plain name, not one in use.
    fn variable_name<'e>(&mut self, cx: &Cx<'_>, var: &'e ast::Expr) -> Option<&'e Ident> {
        let ExprKind::Name(ident) = &var.kind else {
            self.type_mismatch(
                cx.file(),
                var.span,
                "a quantifier's first arguments name its variables".into(),
                "not a name".into(),
                "write a short name for each element, as in `params.travellers.all(t, has t.birth_date)`".into(),
            );
            return None;
        };
        let text = ident.name.as_str();
        let taken = if cx.vars.iter().any(|b| b.name == text) {
            Some("a variable of an enclosing quantifier")
        } else if ROOTS.contains(&text) || ["now", "reversible"].contains(&text) {
            Some("a name every policy reads")
        } else if self.schema.enums.contains_key(text) {
            Some("an enum")
        } else {
            None
        };
        if let Some(what) = taken {
            self.unit.report(
                cx.file(),
                CheckError::DuplicateName {
                    message: format!("`{text}` is already {what}"),
                    span: self.unit.tight(cx.file(), var.span).into(),
                    first: None,
                    help: "give the quantifier's variable a name of its own".into(),
                },
            );
            return None;
        }
        Some(ident)
    }

    fn read_part(
        &mut self,
        cx: &mut Cx<'_>,
        e: &ast::Expr,
        recv: Typed,
        recv_ty: &Type,
        kind: PartKind,
        args: &[ast::Expr],
    ) -> Typed {
        let Some((elem, args)) = self.part_operands(cx, e, recv, recv_ty, kind, args) else {
            return self.error_typed(cx, e.span);
        };
        let proven = path_key(e).is_some_and(|key| cx.proves_part(&key));
        if !proven {
            let text = self.unit.text(cx.file(), e.span).to_string();
            self.optional_without_has(cx.file(), e.span, &text, &text);
        }
        self.make(cx, e.span, ir::ExprKind::Part(kind, 0, args), Some(elem))
    }

    /// Checks the receiver and arguments of a part: its element type and
    /// the IR operands; `None` when reported.
    fn part_operands(
        &mut self,
        cx: &mut Cx<'_>,
        e: &ast::Expr,
        recv: Typed,
        recv_ty: &Type,
        kind: PartKind,
        args: &[ast::Expr],
    ) -> Option<(Type, Vec<ir::Expr>)> {
        let elem = recv_ty.element()?.clone();
        let is_list = matches!(recv_ty, Type::List(_));
        let ordered_only = matches!(kind, PartKind::Min | PartKind::Max);
        if !is_list && !ordered_only {
            self.type_mismatch(
                cx.file(),
                e.span,
                format!("a set has no `.{}`: its elements have no order of their own", kind.name()),
                format!("this is `{}`", self.type_name(recv_ty)),
                "declare the field a `List<…>` to keep the order it was given in, or use `.min()` / `.max()`".into(),
            );
            self.check_args(cx, args);
            return None;
        }
        if ordered_only && !elem.is_ordered() {
            let name = self.type_name(&elem);
            self.type_mismatch(
                cx.file(),
                e.span,
                format!("`.{}` needs ordered elements, not `{name}`", kind.name()),
                format!("elements are `{name}`"),
                "`min` and `max` apply to numbers, money, durations and timestamps".into(),
            );
            return None;
        }
        let arity = kind.arity() - 1;
        if args.len() != arity {
            self.wrong_arity(
                cx.file(),
                e.span,
                &format!(".{}", kind.name()),
                arity,
                args.len(),
            );
            self.check_args(cx, args);
            return None;
        }
        let mut operands = vec![recv.expr];
        if let Some(index) = args.first() {
            let typed = self.expr(cx, index);
            match &typed.ty {
                Some(Type::Int) => operands.push(typed.expr),
                Some(other) => {
                    let name = self.type_name(other);
                    self.type_mismatch(
                        cx.file(),
                        index.span,
                        format!("`.at` takes an `Int` index, not `{name}`"),
                        format!("this is `{name}`"),
                        "count elements from 0, as in `.at(0)`".into(),
                    );
                    return None;
                }
                None => return None,
            }
        }
        Some((elem, operands))
    }

    /// `has xs.first()`, `has r.note`, `has object.vendor.status`: whether
    /// a part is present.
    pub(super) fn has_part(&mut self, cx: &mut Cx<'_>, e: &ast::Expr, term: &ast::Expr) -> Typed {
        let term = strip_parens(term);
        let bool_t = Some(Type::Bool);
        match &term.kind {
            ExprKind::Method(base, name, args) => {
                let Some(kind) = part_kind(&name.name) else {
                    return self.error_typed(cx, e.span);
                };
                let recv = self.expr(cx, base);
                let Some(recv_ty) = recv.ty.clone().filter(|t| t.element().is_some()) else {
                    if let Some(t) = &recv.ty {
                        self.unknown_method(cx.file(), name, t);
                    }
                    return self.error_typed(cx, e.span);
                };
                let Some((_, operands)) = self.part_operands(cx, term, recv, &recv_ty, kind, args)
                else {
                    return self.error_typed(cx, e.span);
                };
                self.make(cx, e.span, ir::ExprKind::HasPart(kind, 0, operands), bool_t)
            }
            ExprKind::Field(base, field) => {
                let (proof, pushed) = self.prove_base(cx, base);
                let recv = self.expr(cx, base);
                cx.facts.truncate(cx.facts.len() - pushed);
                let found = match recv.ty.clone() {
                    Some(Type::Entity(id)) => self.has_related(cx, e, recv, id, field),
                    Some(Type::Record(id)) => match self.record_slot(cx, id, field) {
                        Some((slot, _, _)) => self.make(
                            cx,
                            e.span,
                            ir::ExprKind::HasPart(PartKind::Field, slot, vec![recv.expr]),
                            bool_t,
                        ),
                        None => self.error_typed(cx, e.span),
                    },
                    Some(other) => {
                        let name = self.type_name(&other);
                        self.type_mismatch(
                            cx.file(),
                            term.span,
                            format!("`has` cannot test a field of a `{name}` value"),
                            "not a record".into(),
                            "`has` tests a record's optional field (`has t.birth_date`), an attribute of a related entity (`has object.vendor.status`), a list's part (`has xs.first()`), or an optional field of the envelope".into(),
                        );
                        self.error_typed(cx, e.span)
                    }
                    None => self.error_typed(cx, e.span),
                };
                self.after_proof(cx, e, proof, found)
            }
            _ => self.error_typed(cx, e.span),
        }
    }

    /// `r.name` on a record value.
    pub(super) fn record_field(
        &mut self,
        cx: &Cx<'_>,
        e: &ast::Expr,
        recv: Typed,
        id: actpol_core::ids::RecordId,
        field: &Ident,
    ) -> Typed {
        let Some((slot, ty, optional)) = self.record_slot(cx, id, field) else {
            return self.error_typed(cx, e.span);
        };
        if optional && !path_key(e).is_some_and(|key| cx.proves_part(&key)) {
            let text = self.unit.text(cx.file(), e.span).to_string();
            self.optional_without_has(cx.file(), e.span, &text, &text);
        }
        self.make(
            cx,
            e.span,
            ir::ExprKind::Part(PartKind::Field, slot, vec![recv.expr]),
            ty,
        )
    }

    /// A record field's slot, type and optionality; reports an unknown one.
    fn record_slot(
        &mut self,
        cx: &Cx<'_>,
        id: actpol_core::ids::RecordId,
        field: &Ident,
    ) -> Option<(u32, Option<Type>, bool)> {
        let fields = self.tables.records.get(id.index())?;
        let found = self
            .schema
            .field_names
            .get_index_of(&field.name)
            .and_then(|n| fields.iter().position(|f| f.name.index() == n));
        if let Some(slot) = found {
            let f = &fields[slot];
            return Some((slot as u32, f.ty.clone(), f.optional));
        }
        let record = self.schema.record_name(id).to_string();
        let names: Vec<String> = fields
            .iter()
            .map(|f| self.schema.field_name(f.name).to_string())
            .collect();
        let help = suggest(&field.name, names.iter().map(String::as_str), || {
            format!(
                "`{record}` has {}",
                list(names.iter().map(String::as_str), 6)
            )
        });
        self.unknown_name(
            cx.file(),
            field.span,
            format!("record `{record}` has no field `{}`", field.name),
            "no such field",
            help,
        );
        None
    }

    fn set_algebra(
        &mut self,
        cx: &mut Cx<'_>,
        e: &ast::Expr,
        recv: Typed,
        recv_ty: &Type,
        op: CollOp,
        args: &[ast::Expr],
    ) -> Typed {
        let Some(elem) = recv_ty.element().cloned() else {
            return self.error_typed(cx, e.span);
        };
        let [other] = args else {
            self.wrong_arity(cx.file(), e.span, &format!(".{}", op.name()), 1, args.len());
            self.check_args(cx, args);
            return self.error_typed(cx, e.span);
        };
        let hint = Type::Set(Box::new(elem.clone()));
        let other_t = self.expect(cx, other, Some(&hint));
        let Some(other_ty) = other_t.ty.clone() else {
            return self.error_typed(cx, e.span);
        };
        if other_ty.element() != Some(&elem) {
            let (w, f) = (self.type_name(&hint), self.type_name(&other_ty));
            self.type_mismatch(
                cx.file(),
                other.span,
                format!(
                    "`.{}` on `{}` takes a set or list of the same elements, not `{f}`",
                    op.name(),
                    self.type_name(recv_ty)
                ),
                format!("this is `{f}`"),
                format!("pass a `{w}` or a `List` of the same elements"),
            );
            return self.error_typed(cx, e.span);
        }
        if !elem.is_set_element() {
            let name = self.type_name(&elem);
            self.invalid_type(
                cx.file(),
                self.unit.tight(cx.file(), e.span),
                format!(
                    "`.{}` makes a set, and a set cannot hold `{name}` values",
                    op.name()
                ),
                &format!("elements are `{name}`"),
                "count or filter the elements instead",
            );
            return self.error_typed(cx, e.span);
        }
        let kind = ir::ExprKind::Coll(op, vec![recv.expr, other_t.expr]);
        self.make(cx, e.span, kind, Some(hint))
    }

    /// `len`, `sum`, `distinct` and `contains` of a list (and the mistake
    /// of summing a set).
    fn list_op(
        &mut self,
        cx: &mut Cx<'_>,
        e: &ast::Expr,
        recv: Typed,
        recv_ty: &Type,
        op: CollOp,
        args: &[ast::Expr],
    ) -> Typed {
        let Some(elem) = recv_ty.element().cloned() else {
            return self.error_typed(cx, e.span);
        };
        if matches!(recv_ty, Type::Set(_)) {
            // Only `sum` reaches here on a set.
            self.type_mismatch(
                cx.file(),
                e.span,
                "a set cannot be summed: it keeps one of each equal value, so repeated amounts would count once".into(),
                format!("this is `{}`", self.type_name(recv_ty)),
                "declare the field a `List<…>`, which keeps every element".into(),
            );
            self.check_args(cx, args);
            return self.error_typed(cx, e.span);
        }
        // What the author writes: `sum`'s zero is the checker's.
        let arity = usize::from(op == CollOp::Contains);
        if args.len() != arity {
            self.wrong_arity(
                cx.file(),
                e.span,
                &format!(".{}", op.name()),
                arity,
                args.len(),
            );
            self.check_args(cx, args);
            return self.error_typed(cx, e.span);
        }
        let (mut operands, result) = match op {
            CollOp::Len => (vec![recv.expr], Type::Int),
            CollOp::Distinct => (vec![recv.expr], recv_ty.clone()),
            CollOp::Sum => {
                let Some(zero) = collections::sum_zero(&elem) else {
                    let name = self.type_name(&elem);
                    self.type_mismatch(
                        cx.file(),
                        e.span,
                        format!("`.sum` needs numbers, money or durations, not `{name}`"),
                        format!("elements are `{name}`"),
                        "map the elements to an amount first, as in `params.payments.map(p, p.amount).sum()`".into(),
                    );
                    return self.error_typed(cx, e.span);
                };
                let zero = self.make(cx, e.span, ir::ExprKind::Const(zero), Some(elem.clone()));
                (vec![recv.expr, zero.expr], elem.clone())
            }
            _ => (vec![recv.expr], Type::Bool),
        };
        if let (CollOp::Contains, Some(arg)) = (op, args.first()) {
            let typed = self.expr(cx, arg);
            if let Some(found) = &typed.ty {
                if *found != elem {
                    let (w, f) = (self.type_name(&elem), self.type_name(found));
                    self.type_mismatch(
                        cx.file(),
                        arg.span,
                        format!(
                            "`.contains` on `{}` takes `{w}`, not `{f}`",
                            self.type_name(recv_ty)
                        ),
                        format!("this is `{f}`"),
                        format!("pass a value of type `{w}`"),
                    );
                }
            }
            operands.push(typed.expr);
        }
        self.make(cx, e.span, ir::ExprKind::Coll(op, operands), Some(result))
    }
}
