//! A readable dump of a policy's IR, close to policy source, so that a
//! failing generated case can be read and reduced by hand.

use std::fmt::Write;

use actpol_core::schema::{OutcomeSpec, ReversibilityClass, Schema, TriggerDef, Window};
use actpol_core::value::format_duration;
use actpol_ir::{BudgetField, Expr, ExprKind, Policy};

/// The policy as text: schema, declarations, risks, scopes, rules and
/// raises, with every id resolved to its name. Not valid policy source in
/// every detail (conditions are fully parenthesised, reads of optional
/// fields are not re-checked), but one line per declaration.
pub fn dump(p: &Policy) -> String {
    let s = &p.schema;
    let mut out = String::new();
    let names = |list: &mut dyn Iterator<Item = String>| list.collect::<Vec<_>>().join(", ");
    let _ = writeln!(out, "// policy {}", p.meta.name);
    let _ = writeln!(out, "system {}", names(&mut s.systems.keys().cloned()));
    let _ = writeln!(
        out,
        "data_class {}",
        names(&mut s.data_classes.keys().cloned())
    );
    for (name, e) in s.enums.iter().filter(|(_, e)| !e.builtin) {
        let _ = writeln!(out, "enum {name} {{ {} }}", e.variants.join(", "));
    }
    let fields = |list: &[actpol_core::schema::FieldDef]| {
        list.iter()
            .map(|f| {
                let q = if f.optional { "?" } else { "" };
                let bounds = f
                    .bounds
                    .map(|b| format!(" in {}", b.text(&f.ty)))
                    .unwrap_or_default();
                format!("{}{q}: {}{bounds}", s.field_name(f.name), f.type_text(s))
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    for (name, e) in &s.entities {
        let data: Vec<&str> = e
            .data_classes
            .iter()
            .map(|d| s.data_class_name(*d))
            .collect();
        let system = e
            .system
            .map_or(String::new(), |x| format!(" system {}", s.system_name(x)));
        let _ = writeln!(
            out,
            "entity {name} {{ {} }} data [{}]{system}",
            fields(&e.attrs),
            data.join(", ")
        );
    }
    for (name, a) in &s.actions {
        let rev = match a.reversibility {
            ReversibilityClass::Reversible => "reversible".to_string(),
            ReversibilityClass::Compensable { by, within } => format!(
                "compensable by {}{}",
                s.action_name(by),
                within.map_or(String::new(), |w| format!(" within {}", format_duration(w)))
            ),
            ReversibilityClass::Irreversible => "irreversible".to_string(),
        };
        let data: Vec<&str> = a
            .data_classes
            .iter()
            .map(|d| s.data_class_name(*d))
            .collect();
        let reads: Vec<&str> = a.reads.iter().map(|d| s.data_class_name(*d)).collect();
        let sends: Vec<&str> = a.sends.iter().map(|d| d.as_str()).collect();
        let triggers: Vec<String> = a
            .triggers
            .iter()
            .map(|t| match t {
                TriggerDef::Action(x) => s.action_name(*x).to_string(),
                TriggerDef::System(x) => format!("system {}", s.system_name(*x)),
            })
            .collect();
        let _ = writeln!(
            out,
            "action {name} {{ system {} object {} params {{ {} }} {rev} data [{}] reads [{}] sends [{}] triggers [{}] }}",
            s.system_name(a.system),
            s.entity_name(a.object),
            fields(&a.params),
            data.join(", "),
            reads.join(", "),
            sends.join(", "),
            triggers.join(", ")
        );
    }
    let _ = writeln!(out, "context {{ {} }}", fields(&s.context));

    let m = &p.meta;
    let _ = writeln!(
        out,
        "policy {} {{ default {} on_error {} }}",
        m.name,
        spec(p, &m.default),
        spec(p, &m.on_error)
    );
    for (i, (name, a)) in m.agents.iter().enumerate() {
        let mut scope = String::new();
        if let Some(def) = &a.scope {
            let systems = def.systems.as_ref().map(|l| {
                l.iter()
                    .map(|x| s.system_name(*x))
                    .collect::<Vec<_>>()
                    .join(", ")
            });
            let objects = def.objects.as_ref().map(|l| {
                l.iter()
                    .map(|x| s.entity_name(*x))
                    .collect::<Vec<_>>()
                    .join(", ")
            });
            let _ = write!(scope, " scope {{");
            if let Some(x) = systems {
                let _ = write!(scope, " systems [{x}]");
            }
            if let Some(x) = objects {
                let _ = write!(scope, " objects [{x}]");
            }
            for (entity, pred) in p.scopes.get(i).into_iter().flatten() {
                let _ = write!(
                    scope,
                    " records {} where {}",
                    s.entity_name(*entity),
                    expr(p, pred)
                );
            }
            let _ = write!(scope, " }}");
        }
        let _ = writeln!(
            out,
            "agent {name} {{ owner {:?} workflow {}{scope} }}",
            a.owner, a.workflow
        );
    }
    for (name, a) in &m.approvers {
        let _ = writeln!(
            out,
            "approver {name} {{ title {:?} contact {:?} }}",
            a.title, a.contact
        );
    }
    for (name, b) in &m.budgets {
        let _ = writeln!(
            out,
            "budget {name}: {} {{ limit {} window {} per {} on_exhausted {} }}",
            s.type_name(&b.ty),
            b.limit.display(&b.ty, s),
            window(b.window),
            b.key.as_str(),
            spec(p, &b.on_exhausted)
        );
    }
    for (meta, e) in m.risks.iter().zip(&p.risks) {
        let _ = writeln!(
            out,
            "risk {}{}: {} = {}",
            meta.name,
            on(s, meta.actions.as_deref()),
            s.type_name(&meta.ty),
            expr(p, e)
        );
    }
    for rule in &p.rules {
        let name = m
            .rules
            .get(rule.id.index())
            .map_or("?", |r| r.name.as_str());
        let mut line = format!("rule {name}{}", on(s, Some(&rule.actions)));
        if let Some(agents) = &rule.agents {
            let list: Vec<&str> = agents
                .iter()
                .map(|a| {
                    m.agents
                        .get_index(a.index())
                        .map_or("?", |(n, _)| n.as_str())
                })
                .collect();
            let _ = write!(line, " for agent {}", list.join(", "));
        }
        if let Some(w) = &rule.workflows {
            let _ = write!(line, " for workflow {}", w.join(", "));
        }
        if let Some(w) = &rule.when {
            let _ = write!(line, " when {}", expr(p, w));
        }
        let o = &rule.outcome;
        let _ = write!(line, " => {}", o.level);
        if let Some(a) = o.approver {
            let _ = write!(line, " to {}", m.approver_name(a));
        }
        if let Some(r) = &o.reason {
            let _ = write!(line, " {r:?}");
        }
        if !o.limits.is_empty() || !o.requires.is_empty() {
            let mut parts: Vec<String> = o
                .limits
                .iter()
                .map(|l| {
                    format!(
                        "params.{} {} {}",
                        s.field_name(l.param),
                        l.op.as_str(),
                        expr(p, &l.value)
                    )
                })
                .collect();
            parts.extend(o.requires.iter().map(|r| format!("require {}", r.as_str())));
            let _ = write!(line, " {{ {} }}", parts.join("; "));
        }
        let overrides = m.rules.get(rule.id.index()).map(|r| &r.overrides);
        if let Some(list) = overrides.filter(|l| !l.is_empty()) {
            let list: Vec<&str> = list
                .iter()
                .map(|r| m.rules.get(r.index()).map_or("?", |r| r.name.as_str()))
                .collect();
            let _ = write!(line, " overrides {}", list.join(", "));
        }
        for c in &rule.consumes {
            let _ = write!(
                line,
                " consume {} by {}",
                m.budget_name(c.budget),
                expr(p, &c.amount)
            );
        }
        let _ = writeln!(out, "{line}");
    }
    for (def, e) in m.raises.iter().zip(&p.raises) {
        let arms: Vec<String> = def
            .arms
            .iter()
            .map(|(from, to)| format!("{from} -> {}", spec(p, to)))
            .collect();
        let _ = writeln!(
            out,
            "raise {}{} when {} {{ {} }}",
            def.name,
            on(s, def.actions.as_deref()),
            expr(p, e),
            arms.join("; ")
        );
    }
    out
}

fn on(s: &Schema, actions: Option<&[actpol_core::ids::ActionId]>) -> String {
    match actions {
        None => String::new(),
        Some(list) => {
            let names: Vec<&str> = list.iter().map(|a| s.action_name(*a)).collect();
            format!(" on {}", names.join(", "))
        }
    }
}

fn window(w: Window) -> String {
    match w {
        Window::Span(ms) => format_duration(ms),
        Window::Plan => "plan".to_string(),
        Window::Upstream(None) => "upstream".to_string(),
        Window::Upstream(Some(ms)) => format!("upstream {}", format_duration(ms)),
    }
}

fn spec(p: &Policy, spec: &OutcomeSpec) -> String {
    let mut out = spec.level.to_string();
    if let Some(a) = spec.approver {
        let _ = write!(out, " to {}", p.meta.approver_name(a));
    }
    if let Some(r) = &spec.reason {
        let _ = write!(out, " {r:?}");
    }
    for r in &spec.requires {
        let _ = write!(out, " require {}", r.as_str());
    }
    out
}

/// An expression, fully parenthesised; constants as explanations show them.
pub(crate) fn expr(p: &Policy, e: &Expr) -> String {
    let s = &p.schema;
    let x = |e: &Expr| expr(p, e);
    match &e.kind {
        ExprKind::Const(v) => v.display(&e.ty, s),
        ExprKind::Env(f) => f.source().to_string(),
        ExprKind::Param(n) => format!("params.{}", s.field_name(*n)),
        ExprKind::Attr(n) => format!("object.{}", s.field_name(*n)),
        ExprKind::Context(n) => format!("context.{}", s.field_name(*n)),
        ExprKind::Touches(d) => format!("action.touches({})", s.data_class_name(*d)),
        ExprKind::Upstream(d, within) => match within {
            None => format!("upstream.reads({})", s.data_class_name(*d)),
            Some(ms) => format!(
                "upstream.reads({}, {})",
                s.data_class_name(*d),
                format_duration(*ms)
            ),
        },
        ExprKind::Sends(d) => format!("action.sends({})", d.as_str()),
        ExprKind::Has(pr) => format!("has {}", pr.source(s)),
        ExprKind::Budget(b, f) => {
            let field = match f {
                BudgetField::Limit => "limit",
                BudgetField::Consumed => "consumed",
                BudgetField::Remaining => "remaining",
            };
            format!("budget.{}.{field}", p.meta.budget_name(*b))
        }
        ExprKind::Window(w) => {
            let target = match w.param {
                Some(n) => format!("{}.{}", w.pattern, s.field_name(n)),
                None => w.pattern.clone(),
            };
            format!(
                "{}({target} over {} by {})",
                w.kind.as_str(),
                window(w.window),
                w.key.as_str()
            )
        }
        ExprKind::Risk(r) => format!(
            "risk.{}",
            p.meta.risks.get(r.index()).map_or("?", |m| m.name.as_str())
        ),
        ExprKind::Not(a) => format!("(not {})", x(a)),
        ExprKind::And(a, b) => format!("({} and {})", x(a), x(b)),
        ExprKind::Or(a, b) => format!("({} or {})", x(a), x(b)),
        ExprKind::Cmp(op, a, b) => format!("({} {} {})", x(a), op.as_str(), x(b)),
        ExprKind::Arith(op, a, b) => format!("({} {} {})", x(a), op.as_str(), x(b)),
        ExprKind::Neg(a) => format!("(-{})", x(a)),
        ExprKind::In(a, b) => format!("({} in {})", x(a), x(b)),
        ExprKind::Call(f, args) => {
            let args: Vec<String> = args.iter().map(x).collect();
            format!("{}({})", f.name(), args.join(", "))
        }
        ExprKind::If(c, a, b) => format!("(if {} then {} else {})", x(c), x(a), x(b)),
        ExprKind::SetLit(items) => {
            let items: Vec<String> = items.iter().map(x).collect();
            format!("[{}]", items.join(", "))
        }
        ExprKind::ToDecimal(a) => format!("decimal({})", x(a)),
        ExprKind::Var(slot) => format!("v{slot}"),
        ExprKind::Loop {
            kind,
            indexed,
            over,
            body,
        } => {
            // The body's variables are named by slot, as `Var` prints them;
            // the element's slot is one past the highest the body reads
            // that the loop binds, which dumps need not know: show both.
            let index = if *indexed { "i, " } else { "" };
            format!("{}.{}({index}v, {})", x(over), kind.name(), x(body))
        }
        ExprKind::Coll(op, args) => {
            let args: Vec<String> = args.iter().map(x).collect();
            format!("{}({})", op.name(), args.join(", "))
        }
        ExprKind::Part(kind, slot, args) => {
            let args: Vec<String> = args.iter().map(x).collect();
            format!("{}#{slot}({})", kind.name(), args.join(", "))
        }
        ExprKind::HasPart(kind, slot, args) => {
            let args: Vec<String> = args.iter().map(x).collect();
            format!("has {}#{slot}({})", kind.name(), args.join(", "))
        }
    }
}
