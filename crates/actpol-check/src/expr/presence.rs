//! Presence: `has`, and the facts a condition proves for the optional
//! fields it guards.

use super::*;
use crate::diag::Lint;

impl Checker<'_> {
    pub(super) fn has(&mut self, cx: &mut Cx<'_>, e: &ast::Expr, term: &ast::Expr) -> Typed {
        if collections::is_part_term(term) {
            return self.has_part(cx, e, term);
        }
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

    pub(super) fn presence_checked(&mut self, cx: &Cx<'_>, term: &ast::Expr) -> Option<Presence> {
        let file = cx.file();
        if let Some(p) = envelope_presence(term) {
            return Some(p);
        }
        if let ExprKind::Field(base, field) = &term.kind {
            if let ExprKind::Name(root) = &base.kind {
                match root.name.as_str() {
                    "params" => {
                        let (name, _, optional) =
                            self.param_field(cx.frame, field, term.span, Usage::Read)?;
                        self.has_required(file, term, optional);
                        return Some(Presence::Param(name));
                    }
                    "object" if field.name != "id" => {
                        let (name, _, optional) = self.attr_field(cx.frame, field, term.span)?;
                        self.has_required(file, term, optional);
                        return Some(Presence::Attr(name));
                    }
                    "context" => {
                        let (name, optional) = {
                            let f = self.context_field(file, field)?;
                            (f.name, f.optional)
                        };
                        self.has_required(file, term, optional);
                        return Some(Presence::Context(name));
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

    /// `has` on a field every envelope carries always holds: a lint, since
    /// the author likely meant another field or a comparison.
    fn has_required(&mut self, file: u32, term: &ast::Expr, optional: bool) {
        if optional {
            return;
        }
        let field = self.unit.text(file, term.span).to_string();
        self.unit.report(
            file,
            Lint::HasRequired {
                help: format!(
                    "`{field}` is declared without `?`, so it is always present: remove `has {field}`, or mark the field optional"
                ),
                field,
                span: self.unit.tight(file, term.span).into(),
            },
        );
    }

    /// What `has term` proves, found without reporting anything (the
    /// check of the `has` itself reports).
    pub(super) fn presence_quiet(&self, term: &ast::Expr) -> Option<Presence> {
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

    /// What a true `has term` proves of a part: the part, every step of
    /// its path before it (`has a.b.c` holds only where `a.b` does), and
    /// that each reference on the way names an entity the envelope carries.
    pub(super) fn part_facts(&self, term: &ast::Expr, out: &mut Vec<Fact>) {
        let mut at = strip_parens(term);
        loop {
            if !collections::is_part_term(at) {
                if let Some(p) = self.presence_quiet(at) {
                    out.push(Fact::Present(p));
                }
                return;
            }
            if let Some(key) = collections::path_key(at) {
                out.push(Fact::Part(key));
            }
            nonempty_facts(at, out);
            let base = match &at.kind {
                ExprKind::Field(base, _) => {
                    if let Some(key) = collections::path_key(base) {
                        out.push(Fact::Part(entities::resolved_key(&key)));
                    }
                    base
                }
                ExprKind::Method(base, _, _) => base,
                _ => return,
            };
            at = strip_parens(base);
        }
    }

    /// Adds to `out` what `e` proves present when it evaluates to `truth`.
    pub(crate) fn facts_if(&self, e: &ast::Expr, truth: bool, out: &mut Vec<Fact>) {
        match &e.kind {
            ExprKind::Has(term) if truth && collections::is_part_term(term) => {
                self.part_facts(term, out);
            }
            ExprKind::Has(term) if truth => {
                if let Some(p) = self.presence_quiet(term) {
                    out.push(Fact::Present(p));
                    // A rollback's action or window implies the rollback.
                    if matches!(p, Presence::RollbackAction | Presence::RollbackWithin) {
                        out.push(Fact::Present(Presence::Rollback));
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
}

/// The parts of a list or set that are absent exactly when it is empty:
/// proving one present proves the others.
const NONEMPTY_PARTS: [&str; 4] = ["first", "last", "min", "max"];

/// `has xs.first()` proves `xs.last()`, `xs.min()` and `xs.max()` too (and
/// each of them the others): a collection with one element has them all.
fn nonempty_facts(at: &ast::Expr, out: &mut Vec<Fact>) {
    let ExprKind::Method(base, method, args) = &at.kind else {
        return;
    };
    if !args.is_empty() || !NONEMPTY_PARTS.contains(&method.name.as_str()) {
        return;
    }
    if let Some(base) = collections::path_key(base) {
        out.extend(
            NONEMPTY_PARTS
                .iter()
                .map(|part| Fact::Part(format!("{base}.{part}()"))),
        );
    }
}
