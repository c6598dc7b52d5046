//! How PostgreSQL counts and sums the history windows read (the rules
//! that turn them into `count`, `sum` and `baseline` are the ledger's, in
//! `actpol_store::ledger`).
//!
//! Windows read the reservations of actions that proceeded (held or
//! committed, not released) through an index per key kind on `(key, at,
//! action)` over those reservations: a window reads one range of it, its
//! key's entries inside its span, bounded by what the key did in the
//! window, not by its history before.

use actpol_core::schema::KeyKind;
use actpol_core::state::{StateError, Summed, WindowQuery};
use actpol_core::Decimal;
use actpol_store::ledger::{key_column, parse_amount, Pattern};
use postgres::types::ToSql;

use crate::tx::Tx;

fn state_error(e: impl std::error::Error + Send + Sync + 'static) -> StateError {
    StateError::backend("the store could not be read", e)
}

/// How many reservations `q` counts in `(from, to]`.
pub(crate) fn count(
    tx: &Tx<'_>,
    q: &WindowQuery<'_>,
    from: i64,
    to: i64,
) -> Result<u64, StateError> {
    let pattern = Pattern::of(q.pattern);
    let sql = window_sql(q.key, "count(*)", &pattern);
    let mut params: Vec<&(dyn ToSql + Sync)> = vec![&q.key_value, &from, &to];
    bind(&pattern, &mut params);
    let n: i64 = tx.query_one(&sql, &params).map_err(state_error)?.get(0);
    Ok(u64::try_from(n).unwrap_or(0))
}

/// The sum of `q`'s parameter over the reservations it counts.
pub(crate) fn sum(
    tx: &Tx<'_>,
    q: &WindowQuery<'_>,
    from: i64,
    to: i64,
) -> Result<Decimal, StateError> {
    let pattern = Pattern::of(q.pattern);
    // The summed parameter's name is bound, never written into the SQL.
    let param = q.param.unwrap_or_default();
    let mut params: Vec<&(dyn ToSql + Sync)> = vec![&q.key_value, &from, &to];
    bind(&pattern, &mut params);
    let name = format!("${}", params.len() + 1);
    params.push(&param);
    let sql = window_sql(q.key, &format!("amounts::jsonb ->> {name}"), &pattern);
    let rows = tx.query(&sql, &params).map_err(state_error)?;
    let mut sum = Summed::default();
    for row in rows {
        let Some(text) = row.get::<_, Option<&str>>(0) else {
            continue;
        };
        sum.add(parse_amount(text)?);
    }
    sum.total(q)
}

/// The condition a pattern puts on `action`, its parameters from `$4`.
fn on_action(pattern: &Pattern) -> &'static str {
    match pattern {
        Pattern::Exact(_) => " AND action = $4",
        Pattern::Range(..) => " AND action >= $4 AND action < $5",
        Pattern::Any => "",
    }
}

fn bind<'p>(pattern: &'p Pattern, params: &mut Vec<&'p (dyn ToSql + Sync)>) {
    match pattern {
        Pattern::Exact(name) => params.push(name),
        Pattern::Range(low, high) => {
            params.push(low);
            params.push(high);
        }
        Pattern::Any => {}
    }
}

/// The statement reading a window's reservations: `select` over the ones
/// under the key `$1`, in `($2, $3]`, not released, matching the pattern.
fn window_sql(key: KeyKind, select: &str, pattern: &Pattern) -> String {
    format!(
        "SELECT {select} FROM reservations WHERE {column} = $1 AND at > $2 AND at <= $3 \
         AND state <> 'released'{on_action}",
        column = key_column(key),
        on_action = on_action(pattern)
    )
}
