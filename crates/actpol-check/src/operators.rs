//! The typing rules of operators (the tables of docs/language.md
//! "Operators"), apart from how mistakes are reported.

use actpol_core::ops::{ArithOp, CmpOp};
use actpol_core::types::Type;
use actpol_syntax::ast::BinaryOp;

/// How a binary operation types: which `Int` operands become `Decimal`
/// (the runtime has no mixed arithmetic) and the result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Typing {
    pub widen_left: bool,
    pub widen_right: bool,
    pub result: Type,
}

fn typing(widen_left: bool, widen_right: bool, result: Type) -> Option<Typing> {
    Some(Typing {
        widen_left,
        widen_right,
        result,
    })
}

/// Two operands that must share a type (`==`, `<`, `min`, `if` branches):
/// equal types, or `Int` with `Decimal` (the `Int` widens).
pub(crate) fn join(a: &Type, b: &Type) -> Option<Typing> {
    match (a, b) {
        (Type::Int, Type::Decimal) => typing(true, false, Type::Decimal),
        (Type::Decimal, Type::Int) => typing(false, true, Type::Decimal),
        _ if a == b => typing(false, false, a.clone()),
        _ => None,
    }
}

/// `a op b` for `+ - * / %`.
pub(crate) fn arith(op: ArithOp, a: &Type, b: &Type) -> Option<Typing> {
    use ArithOp::*;
    use Type::*;
    let is_int = |t: &Type| *t == Int;
    match (op, a, b) {
        (Rem, Int, Int) => typing(false, false, Int),
        (Rem, _, _) => None,
        // Dividing numbers always gives a decimal: `7 / 2` is `3.5`.
        (Div, x, y) if x.is_numeric() && y.is_numeric() => typing(is_int(x), is_int(y), Decimal),
        (_, x, y) if x.is_numeric() && y.is_numeric() => join(x, y),
        (Add | Sub, Money(c), Money(d)) if c == d => typing(false, false, Money(*c)),
        (Div, Money(c), Money(d)) if c == d => typing(false, false, Decimal),
        (Mul | Div, Money(c), n) if n.is_numeric() => typing(false, is_int(n), Money(*c)),
        (Mul, n, Money(c)) if n.is_numeric() => typing(is_int(n), false, Money(*c)),
        (Add | Sub, Duration, Duration) => typing(false, false, Duration),
        (Mul | Div, Duration, Int) | (Mul, Int, Duration) => typing(false, false, Duration),
        (Div, Duration, Duration) => typing(false, false, Decimal),
        (Sub, Timestamp, Timestamp) => typing(false, false, Duration),
        (Add | Sub, Timestamp, Duration) | (Add, Duration, Timestamp) => {
            typing(false, false, Timestamp)
        }
        _ => None,
    }
}

/// What kind of mistake two clashing operand types are: mixing units
/// (currencies, numbers with amounts, durations or times) or plain types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Clash {
    Unit,
    Type,
}

pub(crate) fn clash(a: &Type, b: &Type) -> Clash {
    let has_unit = |t: &Type| matches!(t, Type::Money(_) | Type::Duration | Type::Timestamp);
    match (a, b) {
        (Type::Money(c), Type::Money(d)) if c != d => Clash::Unit,
        (x, y) if (x.is_numeric() && has_unit(y)) || (has_unit(x) && y.is_numeric()) => Clash::Unit,
        _ => Clash::Type,
    }
}

/// The comparison a binary operator is, if it is one (`in` is not: it
/// has its own typing).
pub(crate) fn comparison(op: BinaryOp) -> Option<CmpOp> {
    Some(match op {
        BinaryOp::Eq => CmpOp::Eq,
        BinaryOp::Ne => CmpOp::Ne,
        BinaryOp::Lt => CmpOp::Lt,
        BinaryOp::Le => CmpOp::Le,
        BinaryOp::Gt => CmpOp::Gt,
        BinaryOp::Ge => CmpOp::Ge,
        _ => return None,
    })
}

pub(crate) fn arithmetic(op: BinaryOp) -> Option<ArithOp> {
    Some(match op {
        BinaryOp::Add => ArithOp::Add,
        BinaryOp::Sub => ArithOp::Sub,
        BinaryOp::Mul => ArithOp::Mul,
        BinaryOp::Div => ArithOp::Div,
        BinaryOp::Rem => ArithOp::Rem,
        _ => return None,
    })
}

/// Types `-x` applies to.
pub(crate) fn negatable(t: &Type) -> bool {
    matches!(
        t,
        Type::Int | Type::Decimal | Type::Money(_) | Type::Duration
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use actpol_core::types::Currency;

    fn usd() -> Type {
        Type::Money(Currency::parse("USD").unwrap())
    }

    #[test]
    fn arithmetic_follows_the_table() {
        let t = |op, a: Type, b: Type| {
            arith(op, &a, &b).map(|t| (t.widen_left, t.widen_right, t.result))
        };
        assert_eq!(
            t(ArithOp::Add, Type::Int, Type::Int),
            Some((false, false, Type::Int))
        );
        assert_eq!(
            t(ArithOp::Add, Type::Int, Type::Decimal),
            Some((true, false, Type::Decimal))
        );
        assert_eq!(
            t(ArithOp::Div, Type::Int, Type::Int),
            Some((true, true, Type::Decimal))
        );
        assert_eq!(
            t(ArithOp::Mul, usd(), Type::Int),
            Some((false, true, usd()))
        );
        assert_eq!(
            t(ArithOp::Div, usd(), usd()),
            Some((false, false, Type::Decimal))
        );
        assert_eq!(t(ArithOp::Mul, usd(), usd()), None);
        assert_eq!(t(ArithOp::Mul, Type::Duration, Type::Decimal), None);
        assert_eq!(
            t(ArithOp::Sub, Type::Timestamp, Type::Timestamp),
            Some((false, false, Type::Duration))
        );
        assert_eq!(t(ArithOp::Add, Type::Timestamp, Type::Timestamp), None);
        assert_eq!(t(ArithOp::Rem, Type::Decimal, Type::Int), None);
    }

    #[test]
    fn unit_clashes_are_told_apart_from_type_clashes() {
        let eur = Type::Money(Currency::parse("EUR").unwrap());
        assert_eq!(clash(&usd(), &eur), Clash::Unit);
        assert_eq!(clash(&Type::Int, &usd()), Clash::Unit);
        assert_eq!(clash(&Type::Duration, &Type::Decimal), Clash::Unit);
        assert_eq!(clash(&Type::String, &Type::Int), Clash::Type);
    }
}
