//! Conditions over lists, sets and records: quantifiers (with and without
//! an index), counts, sums, set algebra, `distinct`, and the parts that may
//! be absent (`first`, `last`, `at`, `min`, `max`, a record's optional
//! field), read under `has` or, now and then, without it so both
//! evaluators must fail alike.

use actpol_core::collections::{sum_zero, CollOp, LoopKind, PartKind};
use actpol_core::ops::CmpOp;
use actpol_core::types::Type;
use actpol_core::value::Value;
use actpol_ir::{Expr, ExprKind};

use crate::expr::{and, mk, Gen, Read, Scope};

fn boxed(e: Expr) -> Box<Expr> {
    Box::new(e)
}

fn cmp(op: CmpOp, a: Expr, b: Expr) -> Expr {
    mk(ExprKind::Cmp(op, boxed(a), boxed(b)), Type::Bool)
}

/// How many variables enclosing loops bound where `scope` stands.
fn bound(scope: &Scope) -> u32 {
    scope
        .reads
        .iter()
        .filter(|r| matches!(r.kind, ExprKind::Var(_)))
        .count() as u32
}

impl Gen<'_> {
    /// A condition over a collection.
    pub(crate) fn collection(&mut self, scope: &mut Scope, d: u32) -> Expr {
        let over = self.collection_value(scope);
        let Some((over, elem)) = over else {
            return self.boolean(scope, d);
        };
        let is_list = matches!(over.ty, Type::List(_));
        let ordered = elem.is_ordered();
        match self.rng.below(9) {
            0..=2 => self.quantified(scope, over, &elem, d),
            3 if sum_zero(&elem).is_some() && is_list => {
                let z = sum_zero(&elem).unwrap_or(Value::Int(0));
                let sum = mk(
                    ExprKind::Coll(
                        CollOp::Sum,
                        vec![over, mk(ExprKind::Const(z), elem.clone())],
                    ),
                    elem.clone(),
                );
                let other = self.value(scope, &elem, d);
                let op = self.rng.pick(&[CmpOp::Le, CmpOp::Gt, CmpOp::Eq, CmpOp::Ne]);
                cmp(op, sum, other)
            }
            4 if is_list || ordered => {
                let kinds: &[PartKind] = match (is_list, ordered) {
                    (true, true) => &[
                        PartKind::First,
                        PartKind::Last,
                        PartKind::At,
                        PartKind::Min,
                        PartKind::Max,
                    ],
                    (true, false) => &[PartKind::First, PartKind::Last, PartKind::At],
                    _ => &[PartKind::Min, PartKind::Max],
                };
                let kind = self.rng.pick(kinds);
                let mut args = vec![over];
                if kind == PartKind::At {
                    args.push(mk(
                        ExprKind::Const(Value::Int(self.rng.pick(&[0, 1, 2, -1]))),
                        Type::Int,
                    ));
                }
                let part = mk(ExprKind::Part(kind, 0, args.clone()), elem.clone());
                let other = self.value(scope, &elem, d);
                let test = cmp(self.rng.pick(&[CmpOp::Eq, CmpOp::Ne]), part, other);
                // Mostly guarded; sometimes not, so an absent part is an
                // error both evaluators must report.
                if self.rng.chance(85) {
                    and(mk(ExprKind::HasPart(kind, 0, args), Type::Bool), test)
                } else {
                    test
                }
            }
            5 if elem.is_set_element() => {
                let op = self
                    .rng
                    .pick(&[CollOp::Union, CollOp::Intersect, CollOp::Minus]);
                let other_ty = if self.rng.chance(50) {
                    Type::List(Box::new(elem.clone()))
                } else {
                    Type::Set(Box::new(elem.clone()))
                };
                let other = self.constant_expr(&other_ty);
                let set = mk(
                    ExprKind::Coll(op, vec![over, other]),
                    Type::Set(Box::new(elem.clone())),
                );
                self.quantified(scope, set, &elem, d)
            }
            6 if is_list => {
                let len = |e: Expr| mk(ExprKind::Coll(CollOp::Len, vec![e]), Type::Int);
                let distinct = mk(
                    ExprKind::Coll(CollOp::Distinct, vec![over.clone()]),
                    over.ty.clone(),
                );
                cmp(CmpOp::Ne, len(distinct), len(over))
            }
            7 => {
                let x = self.value(scope, &elem, d);
                if is_list {
                    mk(ExprKind::Coll(CollOp::Contains, vec![over, x]), Type::Bool)
                } else {
                    mk(ExprKind::In(boxed(x), boxed(over)), Type::Bool)
                }
            }
            _ => {
                // `count(...) op n`, or the length of a filtered collection.
                let filtered = self.looped(scope, LoopKind::Filter, over.clone(), &elem, d);
                let count = if self.rng.chance(50) {
                    self.looped(scope, LoopKind::Count, over, &elem, d)
                } else {
                    mk(ExprKind::Coll(CollOp::Len, vec![filtered]), Type::Int)
                };
                let n = mk(
                    ExprKind::Const(Value::Int(self.rng.pick(&[0, 1, 2, 3]))),
                    Type::Int,
                );
                cmp(self.rng.pick(&[CmpOp::Le, CmpOp::Gt, CmpOp::Eq]), count, n)
            }
        }
    }

    /// A collection to walk: at the outermost level a list or set the
    /// envelope carries (which may be long), inside a loop a constant one,
    /// so that nested loops stay far inside the VM's fuel.
    fn collection_value(&mut self, scope: &Scope) -> Option<(Expr, Type)> {
        let reads: Vec<Read> = scope
            .reads
            .iter()
            .filter(|r| r.ty.element().is_some())
            .cloned()
            .collect();
        if bound(scope) == 0 && !reads.is_empty() {
            let read = self.rng.pick(&reads);
            let e = self.read(scope, &read);
            let elem = read.ty.element()?.clone();
            return Some((e, elem));
        }
        let ty = reads
            .first()
            .map(|r| r.ty.clone())
            .unwrap_or(Type::List(Box::new(Type::Int)));
        let elem = ty.element()?.clone();
        Some((self.constant_expr(&ty), elem))
    }

    /// `all`, `any` (as they are) or `count`, `filter`, `map` (compared).
    fn quantified(&mut self, scope: &mut Scope, over: Expr, elem: &Type, d: u32) -> Expr {
        match self.rng.below(4) {
            0 | 1 => {
                let kind = self.rng.pick(&[LoopKind::All, LoopKind::Any]);
                self.looped(scope, kind, over, elem, d)
            }
            2 => {
                let count = self.looped(scope, LoopKind::Count, over, elem, d);
                let n = mk(
                    ExprKind::Const(Value::Int(self.rng.pick(&[0, 1, 2]))),
                    Type::Int,
                );
                cmp(self.rng.pick(&[CmpOp::Le, CmpOp::Gt]), count, n)
            }
            _ => {
                // A map to a summable value, summed.
                let mapped = self.looped(scope, LoopKind::Map, over, elem, d);
                let ty = mapped.ty.element().cloned().unwrap_or(Type::Int);
                match sum_zero(&ty) {
                    Some(z) => {
                        let sum = mk(
                            ExprKind::Coll(
                                CollOp::Sum,
                                vec![mapped, mk(ExprKind::Const(z), ty.clone())],
                            ),
                            ty.clone(),
                        );
                        let other = self.value(scope, &ty, d);
                        cmp(self.rng.pick(&[CmpOp::Le, CmpOp::Gt]), sum, other)
                    }
                    None => {
                        let len = mk(ExprKind::Coll(CollOp::Len, vec![mapped]), Type::Int);
                        cmp(
                            CmpOp::Ge,
                            len,
                            mk(ExprKind::Const(Value::Int(1)), Type::Int),
                        )
                    }
                }
            }
        }
    }

    /// A loop of `kind` over `over`, its body generated with the element
    /// (and, over a list, now and then its index) in scope.
    fn looped(
        &mut self,
        scope: &mut Scope,
        kind: LoopKind,
        over: Expr,
        elem: &Type,
        d: u32,
    ) -> Expr {
        let indexed = matches!(over.ty, Type::List(_)) && self.rng.chance(25);
        let mark = scope.reads.len();
        let slot = bound(scope);
        if indexed {
            scope.reads.push(Read {
                kind: ExprKind::Var(slot),
                ty: Type::Int,
                needs: None,
            });
        }
        let var_slot = slot + u32::from(indexed);
        let var = mk(ExprKind::Var(var_slot), elem.clone());
        scope.reads.push(Read {
            kind: ExprKind::Var(var_slot),
            ty: elem.clone(),
            needs: None,
        });
        let mut optional = Vec::new();
        if let Type::Record(id) = elem {
            let fields = self
                .schema
                .record(*id)
                .map(|r| r.fields.clone())
                .unwrap_or_default();
            for (i, f) in fields.iter().enumerate() {
                let part = ExprKind::Part(PartKind::Field, i as u32, vec![var.clone()]);
                if f.optional {
                    optional.push((i as u32, part, f.ty.clone()));
                } else {
                    scope.reads.push(Read {
                        kind: part,
                        ty: f.ty.clone(),
                        needs: None,
                    });
                }
            }
        }
        let body = if kind == LoopKind::Map {
            let tys: Vec<Type> = scope.reads[mark..]
                .iter()
                .map(|r| r.ty.clone())
                .filter(Type::is_list_element)
                .collect();
            let ty = if tys.is_empty() {
                Type::Int
            } else {
                self.rng.pick(&tys)
            };
            self.value(scope, &ty, d)
        } else if !optional.is_empty() && self.rng.chance(40) {
            // An optional field of the element: under `has`, mostly.
            let (slot, part, ty) = self.rng.pick(&optional);
            let read = mk(part, ty.clone());
            let other = self.value(scope, &ty, d);
            let test = cmp(self.rng.pick(&[CmpOp::Eq, CmpOp::Ne]), read, other);
            if self.rng.chance(85) {
                let has = mk(
                    ExprKind::HasPart(PartKind::Field, slot, vec![var]),
                    Type::Bool,
                );
                and(has, test)
            } else {
                test
            }
        } else {
            self.boolean(scope, d)
        };
        scope.reads.truncate(mark);
        let ty = match kind {
            LoopKind::All | LoopKind::Any => Type::Bool,
            LoopKind::Count => Type::Int,
            LoopKind::Filter => over.ty.clone(),
            LoopKind::Map => Type::List(Box::new(body.ty.clone())),
        };
        mk(
            ExprKind::Loop {
                kind,
                indexed,
                over: boxed(over),
                body: boxed(body),
            },
            ty,
        )
    }
}
