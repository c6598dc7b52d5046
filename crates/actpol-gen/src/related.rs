//! Reads through references to related entities: `r.attr` where `r` names
//! an entity the envelope may or may not carry, one or two references deep,
//! mostly under the `has` that proves the path present, now and then not,
//! so that a read of a missing entity must fail closed alike in both
//! evaluators.

use actpol_core::collections::PartKind;
use actpol_core::ops::CmpOp;
use actpol_core::types::Type;
use actpol_ir::{Expr, ExprKind};

use crate::expr::{and, mk, Gen, Read, Scope};

/// In a hundred reads through a reference, how many go unguarded.
const UNGUARDED_PERCENT: u64 = 6;

impl Gen<'_> {
    /// A condition on an attribute read through a reference in scope.
    pub(crate) fn related(&mut self, scope: &mut Scope, d: u32) -> Expr {
        let refs: Vec<Read> = scope
            .reads
            .iter()
            .filter(|r| matches!(r.ty, Type::Entity(_)))
            .cloned()
            .collect();
        if refs.is_empty() {
            return self.boolean(scope, d);
        }
        let read = self.rng.pick(&refs);
        let mut reference = self.read(scope, &read);
        let mut guards: Vec<Expr> = Vec::new();
        let hops = 1 + self.rng.below(2);
        for _ in 0..hops {
            let Type::Entity(entity) = reference.ty.clone() else {
                break;
            };
            let attrs = self.schema.entity(entity).attrs.clone();
            if attrs.is_empty() {
                break;
            }
            let slot = self.rng.below(attrs.len());
            let attr = &attrs[slot];
            let resolved = mk(
                ExprKind::Part(PartKind::Related, entity.0, vec![reference.clone()]),
                Type::Entity(entity),
            );
            guards.push(mk(
                ExprKind::HasPart(PartKind::Related, entity.0, vec![reference]),
                Type::Bool,
            ));
            if attr.optional {
                guards.push(mk(
                    ExprKind::HasPart(PartKind::Field, slot as u32, vec![resolved.clone()]),
                    Type::Bool,
                ));
            }
            reference = mk(
                ExprKind::Part(PartKind::Field, slot as u32, vec![resolved]),
                attr.ty.clone(),
            );
        }
        let test = self.test_of(scope, reference, d);
        let Some(guard) = guards.into_iter().reduce(and) else {
            return test;
        };
        if self.rng.chance(UNGUARDED_PERCENT) {
            return test;
        }
        match self.rng.below(3) {
            0 => and(guard, test),
            1 => crate::expr::or(crate::expr::not(guard), test),
            _ => {
                let other = self.boolean(scope, d);
                crate::expr::ite(guard, test, other)
            }
        }
    }

    /// A condition on `e`: itself when a `Bool`, else a comparison.
    fn test_of(&mut self, scope: &mut Scope, e: Expr, d: u32) -> Expr {
        let ty = e.ty.clone();
        if ty == Type::Bool {
            return e;
        }
        let op = if ty.is_ordered() {
            self.rng.pick(&[CmpOp::Eq, CmpOp::Ne, CmpOp::Lt, CmpOp::Ge])
        } else {
            self.rng.pick(&[CmpOp::Eq, CmpOp::Ne])
        };
        let other = if ty == Type::Decimal {
            self.number(scope, d)
        } else {
            self.value(scope, &ty, d)
        };
        crate::expr::cmp(op, e, other)
    }
}
