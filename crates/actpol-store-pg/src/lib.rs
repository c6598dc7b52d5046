//! The store on PostgreSQL: the same [`Store`] as the embedded SQLite
//! store, kept in a database server that several deciding processes (server
//! replicas, command-line runs) share, so they share one budget ledger and
//! one hash-chained decision log.
//!
//! How writers are kept apart: every write transaction (a group of
//! decisions, a commit, a release, an approver's verdict, an expiry, a
//! prune) runs at READ COMMITTED and begins by locking the log's head row
//! (`SELECT … FROM head WHERE one = 1 FOR UPDATE`). Writers, in any
//! process, therefore run one at a time, in the order they got the lock;
//! each of their statements sees everything committed before the lock was
//! granted. So a decision's reads (budget counters, windows, the presented
//! approval) and its writes (reservation, counters, approval, log record)
//! see no other writer in between, exactly as under SQLite's single write
//! lock: reservations never overspend across replicas, an approval is used
//! once, and the chain stays one chain. Readers (`log`, `verify`,
//! `packet`, `approvals`) read a REPEATABLE READ snapshot and never wait
//! for a writer.
//!
//! The ledger's rules (reserving, approvals, expiry, the log's head and
//! counters kept for a transaction, windows, budgets, precedent, packets,
//! retrying a group) are `actpol_store::ledger`'s, run over this crate's
//! statements, and every record is built by `actpol_store::record`, as
//! SQLite's are: the same decisions, in the same order, with the same
//! clock, make the same records and the same chain of hashes on either
//! store.
//!
//! This crate owns only PostgreSQL's SQL and connections; it knows the core
//! contracts and the store's interface, never the compiler, the bytecode or
//! the VM, and holds no rule of the ledger.

mod sql;
mod tx;
mod view;

use std::sync::{Condvar, Mutex, PoisonError};

use actpol_core::approval::ApprovalStatus;
use actpol_core::schema::PolicyMeta;
use actpol_core::state::StateView;
use actpol_core::Decision;
use actpol_store::ledger::view::LedgerView;
use actpol_store::ledger::{flows, Group, Ledger};
use actpol_store::record::{self, Columns, StoredRecord, Walk};
use actpol_store::{
    Approval, BudgetCount, Durability, LogEntry, LogFilter, PacketView, Proposal, Pruned,
    Reservation, Store, StoreError, Stored, Verification, GENESIS,
};
use postgres::types::ToSql;
use postgres::{Client, IsolationLevel, NoTls};

use self::sql::PgTx;
use self::tx::{db, Statements, Tx};

/// A write transaction on the store.
type Writer<'c> = Ledger<PgTx<'c>>;

/// The schema, one migration per version. A store records its version in
/// `actpol_meta`; opening applies the migrations it lacks, in one
/// transaction, and refuses a store newer than this build.
const MIGRATIONS: &[&str] = &[include_str!("migrations/001_initial.sql")];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// What `actpol_meta` names its schema.
const APPLICATION: &str = "actpol";

/// The advisory lock openers take while they check and migrate the schema
/// ("actp" in ASCII), so two processes opening a new store at once do not
/// both create it.
const MIGRATION_LOCK: i64 = 0x6163_7470;

/// How many connections a store keeps open at most: more callers than this
/// wait for one.
const MAX_CONNECTIONS: usize = 32;

/// A store in a PostgreSQL database (or in one schema of it: name it with
/// `options=-csearch_path=…` in the URL).
#[derive(Debug)]
pub struct PgStore {
    pool: Pool,
    location: String,
    durability: String,
}

/// A connection and its prepared statements.
struct Conn {
    client: Client,
    statements: Statements,
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conn")
            .field("statements", &self.statements.len())
            .finish()
    }
}

/// Connections to the database, opened as callers need them, up to
/// [`MAX_CONNECTIONS`], and kept for the next caller. A connection that
/// broke is dropped, and the next caller opens a new one.
#[derive(Debug)]
struct Pool {
    config: postgres::Config,
    synchronous: bool,
    idle: Mutex<PoolState>,
    freed: Condvar,
}

#[derive(Debug, Default)]
struct PoolState {
    idle: Vec<Conn>,
    open: usize,
}

impl Pool {
    fn connect(&self) -> Result<Conn, postgres::Error> {
        let mut client = self.config.connect(NoTls)?;
        if self.synchronous {
            client.batch_execute("SET synchronous_commit = on")?;
        }
        Ok(Conn {
            client,
            statements: Statements::new(),
        })
    }

    /// Runs `f` on a connection of the pool.
    fn with<T>(&self, f: impl FnOnce(&mut Conn) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let mut conn = self.take()?;
        let out = f(&mut conn);
        self.give_back(conn);
        out
    }

    fn take(&self) -> Result<Conn, StoreError> {
        let mut state = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if let Some(conn) = state.idle.pop() {
                return Ok(conn);
            }
            if state.open < MAX_CONNECTIONS {
                state.open += 1;
                drop(state);
                return self.connect().map_err(|e| {
                    self.idle
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .open -= 1;
                    self.freed.notify_one();
                    StoreError::backend("connect to the database", e)
                });
            }
            state = self
                .freed
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    fn give_back(&self, conn: Conn) {
        let mut state = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if conn.client.is_closed() {
            state.open -= 1;
        } else {
            state.idle.push(conn);
        }
        drop(state);
        self.freed.notify_one();
    }
}

/// `postgres://user:secret@host/db` as `postgres://user:***@host/db`: a
/// location shown in errors never shows a password.
fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (rest, query) = match rest.split_once('?') {
        Some((rest, query)) => (rest, Some(query)),
        None => (rest, None),
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{user}:***@{host}"),
            None => authority.to_string(),
        },
        None => authority.to_string(),
    };
    let mut shown = format!("{scheme}://{authority}{path}");
    if let Some(query) = query {
        let query: Vec<String> = query
            .split('&')
            .map(|part| match part.split_once('=') {
                Some(("password", _)) => "password=***".to_string(),
                _ => part.to_string(),
            })
            .collect();
        shown.push('?');
        shown.push_str(&query.join("&"));
    }
    shown
}

impl PgStore {
    /// Opens the store at a `postgres://` (or `postgresql://`) URL,
    /// creating its tables in an empty database (or schema) and bringing
    /// its schema up to date. `Durability::Full` makes every commit wait
    /// for the server's WAL flush (`synchronous_commit = on`) whatever the
    /// server's default; `Normal` keeps the server's setting.
    pub fn open(url: &str, durability: Durability) -> Result<PgStore, StoreError> {
        let location = redacted(url);
        let open_error = |e: postgres::Error| StoreError::Open {
            path: location.clone(),
            source: Box::new(e),
        };
        let config: postgres::Config = url.parse().map_err(open_error)?;
        let pool = Pool {
            config,
            synchronous: durability == Durability::Full,
            idle: Mutex::new(PoolState::default()),
            freed: Condvar::new(),
        };
        let mut conn = pool.connect().map_err(open_error)?;
        migrate(&mut conn.client, &location)?;
        let durability = describe(&mut conn.client).map_err(open_error)?;
        {
            let mut state = pool.idle.lock().unwrap_or_else(PoisonError::into_inner);
            state.open += 1;
            state.idle.push(conn);
        }
        Ok(PgStore {
            pool,
            location,
            durability,
        })
    }

    /// Where the store is (its URL without a password).
    pub fn location(&self) -> &str {
        &self.location
    }

    /// Runs `f` in one write transaction, committed if it succeeds.
    fn write<T>(
        &self,
        f: impl FnOnce(&mut Writer<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.pool.with(|conn| {
            let mut w = begin(conn)?;
            let out = f(&mut w)?;
            w.finish()?;
            Ok(out)
        })
    }

    /// Runs `f` on one consistent snapshot.
    fn read<T>(&self, f: impl FnOnce(&PgTx<'_>) -> Result<T, StoreError>) -> Result<T, StoreError> {
        self.pool.with(|conn| {
            let tx = conn
                .client
                .build_transaction()
                .isolation_level(IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .map_err(db)?;
            let tx = PgTx::new(Tx::new(tx, &mut conn.statements));
            let out = f(&tx)?;
            tx.tx.commit()?;
            Ok(out)
        })
    }
}

/// Begins a write transaction on `conn`: waits for the head's lock.
fn begin(conn: &mut Conn) -> Result<Writer<'_>, StoreError> {
    let tx = conn.client.transaction().map_err(db)?;
    Ledger::begin(PgTx::new(Tx::new(tx, &mut conn.statements)))
}

/// Checks the schema and applies the migrations it lacks, under an advisory
/// lock so that concurrent openers take turns.
fn migrate(client: &mut Client, location: &str) -> Result<(), StoreError> {
    let fail = |e: postgres::Error| StoreError::Open {
        path: location.to_string(),
        source: Box::new(e),
    };
    let mut tx = client.transaction().map_err(fail)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .map_err(fail)?;
    let schema: Option<String> = tx
        .query_one("SELECT current_schema()", &[])
        .map_err(fail)?
        .get(0);
    let Some(schema) = schema else {
        return Err(StoreError::Open {
            path: location.to_string(),
            source: "no schema on the search path exists: create it first".into(),
        });
    };
    let has_meta: bool = tx
        .query_one("SELECT to_regclass('actpol_meta') IS NOT NULL", &[])
        .map_err(fail)?
        .get(0);
    let version = if has_meta {
        let row = tx
            .query_opt(
                "SELECT application, version FROM actpol_meta WHERE one = 1",
                &[],
            )
            .map_err(fail)?;
        match row {
            Some(row) if row.get::<_, &str>(0) == APPLICATION => row.get::<_, i64>(1),
            _ => {
                return Err(StoreError::NotAStore {
                    path: location.to_string(),
                })
            }
        }
    } else {
        let tables: i64 = tx
            .query_one(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = $1",
                &[&schema],
            )
            .map_err(fail)?
            .get(0);
        if tables > 0 {
            return Err(StoreError::NotAStore {
                path: location.to_string(),
            });
        }
        0
    };
    if version > SCHEMA_VERSION {
        return Err(StoreError::NewerSchema {
            path: location.to_string(),
            found: version,
            supported: SCHEMA_VERSION,
        });
    }
    for migration in MIGRATIONS
        .iter()
        .skip(usize::try_from(version).unwrap_or(0))
    {
        tx.batch_execute(migration).map_err(fail)?;
    }
    if version < SCHEMA_VERSION {
        tx.execute(
            "INSERT INTO head (one, seq, hash) VALUES (1, 0, $1) ON CONFLICT (one) DO NOTHING",
            &[&GENESIS],
        )
        .map_err(fail)?;
        tx.execute(
            "INSERT INTO actpol_meta (one, application, version) VALUES (1, $1, $2)
             ON CONFLICT (one) DO UPDATE SET version = excluded.version",
            &[&APPLICATION, &SCHEMA_VERSION],
        )
        .map_err(fail)?;
    }
    tx.commit().map_err(fail)
}

/// What a crash can lose, from the server's own settings.
fn describe(client: &mut Client) -> Result<String, postgres::Error> {
    let setting = |client: &mut Client, name: &str| -> Result<String, postgres::Error> {
        Ok(client
            .query_one("SELECT current_setting($1)", &[&name])?
            .get(0))
    };
    let synchronous = setting(client, "synchronous_commit")?;
    let fsync = setting(client, "fsync")?;
    let what = if fsync != "on" {
        "the server does not flush its WAL (fsync=off): a killed deciding process loses nothing committed, but a server crash or power loss can lose or corrupt the store; for tests only"
    } else if synchronous == "off" {
        "a commit returns before the server flushes its WAL: a killed deciding process or replica loses nothing committed; a server crash can lose the last commits (never corrupting the store or breaking the chain)"
    } else {
        "a commit returns once the server has flushed it to its WAL: a killed deciding process or replica, or a crashed server, loses nothing committed"
    };
    Ok(format!(
        "PostgreSQL, synchronous_commit={synchronous}, fsync={fsync}: {what}"
    ))
}

impl Store for PgStore {
    fn decide_batch(
        &self,
        proposals: &[Proposal<'_>],
        decide: &mut dyn FnMut(usize, &dyn StateView) -> Decision,
    ) -> Result<Vec<Result<Stored, StoreError>>, StoreError> {
        let mut group = Group::new(proposals);
        self.pool.with(|conn| loop {
            let mut w = begin(conn)?;
            // A decision the store failed on: dropping the writer rolls the
            // transaction back, and the group is decided again without it.
            let Some(stored) = group.attempt(&mut w, decide) else {
                continue;
            };
            w.finish()?;
            return Ok(group.results(stored));
        })
    }

    fn read_state(&self, now: i64, read: &mut dyn FnMut(&dyn StateView)) -> Result<(), StoreError> {
        self.pool.with(|conn| {
            let mut w = begin(conn)?;
            w.expire_until(now)?;
            read(&LedgerView { ledger: &w });
            // Dropped unfinished: rolled back.
            Ok(())
        })
    }

    fn prune(&self, before: i64) -> Result<Pruned, StoreError> {
        self.write(|w| {
            let reservations = w
                .sql()
                .tx
                .execute(
                    "DELETE FROM reservations WHERE at < $1 AND state <> 'held'",
                    &[&before],
                )
                .map_err(db)?;
            // A held reservation still counts in its window's counter (and
            // takes its amount back from it when released): windows that
            // may hold one stay.
            let held_since: Option<i64> = w
                .sql()
                .tx
                .query_one("SELECT min(at) FROM reservations WHERE state = 'held'", &[])
                .map_err(db)?
                .get(0);
            let horizon = held_since.map_or(before, |at| at.min(before));
            let counters = w
                .sql()
                .tx
                .execute("DELETE FROM counters WHERE window_end <= $1", &[&horizon])
                .map_err(db)?;
            Ok(Pruned {
                reservations,
                counters,
                window_counts: 0,
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
        self.read(|PgTx { tx, .. }| {
            let mut sql = String::from("SELECT seq, kind, at, hash, record FROM log WHERE true");
            let level = filter.decision.map(|l| l.as_str().to_string());
            let action = filter.action.as_ref().filter(|a| a.as_str() != "*");
            let limit = filter.limit.map(|l| i64::try_from(l).unwrap_or(i64::MAX));
            let mut params: Vec<&(dyn ToSql + Sync)> = Vec::new();
            if let Some(since) = &filter.since {
                params.push(since);
                sql.push_str(&format!(" AND at >= ${}", params.len()));
            }
            if let Some(agent) = &filter.agent {
                params.push(agent);
                sql.push_str(&format!(" AND agent = ${}", params.len()));
            }
            // A namespace, `crm.*`, is every name it prefixes.
            let namespace = action.and_then(|a| a.strip_suffix('*').filter(|_| a.ends_with(".*")));
            if let Some(prefix) = &namespace {
                params.push(prefix);
                sql.push_str(&format!(" AND starts_with(action, ${})", params.len()));
            } else if let Some(action) = action {
                params.push(action);
                sql.push_str(&format!(" AND action = ${}", params.len()));
            }
            if let Some(level) = &level {
                params.push(level);
                sql.push_str(&format!(
                    " AND kind = 'decision' AND level = ${}",
                    params.len()
                ));
            }
            sql.push_str(" ORDER BY seq DESC");
            if let Some(limit) = &limit {
                params.push(limit);
                sql.push_str(&format!(" LIMIT ${}", params.len()));
            }
            let mut out = Vec::new();
            for row in tx.query(&sql, &params).map_err(db)? {
                out.push(record::log_entry(
                    row.get(0),
                    row.get(1),
                    row.get(2),
                    row.get(3),
                    row.get(4),
                )?);
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
        self.read(|PgTx { tx, .. }| {
            let mut walk = Walk::new();
            let mut broken = None;
            tx.for_each(
                "SELECT seq, prev, hash, record, kind, at, agent, action, level, rules, object FROM log ORDER BY seq",
                &[],
                |r| {
                    let row = StoredRecord {
                        seq: r.get(0),
                        prev: r.get(1),
                        hash: r.get(2),
                        text: r.get(3),
                        columns: Columns {
                            kind: r.get(4),
                            at: r.get(5),
                            agent: r.get(6),
                            action: r.get(7),
                            level: r.get(8),
                            rules: r.get(9),
                            object: r.get(10),
                        },
                    };
                    match walk.step(&row) {
                        Ok(()) => Ok(true),
                        Err(verdict) => {
                            broken = Some(verdict);
                            Ok(false)
                        }
                    }
                },
            )?;
            if let Some(broken) = broken {
                return Ok(broken);
            }
            let head = tx
                .query_opt("SELECT seq, hash FROM head WHERE one = 1", &[])
                .map_err(db)?
                .map(|r| (r.get(0), r.get(1)));
            Ok(walk.finish(head))
        })
    }

    fn durability(&self) -> String {
        self.durability.clone()
    }
}

/// The core's ledger interface, as the store settles reservations.
impl actpol_core::state::BudgetLedger for PgStore {
    type Reservation = str;
    type Error = StoreError;

    fn commit(&self, reservation: &str, now: i64) -> Result<(), StoreError> {
        Store::commit(self, reservation, now).map(drop)
    }

    fn release(&self, reservation: &str, now: i64) -> Result<(), StoreError> {
        Store::release(self, reservation, now).map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::redacted;

    #[test]
    fn a_shown_location_never_shows_a_password() {
        assert_eq!(
            redacted("postgres://app:s3cret@db.internal:5432/actpol"),
            "postgres://app:***@db.internal:5432/actpol"
        );
        assert_eq!(
            redacted("postgres://app@db/actpol?password=s3cret&sslmode=disable"),
            "postgres://app@db/actpol?password=***&sslmode=disable"
        );
        assert_eq!(redacted("postgres://db/actpol"), "postgres://db/actpol");
    }
}
