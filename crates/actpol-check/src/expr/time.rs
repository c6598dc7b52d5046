//! Time in named zones and durations built from numbers: the zone of
//! `t.hour_in("America/New_York")` is resolved here, against the IANA
//! database the runtime carries, so a misspelt zone is a compile error.

use super::*;

impl Checker<'_> {
    /// The zone argument of a local-time method: a constant string naming
    /// a zone. Yields the name as a constant, or `None` after reporting.
    pub(super) fn zone_name(&mut self, cx: &mut Cx<'_>, arg: &ast::Expr) -> Option<ir::Expr> {
        let ExprKind::Lit(Literal::String(name)) = &strip_parens(arg).kind else {
            self.check_args(cx, std::slice::from_ref(arg));
            self.unit.report(
                cx.file(),
                CheckError::NotConstant {
                    message: "a time zone must be a constant name".into(),
                    span: self.unit.tight(cx.file(), arg.span).into(),
                    help: "name an IANA zone, as in `now.hour_in(\"America/New_York\")`".into(),
                },
            );
            return None;
        };
        self.known_zone(cx.file(), name, arg.span)?;
        Some(
            self.make(
                cx,
                arg.span,
                ir::ExprKind::Const(Value::String(name.as_str().into())),
                Some(Type::String),
            )
            .expr,
        )
    }

    /// `hours(n)`, `minutes(n)`, `seconds(n)`, `days(n)`: a `Duration` from
    /// an `Int` or a `Decimal` count, truncated to a whole millisecond.
    pub(super) fn duration_of(
        &mut self,
        cx: &mut Cx<'_>,
        e: &ast::Expr,
        unit: Builtin,
        arg: &ast::Expr,
    ) -> Typed {
        let typed = self.expr(cx, arg);
        let count = match typed.ty {
            Some(Type::Int) => ir::Expr {
                ty: Type::Decimal,
                span: typed.expr.span,
                kind: ir::ExprKind::ToDecimal(Box::new(typed.expr)),
            },
            Some(Type::Decimal) => typed.expr,
            Some(other) => {
                let name = self.type_name(&other);
                self.type_mismatch(
                    cx.file(),
                    arg.span,
                    format!("`{}` takes a number, not `{name}`", unit.name()),
                    format!("this is `{name}`"),
                    format!(
                        "pass an `Int` or a `Decimal` count of {}, as in `{}(params.hours_late)`",
                        unit.name(),
                        unit.name()
                    ),
                );
                return self.error_typed(cx, e.span);
            }
            None => return self.error_typed(cx, e.span),
        };
        self.make(
            cx,
            e.span,
            ir::ExprKind::Call(unit, vec![count]),
            Some(Type::Duration),
        )
    }
}
