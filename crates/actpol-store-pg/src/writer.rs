//! One write transaction, and what it keeps in memory while it runs.
//!
//! A write transaction begins by locking the log's head row
//! (`SELECT … FROM head … FOR UPDATE`). Every writer, in every process,
//! does so first, so write transactions run one at a time across the
//! cluster, in the order they got the lock, and the chain has one head.
//! The transactions run at READ COMMITTED: each statement sees what was
//! committed before it began, and as the lock is only granted once the
//! previous writer committed or rolled back, every statement after it sees
//! every earlier write. That is what keeps concurrent decisions from
//! overspending, whichever replica makes them, and what lets the
//! transaction keep the head, the budget counters it touches and the next
//! ids in memory and write them once, before its commit.

use std::cell::{Cell, RefCell};
use std::str::FromStr;

use actpol_core::Decimal;
use actpol_store::record::{self, Columns};
use actpol_store::{Hold, StoreError};

use crate::tx::{db, Tx};

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
pub(crate) struct Writer<'c> {
    pub(crate) tx: Tx<'c>,
    head: Head,
    /// The head's position when the transaction began.
    began_at: i64,
    /// Reservations due by this time were released already.
    expired_to: i64,
    /// Counters read or written, by budget, key and window.
    counters: RefCell<Vec<Counter>>,
    /// The last reservation and approval ids, once read.
    last_reservation: Cell<Option<i64>>,
    last_approval: Cell<Option<i64>>,
}

impl<'c> Writer<'c> {
    /// Begins a write transaction: waits for the head's lock.
    pub(crate) fn begin(tx: Tx<'c>) -> Result<Writer<'c>, StoreError> {
        let row = tx
            .query_one("SELECT seq, hash FROM head WHERE one = 1 FOR UPDATE", &[])
            .map_err(db)?;
        let head = Head {
            seq: row.get(0),
            hash: row.get(1),
        };
        Ok(Writer {
            tx,
            began_at: head.seq,
            head,
            expired_to: i64::MIN,
            counters: RefCell::new(Vec::new()),
            last_reservation: Cell::new(None),
            last_approval: Cell::new(None),
        })
    }

    /// Writes back the counters that changed and the head (if the log
    /// grew), and commits.
    pub(crate) fn finish(self) -> Result<(), StoreError> {
        for c in self.counters.borrow().iter().filter(|c| c.dirty) {
            self.tx
                .execute(
                    "INSERT INTO counters (budget, key, window_start, window_end, consumed) VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (budget, key, window_start) DO UPDATE SET consumed = excluded.consumed",
                    &[
                        &&*c.budget,
                        &&*c.key,
                        &c.window_start,
                        &c.window_end,
                        &c.consumed.to_string(),
                    ],
                )
                .map_err(db)?;
        }
        if self.head.seq != self.began_at {
            self.tx
                .execute(
                    "UPDATE head SET seq = $1, hash = $2 WHERE one = 1",
                    &[&self.head.seq, &self.head.hash],
                )
                .map_err(db)?;
        }
        self.tx.commit()
    }

    /// The position the next record takes.
    pub(crate) fn next_seq(&self) -> i64 {
        self.head.seq + 1
    }

    /// The id the next reservation takes: one past the highest, as SQLite
    /// numbers rows, so both stores number alike. Only the writer holding
    /// the head's lock inserts, so no other can take it.
    pub(crate) fn next_reservation(&self) -> Result<i64, StoreError> {
        self.next_id(
            &self.last_reservation,
            "SELECT coalesce(max(id), 0) FROM reservations",
        )
    }

    /// The id the next approval takes (see [`Writer::next_reservation`]).
    pub(crate) fn next_approval(&self) -> Result<i64, StoreError> {
        self.next_id(
            &self.last_approval,
            "SELECT coalesce(max(id), 0) FROM approvals",
        )
    }

    fn next_id(&self, last: &Cell<Option<i64>>, sql: &str) -> Result<i64, StoreError> {
        let prior = match last.get() {
            Some(id) => id,
            None => self.tx.query_one(sql, &[]).map_err(db)?.get(0),
        };
        let next = prior + 1;
        last.set(Some(next));
        Ok(next)
    }

    /// Appends record text at the next position, after the head.
    pub(crate) fn append_text(&mut self, text: &str, columns: &Columns) -> Result<(), StoreError> {
        let seq = self.next_seq();
        let hash = record::link(&self.head.hash, text);
        self.tx
            .execute(
                "INSERT INTO log (seq, kind, at, agent, action, level, rules, object, record, prev, hash)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                &[
                    &seq,
                    &columns.kind,
                    &columns.at,
                    &columns.agent,
                    &columns.action,
                    &columns.level,
                    &columns.rules,
                    &columns.object,
                    &text,
                    &self.head.hash,
                    &hash,
                ],
            )
            .map_err(db)?;
        self.head = Head { seq, hash };
        Ok(())
    }

    /// Appends a small record (a commit, a release, an approval) given as
    /// canonical JSON members, less `seq` and `at`.
    pub(crate) fn append(
        &mut self,
        record: serde_json::Map<String, serde_json::Value>,
        now: i64,
    ) -> Result<(), StoreError> {
        let (text, columns) = record::small_record(record, self.next_seq(), now)?;
        self.append_text(&text, &columns)
    }

    /// Releases the held reservations due by `now`, unless this
    /// transaction did so for `now` or later already.
    pub(crate) fn expire_until(&mut self, now: i64) -> Result<usize, StoreError> {
        if now <= self.expired_to {
            return Ok(0);
        }
        self.expired_to = now;
        crate::rows::expire_due(self, now)
    }

    /// A budget counter: what is consumed (held and committed) under `key`
    /// in the window starting at `window_start`.
    pub(crate) fn counter(
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
        let row = self
            .tx
            .query_opt(
                "SELECT consumed FROM counters WHERE budget = $1 AND key = $2 AND window_start = $3",
                &[&budget, &key, &window_start],
            )
            .map_err(db)?;
        let consumed = match row {
            Some(row) => Decimal::from_str(row.get::<_, &str>(0))
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
    pub(crate) fn add_to_counter(&mut self, hold: &Hold, sign: i8) -> Result<(), StoreError> {
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
