//! How SQLite counts and sums the history windows read (the rules that
//! turn them into `count`, `sum` and `baseline` are the ledger's).
//!
//! Windows read the reservations of actions that proceeded (held or
//! committed, not released). The first time a policy reading windows by a
//! key kind decides, the store builds, for that kind, an index on `(key, at,
//! action, state)` over those reservations, and triggers that keep
//! `window_counts`: per key, action and minute, and per key, action and
//! hour, how many there are (filled from the history at once). Kinds no
//! window reads cost nothing per reservation.
//!
//! A `count` (and a `baseline`, a count over seven days) adds up the whole
//! hours and whole minutes of its span from `window_counts` and reads only
//! the partial minutes at either end from the index: its cost is bounded by
//! the length of its span and what the key did in two minutes, not by how
//! busy the key was. A `sum` reads the index's range for its span and each
//! matching reservation's parameter: bounded by the window, not the history.

use actpol_core::schema::KeyKind;
use actpol_core::state::{StateError, Summed, WindowQuery};
use actpol_core::Decimal;
use rusqlite::{params, Transaction};

use crate::ledger::{key_column, parse_amount, Pattern};

fn state_error(e: impl std::error::Error + Send + Sync + 'static) -> StateError {
    StateError::backend("the store could not be read", e)
}

/// A count over `(from, to]`: from the kept counts when the key kind's
/// counts are kept (`counted`, a bit per kind), else row by row.
pub(super) fn window_count(
    tx: &Transaction<'_>,
    counted: u8,
    q: &WindowQuery<'_>,
    from: i64,
    to: i64,
) -> Result<u64, StateError> {
    if counted & key_bit(q.key) != 0 {
        count_by_buckets(tx, q, from, to)
    } else {
        count(tx, q, from, to)
    }
}

/// The bit of a key kind in a set of kinds.
pub(super) fn key_bit(kind: KeyKind) -> u8 {
    1 << kind.index()
}

const KINDS: [KeyKind; KeyKind::COUNT] = [
    KeyKind::Agent,
    KeyKind::Workflow,
    KeyKind::Owner,
    KeyKind::Object,
    KeyKind::Plan,
];

/// The spans `window_counts` keeps, shortest first.
const MINUTE: i64 = 60_000;
const HOUR: i64 = 3_600_000;

/// Builds, for every kind in `kinds` that lacks them, the window index and
/// the triggers that keep its counts, and counts its history so far.
pub(super) fn ensure_window_indexes(
    tx: &Transaction<'_>,
    kinds: u8,
) -> Result<(), rusqlite::Error> {
    for kind in KINDS.into_iter().filter(|k| kinds & key_bit(*k) != 0) {
        let name = kind.as_str();
        let column = key_column(kind);
        tx.execute_batch(&format!(
            "CREATE INDEX IF NOT EXISTS window_{name} ON reservations ({column}, at, action, state) \
             WHERE state != 'released'"
        ))?;
        let kept: i64 = tx.query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name = ?1",
            [format!("window_{name}_reserve")],
            |r| r.get(0),
        )?;
        if kept > 0 {
            continue;
        }
        // The history so far, then every reservation from now on, in the
        // same transaction: no reservation is counted twice or missed. A
        // time is never negative here, so integer division is the floor.
        let mut sql = String::new();
        for span in [MINUTE, HOUR] {
            sql.push_str(&format!(
                "INSERT INTO window_counts (key, span, bucket, action, n) \
                 SELECT {column}, {span}, at / {span}, action, count(*) FROM reservations \
                 WHERE state != 'released' AND {column} IS NOT NULL AND at >= 0 \
                 GROUP BY {column}, at / {span}, action \
                 ON CONFLICT (key, span, bucket, action) DO UPDATE SET n = n + excluded.n;\n"
            ));
        }
        let bump = |sign: &str| {
            [MINUTE, HOUR]
                .iter()
                .map(|span| {
                    format!(
                        "INSERT INTO window_counts (key, span, bucket, action, n) \
                         VALUES (NEW.{column}, {span}, NEW.at / {span}, NEW.action, {sign}1) \
                         ON CONFLICT (key, span, bucket, action) DO UPDATE SET n = n {sign} 1;"
                    )
                })
                .collect::<Vec<_>>()
                .join(" ")
        };
        sql.push_str(&format!(
            "CREATE TRIGGER window_{name}_reserve AFTER INSERT ON reservations \
             WHEN NEW.state != 'released' AND NEW.{column} IS NOT NULL AND NEW.at >= 0 \
             BEGIN {} END;\n",
            bump("+")
        ));
        sql.push_str(&format!(
            "CREATE TRIGGER window_{name}_release AFTER UPDATE OF state ON reservations \
             WHEN OLD.state != 'released' AND NEW.state = 'released' \
             AND NEW.{column} IS NOT NULL AND NEW.at >= 0 \
             BEGIN {} END;\n",
            bump("-")
        ));
        tx.execute_batch(&sql)?;
    }
    Ok(())
}

/// The condition a pattern puts on the `action` column, its parameters
/// from `?4`.
fn on_action(pattern: &Pattern) -> &'static str {
    match pattern {
        Pattern::Exact(_) => " AND action = ?4",
        Pattern::Range(..) => " AND action >= ?4 AND action < ?5",
        Pattern::Any => "",
    }
}

/// The statement reading a window's reservations: `select` over the ones
/// under `q`'s key, in `(from, to]`, not released, matching its pattern.
/// `state != 'released'` is written as the window index's own condition,
/// so the index serves it.
fn window_sql(q: &WindowQuery<'_>, select: &str, pattern: &Pattern) -> String {
    format!(
        "SELECT {select} FROM reservations WHERE {column} = ?1 AND at > ?2 AND at <= ?3 \
         AND state != 'released'{rest}",
        column = key_column(q.key),
        rest = on_action(pattern)
    )
}

fn count(tx: &Transaction<'_>, q: &WindowQuery<'_>, from: i64, to: i64) -> Result<u64, StateError> {
    let pattern = Pattern::of(q.pattern);
    let mut stmt = tx
        .prepare_cached(&window_sql(q, "count(*)", &pattern))
        .map_err(state_error)?;
    let n: i64 = match &pattern {
        Pattern::Exact(name) => stmt.query_row(params![q.key_value, from, to, name], |r| r.get(0)),
        Pattern::Range(low, high) => {
            stmt.query_row(params![q.key_value, from, to, low, high], |r| r.get(0))
        }
        Pattern::Any => stmt.query_row(params![q.key_value, from, to], |r| r.get(0)),
    }
    .map_err(state_error)?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// A count over `(from, to]` from the kept counts of whole hours and
/// minutes, and the index for the partial minutes at either end: what
/// [`count`] reads, at a cost bounded by the span, not by the key's history.
/// One statement: the two edges, the minutes and the hours.
fn count_by_buckets(
    tx: &Transaction<'_>,
    q: &WindowQuery<'_>,
    from: i64,
    to: i64,
) -> Result<u64, StateError> {
    // As half-open times: [a, b).
    let (Some(a), Some(b)) = (from.checked_add(1), to.checked_add(1)) else {
        return count(tx, q, from, to);
    };
    // A window from the start of time (`over plan`) reads row by row:
    // rounding its start to a minute would overflow.
    if a < 0 {
        return count(tx, q, from, to);
    }
    let (ma, mb) = (ceil_to(a, MINUTE), floor_to(b, MINUTE));
    if ma >= mb {
        return count(tx, q, from, to);
    }
    // Whole minutes [ma, mb); of them, whole hours [ha, hb) (empty when
    // none), and the minutes either side of those hours.
    let (mut ha, mut hb) = (ceil_to(ma, HOUR), floor_to(mb, HOUR));
    if ha >= hb {
        (ha, hb) = (mb, mb);
    }
    let pattern = Pattern::of(q.pattern);
    let on_action = match &pattern {
        Pattern::Exact(_) => " AND action = :low",
        Pattern::Range(..) => " AND action >= :low AND action < :high",
        Pattern::Any => "",
    };
    let sql = format!(
        "SELECT \
           (SELECT count(*) FROM reservations \
            WHERE {column} = :key AND at > :a AND at <= :ma AND state != 'released'{on_action}) \
         + (SELECT count(*) FROM reservations \
            WHERE {column} = :key AND at > :mb AND at <= :b AND state != 'released'{on_action}) \
         + (SELECT coalesce(sum(n), 0) FROM window_counts \
            WHERE key = :key AND span = {MINUTE} AND bucket >= :m0 AND bucket < :h0{on_action}) \
         + (SELECT coalesce(sum(n), 0) FROM window_counts \
            WHERE key = :key AND span = {HOUR} AND bucket >= :h0h AND bucket < :h1h{on_action}) \
         + (SELECT coalesce(sum(n), 0) FROM window_counts \
            WHERE key = :key AND span = {MINUTE} AND bucket >= :h1 AND bucket < :m1{on_action})",
        column = key_column(q.key),
    );
    let (low, high) = pattern.bounds();
    let mut stmt = tx.prepare_cached(&sql).map_err(state_error)?;
    let mut args: Vec<(&str, &dyn rusqlite::ToSql)> = Vec::with_capacity(12);
    let bounds = [
        a - 1,
        ma - 1,
        mb - 1,
        b - 1,
        ma / MINUTE,
        ha / MINUTE,
        ha / HOUR,
        hb / HOUR,
        hb / MINUTE,
        mb / MINUTE,
    ];
    let names = [
        ":a", ":ma", ":mb", ":b", ":m0", ":h0", ":h0h", ":h1h", ":h1", ":m1",
    ];
    args.push((":key", &q.key_value));
    for (name, value) in names.iter().zip(&bounds) {
        args.push((name, value));
    }
    match &pattern {
        Pattern::Exact(_) => args.push((":low", &low)),
        Pattern::Range(..) => {
            args.push((":low", &low));
            args.push((":high", &high));
        }
        Pattern::Any => {}
    }
    let n: i64 = stmt
        .query_row(args.as_slice(), |r| r.get(0))
        .map_err(state_error)?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// `t` rounded up to a multiple of `span`.
fn ceil_to(t: i64, span: i64) -> i64 {
    floor_to(t, span) + if t.rem_euclid(span) == 0 { 0 } else { span }
}

/// `t` rounded down to a multiple of `span`.
fn floor_to(t: i64, span: i64) -> i64 {
    t.div_euclid(span) * span
}

pub(super) fn window_sum(
    tx: &Transaction<'_>,
    q: &WindowQuery<'_>,
    from: i64,
    to: i64,
) -> Result<Decimal, StateError> {
    let pattern = Pattern::of(q.pattern);
    // The summed parameter's path is bound, never written into the SQL.
    let path = format!("$.\"{}\"", q.param.unwrap_or_default().replace('"', ""));
    let mut stmt = tx
        .prepare_cached(&window_sql(q, "json_extract(amounts, ?6)", &pattern))
        .map_err(state_error)?;
    let (low, high) = pattern.bounds();
    let mut rows = stmt
        .query(params![q.key_value, from, to, low, high, path])
        .map_err(state_error)?;
    let mut sum = Summed::default();
    while let Some(row) = rows.next().map_err(state_error)? {
        let Some(text) = row.get::<_, Option<String>>(0).map_err(state_error)? else {
            continue;
        };
        sum.add(parse_amount(&text)?);
    }
    sum.total(q)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actpol_core::schema::Window;
    use actpol_core::state::WindowKind;

    fn plan(tx: &Transaction<'_>, sql: &str) -> String {
        let mut stmt = tx.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let nulls = vec![rusqlite::types::Null; stmt.parameter_count()];
        let rows = stmt
            .query_map(rusqlite::params_from_iter(nulls), |r| r.get::<_, String>(3))
            .unwrap()
            .map(Result::unwrap)
            .collect::<Vec<_>>();
        rows.join("; ")
    }

    /// A store's tables, in memory.
    pub(super) fn migrated() -> rusqlite::Connection {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch(include_str!("migrations/001_initial.sql"))
            .unwrap();
        conn
    }

    fn query(kind: WindowKind, pattern: &str) -> WindowQuery<'_> {
        WindowQuery {
            kind,
            pattern,
            param: Some("amount"),
            window: Window::Span(3_600_000),
            key: KeyKind::Agent,
            key_value: "agent:a",
            now: 0,
        }
    }

    /// A window reads only its key's index entries inside the window: a
    /// range on the window index, never a scan of the table, and for a
    /// count not a single table row.
    #[test]
    fn window_queries_read_a_range_of_the_window_index() {
        let mut conn = migrated();
        let tx = conn.transaction().unwrap();
        ensure_window_indexes(&tx, key_bit(KeyKind::Agent)).unwrap();
        for pattern in ["ops.spend", "ops.*", "*"] {
            let q = query(WindowKind::Count, pattern);
            let p = Pattern::of(pattern);
            let text = plan(&tx, &window_sql(&q, "count(*)", &p));
            assert!(
                text.contains("USING COVERING INDEX window_agent (k_agent=? AND at>? AND at<?)"),
                "count over `{pattern}`: {text}"
            );
            let q = query(WindowKind::Sum, pattern);
            let text = plan(&tx, &window_sql(&q, "json_extract(amounts, ?6)", &p));
            assert!(
                text.contains("USING INDEX window_agent (k_agent=? AND at>? AND at<?)"),
                "sum over `{pattern}`: {text}"
            );
        }
    }
}

#[cfg(test)]
mod counts {
    use super::*;
    use actpol_core::schema::Window;
    use actpol_core::state::WindowKind;

    /// A small deterministic generator.
    struct Jitter(u64);

    impl Jitter {
        fn below(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % n
        }
    }

    const ACTIONS: [&str; 3] = ["crm.touch", "crm.update", "ops.send"];
    const T0: i64 = 1_795_615_200_000;
    const DAY: i64 = 86_400_000;

    fn insert(tx: &Transaction<'_>, rng: &mut Jitter, n: usize) {
        for _ in 0..n {
            let at = T0 - i64::try_from(rng.below(9 * DAY as u64)).unwrap();
            let agent = format!("agent:a{}", rng.below(2));
            let action = ACTIONS[rng.below(3) as usize];
            reserve(tx, at, action, &agent, "{}");
        }
    }

    /// A held reservation of `action` by `agent` at `at`, with `amounts`.
    fn reserve(tx: &Transaction<'_>, at: i64, action: &str, agent: &str, amounts: &str) {
        tx.execute(
            "INSERT INTO reservations (decision, state, at, expires_at, action, k_agent, k_workflow, k_owner, k_object, amounts, holds)
             VALUES (1, 'held', ?1, ?2, ?3, ?4, 'workflow:w', 'owner:o', 'object:A/1', ?5, '[]')",
            params![at, at + DAY, action, agent, amounts],
        )
        .unwrap();
    }

    fn release_some(tx: &Transaction<'_>, rng: &mut Jitter) {
        let ids: Vec<i64> = tx
            .prepare("SELECT id FROM reservations WHERE state != 'released'")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        for id in ids {
            match rng.below(5) {
                0 => tx.execute(
                    "UPDATE reservations SET state = 'released' WHERE id = ?1",
                    [id],
                ),
                1 => tx.execute(
                    "UPDATE reservations SET state = 'committed' WHERE id = ?1",
                    [id],
                ),
                _ => Ok(0),
            }
            .unwrap();
        }
    }

    /// Counts from the kept minutes and hours are the counts read row by
    /// row, for any window, pattern and key: with history counted when the
    /// counts were first kept, reservations made after, and some released
    /// or committed on either side.
    #[test]
    fn kept_counts_read_as_the_rows_do() {
        let mut conn = tests::migrated();
        let tx = conn.transaction().unwrap();
        let mut rng = Jitter(0x2545_f491_4f6c_dd1d);
        insert(&tx, &mut rng, 1500);
        release_some(&tx, &mut rng);
        ensure_window_indexes(&tx, key_bit(KeyKind::Agent)).unwrap();
        insert(&tx, &mut rng, 1500);
        release_some(&tx, &mut rng);
        let spans = [
            59_999,
            60_000,
            61_000,
            3_600_000,
            3_599_999,
            7_200_001,
            DAY,
            7 * DAY,
        ];
        let mut checked = 0;
        for _ in 0..400 {
            let span = spans[rng.below(spans.len() as u64) as usize];
            let now = T0 - i64::try_from(rng.below(2 * DAY as u64)).unwrap();
            let pattern = ["crm.touch", "crm.*", "*", "ops.send"][rng.below(4) as usize];
            let key = format!("agent:a{}", rng.below(2));
            let q = WindowQuery {
                kind: WindowKind::Count,
                pattern,
                param: None,
                window: Window::Span(span),
                key: KeyKind::Agent,
                key_value: &key,
                now,
            };
            let rows = count(&tx, &q, now - span, now).unwrap();
            let kept = count_by_buckets(&tx, &q, now - span, now).unwrap();
            assert_eq!(kept, rows, "{pattern} over {span} ms to {now} for {key}");
            checked += u64::from(rows > 0);
        }
        assert!(checked > 200, "the windows saw history ({checked})");
    }

    /// A window's sum from the store follows the rule a state in memory
    /// follows (`Summed`), whatever order the rows come in: out of range
    /// when the positives alone pass what a decimal holds, even where a
    /// running total in row order would not have.
    #[test]
    fn sums_read_as_a_state_in_memory_sums() {
        let mut conn = tests::migrated();
        let tx = conn.transaction().unwrap();
        let q = |key: &'static str| WindowQuery {
            kind: WindowKind::Sum,
            pattern: "*",
            param: Some("n"),
            window: Window::Span(DAY),
            key: KeyKind::Agent,
            key_value: key,
            now: T0,
        };
        let runs: [(&str, &[&str]); 2] = [
            (
                "agent:edge",
                &[
                    "50000000000000000000000000000",
                    "-50000000000000000000000000000",
                    "50000000000000000000000000000",
                ],
            ),
            (
                "agent:fits",
                &[
                    "30000000000000000000000000000",
                    "-50000000000000000000000000000",
                    "30000000000000000000000000000",
                ],
            ),
        ];
        for (key, amounts) in runs {
            for (i, n) in amounts.iter().enumerate() {
                let at = T0 - 1_000 * (3 - i64::try_from(i).unwrap());
                reserve(&tx, at, "ops.send", key, &format!("{{\"n\": \"{n}\"}}"));
            }
        }
        let memory = |amounts: &[&str]| {
            let mut sum = Summed::default();
            for n in amounts {
                sum.add(n.parse().unwrap());
            }
            sum
        };
        let edge = q("agent:edge");
        assert!(matches!(
            window_sum(&tx, &edge, T0 - DAY, T0),
            Err(StateError::Overflow { .. })
        ));
        assert!(memory(runs[0].1).total(&edge).is_err());
        let fits = q("agent:fits");
        let want: Decimal = "10000000000000000000000000000".parse().unwrap();
        assert_eq!(window_sum(&tx, &fits, T0 - DAY, T0).unwrap(), want);
        assert_eq!(memory(runs[1].1).total(&fits).unwrap(), want);
    }
}
