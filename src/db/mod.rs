//! Database layer: the two-backend connection type, the r2d2 pool, embedded
//! migrations, and `Db::run`, the one door through which diesel work leaves the
//! async executor.

pub mod pool;
pub mod schema;

use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::prelude::*;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::errors::{AppError, AppResult};
pub use pool::{build_pool, Backend, ConnectionManager, DatabaseUrl, DbPool};

/// Migrations for PostgreSQL, embedded in the binary.
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");
/// Migrations for SQLite, embedded in the binary.
pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// One connection to either backend; the variant is chosen by the URL scheme.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    /// A PostgreSQL connection (production).
    Postgresql(PgConnection),
    /// An SQLite connection (embedded default).
    Sqlite(SqliteConnection),
}

/// The query backend of `DbConnection` (both databases behind one type).
pub type QueryBackend = <DbConnection as diesel::Connection>::Backend;

/// Key of the PostgreSQL advisory lock held while an instance migrates and seeds.
const STARTUP_LOCK_KEY: i64 = 0x746f_6b65_6e77_6172;

/// Handle to the pool plus the deadline every database call must meet.
#[derive(Clone)]
pub struct Db {
    pool: DbPool,
    backend: Backend,
    call_timeout: Duration,
    /// Opens connections outside the pool (`run_dedicated`); r2d2 does not lend its own.
    dedicated: Option<ConnectionManager>,
}

impl Db {
    /// Wraps a pool; `call_timeout` bounds each `run` (a miss is a 503).
    pub fn new(pool: DbPool, backend: Backend, call_timeout: Duration) -> Self {
        Self {
            pool,
            backend,
            call_timeout,
            dedicated: None,
        }
    }

    /// Lets `run_dedicated` open connections with `manager` (the pool's own settings).
    pub fn with_dedicated_connections(mut self, manager: ConnectionManager) -> Self {
        self.dedicated = Some(manager);
        self
    }

    /// The backend this handle talks to.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Runs `f` with a pooled connection on the blocking thread pool.
    ///
    /// Pool exhaustion, a dead database or a call past the deadline all become
    /// `AppError::Unavailable`, so callers fail closed.
    pub async fn run<F, T>(&self, f: F) -> AppResult<T>
    where
        F: FnOnce(&mut DbConnection) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        let span = tracing::Span::current();
        let task = tokio::task::spawn_blocking(move || {
            let _entered = span.enter();
            let mut conn = pool.get().map_err(|e| {
                tracing::warn!(error = %e, "no database connection available");
                AppError::Unavailable
            })?;
            let result = f(&mut conn.inner);
            if matches!(result, Err(AppError::Unavailable)) {
                conn.broken = true;
            }
            result
        });
        match tokio::time::timeout(self.call_timeout, task).await {
            Ok(Ok(result)) => result,
            Ok(Err(join)) => Err(AppError::internal(format!("database task failed: {join}"))),
            Err(_) => {
                tracing::warn!("database call exceeded its deadline");
                Err(AppError::Unavailable)
            }
        }
    }

    /// (open connections, idle connections) of the pool.
    pub fn pool_state(&self) -> (u32, u32) {
        let state = self.pool.state();
        (state.connections, state.idle_connections)
    }

    /// Runs `f` on a connection opened for this call alone and closed after it, with
    /// no deadline. For maintenance jobs: their many short statements leave the
    /// request pool alone, and a PostgreSQL session lock they take dies with the
    /// connection even if the process does.
    pub async fn run_dedicated<F, T>(&self, f: F) -> AppResult<T>
    where
        F: FnOnce(&mut DbConnection) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let manager = self
            .dedicated
            .clone()
            .ok_or_else(|| AppError::internal("no manager for dedicated connections"))?;
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || {
            let _entered = span.enter();
            let mut conn = manager.open().map_err(|e| {
                tracing::warn!(error = %e, "cannot open a dedicated database connection");
                AppError::Unavailable
            })?;
            f(&mut conn)
        })
        .await
        .map_err(|e| AppError::internal(format!("database task failed: {e}")))?
    }

    /// True when a connection can be checked out and answers a trivial query.
    pub async fn ping(&self) -> bool {
        self.run(|conn| {
            diesel::sql_query("SELECT 1").execute(conn)?;
            Ok(())
        })
        .await
        .is_ok()
    }
}

/// Drops SQLite's statistics of the tables every request reads by key.
/// Statistics taken while `users` held one row (a first start, an early
/// ANALYZE or PRAGMA optimize) stay until the next ANALYZE and make SQLite scan
/// `users` for each token, or scan all of an account's tokens, once the tables
/// have grown; without statistics it probes the primary keys and the
/// token-hash index, which is right at every size.
fn forget_tiny_table_statistics(lite: &mut diesel::SqliteConnection) -> AppResult<()> {
    #[derive(diesel::QueryableByName)]
    struct Found {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let found: Found = diesel::sql_query(
        "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1'",
    )
    .get_result(lite)?;
    if found.n > 0 {
        diesel::sql_query("DELETE FROM sqlite_stat1 WHERE tbl IN ('users', 'sessions', 'tokens')")
            .execute(lite)?;
    }
    Ok(())
}

/// Runs `f` in a write transaction and commits if it returns `Ok`.
///
/// On SQLite the transaction is `BEGIN IMMEDIATE`: a deferred one that reads and
/// then writes fails with SQLITE_BUSY under concurrency, whatever the busy timeout.
pub fn write_transaction<T, F>(conn: &mut DbConnection, f: F) -> AppResult<T>
where
    F: FnOnce(&mut DbConnection) -> AppResult<T>,
{
    match conn {
        DbConnection::Sqlite(c) => {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?;
        }
        DbConnection::Postgresql(c) => {
            AnsiTransactionManager::begin_transaction(c)?;
        }
    }
    let outcome = f(conn);
    match outcome {
        Ok(value) => {
            let committed = match conn {
                DbConnection::Sqlite(c) => AnsiTransactionManager::commit_transaction(c),
                DbConnection::Postgresql(c) => AnsiTransactionManager::commit_transaction(c),
            };
            if let Err(e) = committed {
                rollback(conn);
                return Err(e.into());
            }
            Ok(value)
        }
        Err(e) => {
            rollback(conn);
            Err(e)
        }
    }
}

/// Runs `f`, whose writes are one statement on PostgreSQL (atomic by itself,
/// so no BEGIN and COMMIT round trips), inside a write transaction on SQLite,
/// where they are several.
pub fn single_statement_write<T, F>(conn: &mut DbConnection, f: F) -> AppResult<T>
where
    F: FnOnce(&mut DbConnection) -> AppResult<T>,
{
    match conn {
        DbConnection::Postgresql(_) => f(conn),
        DbConnection::Sqlite(_) => write_transaction(conn, f),
    }
}

fn rollback(conn: &mut DbConnection) {
    let result = match conn {
        DbConnection::Sqlite(c) => AnsiTransactionManager::rollback_transaction(c),
        DbConnection::Postgresql(c) => AnsiTransactionManager::rollback_transaction(c),
    };
    if let Err(e) = result {
        tracing::warn!(error = %e, "rollback failed");
    }
}

/// Applies pending migrations; on PostgreSQL under an advisory lock so that
/// several instances starting together migrate once. `then` runs while the lock
/// is held (key generation, bootstrap admin), on a pooled connection.
pub fn migrate_locked<T>(
    pool: &DbPool,
    then: impl FnOnce(&mut DbConnection) -> AppResult<T>,
) -> AppResult<T> {
    let mut conn = pool.get().map_err(|e| {
        tracing::error!(error = %e, "cannot connect to the database");
        AppError::Unavailable
    })?;
    let conn = &mut conn.inner;
    match conn {
        DbConnection::Postgresql(pg) => {
            diesel::sql_query(format!("SELECT pg_advisory_lock({STARTUP_LOCK_KEY})"))
                .execute(pg)?;
            let applied = pg
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(|versions| !versions.is_empty())
                .map_err(|e| AppError::internal(format!("migration failed: {e}")));
            // Fresh statistics after a schema change: a habit, not what
            // validation's plan depends on (see the unique token hash).
            let analyzed = match applied {
                Ok(true) => diesel::sql_query("ANALYZE")
                    .execute(pg)
                    .map(drop)
                    .map_err(AppError::from),
                Ok(false) => Ok(()),
                Err(e) => Err(e),
            };
            let outcome = analyzed.and_then(|()| then(conn));
            if let DbConnection::Postgresql(pg) = conn {
                let _ = diesel::sql_query(format!("SELECT pg_advisory_unlock({STARTUP_LOCK_KEY})"))
                    .execute(pg);
            }
            outcome
        }
        DbConnection::Sqlite(lite) => {
            lite.run_pending_migrations(SQLITE_MIGRATIONS)
                .map_err(|e| AppError::internal(format!("migration failed: {e}")))?;
            forget_tiny_table_statistics(lite)?;
            then(conn)
        }
    }
}
