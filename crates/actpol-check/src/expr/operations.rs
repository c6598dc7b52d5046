//! Operators: unary, logical, comparison, arithmetic and membership, with
//! the unit and type help of a mismatch.

use super::*;

impl Checker<'_> {
    pub(super) fn unary(
        &mut self,
        cx: &mut Cx<'_>,
        e: &ast::Expr,
        op: UnaryOp,
        a: &ast::Expr,
    ) -> Typed {
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

    pub(super) fn bool_operand(&mut self, cx: &mut Cx<'_>, a: &ast::Expr, op: &str) -> Typed {
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

    pub(super) fn binary(
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

    pub(super) fn logic(
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

    pub(super) fn compare(
        &mut self,
        cx: &mut Cx<'_>,
        e: &ast::Expr,
        cmp: CmpOp,
        a: &ast::Expr,
        b: &ast::Expr,
    ) -> Typed {
        // A string on the left of an enum (`"on time" == params.status`)
        // takes its type from the right, as on the other side.
        let (at, bt) = if is_string_literal(a) && !is_string_literal(b) {
            let bt = self.expr(cx, b);
            (self.expect(cx, a, bt.ty.as_ref()), bt)
        } else {
            let at = self.expr(cx, a);
            let bt = self.expect(cx, b, at.ty.as_ref());
            (at, bt)
        };
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

    pub(super) fn arith(
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

    pub(super) fn membership(
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
                Type::Set(elem) | Type::List(elem) if **elem == *x => {}
                Type::Set(elem) | Type::List(elem) => {
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
                let help = self.type_help(op, x, y);
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

    pub(super) fn unit_help(
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
        let (num, num_ty, unit_side, unit_ty) = if x.is_numeric() {
            (a, x, b, y)
        } else {
            (b, y, a, x)
        };
        let text = self.unit.tight_text(file, num.span);
        let literal = match &strip_parens(num).kind {
            ExprKind::Lit(Literal::Int(_)) => Some(true),
            ExprKind::Lit(Literal::Decimal(_)) => Some(false),
            _ => None,
        };
        match (unit_ty, literal) {
            (Type::Money(c), Some(_)) => format!("write the amount with its currency: `{text} {c}`"),
            (Type::Money(c), None) => format!("turn the number into an amount: `{text} * 1 {c}`"),
            // A duration literal is digits and a unit: no `_`, no fraction.
            (Type::Duration, Some(true)) => {
                let digits = text.replace('_', "");
                format!("write the number with a unit: `{digits}m`, `{digits}h` or `{digits}d`")
            }
            (Type::Duration, Some(false)) => "a duration is a whole number of a unit: write it in a smaller unit, as in `90m` for one and a half hours".into(),
            (Type::Duration, None) if *num_ty == Type::Int => {
                format!("turn the number into a duration: `{text} * 1m`")
            }
            // Only whole numbers scale a duration; a duration divided by
            // one is a decimal.
            (Type::Duration, None) => {
                let duration = self.unit.tight_text(file, unit_side.span);
                format!("compare numbers: `{duration} / 1m` is the duration in minutes, as a decimal")
            }
            _ => "compare a time with a time, as in `timestamp(\"2026-01-01T00:00:00Z\")`, or a duration with `now - <time>`".into(),
        }
    }

    pub(super) fn type_help(&self, op: &str, x: &Type, y: &Type) -> String {
        // A string literal beside an enum is read as a variant (see
        // `expect`): what is left here is text computed at run time.
        let enum_and_text = match (x, y) {
            (Type::Enum(id), Type::String) | (Type::String, Type::Enum(id)) => Some(*id),
            _ => None,
        };
        if let Some(id) = enum_and_text {
            let def = self.schema.enum_def(id);
            let enum_name = self.schema.enum_name(id);
            let first = def.variants.first().map_or("…", String::as_str);
            return format!(
                "compare with a variant of `{enum_name}`, as in `{enum_name}.{first}` or `{first:?}`"
            );
        }
        let (xn, yn) = (self.type_name(x), self.type_name(y));
        if xn == yn {
            return format!("`{op}` does not apply to `{xn}`: {}", operand_kinds(op));
        }
        format!("both operands must have one type; here one is `{xn}` and the other `{yn}`")
    }
}

/// What the operands of `op` may be, for a help line.
fn operand_kinds(op: &str) -> &'static str {
    match op {
        "+" | "-" => "it adds and subtracts numbers, money of one currency, durations, and a duration to a time",
        "*" | "/" => "it multiplies and divides numbers, and money or a duration by a number",
        "%" => "it gives the remainder of two `Int`s",
        "<" | "<=" | ">" | ">=" => "it orders numbers, money of one currency, durations and times",
        "and" | "or" => "it joins conditions (`Bool`)",
        _ => "see the operators in docs/language.md",
    }
}

/// Whether `e` is a string literal (in parentheses or not).
fn is_string_literal(e: &ast::Expr) -> bool {
    matches!(
        super::strip_parens(e).kind,
        ast::ExprKind::Lit(ast::Literal::String(_))
    )
}
