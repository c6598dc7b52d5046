//! Window reads: `count`, `sum` and `baseline` over a span, with their
//! action patterns and keys.

use super::*;

impl Checker<'_> {
    pub(super) fn window(&mut self, cx: &Cx<'_>, e: &ast::Expr, w: &WindowCall) -> Typed {
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

    pub(super) fn window_span(&mut self, file: u32, w: &WindowCall) -> Option<Window> {
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
    pub(super) fn window_pattern(&mut self, file: u32, target: &Ident) -> Option<String> {
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
    pub(super) fn sum_target(
        &mut self,
        file: u32,
        target: &Ident,
    ) -> Option<(String, Option<NameId>, Type)> {
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
}
