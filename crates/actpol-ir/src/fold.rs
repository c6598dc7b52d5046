//! Constant folding: sub-expressions whose value is known before any
//! envelope arrives become constants. Folding never changes a result: an
//! operation that would fail (overflow, division by zero) stays unfolded so
//! it fails, and is reported, at run time.

use actpol_core::collections;
use actpol_core::ops;
use actpol_core::value::Value;

use crate::{Expr, ExprKind};

/// Folds `expr` bottom-up.
pub fn fold(expr: Expr) -> Expr {
    let Expr { kind, ty, span } = expr;
    let kind = match kind {
        ExprKind::Not(a) => {
            let a = fold(*a);
            match a.as_const() {
                Some(Value::Bool(b)) => ExprKind::Const(Value::Bool(!b)),
                _ => ExprKind::Not(Box::new(a)),
            }
        }
        ExprKind::And(a, b) => {
            let (a, b) = (fold(*a), fold(*b));
            match (a.as_const(), b.as_const()) {
                // `false and x` is false whatever x does: x is never read.
                (Some(Value::Bool(false)), _) => ExprKind::Const(Value::Bool(false)),
                (Some(Value::Bool(true)), _) => return b,
                (_, Some(Value::Bool(true))) => return a,
                _ => ExprKind::And(Box::new(a), Box::new(b)),
            }
        }
        ExprKind::Or(a, b) => {
            let (a, b) = (fold(*a), fold(*b));
            match (a.as_const(), b.as_const()) {
                (Some(Value::Bool(true)), _) => ExprKind::Const(Value::Bool(true)),
                (Some(Value::Bool(false)), _) => return b,
                (_, Some(Value::Bool(false))) => return a,
                _ => ExprKind::Or(Box::new(a), Box::new(b)),
            }
        }
        ExprKind::Cmp(op, a, b) => {
            let (a, b) = (fold(*a), fold(*b));
            match (a.as_const(), b.as_const()) {
                (Some(x), Some(y)) => match ops::compare(op, x, y) {
                    Ok(r) => ExprKind::Const(Value::Bool(r)),
                    Err(_) => ExprKind::Cmp(op, Box::new(a), Box::new(b)),
                },
                _ => ExprKind::Cmp(op, Box::new(a), Box::new(b)),
            }
        }
        ExprKind::Arith(op, a, b) => {
            let (a, b) = (fold(*a), fold(*b));
            match (a.as_const(), b.as_const()) {
                (Some(x), Some(y)) => match ops::arith(op, x, y) {
                    Ok(v) => ExprKind::Const(v),
                    Err(_) => ExprKind::Arith(op, Box::new(a), Box::new(b)),
                },
                _ => ExprKind::Arith(op, Box::new(a), Box::new(b)),
            }
        }
        ExprKind::Neg(a) => {
            let a = fold(*a);
            match a.as_const().map(ops::negate) {
                Some(Ok(v)) => ExprKind::Const(v),
                _ => ExprKind::Neg(Box::new(a)),
            }
        }
        ExprKind::ToDecimal(a) => {
            let a = fold(*a);
            match a.as_const().map(ops::to_decimal) {
                Some(Ok(v)) => ExprKind::Const(v),
                _ => ExprKind::ToDecimal(Box::new(a)),
            }
        }
        ExprKind::In(a, b) => {
            let (a, b) = (fold(*a), fold(*b));
            match (a.as_const(), b.as_const()) {
                (Some(x), Some(y)) => match ops::member(x, y) {
                    Ok(r) => ExprKind::Const(Value::Bool(r)),
                    Err(_) => ExprKind::In(Box::new(a), Box::new(b)),
                },
                _ => ExprKind::In(Box::new(a), Box::new(b)),
            }
        }
        ExprKind::Call(f, args) => {
            let args: Vec<Expr> = args.into_iter().map(fold).collect();
            let consts: Option<Vec<Value>> = args.iter().map(|a| a.as_const().cloned()).collect();
            match consts.map(|c| ops::call(f, &c)) {
                Some(Ok(v)) => ExprKind::Const(v),
                _ => ExprKind::Call(f, args),
            }
        }
        ExprKind::If(c, a, b) => {
            let (c, a, b) = (fold(*c), fold(*a), fold(*b));
            match c.as_const() {
                Some(Value::Bool(true)) => return a,
                Some(Value::Bool(false)) => return b,
                _ => ExprKind::If(Box::new(c), Box::new(a), Box::new(b)),
            }
        }
        ExprKind::SetLit(items) => {
            let items: Vec<Expr> = items.into_iter().map(fold).collect();
            let consts: Option<Vec<Value>> = items.iter().map(|a| a.as_const().cloned()).collect();
            match consts {
                Some(values) => ExprKind::Const(Value::set(values)),
                None => ExprKind::SetLit(items),
            }
        }
        ExprKind::Coll(op, args) => {
            let args: Vec<Expr> = args.into_iter().map(fold).collect();
            let consts: Option<Vec<Value>> = args.iter().map(|a| a.as_const().cloned()).collect();
            match consts.map(|c| collections::apply(op, &c)) {
                Some(Ok(v)) => ExprKind::Const(v),
                _ => ExprKind::Coll(op, args),
            }
        }
        ExprKind::HasPart(kind, slot, args) => {
            let args: Vec<Expr> = args.into_iter().map(fold).collect();
            let consts: Option<Vec<Value>> = args.iter().map(|a| a.as_const().cloned()).collect();
            match consts.map(|c| collections::part(kind, slot, &c)) {
                Some(Ok(v)) => ExprKind::Const(Value::Bool(v.is_some())),
                _ => ExprKind::HasPart(kind, slot, args),
            }
        }
        // A part is read only where it was proven present; it stays a
        // read so an absent one still fails at run time, as it must.
        ExprKind::Part(kind, slot, args) => {
            ExprKind::Part(kind, slot, args.into_iter().map(fold).collect())
        }
        // The body reads its variable: only the collection folds.
        ExprKind::Loop {
            kind,
            indexed,
            over,
            body,
        } => ExprKind::Loop {
            kind,
            indexed,
            over: Box::new(fold(*over)),
            body: Box::new(fold(*body)),
        },
        leaf => leaf,
    };
    Expr { kind, ty, span }
}
