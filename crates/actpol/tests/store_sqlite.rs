//! The store conformance suite against the embedded SQLite backend, plus
//! what only SQLite has: its file, its schema version, its durability.

mod conformance;

use std::sync::atomic::{AtomicU64, Ordering};

use actpol::store::{self, Durability, Store, StoreError};
use actpol::{ErrorCode, Request};
use conformance::{Backend, Tamper};

struct Sqlite;

static NEXT: AtomicU64 = AtomicU64::new(0);

impl Backend for Sqlite {
    fn fresh(&self) -> String {
        let root = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("store-conformance");
        // Stores of earlier runs (other process ids) are left over: remove them once.
        static SWEEP: std::sync::Once = std::sync::Once::new();
        SWEEP.call_once(|| {
            let mine = format!("{}-", std::process::id());
            for entry in std::fs::read_dir(&root).into_iter().flatten().flatten() {
                if !entry.file_name().to_string_lossy().starts_with(&mine) {
                    let _ = std::fs::remove_dir_all(entry.path());
                }
            }
        });
        let dir = root.join(format!(
            "{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        format!("sqlite:{}", dir.join("store.db").display())
    }

    fn open(&self, location: &str) -> Box<dyn Store> {
        store::open(location, Durability::Normal).expect("the store opens")
    }

    fn tamper(&self, location: &str, tamper: Tamper) {
        let path = location.strip_prefix("sqlite:").unwrap();
        let conn = rusqlite::Connection::open(path).unwrap();
        let sql = match tamper {
            Tamper::Edit(n) => format!(
                "UPDATE log SET record = replace(record, '\"units\":', '\"unitz\":') WHERE seq = {n}"
            ),
            Tamper::Delete(n) => format!("DELETE FROM log WHERE seq = {n}"),
            Tamper::Swap(a, b) => format!(
                "UPDATE log SET seq = 0 WHERE seq = {a};
                 UPDATE log SET seq = {a} WHERE seq = {b};
                 UPDATE log SET seq = {b} WHERE seq = 0;"
            ),
            Tamper::Truncate(n) => format!("DELETE FROM log WHERE seq > {n}"),
        };
        conn.execute_batch(&sql).unwrap();
    }
}

conformance_suite!(Sqlite, "child_entry");

#[test]
fn a_file_that_is_not_a_store_is_refused() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("store-not-a-store");
    std::fs::create_dir_all(&dir).unwrap();
    let text = dir.join("notes.txt");
    std::fs::write(
        &text,
        "these are notes, not a database, and long enough to have a header",
    )
    .unwrap();
    let err = store::open(text.to_str().unwrap(), Durability::Normal).unwrap_err();
    assert_eq!(err.code(), ErrorCode::StoreNotAStore, "{err}");

    let other = dir.join("other.db");
    let _ = std::fs::remove_file(&other);
    rusqlite::Connection::open(&other)
        .unwrap()
        .execute_batch("CREATE TABLE mine (x INTEGER)")
        .unwrap();
    let err = store::open(other.to_str().unwrap(), Durability::Normal).unwrap_err();
    assert!(matches!(err, StoreError::NotAStore { .. }), "{err}");
}

#[test]
fn a_store_from_a_newer_build_is_refused_and_versions_are_checked_on_open() {
    let location = Sqlite.fresh();
    let path = location.strip_prefix("sqlite:").unwrap().to_string();
    drop(Sqlite.open(&location));
    let conn = rusqlite::Connection::open(&path).unwrap();
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, 1, "a new store is at the current schema version");
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    let err = store::open(&location, Durability::Normal).unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::NewerSchema {
                found: 99,
                supported: 1,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(err.code(), ErrorCode::StoreNewerSchema);
}

#[test]
fn reopening_keeps_everything_and_durability_is_stated() {
    let location = Sqlite.fresh();
    let bytes = conformance::envelope(
        "bot-a",
        "ops.spend",
        serde_json::json!({"units": 7}),
        conformance::T0,
    );
    let id = {
        let store = store::open(&location, Durability::Full).unwrap();
        assert!(store.durability().contains("synchronous=FULL"));
        conformance::decide(&*store, &bytes, conformance::T0)
            .id
            .unwrap()
    };
    let store = Sqlite.open(&location);
    assert!(store
        .durability()
        .contains("a killed process loses nothing committed"));
    assert_eq!(store.decision(&id).unwrap().seq, 1);
}

#[test]
fn the_sqlite_store_is_the_cores_budget_ledger() {
    use actpol::state::BudgetLedger;
    let store = actpol::store::SqliteStore::in_memory().unwrap();
    let bytes = conformance::envelope(
        "bot-a",
        "ops.spend",
        serde_json::json!({"units": 9}),
        conformance::T0,
    );
    let d = conformance::policy()
        .decide_stored(&store, Request::new(&bytes).at(conformance::T0))
        .unwrap();
    let ledger: &dyn BudgetLedger<Reservation = str, Error = StoreError> = &store;
    ledger.release(&d.reservations[0], conformance::T0).unwrap();
    assert_eq!(
        Store::reservation(&store, &d.reservations[0], conformance::T0)
            .unwrap()
            .state,
        actpol::store::ReservationState::Released
    );
    assert!(ledger.commit(&d.reservations[0], conformance::T0).is_err());
}
