//! Reads: envelope fields, parameters, attributes, context, budgets,
//! risks and enum variants, each looked up over every action the rule
//! applies to.

use super::*;

impl Checker<'_> {
    pub(super) fn field(
        &mut self,
        cx: &mut Cx<'_>,
        e: &ast::Expr,
        base: &ast::Expr,
        field: &Ident,
    ) -> Typed {
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
        match base_t.ty {
            Some(Type::Record(id)) => return self.record_field(cx, e, base_t, id, field),
            Some(Type::Entity(id)) => return self.related_attr(cx, e, base, base_t, id, field),
            _ => {}
        }
        if let Some(ty) = &base_t.ty {
            let name = self.type_name(ty);
            let help: String = "records, references to entities, and `params`, `object`, `context`, `agent`, `action`, `intent`, `rollback`, `plan`, `now`, `budget` and `risk` have fields".into();
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

    pub(super) fn read_env(
        &mut self,
        cx: &Cx<'_>,
        root: &Ident,
        field: &Ident,
        span: Span,
    ) -> Typed {
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

    pub(super) fn optional_without_has(&mut self, file: u32, span: Span, field: &str, has: &str) {
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

    pub(super) fn read_param(&mut self, cx: &Cx<'_>, field: &Ident, span: Span) -> Typed {
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

    pub(super) fn param_error(
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

    pub(super) fn read_attr(&mut self, cx: &Cx<'_>, field: &Ident, span: Span) -> Typed {
        let Some((name, ty, optional)) = self.attr_field(cx.frame, field, span) else {
            return self.error_typed(cx, span);
        };
        if optional && !cx.proves(Presence::Attr(name)) {
            let text = format!("object.{}", field.name);
            self.optional_without_has(cx.file(), span, &text, &text);
        }
        self.make(cx, span, ir::ExprKind::Attr(name), ty)
    }

    pub(super) fn attr_field(
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

    pub(super) fn attr_error(
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
            CheckError::UnknownAttribute {
                message,
                span: span.into(),
                label,
                help,
            },
        );
    }

    pub(super) fn context_field(&mut self, file: u32, field: &Ident) -> Option<&FieldInfo> {
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

    pub(super) fn read_context(&mut self, cx: &Cx<'_>, field: &Ident, span: Span) -> Typed {
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

    pub(super) fn read_budget(
        &mut self,
        cx: &Cx<'_>,
        budget: &Ident,
        field: &Ident,
        span: Span,
    ) -> Typed {
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

    pub(super) fn budget_without_field(
        &mut self,
        cx: &Cx<'_>,
        budget: &Ident,
        span: Span,
    ) -> Typed {
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

    pub(super) fn read_risk(&mut self, cx: &Cx<'_>, name: &Ident, span: Span) -> Typed {
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

    pub(super) fn variant(
        &mut self,
        cx: &Cx<'_>,
        id: EnumId,
        variant: &Ident,
        span: Span,
    ) -> Typed {
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
}
