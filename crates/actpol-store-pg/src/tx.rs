//! A transaction on one pooled connection, with the connection's prepared
//! statements: each statement text is prepared once per connection and
//! reused by every transaction after.

use std::cell::RefCell;
use std::collections::HashMap;

use postgres::types::ToSql;
use postgres::{Row, Statement, Transaction};

use actpol_store::StoreError;

/// A connection's prepared statements, by their text.
pub(crate) type Statements = HashMap<String, Statement>;

/// Parameters of a statement.
pub(crate) type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

/// A database error met while reading or writing the store.
pub(crate) fn db(e: postgres::Error) -> StoreError {
    StoreError::backend("read or write the store", e)
}

/// A transaction in progress. The database calls take `&self`, so that the
/// view a decision reads through (whose methods take `&self`) can query it.
pub(crate) struct Tx<'c> {
    tx: RefCell<Transaction<'c>>,
    statements: RefCell<&'c mut Statements>,
}

impl<'c> Tx<'c> {
    pub(crate) fn new(tx: Transaction<'c>, statements: &'c mut Statements) -> Tx<'c> {
        Tx {
            tx: RefCell::new(tx),
            statements: RefCell::new(statements),
        }
    }

    fn statement(&self, tx: &mut Transaction<'c>, sql: &str) -> Result<Statement, postgres::Error> {
        let mut statements = self.statements.borrow_mut();
        if let Some(statement) = statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = tx.prepare(sql)?;
        statements.insert(sql.to_string(), statement.clone());
        Ok(statement)
    }

    pub(crate) fn query(&self, sql: &str, params: Params<'_>) -> Result<Vec<Row>, postgres::Error> {
        let mut tx = self.tx.borrow_mut();
        let statement = self.statement(&mut tx, sql)?;
        tx.query(&statement, params)
    }

    pub(crate) fn query_opt(
        &self,
        sql: &str,
        params: Params<'_>,
    ) -> Result<Option<Row>, postgres::Error> {
        let mut tx = self.tx.borrow_mut();
        let statement = self.statement(&mut tx, sql)?;
        tx.query_opt(&statement, params)
    }

    pub(crate) fn query_one(&self, sql: &str, params: Params<'_>) -> Result<Row, postgres::Error> {
        let mut tx = self.tx.borrow_mut();
        let statement = self.statement(&mut tx, sql)?;
        tx.query_one(&statement, params)
    }

    pub(crate) fn execute(&self, sql: &str, params: Params<'_>) -> Result<u64, postgres::Error> {
        let mut tx = self.tx.borrow_mut();
        let statement = self.statement(&mut tx, sql)?;
        tx.execute(&statement, params)
    }

    /// Runs `each` on every row of a statement as the rows arrive, without
    /// holding them all.
    pub(crate) fn for_each(
        &self,
        sql: &str,
        params: Params<'_>,
        mut each: impl FnMut(&Row) -> Result<bool, StoreError>,
    ) -> Result<(), StoreError> {
        use postgres::fallible_iterator::FallibleIterator;
        let mut tx = self.tx.borrow_mut();
        let statement = self.statement(&mut tx, sql).map_err(db)?;
        let mut rows = tx
            .query_raw(&statement, params.iter().copied())
            .map_err(db)?;
        while let Some(row) = rows.next().map_err(db)? {
            if !each(&row)? {
                break;
            }
        }
        Ok(())
    }

    pub(crate) fn commit(self) -> Result<(), StoreError> {
        self.tx.into_inner().commit().map_err(db)
    }
}
