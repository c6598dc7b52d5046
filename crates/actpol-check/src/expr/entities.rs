//! Related entities: an attribute read through a reference
//! (`object.vendor.status`, `p.payee.country`). The entity a reference
//! names may be missing from the envelope's `entities`, so every read
//! through one is a part that may be absent: `has` must prove it present,
//! as it does a record's optional field. `has object.vendor.status` proves
//! the vendor present, so its required attributes may then be read too;
//! it also proves every step of the path before it (`object.vendor` when
//! that attribute is optional), so one `has` guards a read however deep.

use actpol_core::collections::PartKind;

use super::collections::{is_part_term, path_key};
use super::*;
use crate::schema::FieldInfo;

/// The most references one read may go through: `object.a.b.c.d` is four.
pub(crate) const MAX_HOPS: usize = 4;

/// The fact that the entity the reference at `base_key` names is present
/// (a key no path can spell, as `*` is no name).
pub(crate) fn resolved_key(base_key: &str) -> String {
    format!("{base_key}.*")
}

/// How many references the read `e` goes through.
fn hops(e: &ir::Expr) -> usize {
    match &e.kind {
        ir::ExprKind::Part(kind, _, args) => {
            usize::from(*kind == PartKind::Related) + args.first().map_or(0, hops)
        }
        _ => 0,
    }
}

impl Checker<'_> {
    /// `r.attr` where `r` is a reference to an entity of type `entity`.
    pub(super) fn related_attr(
        &mut self,
        cx: &Cx<'_>,
        e: &ast::Expr,
        base: &ast::Expr,
        recv: Typed,
        entity: EntityId,
        field: &Ident,
    ) -> Typed {
        let Some(attr) = self.related_target(cx, e, &recv, entity, field) else {
            return self.error_typed(cx, e.span);
        };
        let proven = path_key(e).is_some_and(|key| cx.proves_part(&key))
            || (!attr.optional
                && path_key(base).is_some_and(|key| cx.proves_part(&resolved_key(&key))));
        if !proven {
            let text = self.unit.text(cx.file(), e.span).to_string();
            let reference = self.unit.text(cx.file(), base.span).to_string();
            let span = self.unit.tight(cx.file(), e.span);
            self.unit.report(
                cx.file(),
                CheckError::OptionalWithoutHas {
                    help: format!(
                        "`{reference}` names a related entity the envelope may not carry: test `has {text}` first, as in `has {text} and {text} …`"
                    ),
                    field: text,
                    span: span.into(),
                },
            );
        }
        let resolved = self.resolve(cx, e.span, recv, entity);
        self.make(
            cx,
            e.span,
            ir::ExprKind::Part(PartKind::Field, attr.slot, vec![resolved]),
            attr.ty,
        )
    }

    /// `has r.attr`: the entity `r` names is present, and so is its
    /// attribute when the attribute is optional.
    pub(super) fn has_related(
        &mut self,
        cx: &Cx<'_>,
        e: &ast::Expr,
        recv: Typed,
        entity: EntityId,
        field: &Ident,
    ) -> Typed {
        let Some(attr) = self.related_target(cx, e, &recv, entity, field) else {
            return self.error_typed(cx, e.span);
        };
        let found = self.make(
            cx,
            e.span,
            ir::ExprKind::HasPart(PartKind::Related, entity.0, vec![recv.expr.clone()]),
            Some(Type::Bool),
        );
        if !attr.optional {
            return found;
        }
        let resolved = self.resolve(cx, e.span, recv, entity);
        let given = self.make(
            cx,
            e.span,
            ir::ExprKind::HasPart(PartKind::Field, attr.slot, vec![resolved]),
            Some(Type::Bool),
        );
        self.make(
            cx,
            e.span,
            ir::ExprKind::And(Box::new(found.expr), Box::new(given.expr)),
            Some(Type::Bool),
        )
    }

    /// Before `has base.x` checks `base`: what proves `base` itself present
    /// when nothing has yet (a part such as `object.vendor.parent`, or an
    /// optional field such as `object.vendor`), with the fact pushed so
    /// `base` may be read. Returns the proof and how many facts it pushed.
    pub(super) fn prove_base(
        &mut self,
        cx: &mut Cx<'_>,
        base: &ast::Expr,
    ) -> (Option<Typed>, usize) {
        let base = strip_parens(base);
        if is_part_term(base) {
            let Some(key) = path_key(base) else {
                return (None, 0);
            };
            if cx.proves_part(&key) || self.parent_resolved(cx, base) {
                return (None, 0);
            }
            let proof = self.has_part(cx, base, base);
            let before = cx.facts.len();
            self.part_facts(base, &mut cx.facts);
            debug_assert!(cx.facts.contains(&Fact::Part(key)));
            return (Some(proof), cx.facts.len() - before);
        }
        match self.optional_root(cx, base) {
            Some(p) if !cx.proves(p) => {
                let proof = self.make(cx, base.span, ir::ExprKind::Has(p), Some(Type::Bool));
                cx.facts.push(Fact::Present(p));
                (Some(proof), 1)
            }
            _ => (None, 0),
        }
    }

    /// `proof and result`, or `result` when there is no proof to add.
    pub(super) fn after_proof(
        &self,
        cx: &Cx<'_>,
        e: &ast::Expr,
        proof: Option<Typed>,
        result: Typed,
    ) -> Typed {
        match (proof, &result.ty) {
            (Some(proof), Some(_)) => self.make(
                cx,
                e.span,
                ir::ExprKind::And(Box::new(proof.expr), Box::new(result.expr)),
                Some(Type::Bool),
            ),
            _ => result,
        }
    }

    /// Whether `part` is `r.attr` read through a reference `has` proved
    /// resolved (a required attribute then needs no `has` of its own).
    fn parent_resolved(&self, cx: &Cx<'_>, part: &ast::Expr) -> bool {
        match &part.kind {
            ExprKind::Field(inner, _) => {
                path_key(inner).is_some_and(|key| cx.proves_part(&resolved_key(&key)))
            }
            _ => false,
        }
    }

    /// The presence an optional `params.x`, `object.x` or `context.x`
    /// needs, found without reporting anything; `None` for a required
    /// field or anything else.
    fn optional_root(&self, cx: &Cx<'_>, term: &ast::Expr) -> Option<Presence> {
        let p = self.presence_quiet(term)?;
        let optional_in = |fields: &[FieldInfo], name: NameId| {
            fields.iter().any(|f| f.name == name && f.optional)
        };
        let optional = match p {
            Presence::Param(n) => cx
                .frame
                .actions
                .iter()
                .any(|a| optional_in(&self.tables.actions[a.index()].params, n)),
            Presence::Attr(n) => cx
                .frame
                .objects
                .iter()
                .any(|o| optional_in(&self.tables.entities[o.index()], n)),
            Presence::Context(n) => optional_in(&self.tables.context, n),
            _ => false,
        };
        optional.then_some(p)
    }

    /// The entity a reference names, as a record of its attributes (read
    /// only under a `has` that proved it present).
    fn resolve(&self, cx: &Cx<'_>, span: Span, recv: Typed, entity: EntityId) -> ir::Expr {
        self.make(
            cx,
            span,
            ir::ExprKind::Part(PartKind::Related, entity.0, vec![recv.expr]),
            Some(Type::Entity(entity)),
        )
        .expr
    }

    /// An attribute of a referenced entity: its slot, type and
    /// optionality; reports an unknown one.
    fn related_slot(&mut self, cx: &Cx<'_>, entity: EntityId, field: &Ident) -> Option<Attr> {
        let attrs = self.tables.entities.get(entity.index())?;
        let found = self
            .schema
            .field_names
            .get_index_of(&field.name)
            .and_then(|n| attrs.iter().position(|f| f.name.index() == n));
        if let Some(slot) = found {
            let f = &attrs[slot];
            return Some(Attr {
                slot: slot as u32,
                ty: f.ty.clone(),
                optional: f.optional,
            });
        }
        let entity_name = self.schema.entity_name(entity).to_string();
        let names: Vec<&str> = attrs
            .iter()
            .map(|f| self.schema.field_name(f.name))
            .collect();
        let message = if field.name == "id" {
            format!("a reference to `{entity_name}` is its id: `id` is not read through it")
        } else {
            format!("entity `{entity_name}` has no attribute `{}`", field.name)
        };
        let help = if field.name == "id" {
            "compare the reference itself: `object.vendor == params.vendor`".to_string()
        } else {
            suggest(&field.name, names.iter().copied(), || {
                format!("`{entity_name}` has {}", list(names.iter().copied(), 6))
            })
        };
        self.attr_error(
            cx.file(),
            field.span,
            message,
            "no such attribute".into(),
            help,
        );
        None
    }

    /// The attribute `field` of `entity` that `e` reads through `recv`,
    /// if the entity declares it and the read stays within [`MAX_HOPS`]
    /// references (each failure reported).
    fn related_target(
        &mut self,
        cx: &Cx<'_>,
        e: &ast::Expr,
        recv: &Typed,
        entity: EntityId,
        field: &Ident,
    ) -> Option<Attr> {
        let attr = self.related_slot(cx, entity, field)?;
        if hops(&recv.expr) + 1 > MAX_HOPS {
            self.too_many_hops(cx, e);
            return None;
        }
        Some(attr)
    }

    fn too_many_hops(&mut self, cx: &Cx<'_>, e: &ast::Expr) {
        let span = self.unit.tight(cx.file(), e.span);
        self.unit.report(
            cx.file(),
            CheckError::TooManyHops {
                read: self.unit.text(cx.file(), e.span).to_string(),
                span: span.into(),
                help: format!(
                    "a read may go through at most {MAX_HOPS} references: carry the fact the rule needs as an attribute of a nearer entity"
                ),
            },
        );
    }
}

/// An attribute of an entity, as a read through a reference sees it.
struct Attr {
    slot: u32,
    ty: Option<Type>,
    optional: bool,
}
