//! Budgets in a decision: what the matched rules consume, per budget and
//! key, against what the state view says is already consumed.

use rust_decimal::Decimal;

use crate::envelope::BoundEnvelope;
use crate::ids::BudgetId;
use crate::state::StateView;

use super::{Amount, BudgetUse, EvalError, Hit, Level, Settle};

/// Per (budget, key): the prior consumption and this decision's delta.
pub(super) struct BudgetLine<'e> {
    pub(super) budget: BudgetId,
    pub(super) key: &'e str,
    pub(super) prior: Decimal,
    pub(super) delta: Decimal,
}

#[inline]
pub(super) fn budget_lines<'e>(
    ctx: Settle<'_>,
    hits: &[Hit<'_>],
    env: &'e BoundEnvelope,
    state: &dyn StateView,
) -> Result<Vec<BudgetLine<'e>>, EvalError> {
    let mut lines: Vec<BudgetLine> = Vec::new();
    // What the action consumes if it proceeds: every matched rule's
    // `consume` but a denying rule's, which can never apply. An escalating
    // rule's applies once an approval lets the action through, so budgets
    // are checked against it now: an escalation never asks an approver to
    // let through an overspend the escalation does not name.
    let applicable = hits.iter().filter(|h| h.level != Level::Deny);
    for (budget, amount) in applicable.flat_map(|h| h.consumes.iter()) {
        let def = ctx
            .meta
            .budgets
            .get_index(budget.index())
            .map(|(_, d)| d)
            .ok_or(EvalError::BadBudget)?;
        let key = env.key(def.key, ctx.schema)?;
        let delta = amount
            .as_amount()
            .ok_or_else(|| EvalError::Type("budget amount is not a number".to_string()))?;
        // `-0` is not negative: only a true negative amount is refused.
        if delta < Decimal::ZERO {
            return Err(EvalError::NegativeConsume {
                budget: ctx.meta.budget_name(*budget).into(),
                amount: delta.normalize(),
            });
        }
        if let Some(line) = lines
            .iter_mut()
            .find(|l| l.budget == *budget && l.key == key)
        {
            line.delta = line.delta.checked_add(delta).ok_or_else(budget_overflow)?;
            continue;
        }
        let prior = state.consumed(ctx.meta.budget_name(*budget), key, def.window, env.time)?;
        lines.push(BudgetLine {
            budget: *budget,
            key,
            prior,
            delta,
        });
    }
    Ok(lines)
}

fn budget_overflow() -> EvalError {
    EvalError::Overflow("budget amounts add up past what a decimal holds".to_string())
}

#[inline]
pub(super) fn render_budgets(
    ctx: Settle<'_>,
    lines: &[BudgetLine],
    applied: bool,
) -> Vec<BudgetUse> {
    lines
        .iter()
        .map(|line| {
            let def = &ctx.meta.budgets[line.budget.index()];
            let limit = def.limit.as_amount().unwrap_or_default();
            let delta = if applied { line.delta } else { Decimal::ZERO };
            // INVARIANT: a delta is applied only when prior + delta fit under
            // the limit (else the budget was exhausted and nothing proceeds).
            let consumed = line.prior.checked_add(delta).unwrap_or(line.prior);
            BudgetUse {
                name: ctx.meta.budget_name(line.budget).to_string(),
                key: line.key.to_string(),
                limit: Amount(limit),
                consumed: Amount(consumed),
                remaining: Amount(limit.checked_sub(consumed).unwrap_or(Decimal::MIN)),
                delta: Amount(delta),
            }
        })
        .collect()
}
