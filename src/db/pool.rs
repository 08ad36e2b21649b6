//! r2d2 connection manager that picks the backend from the URL scheme and
//! reports the real connection error (diesel's derived one hides it).

use std::path::Path;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::R2D2Connection;

use super::DbConnection;

/// The pool type used everywhere.
pub type DbPool = r2d2::Pool<ConnectionManager>;

/// Which database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// `postgres://` or `postgresql://`
    Postgres,
    /// `sqlite://PATH`
    Sqlite,
}

/// Why a connection could not be opened or checked.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The server refused or could not be reached.
    #[error(transparent)]
    Connection(#[from] diesel::ConnectionError),
    /// A set-up statement failed.
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
}

/// Parsed `DATABASE_URL`.
#[derive(Debug, Clone)]
pub struct DatabaseUrl {
    backend: Backend,
    /// What the driver is given: a libpq URL, or an SQLite file path.
    target: String,
}

impl DatabaseUrl {
    /// Parses a URL; anything but `sqlite://` and `postgres(ql)://` is refused.
    pub fn parse(url: &str, connect_timeout_secs: u64) -> Result<Self, String> {
        if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err("DATABASE_URL sqlite:// needs a file path".into());
            }
            return Ok(Self {
                backend: Backend::Sqlite,
                target: path.to_string(),
            });
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let mut target = url.to_string();
            let sep = if target.contains('?') { '&' } else { '?' };
            if !target.contains("connect_timeout=") {
                target.push(sep);
                target.push_str(&format!(
                    "connect_timeout={connect_timeout_secs}&keepalives=1&keepalives_idle=10&keepalives_interval=5&keepalives_count=2"
                ));
            }
            return Ok(Self {
                backend: Backend::Postgres,
                target,
            });
        }
        Err("DATABASE_URL must start with sqlite:// or postgres://".into())
    }

    /// The backend the URL names.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The SQLite file this URL names when it does not exist (None for an
    /// existing file, and for PostgreSQL).
    pub fn missing_file(&self) -> Option<std::path::PathBuf> {
        let path = Path::new(&self.target);
        (self.backend == Backend::Sqlite && !path.exists()).then(|| path.to_path_buf())
    }

    /// Creates the parent folder of an SQLite file so a fresh machine just works.
    pub fn prepare(&self) -> std::io::Result<()> {
        if self.backend == Backend::Sqlite {
            if let Some(parent) = Path::new(&self.target).parent() {
                if !parent.as_os_str().is_empty() {
                    std::fs::create_dir_all(parent)?;
                }
            }
        }
        Ok(())
    }
}

/// Opens connections of the backend the URL names, with per-connection set-up.
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    url: DatabaseUrl,
}

impl ConnectionManager {
    /// A manager for `url`.
    pub fn new(url: DatabaseUrl) -> Self {
        Self { url }
    }
}

/// A pooled connection plus a flag set when a call found the link dead, so the
/// pool drops it instead of handing it out again once the database is back.
pub struct ManagedConnection {
    /// The live connection.
    pub inner: DbConnection,
    /// Set by `Db::run` when the connection itself failed.
    pub broken: bool,
}

impl r2d2::ManageConnection for ConnectionManager {
    type Connection = ManagedConnection;
    type Error = ConnectError;

    fn connect(&self) -> Result<ManagedConnection, ConnectError> {
        Ok(ManagedConnection {
            inner: self.open()?,
            broken: false,
        })
    }

    fn is_valid(&self, conn: &mut ManagedConnection) -> Result<(), ConnectError> {
        conn.inner.batch_execute("SELECT 1")?;
        Ok(())
    }

    fn has_broken(&self, conn: &mut ManagedConnection) -> bool {
        conn.broken
            || match &mut conn.inner {
                DbConnection::Postgresql(c) => c.is_broken(),
                DbConnection::Sqlite(c) => c.is_broken(),
            }
    }
}

impl ConnectionManager {
    /// Opens one connection directly (start-up uses it to report the real error).
    pub fn open(&self) -> Result<DbConnection, ConnectError> {
        match self.url.backend {
            Backend::Postgres => {
                let mut conn = PgConnection::establish(&self.url.target)?;
                // Timestamp binds are converted with the session zone; the server writes UTC.
                conn.batch_execute("SET TimeZone = 'UTC'")?;
                Ok(DbConnection::Postgresql(conn))
            }
            Backend::Sqlite => {
                let mut conn = SqliteConnection::establish(&self.url.target)?;
                // busy_timeout first: switching to WAL may itself wait on a lock.
                conn.batch_execute(
                    "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
                )?;
                Ok(DbConnection::Sqlite(conn))
            }
        }
    }
}

/// Builds the pool without opening connections eagerly beyond `min_idle`.
pub fn build_pool(
    manager: ConnectionManager,
    max_size: u32,
    connection_timeout: Duration,
) -> Result<DbPool, r2d2::Error> {
    r2d2::Pool::builder()
        .max_size(max_size)
        .min_idle(Some(1))
        .connection_timeout(connection_timeout)
        .test_on_check_out(false)
        .build(manager)
}
