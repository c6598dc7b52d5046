//! One write transaction, and what it keeps in memory while it runs.
//!
//! A write transaction holds the backend's write lock from its first
//! statement to its commit (SQLite's `BEGIN IMMEDIATE`, PostgreSQL's lock
//! on the head's row), so nothing another thread or process writes can
//! change what it read. That is what lets it keep, for its own length, what
//! would otherwise be read and written again for every decision of a group:
//! the log's head and the budget counters. Each is read once, kept and
//! changed in memory, and written once, just before the commit. A
//! transaction that does not commit drops its memory with it.

use std::cell::RefCell;
use std::str::FromStr;

use actpol_core::Decimal;

use super::LedgerSql;
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

/// A write transaction in progress, over a backend's statements.
pub struct Ledger<T: LedgerSql> {
    sql: T,
    head: Head,
    /// The head's position when the transaction began.
    began_at: i64,
    /// Reservations due by this time were released already.
    expired_to: i64,
    /// Counters read or written, by budget, key and window.
    counters: RefCell<Vec<Counter>>,
}

impl<T: LedgerSql> std::fmt::Debug for Ledger<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger")
            .field("head", &self.head)
            .field("began_at", &self.began_at)
            .field("expired_to", &self.expired_to)
            .field("counters", &self.counters)
            .finish_non_exhaustive()
    }
}

impl<T: LedgerSql> Ledger<T> {
    /// Begins with a write transaction the backend opened: reads the head.
    pub fn begin(sql: T) -> Result<Ledger<T>, StoreError> {
        let (seq, hash) = sql.read_head()?;
        Ok(Ledger {
            sql,
            began_at: seq,
            head: Head { seq, hash },
            expired_to: i64::MIN,
            counters: RefCell::new(Vec::new()),
        })
    }

    /// The backend's statements, in this transaction.
    pub fn sql(&self) -> &T {
        &self.sql
    }

    /// Writes back the counters that changed and the head (if the log
    /// grew), and commits.
    pub fn finish(self) -> Result<(), StoreError> {
        for c in self.counters.borrow().iter().filter(|c| c.dirty) {
            self.sql.write_counter(
                &c.budget,
                &c.key,
                c.window_start,
                c.window_end,
                &c.consumed.to_string(),
            )?;
        }
        if self.head.seq != self.began_at {
            self.sql.write_head(self.head.seq, &self.head.hash)?;
        }
        self.sql.commit()
    }

    /// The position the next record takes.
    pub fn next_seq(&self) -> i64 {
        self.head.seq + 1
    }

    /// Appends record text at the next position, after the head.
    pub fn append_text(&mut self, text: &str, columns: &Columns) -> Result<(), StoreError> {
        let seq = self.next_seq();
        let hash = chain::link(&self.head.hash, text);
        self.sql
            .insert_log(seq, columns, text, &self.head.hash, &hash)?;
        self.head = Head { seq, hash };
        Ok(())
    }

    /// Appends a small record (a commit, a release, an approval) given as
    /// canonical JSON members, less `seq` and `at`.
    pub fn append(
        &mut self,
        record: serde_json::Map<String, serde_json::Value>,
        now: i64,
    ) -> Result<(), StoreError> {
        let (text, columns) = crate::record::small_record(record, self.next_seq(), now)?;
        self.append_text(&text, &columns)
    }

    /// Releases the held reservations due by `now`, unless this
    /// transaction did so for `now` or later already.
    pub fn expire_until(&mut self, now: i64) -> Result<usize, StoreError> {
        if now <= self.expired_to {
            return Ok(0);
        }
        self.expired_to = now;
        super::flows::expire_due(self, now)
    }

    /// A budget counter: what is consumed (held and committed) under `key`
    /// in the window starting at `window_start`.
    pub fn counter(
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
        let consumed = match self.sql.read_counter(budget, key, window_start)? {
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
    pub fn add_to_counter(&mut self, hold: &Hold, sign: i8) -> Result<(), StoreError> {
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
