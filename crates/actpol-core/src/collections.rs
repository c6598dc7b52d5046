//! Operations on lists, sets and records: what both evaluators compute for
//! `len`, `sum`, `distinct`, `union`, `intersect`, `minus`, `contains`, and
//! the parts of a value that may be absent (`first`, `last`, `at`, `min`,
//! `max`, a record's optional field). Quantifiers (`all`, `any`, `count`,
//! `filter`, `map`) bind a variable and so live in each evaluator; their
//! kinds are named here so both speak of them alike.

use std::collections::HashSet;
use std::sync::Arc;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::decision::EvalError;
use crate::ops::{arith, ArithOp};
use crate::types::Type;
use crate::value::Value;

/// An operation on a collection that always has a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CollOp {
    /// `xs.len()` of a list (sets keep their own `len`).
    Len,
    /// `xs.sum()`: the list and the zero of its element type.
    Sum,
    /// `xs.distinct()`: the list without repeats, first occurrences kept.
    Distinct,
    /// `a.union(b)`: a set.
    Union,
    /// `a.intersect(b)`: a set.
    Intersect,
    /// `a.minus(b)`: the elements of `a` not in `b`, as a set.
    Minus,
    /// `xs.contains(x)` / `x in xs` on a list.
    Contains,
}

impl CollOp {
    pub fn name(self) -> &'static str {
        match self {
            CollOp::Len => "len",
            CollOp::Sum => "sum",
            CollOp::Distinct => "distinct",
            CollOp::Union => "union",
            CollOp::Intersect => "intersect",
            CollOp::Minus => "minus",
            CollOp::Contains => "contains",
        }
    }

    pub fn arity(self) -> usize {
        match self {
            CollOp::Len | CollOp::Distinct => 1,
            _ => 2,
        }
    }
}

/// A part of a value that may be absent: reading it where it is absent is
/// an error, so the checker makes a policy test it with `has` first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PartKind {
    /// `xs.first()`
    First,
    /// `xs.last()`
    Last,
    /// `xs.at(i)`, counted from 0.
    At,
    /// `xs.min()`
    Min,
    /// `xs.max()`
    Max,
    /// `r.field`: a record's field, by its slot.
    Field,
    /// The related entity a reference names, as a record of its
    /// attributes; the `u32` beside it is the entity type's id. Absent when
    /// the envelope does not carry that entity. Evaluators answer it
    /// through the envelope's [`crate::reads::Reader::related`].
    Related,
}

impl PartKind {
    /// How many values the part is read from (the collection, and the
    /// index for `at`).
    pub fn arity(self) -> usize {
        match self {
            PartKind::At => 2,
            _ => 1,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            PartKind::First => "first",
            PartKind::Last => "last",
            PartKind::At => "at",
            PartKind::Min => "min",
            PartKind::Max => "max",
            PartKind::Field => "field",
            PartKind::Related => "entity",
        }
    }
}

/// The error of reading a part where it is absent (the checker makes a
/// policy test it with `has` first, so only a damaged program meets it).
pub fn absent(kind: PartKind) -> EvalError {
    match kind {
        PartKind::Field => EvalError::absent("a record's optional field"),
        PartKind::Related => EvalError::absent("a related entity the envelope does not carry"),
        other => EvalError::absent(format!(".{}()", other.name())),
    }
}

/// What a quantifier makes of the body's values, one per element.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LoopKind {
    /// `xs.all(x, p)`: `true` on an empty collection.
    All,
    /// `xs.any(x, p)`: `false` on an empty collection.
    Any,
    /// `xs.count(x, p)`: how many elements `p` holds for.
    Count,
    /// `xs.filter(x, p)`: the elements `p` holds for, in a collection of
    /// the same kind.
    Filter,
    /// `xs.map(x, e)`: a list of `e` for each element.
    Map,
}

impl LoopKind {
    pub fn name(self) -> &'static str {
        match self {
            LoopKind::All => "all",
            LoopKind::Any => "any",
            LoopKind::Count => "count",
            LoopKind::Filter => "filter",
            LoopKind::Map => "map",
        }
    }

    /// Whether the body is a condition (every kind but `map`).
    pub fn body_is_condition(self) -> bool {
        self != LoopKind::Map
    }
}

fn type_error(what: &str) -> EvalError {
    EvalError::Type(format!("operands of `{what}` have the wrong types"))
}

/// The elements of a list or a set.
pub fn elements(v: &Value) -> Option<&[Value]> {
    match v {
        Value::List(items) | Value::Set(items) => Some(items),
        _ => None,
    }
}

/// The sum of no elements of type `ty`, which `xs.sum()` starts from; `None`
/// when a list of them cannot be summed.
pub fn sum_zero(ty: &Type) -> Option<Value> {
    Some(match ty {
        Type::Int => Value::Int(0),
        Type::Decimal => Value::Decimal(Decimal::ZERO),
        Type::Money(_) => Value::Money(Decimal::ZERO),
        Type::Duration => Value::Duration(0),
        _ => return None,
    })
}

/// Applies `op` to its arguments.
pub fn apply(op: CollOp, args: &[Value]) -> Result<Value, EvalError> {
    let bad = || type_error(op.name());
    if args.len() != op.arity() {
        return Err(bad());
    }
    Ok(match (op, args) {
        (CollOp::Len, [xs]) => Value::Int(elements(xs).ok_or_else(bad)?.len() as i64),
        (CollOp::Sum, [Value::List(items), zero]) => {
            let mut total = zero.clone();
            for item in items.iter() {
                total = arith(ArithOp::Add, &total, item)?;
            }
            total
        }
        (CollOp::Distinct, [Value::List(items)]) => {
            let mut seen = HashSet::with_capacity(items.len());
            let kept: Vec<Value> = items.iter().filter(|v| seen.insert(*v)).cloned().collect();
            Value::List(Arc::from(kept))
        }
        (CollOp::Union, [a, b]) => {
            let (a, b) = (elements(a).ok_or_else(bad)?, elements(b).ok_or_else(bad)?);
            Value::set(a.iter().chain(b).cloned().collect())
        }
        (CollOp::Intersect | CollOp::Minus, [a, b]) => {
            let a = elements(a).ok_or_else(bad)?;
            let b = Value::set(elements(b).ok_or_else(bad)?.to_vec());
            let keep_common = op == CollOp::Intersect;
            Value::set(
                a.iter()
                    .filter(|x| b.set_contains(x) == keep_common)
                    .cloned()
                    .collect(),
            )
        }
        (CollOp::Contains, [Value::List(items), elem]) => Value::Bool(items.contains(elem)),
        (CollOp::Contains, [set @ Value::Set(_), elem]) => Value::Bool(set.set_contains(elem)),
        _ => return Err(bad()),
    })
}

/// Reads a part that may be absent: `Ok(None)` when it is.
pub fn part(kind: PartKind, slot: u32, args: &[Value]) -> Result<Option<Value>, EvalError> {
    let bad = || type_error(kind.name());
    if args.len() != kind.arity() {
        return Err(bad());
    }
    Ok(match (kind, args) {
        (PartKind::First, [Value::List(items)]) => items.first().cloned(),
        (PartKind::Last, [Value::List(items)]) => items.last().cloned(),
        (PartKind::At, [Value::List(items), Value::Int(i)]) => {
            usize::try_from(*i).ok().and_then(|i| items.get(i)).cloned()
        }
        (PartKind::Min | PartKind::Max, [xs]) => {
            let items = elements(xs).ok_or_else(bad)?;
            let mut best: Option<&Value> = None;
            for item in items {
                let better = match best {
                    None => true,
                    Some(b) => {
                        let order = item.compare(b).ok_or_else(bad)?;
                        if kind == PartKind::Min {
                            order.is_lt()
                        } else {
                            order.is_gt()
                        }
                    }
                };
                if better {
                    best = Some(item);
                }
            }
            best.cloned()
        }
        (PartKind::Field, [Value::Record(fields)]) => fields
            .get(slot as usize)
            .ok_or_else(|| EvalError::InvalidProgram("record field out of range".into()))?
            .clone(),
        _ => return Err(bad()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;

    fn list(items: &[i64]) -> Value {
        Value::List(items.iter().map(|i| Value::Int(*i)).collect())
    }

    #[test]
    fn lists_keep_order_and_duplicates() {
        let xs = list(&[3, 1, 3, 2]);
        assert_eq!(
            apply(CollOp::Len, std::slice::from_ref(&xs)).unwrap(),
            Value::Int(4)
        );
        assert_eq!(
            apply(CollOp::Distinct, std::slice::from_ref(&xs)).unwrap(),
            list(&[3, 1, 2])
        );
        assert_eq!(
            apply(CollOp::Sum, &[xs.clone(), Value::Int(0)]).unwrap(),
            Value::Int(9)
        );
        assert_eq!(
            part(PartKind::First, 0, std::slice::from_ref(&xs)).unwrap(),
            Some(Value::Int(3))
        );
        assert_eq!(
            part(PartKind::Last, 0, std::slice::from_ref(&xs)).unwrap(),
            Some(Value::Int(2))
        );
        assert_eq!(
            part(PartKind::At, 0, &[xs.clone(), Value::Int(1)]).unwrap(),
            Some(Value::Int(1))
        );
        assert_eq!(
            part(PartKind::At, 0, &[xs.clone(), Value::Int(4)]).unwrap(),
            None
        );
        assert_eq!(
            part(PartKind::At, 0, &[xs.clone(), Value::Int(-1)]).unwrap(),
            None
        );
        assert_eq!(
            part(PartKind::Min, 0, std::slice::from_ref(&xs)).unwrap(),
            Some(Value::Int(1))
        );
        assert_eq!(part(PartKind::Max, 0, &[xs]).unwrap(), Some(Value::Int(3)));
    }

    #[test]
    fn empty_lists_have_no_parts() {
        let empty = list(&[]);
        for kind in [
            PartKind::First,
            PartKind::Last,
            PartKind::Min,
            PartKind::Max,
        ] {
            assert_eq!(
                part(kind, 0, std::slice::from_ref(&empty)).unwrap(),
                None,
                "{kind:?}"
            );
        }
        let zero = Value::Money(Decimal::ZERO);
        assert_eq!(apply(CollOp::Sum, &[empty, zero.clone()]).unwrap(), zero);
    }

    #[test]
    fn set_algebra_yields_sets() {
        let a = list(&[1, 2, 2, 3]);
        let b = Value::set(vec![Value::Int(2), Value::Int(4)]);
        let set = |xs: &[i64]| Value::set(xs.iter().map(|i| Value::Int(*i)).collect());
        assert_eq!(
            apply(CollOp::Union, &[a.clone(), b.clone()]).unwrap(),
            set(&[1, 2, 3, 4])
        );
        assert_eq!(
            apply(CollOp::Intersect, &[a.clone(), b.clone()]).unwrap(),
            set(&[2])
        );
        assert_eq!(apply(CollOp::Minus, &[a, b]).unwrap(), set(&[1, 3]));
    }

    #[test]
    fn sums_overflow_as_errors() {
        let xs = list(&[i64::MAX, 1]);
        assert!(apply(CollOp::Sum, &[xs, Value::Int(0)]).is_err());
    }

    #[test]
    fn wrong_operands_are_errors_not_panics() {
        assert!(apply(CollOp::Len, &[Value::Int(1)]).is_err());
        assert!(apply(CollOp::Union, &[Value::Int(1)]).is_err());
        assert!(part(PartKind::Field, 3, &[Value::Record(Arc::from(vec![None]))]).is_err());
        assert!(part(
            PartKind::Min,
            0,
            &[Value::List(Arc::from(vec![Value::Int(1), Value::str("x")]))]
        )
        .is_err());
    }
}
