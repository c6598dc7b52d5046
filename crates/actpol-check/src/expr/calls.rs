//! Calls: methods on values, functions, and the questions about what the
//! schema declares (`action.touches`, `action.sends`, `upstream.reads`).

use super::*;

impl Checker<'_> {
    pub(super) fn method(
        &mut self,
        cx: &mut Cx<'_>,
        e: &ast::Expr,
        base: &ast::Expr,
        name: &Ident,
        args: &[ast::Expr],
    ) -> Typed {
        if let ExprKind::Name(root) = &base.kind {
            if let Some(kind) = declared_method(&root.name, &name.name) {
                return self.declared(cx, e, kind, args);
            }
            if let Some(help) = declared_methods_help(&root.name) {
                let help = suggest(&name.name, declared_methods_of(&root.name), || help.into());
                self.unknown_name(
                    cx.file(),
                    name.span,
                    format!("`{}` has no method `{}`", root.name, name.name),
                    "no such method",
                    help,
                );
                return self.error_typed(cx, e.span);
            }
        }
        let recv = self.expr(cx, base);
        let Some(recv_ty) = recv.ty.clone() else {
            self.check_args(cx, args);
            return self.error_typed(cx, e.span);
        };
        if collections::answers(&recv_ty, &name.name) {
            return self.collection_method(cx, e, recv, recv_ty, name, args);
        }
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
        if matches!(m.arg, Arg::Pattern | Arg::Zone) {
            let constant = if m.arg == Arg::Pattern {
                self.regex_pattern(cx, &args[0])
            } else {
                self.zone_name(cx, &args[0])
            };
            return match constant {
                Some(pattern) => self.make(
                    cx,
                    e.span,
                    ir::ExprKind::Call(m.builtin, vec![recv.expr, pattern]),
                    Some(m.yields.ty()),
                ),
                None => self.error_typed(cx, e.span),
            };
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
        self.make(
            cx,
            e.span,
            ir::ExprKind::Call(m.builtin, call_args),
            Some(m.yields.ty()),
        )
    }

    pub(super) fn unknown_method(&mut self, file: u32, name: &Ident, recv_ty: &Type) {
        let ty_name = self.type_name(recv_ty);
        let help = match Receiver::of(recv_ty).filter(|_| !matches!(recv_ty, Type::List(_))) {
            Some(on) => suggest(&name.name, methods_of(on).map(|m| m.name), || {
                format!("`{ty_name}` has {}", list(methods_of(on).map(|m| m.name), 6))
            }),
            None if matches!(recv_ty, Type::List(_) | Type::Set(_)) => {
                suggest(&name.name, collections::list_methods(), || {
                    format!("`{ty_name}` has {}", list(collections::list_methods(), 8))
                })
            }
            None => "methods apply to timestamps (`hour_in`, `time_of_day_in`, `weekday_in`, `date_in`), strings (`starts_with`, `ends_with`, `contains`, `matches`, `matches_regex`, `lower`, `upper`, `email_domain`, `url_host`, `urls`, `url_hosts`, `split`, `len`) and sets (`contains`, `contains_any`, `contains_all`, `len`)".into(),
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
    pub(super) fn check_args(&mut self, cx: &mut Cx<'_>, args: &[ast::Expr]) {
        for arg in args {
            self.expr(cx, arg);
        }
    }

    pub(super) fn wrong_arity(
        &mut self,
        file: u32,
        span: Span,
        func: &str,
        expected: usize,
        found: usize,
    ) {
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

    /// `action.touches(pii)`, `action.sends(external)`,
    /// `upstream.reads(pii)`: a question about what the schema declares,
    /// whose one argument is a declared name.
    fn declared(
        &mut self,
        cx: &Cx<'_>,
        e: &ast::Expr,
        kind: DeclaredMethod,
        args: &[ast::Expr],
    ) -> Typed {
        let (arg, within) = match (kind, args) {
            (_, [arg]) => (arg, None),
            (DeclaredMethod::UpstreamReads, [arg, within]) => (arg, Some(within)),
            _ => {
                self.wrong_arity(cx.file(), e.span, kind.text(), 1, args.len());
                return self.error_typed(cx, e.span);
            }
        };
        let within = match within {
            None => None,
            Some(within) => match self.look_back(cx, within) {
                Some(ms) => Some(ms),
                None => return self.error_typed(cx, e.span),
            },
        };
        let ExprKind::Name(word) = &strip_parens(arg).kind else {
            let (what, example) = kind.argument();
            self.type_mismatch(
                cx.file(),
                arg.span,
                format!("`{}` takes the name of {what}", kind.text()),
                format!("not the name of {what}"),
                format!("write {what}, as in `{example}`"),
            );
            return self.error_typed(cx, e.span);
        };
        let made = match kind {
            DeclaredMethod::Touches => self
                .data_class_id(cx.file(), word)
                .map(ir::ExprKind::Touches),
            DeclaredMethod::UpstreamReads => self
                .data_class_id(cx.file(), word)
                .map(|class| ir::ExprKind::Upstream(class, within)),
            DeclaredMethod::Sends => self.destination(cx.file(), word).map(ir::ExprKind::Sends),
        };
        match made {
            Some(kind) => self.make(cx, e.span, kind, Some(Type::Bool)),
            None => self.error_typed(cx, e.span),
        }
    }

    /// How far back `upstream.reads(pii, 30d)` looks at run time: a
    /// duration written as a literal, above zero.
    fn look_back(&mut self, cx: &Cx<'_>, arg: &ast::Expr) -> Option<i64> {
        let ms = match &strip_parens(arg).kind {
            ExprKind::Lit(Literal::Duration(d)) => self.duration(cx.file(), &d.text, d.span)?,
            _ => 0,
        };
        if ms > 0 {
            return Some(ms);
        }
        self.type_mismatch(
            cx.file(),
            arg.span,
            "`upstream.reads` looks back a duration written as a literal".into(),
            "not a duration literal above zero".into(),
            "write how far back a step of the plan may be, as in `upstream.reads(pii, 30d)`".into(),
        );
        None
    }

    pub(super) fn call(
        &mut self,
        cx: &mut Cx<'_>,
        e: &ast::Expr,
        name: &Ident,
        args: &[ast::Expr],
    ) -> Typed {
        let Some(&(func, arity)) = FUNCTIONS.iter().find(|(f, _)| *f == name.name) else {
            let text = name.name.as_str();
            let help = if METHODS.iter().any(|m| m.name == text) {
                format!("`{text}` is a method: write `<value>.{text}(…)`")
            } else if matches!(text, "count" | "sum" | "baseline") {
                format!("`{text}` reads a window: write `{text}(<actions> over <window>)`, as in `count(crm.* over 1h)`")
            } else {
                suggest(text, FUNCTIONS.iter().map(|(f, _)| *f), || {
                    "the functions are `min`, `max`, `abs`, `timestamp`, `hours`, `minutes`, `seconds` and `days`".into()
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
        if let Some(&(_, unit)) = DURATION_UNITS.iter().find(|(f, _)| *f == func) {
            return self.duration_of(cx, e, unit, &args[0]);
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

    pub(super) fn timestamp(&mut self, cx: &Cx<'_>, e: &ast::Expr, arg: &ast::Expr) -> Typed {
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

    pub(super) fn abs(&mut self, cx: &mut Cx<'_>, e: &ast::Expr, arg: &ast::Expr) -> Typed {
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

    pub(super) fn min_max(
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
}

/// The methods that ask what the schema declares of the action or of the
/// steps before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DeclaredMethod {
    Touches,
    Sends,
    UpstreamReads,
}

impl DeclaredMethod {
    const ALL: [(&'static str, &'static str, DeclaredMethod); 3] = [
        ("action", "touches", DeclaredMethod::Touches),
        ("action", "sends", DeclaredMethod::Sends),
        ("upstream", "reads", DeclaredMethod::UpstreamReads),
    ];

    fn text(self) -> &'static str {
        match self {
            DeclaredMethod::Touches => "action.touches",
            DeclaredMethod::Sends => "action.sends",
            DeclaredMethod::UpstreamReads => "upstream.reads",
        }
    }

    /// What the argument names, and an example.
    fn argument(self) -> (&'static str, &'static str) {
        match self {
            DeclaredMethod::Touches => ("a declared data class", "action.touches(pii)"),
            DeclaredMethod::Sends => ("a destination", "action.sends(external)"),
            DeclaredMethod::UpstreamReads => ("a declared data class", "upstream.reads(pii)"),
        }
    }
}

fn declared_method(root: &str, method: &str) -> Option<DeclaredMethod> {
    DeclaredMethod::ALL
        .iter()
        .find(|(r, m, _)| *r == root && *m == method)
        .map(|(_, _, kind)| *kind)
}

fn declared_methods_of(root: &str) -> impl Iterator<Item = &'static str> + '_ {
    DeclaredMethod::ALL
        .iter()
        .filter(move |(r, _, _)| *r == root)
        .map(|(_, m, _)| *m)
}

/// What a root with declared methods answers, when the method is not one.
fn declared_methods_help(root: &str) -> Option<&'static str> {
    match root {
        "action" => {
            Some("`action` has two methods, `touches(<data class>)` and `sends(<destination>)`")
        }
        "upstream" => Some("`upstream` has one method, `reads(<data class>)`"),
        _ => None,
    }
}
