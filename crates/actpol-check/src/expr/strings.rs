//! String methods whose argument the checker settles itself: the pattern of
//! `matches_regex` is compiled here, under the runtime's limits, so an
//! invalid or oversized pattern is a compile error and never a run-time one.

use actpol_core::text::{compile_regex, PatternError};

use super::*;

impl Checker<'_> {
    /// The pattern of `s.matches_regex("…")`: a constant string that
    /// compiles. Yields the pattern as a constant, or `None` after
    /// reporting why it cannot be one.
    pub(super) fn regex_pattern(&mut self, cx: &mut Cx<'_>, arg: &ast::Expr) -> Option<ir::Expr> {
        let ExprKind::Lit(Literal::String(pattern)) = &strip_parens(arg).kind else {
            self.check_args(cx, std::slice::from_ref(arg));
            self.unit.report(
                cx.file(),
                CheckError::NotConstant {
                    message: "`matches_regex` needs a constant pattern".into(),
                    span: self.unit.tight(cx.file(), arg.span).into(),
                    help: "write the pattern as a string, as in `.matches_regex(\"^inv-[0-9]{6}$\")`; patterns are compiled and checked before the policy runs".into(),
                },
            );
            return None;
        };
        if let Err(why) = compile_regex(pattern) {
            let help = match why {
                PatternError::TooLong(_) | PatternError::TooLarge => {
                    "split the check into several smaller patterns, or bound repetitions with smaller counts"
                }
                PatternError::Invalid(_) => {
                    "write a pattern in the syntax of the `regex` crate: no look-around or back-references; escape `\\\\` in strings"
                }
            };
            let span = self.unit.tight(cx.file(), arg.span);
            self.unit.report(
                cx.file(),
                CheckError::InvalidPattern {
                    message: format!("invalid regular expression `{pattern}`: {why}"),
                    span: span.into(),
                    help: help.into(),
                },
            );
            return None;
        }
        Some(
            self.make(
                cx,
                arg.span,
                ir::ExprKind::Const(Value::String(pattern.as_str().into())),
                Some(Type::String),
            )
            .expr,
        )
    }
}
