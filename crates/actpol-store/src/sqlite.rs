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

use std::path::Path;
use std::str::FromStr;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use actpol_core::approval::{ApprovalGrant, ApprovalOut, ApprovalStatus, ApprovalUse, Grounds};
use actpol_core::envelope::{BoundEnvelope, EnvelopeCopy};
use actpol_core::packet::{Packet, Precedent, Verdict};
use actpol_core::schema::{KeyKind, PolicyMeta, Window};
use actpol_core::state::{StateError, StateView, WindowKind, WindowQuery, BASELINE_SPAN_MS};
use actpol_core::value::format_timestamp;
use actpol_core::{canonical, Decimal, Decision, Level};
use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};
use serde_json::{json, Map, Value as Json};

use crate::chain::{self, Columns, StoredRecord, Verification, Walk};
use crate::{
    parse_id, Approval, BudgetCount, Hold, LogEntry, LogFilter, PacketView, Proposal, Proposed,
    Pruned, Reservation, ReservationState, Store, StoreError,
};

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
    conn: Mutex<Connection>,
    durability: Durability,
    path: String,
    /// Moves the write-ahead log into the database off the deciding thread
    /// (held for its `Drop`, which stops it).
    _checkpointer: Option<Checkpointer>,
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
            conn: Mutex::new(conn),
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
        f: impl FnOnce(&Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// Runs `f` on one consistent snapshot.
    fn read<T>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred)?;
        f(&tx)
    }
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
    ) -> Result<Vec<Result<Decision, StoreError>>, StoreError> {
        if let [only] = proposals {
            // One decision needs no savepoint: if it fails, nothing of the
            // transaction is kept.
            let mut conn = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            expire_due(&tx, only.now)?;
            let decided = decide_one(&tx, only, &mut |view| decide(0, view));
            if decided.is_ok() {
                tx.commit()?;
            }
            return Ok(vec![decided]);
        }
        self.write(|tx| {
            let mut out = Vec::with_capacity(proposals.len());
            for (i, p) in proposals.iter().enumerate() {
                expire_due(tx, p.now)?;
                // A savepoint per decision: one that fails is undone alone.
                tx.prepare_cached("SAVEPOINT decision")?.execute([])?;
                let decided = decide_one(tx, p, &mut |view| decide(i, view));
                if decided.is_err() {
                    tx.prepare_cached("ROLLBACK TO decision")?.execute([])?;
                }
                tx.prepare_cached("RELEASE decision")?.execute([])?;
                out.push(decided);
            }
            Ok(out)
        })
    }

    fn prune(&self, before: i64) -> Result<Pruned, StoreError> {
        self.write(|tx| {
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
            Ok(Pruned {
                reservations: reservations as u64,
                counters: counters as u64,
            })
        })
    }

    fn commit(&self, reservation: &str, now: i64) -> Result<Reservation, StoreError> {
        let id = parse_id(reservation, "res")
            .ok_or_else(|| StoreError::UnknownReservation(reservation.to_string()))?;
        self.write(|tx| {
            expire_due(tx, now)?;
            let row = load_reservation(tx, id)?
                .ok_or_else(|| StoreError::UnknownReservation(reservation.to_string()))?;
            match (row.state, row.ended.as_deref()) {
                (ReservationState::Committed, _) => Ok(row.public()),
                (ReservationState::Released, Some("expire")) => {
                    Err(StoreError::ReservationExpired {
                        id: reservation.to_string(),
                        expires: format_timestamp(row.expires_at),
                    })
                }
                (ReservationState::Released, _) => {
                    Err(StoreError::ReservationReleased(reservation.to_string()))
                }
                (ReservationState::Held, _) => {
                    end_reservation(tx, &row, ReservationState::Committed, "commit", now)?;
                    Ok(load_reservation(tx, id)?
                        .ok_or_else(|| StoreError::UnknownReservation(reservation.to_string()))?
                        .public())
                }
            }
        })
    }

    fn release(&self, reservation: &str, now: i64) -> Result<Reservation, StoreError> {
        let id = parse_id(reservation, "res")
            .ok_or_else(|| StoreError::UnknownReservation(reservation.to_string()))?;
        self.write(|tx| {
            expire_due(tx, now)?;
            let row = load_reservation(tx, id)?
                .ok_or_else(|| StoreError::UnknownReservation(reservation.to_string()))?;
            if row.state != ReservationState::Released {
                end_reservation(tx, &row, ReservationState::Released, "release", now)?;
            }
            Ok(load_reservation(tx, id)?
                .ok_or_else(|| StoreError::UnknownReservation(reservation.to_string()))?
                .public())
        })
    }

    fn reservation(&self, reservation: &str, now: i64) -> Result<Reservation, StoreError> {
        let id = parse_id(reservation, "res")
            .ok_or_else(|| StoreError::UnknownReservation(reservation.to_string()))?;
        self.write(|tx| {
            expire_due(tx, now)?;
            Ok(load_reservation(tx, id)?
                .ok_or_else(|| StoreError::UnknownReservation(reservation.to_string()))?
                .public())
        })
    }

    fn approve(
        &self,
        approval: &str,
        by: &str,
        note: Option<&str>,
        now: i64,
    ) -> Result<Approval, StoreError> {
        self.decide_approval(approval, by, note, now, ApprovalStatus::Granted)
    }

    fn reject(
        &self,
        approval: &str,
        by: &str,
        note: Option<&str>,
        now: i64,
    ) -> Result<Approval, StoreError> {
        self.decide_approval(approval, by, note, now, ApprovalStatus::Rejected)
    }

    fn approval(&self, approval: &str, now: i64) -> Result<Approval, StoreError> {
        let id = parse_id(approval, "apr")
            .ok_or_else(|| StoreError::UnknownApproval(approval.to_string()))?;
        self.read(|tx| {
            load_approval(tx, id, now)?
                .ok_or_else(|| StoreError::UnknownApproval(approval.to_string()))
        })
    }

    fn approvals(
        &self,
        status: Option<ApprovalStatus>,
        now: i64,
    ) -> Result<Vec<Approval>, StoreError> {
        self.read(|tx| {
            let mut stmt = tx.prepare_cached(&format!("{APPROVAL_COLUMNS} ORDER BY id"))?;
            let rows = stmt.query_map([], |r| approval_row(r, now))?;
            let mut out = Vec::new();
            for row in rows {
                let row = row?;
                if status.is_none_or(|s| s == row.status) {
                    out.push(row);
                }
            }
            Ok(out)
        })
    }

    fn budgets(&self, now: i64, meta: Option<&PolicyMeta>) -> Result<Vec<BudgetCount>, StoreError> {
        self.write(|tx| {
            expire_due(tx, now)?;
            let mut held: std::collections::HashMap<(String, String, i64), Decimal> =
                std::collections::HashMap::new();
            {
                let mut stmt =
                    tx.prepare_cached("SELECT holds FROM reservations WHERE state = 'held'")?;
                let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
                for text in rows {
                    for hold in parse_holds(&text?)? {
                        *held
                            .entry((hold.budget, hold.key, hold.window_start))
                            .or_default() += hold.amount;
                    }
                }
            }
            let mut stmt = tx.prepare_cached(
                "SELECT budget, key, window_start, consumed FROM counters ORDER BY budget, key, window_start",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, String>(3)?,
                ))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (budget, key, start, consumed) = row?;
                if let Some(meta) = meta {
                    let current = meta
                        .budgets
                        .get(&budget)
                        .is_some_and(|def| def.window.bucket(now).0 == start);
                    if !current {
                        continue;
                    }
                }
                let consumed = decimal(&consumed)?;
                let held = held
                    .get(&(budget.clone(), key.clone(), start))
                    .copied()
                    .unwrap_or_default();
                out.push(BudgetCount {
                    window: if start == i64::MIN {
                        "plan".to_string()
                    } else {
                        format_timestamp(start)
                    },
                    budget,
                    key,
                    consumed,
                    held,
                });
            }
            Ok(out)
        })
    }

    fn expire(&self, now: i64) -> Result<usize, StoreError> {
        self.write(|tx| expire_due(tx, now))
    }

    fn log(&self, filter: &LogFilter) -> Result<Vec<LogEntry>, StoreError> {
        self.read(|tx| {
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
        let seq = parse_id(id, "dec").ok_or_else(|| StoreError::UnknownDecision(id.to_string()))?;
        self.read(|tx| {
            load_decision(tx, seq)?.ok_or_else(|| StoreError::UnknownDecision(id.to_string()))
        })
    }

    fn packet(&self, id: &str, precedent_count: usize, now: i64) -> Result<PacketView, StoreError> {
        let seq = parse_id(id, "dec").ok_or_else(|| StoreError::UnknownDecision(id.to_string()))?;
        self.read(|tx| {
            let entry = load_decision(tx, seq)?
                .ok_or_else(|| StoreError::UnknownDecision(id.to_string()))?;
            let packet_json = entry
                .record
                .pointer("/decision/escalation/packet")
                .filter(|p| p.is_object())
                .ok_or_else(|| StoreError::NoPacket(id.to_string()))?;
            let mut packet: Packet =
                serde_json::from_value(packet_json.clone()).map_err(|e| StoreError::Corrupt {
                    seq: entry.seq,
                    reason: "its packet does not read".into(),
                    source: Some(Box::new(e)),
                })?;
            let columns = Columns::of(&entry.record).unwrap_or_default();
            packet.precedent = precedent(
                tx,
                columns.action.as_deref().unwrap_or_default(),
                columns.rules.as_deref().unwrap_or_default(),
                seq,
                precedent_count,
                now,
            )?;
            let approval_id: Option<i64> = tx
                .prepare_cached("SELECT id FROM approvals WHERE decision = ?1")?
                .query_row([seq], |r| r.get(0))
                .optional()?;
            let approval = match approval_id {
                Some(a) => load_approval(tx, a, now)?,
                None => None,
            };
            Ok(PacketView {
                decision: id.to_string(),
                approval,
                packet,
            })
        })
    }

    fn verify(&self) -> Result<Verification, StoreError> {
        self.read(|tx| {
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
}

impl SqliteStore {
    fn decide_approval(
        &self,
        approval: &str,
        by: &str,
        note: Option<&str>,
        now: i64,
        verdict: ApprovalStatus,
    ) -> Result<Approval, StoreError> {
        let id = parse_id(approval, "apr")
            .ok_or_else(|| StoreError::UnknownApproval(approval.to_string()))?;
        self.write(|tx| {
            let current = load_approval(tx, id, now)?
                .ok_or_else(|| StoreError::UnknownApproval(approval.to_string()))?;
            if current.status != ApprovalStatus::Pending {
                return Err(StoreError::ApprovalClosed {
                    id: approval.to_string(),
                    status: current.status.to_string(),
                });
            }
            if current.approver != by {
                return Err(StoreError::WrongApprover {
                    id: approval.to_string(),
                    approver: current.approver,
                    by: by.to_string(),
                });
            }
            tx.prepare_cached(
                "UPDATE approvals SET status = ?2, decided_by = ?3, decided_at = ?4, note = ?5 WHERE id = ?1",
            )?
            .execute(params![id, verdict.as_str(), by, now, note])?;
            let seq = head(tx)?.0 + 1;
            let mut record = Map::new();
            let kind = if verdict == ApprovalStatus::Granted {
                "approve"
            } else {
                "reject"
            };
            record.insert("kind".into(), json!(kind));
            record.insert("approval".into(), json!(approval));
            record.insert("decision".into(), json!(current.decision));
            record.insert("by".into(), json!(by));
            record.insert("envelope_hash".into(), json!(current.envelope_hash));
            if let Some(note) = note {
                record.insert("note".into(), json!(note));
            }
            append(tx, seq, record, now)?;
            load_approval(tx, id, now)?.ok_or_else(|| StoreError::UnknownApproval(approval.to_string()))
        })
    }
}

/// The state as one transaction sees it.
struct TxView<'t> {
    tx: &'t Transaction<'t>,
}

fn state_error(e: impl std::error::Error + Send + Sync + 'static) -> StateError {
    StateError::backend("the store could not be read", e)
}

impl StateView for TxView<'_> {
    fn consumed(
        &self,
        budget: &str,
        key: &str,
        window: Window,
        now: i64,
    ) -> Result<Decimal, StateError> {
        counter(self.tx, budget, key, window.bucket(now).0).map_err(state_error)
    }

    fn window(&self, q: &WindowQuery<'_>) -> Result<Decimal, StateError> {
        let (from, to) = match q.window {
            Window::Span(span) => (q.now.saturating_sub(span), q.now),
            Window::Plan => (i64::MIN, q.now),
        };
        match q.kind {
            WindowKind::Count => Ok(Decimal::from(self.count(q, from, to)?)),
            WindowKind::Sum => self.sum(q, from, to),
            WindowKind::Baseline => {
                let Window::Span(span) = q.window else {
                    return Ok(Decimal::ZERO);
                };
                if span <= 0 {
                    return Ok(Decimal::ZERO);
                }
                let end = q.now.saturating_sub(span);
                let seen = self.count(q, end.saturating_sub(BASELINE_SPAN_MS), end)?;
                Ok(Decimal::from(seen) * Decimal::from(span) / Decimal::from(BASELINE_SPAN_MS))
            }
        }
    }

    fn approval(&self, id: &str) -> Result<Option<ApprovalGrant>, StateError> {
        let Some(n) = parse_id(id, "apr") else {
            return Ok(None);
        };
        let row = self
            .tx
            .prepare_cached(
                "SELECT approver, envelope_hash, grounds, status, expires_at FROM approvals WHERE id = ?1",
            )
            .and_then(|mut s| {
                s.query_row([n], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, i64>(4)?,
                    ))
                })
                .optional()
            })
            .map_err(state_error)?;
        Ok(row.map(
            |(approver, envelope_hash, grounds, status, expires_at)| ApprovalGrant {
                id: id.to_string(),
                approver,
                envelope_hash,
                // An unreadable record of what was approved approves nothing
                // but the default.
                grounds: serde_json::from_str(&grounds).unwrap_or_default(),
                status: ApprovalStatus::parse(&status).unwrap_or(ApprovalStatus::Rejected),
                expires_at,
            },
        ))
    }
}

impl TxView<'_> {
    /// The reservations (held or committed) a window query counts.
    fn matching_sql(q: &WindowQuery<'_>, select: &str) -> (String, Option<String>) {
        let column = key_column(q.key);
        let mut sql = format!(
            "SELECT {select} FROM reservations WHERE {column} = ?1 AND at > ?2 AND at <= ?3 AND state != 'released'"
        );
        let mut pattern = None;
        if q.pattern != "*" {
            let (op, value) = pattern_sql(q.pattern);
            sql.push_str(&format!(" AND action {op} ?4"));
            pattern = Some(value);
        }
        (sql, pattern)
    }

    fn count(&self, q: &WindowQuery<'_>, from: i64, to: i64) -> Result<u64, StateError> {
        let (sql, pattern) = TxView::matching_sql(q, "count(*)");
        let mut stmt = self.tx.prepare_cached(&sql).map_err(state_error)?;
        let n: i64 = match pattern {
            Some(p) => stmt.query_row(params![q.key_value, from, to, p], |r| r.get(0)),
            None => stmt.query_row(params![q.key_value, from, to], |r| r.get(0)),
        }
        .map_err(state_error)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    fn sum(&self, q: &WindowQuery<'_>, from: i64, to: i64) -> Result<Decimal, StateError> {
        let param = q.param.unwrap_or_default();
        let path = format!("$.\"{}\"", param.replace('"', ""));
        let (sql, pattern) = TxView::matching_sql(q, "json_extract(amounts, ?5)");
        let mut stmt = self.tx.prepare_cached(&sql).map_err(state_error)?;
        let mut total = Decimal::ZERO;
        let mut add = |text: Option<String>| -> Result<(), StateError> {
            if let Some(text) = text {
                let amount = Decimal::from_str(&text).map_err(state_error)?;
                total = total
                    .checked_add(amount)
                    .ok_or_else(|| StateError::unavailable("a window's sum overflows"))?;
            }
            Ok(())
        };
        let pattern = pattern.unwrap_or_default();
        let mut rows = stmt
            .query(params![q.key_value, from, to, pattern, path])
            .map_err(state_error)?;
        while let Some(row) = rows.next().map_err(state_error)? {
            add(row.get::<_, Option<String>>(0).map_err(state_error)?)?;
        }
        Ok(total)
    }
}

/// The reservations column a key kind is kept in.
fn key_column(kind: KeyKind) -> &'static str {
    match kind {
        KeyKind::Agent => "k_agent",
        KeyKind::Workflow => "k_workflow",
        KeyKind::Owner => "k_owner",
        KeyKind::Object => "k_object",
        KeyKind::Plan => "k_plan",
    }
}

/// An action pattern as SQL: `= name`, or `GLOB ns.*` for a namespace.
/// Action names hold letters, digits, `_` and `.`, none special to GLOB.
fn pattern_sql(pattern: &str) -> (&'static str, String) {
    if pattern.ends_with(".*") {
        ("GLOB", pattern.to_string())
    } else {
        ("=", pattern.to_string())
    }
}

fn decimal(text: &str) -> Result<Decimal, StoreError> {
    Decimal::from_str(text).map_err(|e| StoreError::backend("read a budget counter", e))
}

fn counter(
    tx: &Transaction<'_>,
    budget: &str,
    key: &str,
    start: i64,
) -> Result<Decimal, StoreError> {
    let text: Option<String> = tx
        .prepare_cached(
            "SELECT consumed FROM counters WHERE budget = ?1 AND key = ?2 AND window_start = ?3",
        )?
        .query_row(params![budget, key, start], |r| r.get(0))
        .optional()?;
    text.map_or(Ok(Decimal::ZERO), |t| decimal(&t))
}

fn add_to_counter(tx: &Transaction<'_>, hold: &Hold, sign: i8) -> Result<(), StoreError> {
    let prior = counter(tx, &hold.budget, &hold.key, hold.window_start)?;
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
    tx.prepare_cached(
        "INSERT INTO counters (budget, key, window_start, window_end, consumed) VALUES (?1, ?2, ?3, ?5, ?4)
         ON CONFLICT (budget, key, window_start) DO UPDATE SET consumed = excluded.consumed",
    )?
    .execute(params![
        hold.budget,
        hold.key,
        hold.window_start,
        next.to_string(),
        hold.window_end
    ])?;
    Ok(())
}

/// The log's last position and hash.
fn head(tx: &Transaction<'_>) -> Result<(i64, String), StoreError> {
    Ok(tx
        .prepare_cached("SELECT seq, hash FROM head WHERE one = 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?)
}

/// Appends record `seq` (the head's next) and moves the head.
fn append(
    tx: &Transaction<'_>,
    seq: i64,
    mut record: Map<String, Json>,
    now: i64,
) -> Result<(), StoreError> {
    let (last, prev) = head(tx)?;
    debug_assert_eq!(last + 1, seq);
    record.insert("seq".into(), json!(seq));
    record.insert("at".into(), json!(format_timestamp(now)));
    let record = Json::Object(record);
    let text = canonical::to_string(&record);
    let columns = Columns::of(&record)
        .ok_or_else(|| StoreError::corrupt(seq, "a record without kind or time"))?;
    append_text(tx, seq, &prev, &text, &columns)
}

/// Appends a record's text after `prev`, and moves the head.
fn append_text(
    tx: &Transaction<'_>,
    seq: i64,
    prev: &str,
    text: &str,
    columns: &Columns,
) -> Result<(), StoreError> {
    let hash = chain::link(prev, text);
    tx.prepare_cached(
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
        prev,
        hash
    ])?;
    tx.prepare_cached("UPDATE head SET seq = ?1, hash = ?2 WHERE one = 1")?
        .execute(params![seq, hash])?;
    Ok(())
}

/// One decision inside a write transaction: decide against the
/// transaction's view, reserve, use or await an approval, log.
fn decide_one(
    tx: &Transaction<'_>,
    p: &Proposal<'_>,
    decide: &mut dyn FnMut(&dyn StateView) -> Decision,
) -> Result<Decision, StoreError> {
    let mut decision = decide(&TxView { tx });
    let (last, prev) = head(tx)?;
    let seq = last + 1;
    decision.id = Some(format!("dec-{seq}"));
    let mut reservation = None;
    let mut envelope_hash = None;
    if let Proposed::Bound(env) = p.envelope {
        if decision.decision.proceeds() {
            reservation = Some(reserve(tx, p, env, &mut decision, seq)?);
        }
        if let Some(used) = decision
            .approval
            .as_ref()
            .filter(|a| a.status == ApprovalUse::Used)
        {
            mark_used(tx, &used.id, seq, p.now)?;
            envelope_hash = Some(env.canonical_hash());
        }
        if decision.decision == Level::Escalate && decision.errors.is_empty() {
            envelope_hash = await_approval(tx, p, env, &mut decision, seq)?;
        }
    }
    let (text, columns) = decision_record(p, &decision, seq, reservation, envelope_hash)?;
    append_text(tx, seq, &prev, &text, &columns)?;
    Ok(decision)
}

/// A decision's log record, written out directly (its keys in order) and
/// the columns beside it: what [`Columns::of`] reads back from the text.
/// The envelope is the JSON text as received, not re-printed.
fn decision_record(
    p: &Proposal<'_>,
    decision: &Decision,
    seq: i64,
    reservation: Option<String>,
    envelope_hash: Option<String>,
) -> Result<(String, Columns), StoreError> {
    let string = |s: &str| Json::String(s.to_string()).to_string();
    let at = format_timestamp(p.now);
    let mut text = String::with_capacity(2048);
    text.push_str("{\"at\":");
    text.push_str(&string(&at));
    text.push_str(",\"decision\":");
    text.push_str(
        &serde_json::to_string(decision).map_err(|e| StoreError::backend("write a decision", e))?,
    );
    let mut columns = Columns {
        kind: "decision".to_string(),
        at: p.now,
        level: Some(decision.decision.as_str().to_string()),
        rules: Some(decision.rules.join(",")),
        ..Columns::default()
    };
    match p.envelope {
        Proposed::Bound(env) => {
            text.push_str(",\"envelope\":");
            match env.copy() {
                EnvelopeCopy::Json(raw) => text.push_str(raw.trim()),
                EnvelopeCopy::Parsed(parsed) => text.push_str(
                    &serde_json::to_string(&*parsed)
                        .map_err(|e| StoreError::backend("write an envelope", e))?,
                ),
            }
            if let Some(hash) = &envelope_hash {
                text.push_str(",\"envelope_hash\":");
                text.push_str(&string(hash));
            }
            let entity = p.schema.entity_name(p.schema.action(env.action).object);
            columns.agent = Some(env.agent_id.to_string());
            columns.action = Some(env.action_name.to_string());
            columns.object = Some(format!("{entity}/{}", env.object_id));
        }
        Proposed::Unbound(bytes) => {
            text.push_str(",\"envelope\":null,\"envelope_text\":");
            text.push_str(&string(&String::from_utf8_lossy(bytes)));
        }
    }
    text.push_str(&format!(",\"id\":\"dec-{seq}\",\"kind\":\"decision\""));
    if let Some(reservation) = reservation {
        text.push_str(",\"reservation\":");
        text.push_str(&reservation);
    }
    text.push_str(&format!(",\"seq\":{seq}}}"));
    Ok((text, columns))
}

/// Reserves what a proceeding decision consumes, and records the action
/// for windows. Returns the reservation as the log records it.
fn reserve(
    tx: &Transaction<'_>,
    p: &Proposal<'_>,
    env: &BoundEnvelope,
    decision: &mut Decision,
    seq: i64,
) -> Result<String, StoreError> {
    let mut holds = Vec::new();
    for used in &decision.budgets {
        let amount = used.delta.value();
        if amount <= Decimal::ZERO {
            continue;
        }
        let window = p
            .meta
            .budgets
            .get(&used.name)
            .map_or(Window::Plan, |def| def.window);
        let (window_start, window_end) = window.bucket(p.now);
        holds.push(Hold {
            budget: used.name.clone(),
            key: used.key.clone(),
            window_start,
            window_end,
            amount,
        });
    }
    let key = |kind: KeyKind| env.key(kind, p.schema).ok().map(str::to_string);
    let action = p.schema.action(env.action);
    // {"name": "decimal", …}: names are identifiers, decimals plain text.
    let mut amounts = String::from("{");
    for (slot, def) in action.params.iter().enumerate() {
        if let Some(Some(value)) = env.params.get(slot) {
            if let Some(amount) = value.as_amount() {
                if amounts.len() > 1 {
                    amounts.push(',');
                }
                amounts.push_str(&format!(
                    "\"{}\":\"{amount}\"",
                    p.schema.field_name(def.name)
                ));
            }
        }
    }
    let expires_at = p.now.saturating_add(p.reservation_ttl);
    let holds_text =
        serde_json::to_string(&holds).map_err(|e| StoreError::backend("write a reservation", e))?;
    tx.prepare_cached(
        "INSERT INTO reservations (decision, state, at, expires_at, action, k_agent, k_workflow, k_owner, k_object, k_plan, amounts, holds)
         VALUES (?1, 'held', ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute(params![
        seq,
        p.now,
        expires_at,
        &*env.action_name,
        key(KeyKind::Agent),
        key(KeyKind::Workflow),
        key(KeyKind::Owner),
        key(KeyKind::Object),
        key(KeyKind::Plan),
        {
            amounts.push('}');
            amounts
        },
        holds_text
    ])?;
    let id = tx.last_insert_rowid();
    for hold in &holds {
        add_to_counter(tx, hold, 1)?;
    }
    decision.reservations = vec![format!("res-{id}")];
    Ok(format!(
        "{{\"budgets\":{holds_text},\"expires\":\"{}\",\"id\":\"res-{id}\"}}",
        format_timestamp(expires_at)
    ))
}

fn mark_used(tx: &Transaction<'_>, approval: &str, seq: i64, now: i64) -> Result<(), StoreError> {
    let id = parse_id(approval, "apr")
        .ok_or_else(|| StoreError::UnknownApproval(approval.to_string()))?;
    let changed = tx
        .prepare_cached(
            "UPDATE approvals SET status = 'used', used_by = ?2 WHERE id = ?1 AND status = 'granted' AND expires_at > ?3",
        )?
        .execute(params![id, seq, now])?;
    if changed != 1 {
        // The decision read this approval as granted in this transaction.
        return Err(StoreError::ApprovalClosed {
            id: approval.to_string(),
            status: "no longer granted".into(),
        });
    }
    Ok(())
}

/// Creates the pending approval an escalation waits on, and fills the
/// packet's precedent from the log.
fn await_approval(
    tx: &Transaction<'_>,
    p: &Proposal<'_>,
    env: &BoundEnvelope,
    decision: &mut Decision,
    seq: i64,
) -> Result<Option<String>, StoreError> {
    let grounds = serde_json::to_string(&Grounds::of(decision))
        .map_err(|e| StoreError::backend("write an approval", e))?;
    let Some(escalation) = decision.escalation.as_mut() else {
        return Ok(None);
    };
    let hash = env.canonical_hash();
    let expires_at = p.now.saturating_add(p.approval_ttl);
    tx.prepare_cached(
        "INSERT INTO approvals (decision, approver, envelope_hash, grounds, status, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, 'pending', ?5, ?6)",
    )?
    .execute(params![
        seq,
        escalation.approver,
        hash,
        grounds,
        p.now,
        expires_at
    ])?;
    let id = tx.last_insert_rowid();
    if let Some(packet) = escalation.packet.as_mut() {
        packet.precedent = precedent(
            tx,
            &env.action_name,
            &decision.rules.join(","),
            seq,
            p.precedent,
            p.now,
        )?;
    }
    decision.approval = Some(ApprovalOut {
        id: format!("apr-{id}"),
        status: ApprovalUse::Pending,
        approver: Some(escalation.approver.clone()),
        expires: Some(format_timestamp(expires_at)),
        reason: None,
    });
    Ok(Some(hash))
}

/// Past decisions like this one: the same action and rules first, then the
/// same action; the most recent first; at most `limit`.
fn precedent(
    tx: &Transaction<'_>,
    action: &str,
    rules: &str,
    before: i64,
    limit: usize,
    now: i64,
) -> Result<Vec<Precedent>, StoreError> {
    let mut out = Vec::new();
    if limit == 0 {
        return Ok(out);
    }
    for same_rules in [true, false] {
        let left = limit - out.len();
        if left == 0 {
            break;
        }
        let cmp = if same_rules { "=" } else { "!=" };
        let sql = format!(
            "SELECT l.seq, l.at, l.agent, l.object, l.level, l.rules,
                    a.id, a.status, a.expires_at, a.decided_by, a.note,
                    u.id, u.status, u.expires_at, u.decided_by, u.note
             FROM log l
             LEFT JOIN approvals a ON a.decision = l.seq
             LEFT JOIN approvals u ON u.used_by = l.seq
             WHERE l.kind = 'decision' AND l.action = ?1 AND l.rules {cmp} ?2 AND l.seq < ?3
             ORDER BY l.seq DESC LIMIT ?4"
        );
        let mut stmt = tx.prepare_cached(&sql)?;
        let rows = stmt.query_map(params![action, rules, before, left as i64], |r| {
            let verdict = |base: usize| -> rusqlite::Result<Option<Verdict>> {
                let Some(id) = r.get::<_, Option<i64>>(base)? else {
                    return Ok(None);
                };
                let status: String = r.get(base + 1)?;
                let expires_at: i64 = r.get(base + 2)?;
                Ok(Some(Verdict {
                    approval: format!("apr-{id}"),
                    status: effective_status(&status, expires_at, now),
                    by: r.get(base + 3)?,
                    note: r.get(base + 4)?,
                }))
            };
            let seq: i64 = r.get(0)?;
            let at: i64 = r.get(1)?;
            let agent: Option<String> = r.get(2)?;
            let object: Option<String> = r.get(3)?;
            let level: Option<String> = r.get(4)?;
            let rules: Option<String> = r.get(5)?;
            Ok(Precedent {
                decision: format!("dec-{seq}"),
                time: format_timestamp(at),
                summary: format!(
                    "{} ran {action} on {}",
                    agent.unwrap_or_default(),
                    object.unwrap_or_default()
                ),
                outcome: level
                    .as_deref()
                    .and_then(parse_level)
                    .unwrap_or(Level::Deny),
                rules: rules
                    .unwrap_or_default()
                    .split(',')
                    .filter(|r| !r.is_empty())
                    .map(str::to_string)
                    .collect(),
                same_rules,
                verdict: match verdict(6)? {
                    Some(v) => Some(v),
                    None => verdict(11)?,
                },
            })
        })?;
        for row in rows {
            out.push(row?);
        }
    }
    Ok(out)
}

fn parse_level(text: &str) -> Option<Level> {
    Level::ALL.into_iter().find(|l| l.as_str() == text)
}

/// A pending or granted approval past its expiry is expired.
fn effective_status(status: &str, expires_at: i64, now: i64) -> ApprovalStatus {
    let status = ApprovalStatus::parse(status).unwrap_or(ApprovalStatus::Rejected);
    match status {
        ApprovalStatus::Pending | ApprovalStatus::Granted if expires_at <= now => {
            ApprovalStatus::Expired
        }
        other => other,
    }
}

const APPROVAL_COLUMNS: &str = "SELECT id, decision, approver, envelope_hash, status, created_at, expires_at, decided_by, note, used_by FROM approvals";

fn approval_row(r: &rusqlite::Row<'_>, now: i64) -> rusqlite::Result<Approval> {
    let status: String = r.get(4)?;
    let expires_at: i64 = r.get(6)?;
    Ok(Approval {
        id: format!("apr-{}", r.get::<_, i64>(0)?),
        decision: format!("dec-{}", r.get::<_, i64>(1)?),
        approver: r.get(2)?,
        envelope_hash: r.get(3)?,
        status: effective_status(&status, expires_at, now),
        created: format_timestamp(r.get(5)?),
        expires: format_timestamp(expires_at),
        decided_by: r.get(7)?,
        note: r.get(8)?,
        used_by: r.get::<_, Option<i64>>(9)?.map(|d| format!("dec-{d}")),
    })
}

fn load_approval(tx: &Transaction<'_>, id: i64, now: i64) -> Result<Option<Approval>, StoreError> {
    Ok(tx
        .prepare_cached(&format!("{APPROVAL_COLUMNS} WHERE id = ?1"))?
        .query_row([id], |r| approval_row(r, now))
        .optional()?)
}

/// A reservation row.
struct ReservationRow {
    id: i64,
    decision: i64,
    state: ReservationState,
    expires_at: i64,
    /// How it ended: `commit`, `release` or `expire`.
    ended: Option<String>,
    holds: Vec<Hold>,
}

impl ReservationRow {
    fn public(self) -> Reservation {
        Reservation {
            id: format!("res-{}", self.id),
            decision: format!("dec-{}", self.decision),
            state: self.state,
            expires: format_timestamp(self.expires_at),
            budgets: self.holds,
        }
    }
}

fn parse_holds(text: &str) -> Result<Vec<Hold>, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::backend("read a reservation", e))
}

fn load_reservation(tx: &Transaction<'_>, id: i64) -> Result<Option<ReservationRow>, StoreError> {
    let row = tx
        .prepare_cached(
            "SELECT decision, state, expires_at, ended, holds FROM reservations WHERE id = ?1",
        )?
        .query_row([id], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, String>(4)?,
            ))
        })
        .optional()?;
    let Some((decision, state, expires_at, ended, holds)) = row else {
        return Ok(None);
    };
    let state = match state.as_str() {
        "held" => ReservationState::Held,
        "committed" => ReservationState::Committed,
        _ => ReservationState::Released,
    };
    Ok(Some(ReservationRow {
        id,
        decision,
        state,
        expires_at,
        ended,
        holds: parse_holds(&holds)?,
    }))
}

/// Commits or releases a reservation, and logs it.
fn end_reservation(
    tx: &Transaction<'_>,
    row: &ReservationRow,
    to: ReservationState,
    kind: &str,
    now: i64,
) -> Result<(), StoreError> {
    if to == ReservationState::Released {
        for hold in &row.holds {
            add_to_counter(tx, hold, -1)?;
        }
    }
    tx.prepare_cached("UPDATE reservations SET state = ?2, ended = ?3 WHERE id = ?1")?
        .execute(params![row.id, to.as_str(), kind])?;
    let seq = head(tx)?.0 + 1;
    let mut record = Map::new();
    record.insert("kind".into(), json!(kind));
    record.insert("reservation".into(), json!(format!("res-{}", row.id)));
    record.insert("decision".into(), json!(format!("dec-{}", row.decision)));
    record.insert(
        "budgets".into(),
        serde_json::to_value(&row.holds)
            .map_err(|e| StoreError::backend("write a reservation", e))?,
    );
    append(tx, seq, record, now)
}

/// Releases every held reservation whose time is up; how many.
fn expire_due(tx: &Transaction<'_>, now: i64) -> Result<usize, StoreError> {
    let due: Vec<i64> = {
        let mut stmt = tx.prepare_cached(
            "SELECT id FROM reservations INDEXED BY reservations_due WHERE state = 'held' AND expires_at <= ?1 ORDER BY expires_at",
        )?;
        let rows = stmt.query_map([now], |r| r.get(0))?;
        rows.collect::<Result<_, _>>()?
    };
    for id in &due {
        if let Some(row) = load_reservation(tx, *id)? {
            end_reservation(tx, &row, ReservationState::Released, "expire", now)?;
        }
    }
    Ok(due.len())
}

fn log_entry(
    seq: i64,
    kind: String,
    at: i64,
    hash: String,
    text: &str,
) -> Result<LogEntry, StoreError> {
    let record = serde_json::from_str(text).map_err(|e| StoreError::Corrupt {
        seq: seq as u64,
        reason: "it is not JSON".into(),
        source: Some(Box::new(e)),
    })?;
    Ok(LogEntry {
        seq: seq as u64,
        kind,
        at: format_timestamp(at),
        hash,
        record,
    })
}

fn load_decision(tx: &Transaction<'_>, seq: i64) -> Result<Option<LogEntry>, StoreError> {
    let row = tx
        .prepare_cached(
            "SELECT kind, at, hash, record FROM log WHERE seq = ?1 AND kind = 'decision'",
        )?
        .query_row([seq], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
            ))
        })
        .optional()?;
    row.map(|(kind, at, hash, text)| log_entry(seq, kind, at, hash, &text))
        .transpose()
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
