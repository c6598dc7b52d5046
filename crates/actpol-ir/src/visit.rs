//! Walking expressions.

use crate::{Expr, ExprKind};

impl Expr {
    /// The direct sub-expressions, in evaluation order.
    pub fn children(&self) -> Vec<&Expr> {
        match &self.kind {
            ExprKind::Const(_)
            | ExprKind::Env(_)
            | ExprKind::Param(_)
            | ExprKind::Attr(_)
            | ExprKind::Context(_)
            | ExprKind::Touches(_)
            | ExprKind::Upstream(..)
            | ExprKind::Sends(_)
            | ExprKind::Has(_)
            | ExprKind::Budget(..)
            | ExprKind::Window(_)
            | ExprKind::Risk(_)
            | ExprKind::Var(_) => Vec::new(),
            ExprKind::Not(a) | ExprKind::Neg(a) | ExprKind::ToDecimal(a) => vec![a],
            ExprKind::And(a, b)
            | ExprKind::Or(a, b)
            | ExprKind::Cmp(_, a, b)
            | ExprKind::Arith(_, a, b)
            | ExprKind::In(a, b) => vec![a, b],
            ExprKind::If(c, a, b) => vec![c, a, b],
            ExprKind::Call(_, args)
            | ExprKind::SetLit(args)
            | ExprKind::Coll(_, args)
            | ExprKind::Part(_, _, args)
            | ExprKind::HasPart(_, _, args) => args.iter().collect(),
            ExprKind::Loop { over, body, .. } => vec![over, body],
        }
    }

    /// Calls `f` on this expression and every sub-expression, parents first.
    pub fn walk<'a>(&'a self, f: &mut impl FnMut(&'a Expr)) {
        f(self);
        for child in self.children() {
            child.walk(f);
        }
    }

    /// How many nodes the expression has.
    pub fn size(&self) -> usize {
        let mut n = 0;
        self.walk(&mut |_| n += 1);
        n
    }
}
