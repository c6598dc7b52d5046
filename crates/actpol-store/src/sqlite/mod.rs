//! The embedded backend: one SQLite file in WAL mode.
//!
//! Every write is one `BEGIN IMMEDIATE` transaction: SQLite then holds the
//! database's single write lock from the first statement, so a decision's
//! reads (budgets, windows, the approval) and its writes (reservation,
//! counters, approval, log record) see no other writer in between, across
//! threads and processes alike. That is what keeps concurrent decisions
//! from overspending. Readers (`audit`, `packet`) do not block writers.
//!
//! Durability is SQLite's, stated plainly by [`Durability`]: a committed
//! transaction is in the write-ahead log before `commit` returns, so killing
//! the process loses nothing committed; whether it survives a power loss
//! depends on `synchronous`.

mod sql;
mod view;

use std::path::Path;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use actpol_core::approval::ApprovalStatus;
use actpol_core::schema::PolicyMeta;
use actpol_core::state::StateView;
use actpol_core::Decision;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

use self::sql::SqliteTx;
use crate::chain::{self, Columns, StoredRecord, Verification, Walk};
use crate::ledger::view::LedgerView;
use crate::ledger::{flows, Group, Ledger};
use crate::record::log_entry;
use crate::{
    Approval, BudgetCount, LogEntry, LogFilter, PacketView, Proposal, Pruned, Reservation, Store,
    StoreError, Stored,
};

/// A write transaction on the store.
type Writer<'c> = Ledger<SqliteTx<'c>>;

/// "actp" in ASCII: marks a SQLite file as an actpol store.
const APPLICATION_ID: i64 = 0x6163_7470;

/// The schema, one migration per version. A store records its version
/// (`PRAGMA user_version`); opening applies the migrations it lacks, in one
/// transaction, and refuses a store newer than this build.
const MIGRATIONS: &[&str] = &[include_str!("migrations/001_initial.sql")];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// How hard a commit presses the bytes onto the disk (`PRAGMA synchronous`
/// in WAL mode).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Durability {
    /// `synchronous = NORMAL`: a commit appends to the write-ahead log and
    /// returns without waiting for the disk; the log is synced at
    /// checkpoints. A killed or crashed process loses nothing committed
    /// (the operating system holds the written pages). A power loss or an
    /// operating-system crash can lose the transactions committed since the
    /// last sync, never corrupting the store or breaking the chain.
    #[default]
    Normal,
    /// `synchronous = FULL`: every commit waits until the write-ahead log is
    /// on the disk (fsync). Nothing committed is lost to a power loss, as
    /// far as the disk honours fsync; each commit costs a disk flush.
    Full,
}

impl Durability {
    fn pragma(self) -> &'static str {
        match self {
            Durability::Normal => "NORMAL",
            Durability::Full => "FULL",
        }
    }

    /// What this setting can lose, in one line.
    pub fn describe(self) -> &'static str {
        match self {
            Durability::Normal => {
                "SQLite WAL, synchronous=NORMAL: a killed process loses nothing committed; a power loss or OS crash can lose the last commits before a WAL sync (never corrupting the store)"
            }
            Durability::Full => {
                "SQLite WAL, synchronous=FULL: every commit is fsynced before it returns; a power loss loses nothing committed"
            }
        }
    }

    pub fn parse(text: &str) -> Option<Durability> {
        match text {
            "normal" => Some(Durability::Normal),
            "full" => Some(Durability::Full),
            _ => None,
        }
    }
}

/// A store in one SQLite file (or in memory, for tests).
#[derive(Debug)]
pub struct SqliteStore {
    conn: Mutex<Conn>,
    durability: Durability,
    path: String,
    /// Moves the write-ahead log into the database off the deciding thread
    /// (held for its `Drop`, which stops it).
    _checkpointer: Option<Checkpointer>,
}

/// The store's connection, and what it knows of the file's schema.
#[derive(Debug)]
struct Conn {
    db: Connection,
    /// The key kinds whose window index exists (a bit per kind).
    window_indexes: u8,
}

/// How often the background checkpointer runs.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(200);

/// A thread that copies committed pages from the write-ahead log into the
/// database and syncs them (`PRAGMA wal_checkpoint(PASSIVE)`: it never
/// blocks a writer or a reader). SQLite would otherwise do this inside
/// whichever commit crossed the log's size limit, stalling that decision on
/// the disk; durability is the same either way, as a commit is in the log.
#[derive(Debug)]
struct Checkpointer {
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Checkpointer {
    fn start(path: &str) -> Result<Checkpointer, rusqlite::Error> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(5))?;
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("actpol-store-checkpoint".into())
            .spawn(move || {
                while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                    stopped.recv_timeout(CHECKPOINT_EVERY)
                {
                    // A busy or failed checkpoint is retried on the next
                    // tick; the log keeps every commit meanwhile.
                    let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
                }
            })
            .ok();
        Ok(Checkpointer {
            stop: Some(stop),
            thread,
        })
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl SqliteStore {
    /// Opens the store at `path`, creating it (and its directory) if it
    /// does not exist, and brings its schema up to date.
    pub fn open(path: impl AsRef<Path>, durability: Durability) -> Result<SqliteStore, StoreError> {
        let path = path.as_ref();
        let shown = path.display().to_string();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Open {
                path: shown.clone(),
                source: Box::new(e),
            })?;
        }
        let conn = Connection::open(path).map_err(|e| open_error(&shown, e))?;
        SqliteStore::setup(conn, shown, durability, true)
    }

    /// A store that lives as long as this value: for tests.
    pub fn in_memory() -> Result<SqliteStore, StoreError> {
        let conn = Connection::open_in_memory().map_err(|e| open_error(":memory:", e))?;
        SqliteStore::setup(conn, ":memory:".into(), Durability::Normal, false)
    }

    fn setup(
        mut conn: Connection,
        path: String,
        durability: Durability,
        wal: bool,
    ) -> Result<SqliteStore, StoreError> {
        let fail = |e: rusqlite::Error| open_error(&path, e);
        // Other processes may hold the write lock for a decision or two.
        conn.busy_timeout(Duration::from_secs(30)).map_err(fail)?;
        conn.set_prepared_statement_cache_capacity(64);
        if wal {
            let mode: String = conn
                .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
                .map_err(fail)?;
            if !mode.eq_ignore_ascii_case("wal") {
                return Err(StoreError::Open {
                    path,
                    source: format!("the file system does not allow WAL mode (got `{mode}`)")
                        .into(),
                });
            }
        }
        conn.pragma_update(None, "synchronous", durability.pragma())
            .map_err(fail)?;
        // 64 MiB of page cache: the pages a decision touches stay in memory.
        conn.pragma_update(None, "cache_size", -65_536)
            .map_err(fail)?;
        migrate(&mut conn, &path)?;
        let checkpointer = if wal {
            // The checkpointer thread does what commits would otherwise do.
            conn.pragma_update(None, "wal_autocheckpoint", 0)
                .map_err(fail)?;
            Some(Checkpointer::start(&path).map_err(fail)?)
        } else {
            None
        };
        Ok(SqliteStore {
            conn: Mutex::new(Conn {
                db: conn,
                window_indexes: 0,
            }),
            durability,
            path,
            _checkpointer: checkpointer,
        })
    }

    /// Where the store lives.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Runs `f` in one write transaction, committed if it succeeds.
    fn write<T>(
        &self,
        f: impl FnOnce(&mut Writer<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        let mut w = begin(&mut conn.db, 0)?;
        let out = f(&mut w)?;
        w.finish()?;
        Ok(out)
    }

    /// Runs `f` on one consistent snapshot.
    fn read<T>(
        &self,
        f: impl FnOnce(&SqliteTx<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        let tx = conn
            .db
            .transaction_with_behavior(TransactionBehavior::Deferred)?;
        let tx = SqliteTx {
            tx,
            window_kinds: 0,
        };
        f(&tx)
    }
}

/// Begins a write transaction (`BEGIN IMMEDIATE`), knowing which key
/// kinds' window counts are kept.
fn begin(db: &mut Connection, window_kinds: u8) -> Result<Writer<'_>, StoreError> {
    let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
    Ledger::begin(SqliteTx { tx, window_kinds })
}

fn open_error(path: &str, e: rusqlite::Error) -> StoreError {
    if e.sqlite_error_code() == Some(rusqlite::ErrorCode::NotADatabase) {
        return StoreError::NotAStore {
            path: path.to_string(),
        };
    }
    StoreError::Open {
        path: path.to_string(),
        source: Box::new(e),
    }
}

fn migrate(conn: &mut Connection, path: &str) -> Result<(), StoreError> {
    let fail = |e: rusqlite::Error| open_error(path, e);
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(fail)?;
    let app: i64 = tx
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .map_err(fail)?;
    let version: i64 = tx
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(fail)?;
    if app != APPLICATION_ID {
        let tables: i64 = tx
            .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
            .map_err(fail)?;
        if app != 0 || tables > 0 {
            return Err(StoreError::NotAStore {
                path: path.to_string(),
            });
        }
    }
    if version > SCHEMA_VERSION {
        return Err(StoreError::NewerSchema {
            path: path.to_string(),
            found: version,
            supported: SCHEMA_VERSION,
        });
    }
    for migration in MIGRATIONS
        .iter()
        .skip(usize::try_from(version).unwrap_or(0))
    {
        tx.execute_batch(migration).map_err(fail)?;
    }
    if version < SCHEMA_VERSION {
        tx.execute(
            "INSERT OR IGNORE INTO head (one, seq, hash) VALUES (1, 0, ?1)",
            [chain::GENESIS],
        )
        .map_err(fail)?;
        tx.pragma_update(None, "application_id", APPLICATION_ID)
            .map_err(fail)?;
        tx.pragma_update(None, "user_version", SCHEMA_VERSION)
            .map_err(fail)?;
    }
    tx.commit().map_err(fail)
}

impl Store for SqliteStore {
    fn decide_batch(
        &self,
        proposals: &[Proposal<'_>],
        decide: &mut dyn FnMut(usize, &dyn StateView) -> Decision,
    ) -> Result<Vec<Result<Stored, StoreError>>, StoreError> {
        let wanted = proposals
            .iter()
            .flat_map(|p| p.window_keys)
            .fold(0u8, |bits, kind| bits | view::key_bit(*kind));
        let mut conn = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        let missing = wanted & !conn.window_indexes;
        let mut group = Group::new(proposals);
        loop {
            let kinds = conn.window_indexes | missing;
            let mut w = begin(&mut conn.db, kinds)?;
            if missing != 0 {
                view::ensure_window_indexes(&w.sql().tx, missing)?;
            }
            // A decision the store failed on: dropping the writer rolls the
            // transaction back, and the group is decided again without it.
            let Some(stored) = group.attempt(&mut w, decide) else {
                continue;
            };
            w.finish()?;
            conn.window_indexes |= missing;
            return Ok(group.results(stored));
        }
    }

    fn read_state(&self, now: i64, read: &mut dyn FnMut(&dyn StateView)) -> Result<(), StoreError> {
        let mut conn = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        let kinds = conn.window_indexes;
        let mut w = begin(&mut conn.db, kinds)?;
        w.expire_until(now)?;
        read(&LedgerView { ledger: &w });
        // Dropped unfinished: rolled back.
        Ok(())
    }

    fn prune(&self, before: i64) -> Result<Pruned, StoreError> {
        self.write(|w| {
            let tx = &w.sql().tx;
            let reservations = tx
                .prepare_cached("DELETE FROM reservations WHERE at < ?1 AND state != 'held'")?
                .execute([before])?;
            // A held reservation still counts in its window's counter (and
            // takes its amount back from it when released): windows that
            // may hold one stay.
            let held_since: Option<i64> = tx
                .prepare_cached(
                    "SELECT min(at) FROM reservations INDEXED BY reservations_due WHERE state = 'held'",
                )?
                .query_row([], |r| r.get(0))?;
            let horizon = held_since.map_or(before, |at| at.min(before));
            let counters = tx
                .prepare_cached("DELETE FROM counters WHERE window_end <= ?1")?
                .execute([horizon])?;
            // The kept window counts of whole minutes and hours that ended.
            let window_counts = tx
                .prepare_cached("DELETE FROM window_counts WHERE (bucket + 1) * span <= ?1")?
                .execute([before])?;
            Ok(Pruned {
                reservations: reservations as u64,
                counters: counters as u64,
                window_counts: window_counts as u64,
            })
        })
    }

    fn commit(&self, reservation: &str, now: i64) -> Result<Reservation, StoreError> {
        self.write(|w| flows::commit(w, reservation, now))
    }

    fn release(&self, reservation: &str, now: i64) -> Result<Reservation, StoreError> {
        self.write(|w| flows::release(w, reservation, now))
    }

    fn reservation(&self, reservation: &str, now: i64) -> Result<Reservation, StoreError> {
        self.write(|w| flows::reservation(w, reservation, now))
    }

    fn approve(
        &self,
        approval: &str,
        by: &str,
        note: Option<&str>,
        now: i64,
    ) -> Result<Approval, StoreError> {
        let id = flows::approval_id(approval)?;
        self.write(|w| {
            flows::decide_approval(w, approval, id, by, note, now, ApprovalStatus::Granted)
        })
    }

    fn reject(
        &self,
        approval: &str,
        by: &str,
        note: Option<&str>,
        now: i64,
    ) -> Result<Approval, StoreError> {
        let id = flows::approval_id(approval)?;
        self.write(|w| {
            flows::decide_approval(w, approval, id, by, note, now, ApprovalStatus::Rejected)
        })
    }

    fn approval(&self, approval: &str, now: i64) -> Result<Approval, StoreError> {
        let id = flows::approval_id(approval)?;
        self.read(|tx| {
            flows::load_approval(tx, id, now)?
                .ok_or_else(|| StoreError::UnknownApproval(approval.to_string()))
        })
    }

    fn approvals(
        &self,
        status: Option<ApprovalStatus>,
        now: i64,
    ) -> Result<Vec<Approval>, StoreError> {
        self.read(|tx| flows::approvals(tx, status, now))
    }

    fn budgets(&self, now: i64, meta: Option<&PolicyMeta>) -> Result<Vec<BudgetCount>, StoreError> {
        // Reservations past their time are released first, so the counts
        // read next are as of `now`.
        self.write(|w| w.expire_until(now))?;
        self.read(|tx| flows::budgets(tx, now, meta))
    }

    fn expire(&self, now: i64) -> Result<usize, StoreError> {
        self.write(|w| w.expire_until(now))
    }

    fn log(&self, filter: &LogFilter) -> Result<Vec<LogEntry>, StoreError> {
        self.read(|SqliteTx { tx, .. }| {
            let mut sql = String::from("SELECT seq, kind, at, hash, record FROM log WHERE 1 = 1");
            let mut args: Vec<rusqlite::types::Value> = Vec::new();
            if let Some(since) = filter.since {
                args.push(since.into());
                sql.push_str(&format!(" AND at >= ?{}", args.len()));
            }
            if let Some(agent) = &filter.agent {
                args.push(agent.clone().into());
                sql.push_str(&format!(" AND agent = ?{}", args.len()));
            }
            if let Some(action) = &filter.action {
                if action != "*" {
                    let (op, value) = pattern_sql(action);
                    args.push(value.into());
                    sql.push_str(&format!(" AND action {op} ?{}", args.len()));
                }
            }
            if let Some(level) = filter.decision {
                args.push(level.as_str().to_string().into());
                sql.push_str(&format!(
                    " AND kind = 'decision' AND level = ?{}",
                    args.len()
                ));
            }
            sql.push_str(" ORDER BY seq DESC");
            if let Some(limit) = filter.limit {
                sql.push_str(&format!(" LIMIT {limit}"));
            }
            let mut stmt = tx.prepare(&sql)?;
            let rows = stmt.query_map(rusqlite::params_from_iter(args), |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                ))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (seq, kind, at, hash, text) = row?;
                out.push(log_entry(seq, kind, at, hash, &text)?);
            }
            out.reverse();
            Ok(out)
        })
    }

    fn decision(&self, id: &str) -> Result<LogEntry, StoreError> {
        let seq = flows::decision_seq(id)?;
        self.read(|tx| {
            flows::load_decision(tx, seq)?
                .ok_or_else(|| StoreError::UnknownDecision(id.to_string()))
        })
    }

    fn packet(&self, id: &str, precedent_count: usize, now: i64) -> Result<PacketView, StoreError> {
        flows::decision_seq(id)?;
        self.read(|tx| flows::packet(tx, id, precedent_count, now))
    }

    fn verify(&self) -> Result<Verification, StoreError> {
        self.read(|SqliteTx { tx, .. }| {
            let mut stmt = tx.prepare(
                "SELECT seq, prev, hash, record, kind, at, agent, action, level, rules, object FROM log ORDER BY seq",
            )?;
            let mut rows = stmt.query([])?;
            let mut walk = Walk::new();
            while let Some(r) = rows.next()? {
                let row = StoredRecord {
                    seq: r.get(0)?,
                    prev: r.get(1)?,
                    hash: r.get(2)?,
                    text: r.get(3)?,
                    columns: Columns {
                        kind: r.get(4)?,
                        at: r.get(5)?,
                        agent: r.get(6)?,
                        action: r.get(7)?,
                        level: r.get(8)?,
                        rules: r.get(9)?,
                        object: r.get(10)?,
                    },
                };
                if let Err(broken) = walk.step(&row) {
                    return Ok(broken);
                }
            }
            let head: Option<(i64, String)> = tx
                .query_row("SELECT seq, hash FROM head WHERE one = 1", [], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()?;
            Ok(walk.finish(head))
        })
    }

    fn durability(&self) -> String {
        self.durability.describe().to_string()
    }

    fn held_reservations(&self, now: i64) -> Result<Option<u64>, StoreError> {
        self.read(|SqliteTx { tx, .. }| {
            let held: i64 = tx.query_row(
                "SELECT count(*) FROM reservations INDEXED BY reservations_due \
                 WHERE state = 'held' AND expires_at > ?1",
                [now],
                |r| r.get(0),
            )?;
            Ok(Some(u64::try_from(held).unwrap_or(0)))
        })
    }
}

/// An action pattern as SQL over the log's `action` column: `= name`, or
/// `GLOB ns.*` for a namespace. Action names hold letters, digits, `_` and
/// `.`, none special to GLOB.
fn pattern_sql(pattern: &str) -> (&'static str, String) {
    if pattern.ends_with(".*") {
        ("GLOB", pattern.to_string())
    } else {
        ("=", pattern.to_string())
    }
}

/// The core's ledger interface, as the store settles reservations.
impl actpol_core::state::BudgetLedger for SqliteStore {
    type Reservation = str;
    type Error = StoreError;

    fn commit(&self, reservation: &str, now: i64) -> Result<(), StoreError> {
        Store::commit(self, reservation, now).map(drop)
    }

    fn release(&self, reservation: &str, now: i64) -> Result<(), StoreError> {
        Store::release(self, reservation, now).map(drop)
    }
}
