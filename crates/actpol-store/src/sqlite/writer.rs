//! One write transaction, and what it keeps in memory while it runs.
//!
//! A write transaction (`BEGIN IMMEDIATE`) holds the database's only write
//! lock from its first statement to its commit, so nothing another thread
//! or process writes can change what it read. That is what lets it keep,
//! for its own length, what would otherwise be read and written again for
//! every decision of a group: the log's head and the budget counters. Each
//! is read once, kept and changed in memory, and written once, just before
//! the commit. A transaction that does not commit drops its memory with it.

use std::cell::RefCell;
use std::str::FromStr;

use actpol_core::Decimal;
use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};

use crate::chain::{self, Columns};
use crate::{Hold, StoreError};

/// The log's last position and hash.
#[derive(Clone, Debug)]
struct Head {
    seq: i64,
    hash: String,
}

/// A budget counter as this transaction knows it.
#[derive(Clone, Debug)]
struct Counter {
    budget: Box<str>,
    key: Box<str>,
    window_start: i64,
    /// Known once the counter is written: a counter only read needs none.
    window_end: i64,
    consumed: Decimal,
    /// Changed since it was read: written back before the commit.
    dirty: bool,
}

/// A write transaction in progress.
pub(super) struct Writer<'c> {
    pub(super) tx: Transaction<'c>,
    head: Head,
    /// The head's position when the transaction began.
    began_at: i64,
    /// Reservations due by this time were released already.
    expired_to: i64,
    /// Counters read or written, by budget, key and window.
    counters: RefCell<Vec<Counter>>,
    /// The key kinds whose window index and counts exist (a bit per kind).
    pub(super) window_kinds: u8,
}

impl<'c> Writer<'c> {
    pub(super) fn begin(conn: &'c mut Connection) -> Result<Writer<'c>, StoreError> {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let head = read_head(&tx)?;
        Ok(Writer {
            tx,
            began_at: head.seq,
            head,
            expired_to: i64::MIN,
            counters: RefCell::new(Vec::new()),
            window_kinds: 0,
        })
    }

    /// Writes back the counters that changed and the head (if the log
    /// grew), and commits.
    pub(super) fn finish(self) -> Result<(), StoreError> {
        for c in self.counters.borrow().iter().filter(|c| c.dirty) {
            self.tx
                .prepare_cached(
                    "INSERT INTO counters (budget, key, window_start, window_end, consumed) VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (budget, key, window_start) DO UPDATE SET consumed = excluded.consumed",
                )?
                .execute(params![
                    &*c.budget,
                    &*c.key,
                    c.window_start,
                    c.window_end,
                    c.consumed.to_string()
                ])?;
        }
        if self.head.seq != self.began_at {
            self.tx
                .prepare_cached("UPDATE head SET seq = ?1, hash = ?2 WHERE one = 1")?
                .execute(params![self.head.seq, self.head.hash])?;
        }
        self.tx.commit()?;
        Ok(())
    }

    /// The position the next record takes.
    pub(super) fn next_seq(&self) -> i64 {
        self.head.seq + 1
    }

    /// Appends record text at the next position, after the head.
    pub(super) fn append_text(&mut self, text: &str, columns: &Columns) -> Result<(), StoreError> {
        let seq = self.next_seq();
        let hash = chain::link(&self.head.hash, text);
        self.tx
            .prepare_cached(
                "INSERT INTO log (seq, kind, at, agent, action, level, rules, object, record, prev, hash)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )?
            .execute(params![
                seq,
                columns.kind,
                columns.at,
                columns.agent,
                columns.action,
                columns.level,
                columns.rules,
                columns.object,
                text,
                self.head.hash,
                hash
            ])?;
        self.head = Head { seq, hash };
        Ok(())
    }

    /// Appends a small record (a commit, a release, an approval) given as
    /// canonical JSON members, less `seq` and `at`.
    pub(super) fn append(
        &mut self,
        record: serde_json::Map<String, serde_json::Value>,
        now: i64,
    ) -> Result<(), StoreError> {
        let (text, columns) = crate::record::small_record(record, self.next_seq(), now)?;
        self.append_text(&text, &columns)
    }

    /// Releases the held reservations due by `now`, unless this
    /// transaction did so for `now` or later already.
    pub(super) fn expire_until(&mut self, now: i64) -> Result<usize, StoreError> {
        if now <= self.expired_to {
            return Ok(0);
        }
        self.expired_to = now;
        super::rows::expire_due(self, now)
    }

    /// A budget counter: what is consumed (held and committed) under `key`
    /// in the window starting at `window_start`.
    pub(super) fn counter(
        &self,
        budget: &str,
        key: &str,
        window_start: i64,
    ) -> Result<Decimal, StoreError> {
        let known = self.counters.borrow().iter().find_map(|c| {
            (c.window_start == window_start && &*c.budget == budget && &*c.key == key)
                .then_some(c.consumed)
        });
        if let Some(consumed) = known {
            return Ok(consumed);
        }
        let text: Option<String> = self
            .tx
            .prepare_cached(
                "SELECT consumed FROM counters WHERE budget = ?1 AND key = ?2 AND window_start = ?3",
            )?
            .query_row(params![budget, key, window_start], |r| r.get(0))
            .optional()?;
        let consumed = match text {
            Some(text) => Decimal::from_str(&text)
                .map_err(|e| StoreError::backend("read a budget counter", e))?,
            None => Decimal::ZERO,
        };
        self.counters.borrow_mut().push(Counter {
            budget: budget.into(),
            key: key.into(),
            window_start,
            window_end: window_start,
            consumed,
            dirty: false,
        });
        Ok(consumed)
    }

    /// Adds a hold's amount to its counter (`sign` 1), or takes it back
    /// (`sign` -1).
    pub(super) fn add_to_counter(&mut self, hold: &Hold, sign: i8) -> Result<(), StoreError> {
        let prior = self.counter(&hold.budget, &hold.key, hold.window_start)?;
        let next = if sign >= 0 {
            prior.checked_add(hold.amount)
        } else {
            prior.checked_sub(hold.amount)
        }
        .ok_or_else(|| {
            StoreError::backend(
                "add to a budget counter",
                std::io::Error::other("the counter would overflow"),
            )
        })?;
        // INVARIANT: `counter` above made sure this counter is known.
        for c in self.counters.get_mut().iter_mut() {
            if c.window_start == hold.window_start
                && *c.budget == *hold.budget
                && *c.key == *hold.key
            {
                c.consumed = next;
                c.window_end = hold.window_end;
                c.dirty = true;
            }
        }
        Ok(())
    }
}

fn read_head(tx: &Transaction<'_>) -> Result<Head, StoreError> {
    Ok(tx
        .prepare_cached("SELECT seq, hash FROM head WHERE one = 1")?
        .query_row([], |r| {
            Ok(Head {
                seq: r.get(0)?,
                hash: r.get(1)?,
            })
        })?)
}
