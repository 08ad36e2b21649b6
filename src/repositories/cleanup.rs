//! Repository layer: the cleanup job's statements, as keyset batches.
//!
//! Each batch is one statement that picks the next `limit` ids by walking an
//! index on `(timestamp, id)` from just after the key where the previous batch
//! stopped, then writes exactly those ids by primary key and returns their keys
//! so the caller can resume after the last one. No batch re-reads rows an earlier
//! batch handled, so a batch costs the same at the end of a large run as at its
//! start.
//!
//! The earlier form, `id IN (SELECT id .. WHERE <predicate> LIMIT n)` from the
//! start of the table each time, degraded as batches went by: PostgreSQL's plans
//! walked the dead rows left by earlier batches or hashed the whole table, up to
//! tens of seconds per statement on a million tokens. On PostgreSQL the ids are
//! handed to the write as `id = ANY(ARRAY(subquery))`: the subquery is an
//! InitPlan run once, and the write can only be a primary-key lookup. SQLite
//! plans `id IN (subquery)` that way by itself, and its indexes already end in
//! the rowid, so the same walks need no new index there.

use chrono::NaiveDateTime;
use diesel::backend::Backend;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{BoxedSqlQuery, SqlQuery};
use diesel::serialize::ToSql;
use diesel::sql_types::{BigInt, Bool, HasSqlType, Nullable, Timestamp};
use diesel::sqlite::Sqlite;

use crate::db::DbConnection;

/// Key of the PostgreSQL advisory lock that keeps cleanup to one instance at a time.
pub const CLEANUP_LOCK_KEY: i64 = 0x746f_6b77_636c_6e75;

#[derive(QueryableByName)]
struct Locked {
    #[diesel(sql_type = Bool)]
    locked: bool,
}

/// Takes the cleanup lock for this connection's session without waiting; false
/// when another session holds it. SQLite has one writer at a time anyway and
/// every batch is idempotent, so there it always succeeds.
pub fn try_lock(conn: &mut DbConnection) -> QueryResult<bool> {
    match conn {
        DbConnection::Postgresql(pg) => {
            diesel::sql_query("SELECT pg_try_advisory_lock($1) AS locked")
                .bind::<BigInt, _>(CLEANUP_LOCK_KEY)
                .get_result::<Locked>(pg)
                .map(|row| row.locked)
        }
        DbConnection::Sqlite(_) => Ok(true),
    }
}

/// Releases the lock taken by `try_lock` (closing the connection would too).
pub fn unlock(conn: &mut DbConnection) -> QueryResult<()> {
    if let DbConnection::Postgresql(pg) = conn {
        diesel::sql_query("SELECT pg_advisory_unlock($1) AS locked")
            .bind::<BigInt, _>(CLEANUP_LOCK_KEY)
            .get_result::<Locked>(pg)?;
    }
    Ok(())
}

/// A position in a walk: the `(timestamp, id)` of a row; the next batch starts
/// strictly after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Key {
    /// The walked timestamp column's value.
    pub at: NaiveDateTime,
    /// The row's id, which orders rows with equal timestamps.
    pub id: i64,
}

impl Key {
    /// The position just before every row whose timestamp is `at` or later.
    pub fn before(at: NaiveDateTime) -> Self {
        Self { at, id: i64::MIN }
    }
}

/// Where the session walk stands: ended sessions are reached through two
/// indexes, by expiry and by revocation time, each walked on its own.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SessionCursor {
    /// Last session handled because it expired before the cutoff.
    pub by_expiry: Option<Key>,
    /// Last session handled because it was revoked before the cutoff (and had
    /// not expired before it).
    pub by_revocation: Option<Key>,
}

/// What one batch statement did, and where the next one starts.
#[derive(Debug, Clone, Copy)]
pub struct Batch<C> {
    /// Rows written.
    pub rows: usize,
    /// False once the walk reached its end: the next batch would find nothing.
    pub more: bool,
    /// The position after this batch (unchanged when it wrote nothing).
    pub next: C,
}

/// The tables whose rows go once older than a cutoff, each walked on its
/// `(column, id)` index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aged {
    /// Tokens, by `expires_at`.
    Tokens,
    /// Audit events, by `created_at`.
    AuditEvents,
}

impl Aged {
    /// The table and the column its age is read from.
    fn table_and_column(self) -> (&'static str, &'static str) {
        match self {
            Aged::Tokens => ("tokens", "expires_at"),
            Aged::AuditEvents => ("audit_events", "created_at"),
        }
    }
}

/// Marks `expired` on the tokens among the next `limit` in `(expires_at, id)`
/// order after `after`, up to `expires_at <= now`, that are not marked yet.
///
/// No index mentions `expired` (so that the mark can be a heap-only update), so
/// the walk cannot skip marked rows; instead each batch covers exactly the next
/// `limit` index entries, marked or not: the first statement finds the key that
/// ends the batch, the second marks the unmarked rows up to it. A batch costs the
/// same however many of its rows an earlier run marked.
pub fn mark_expired(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    after: Option<Key>,
    limit: i64,
) -> QueryResult<Batch<Option<Key>>> {
    let mut p = Params::default();
    let end_sql = format!(
        "SELECT id, expires_at AS at FROM tokens WHERE expires_at <= {}{} \
         ORDER BY expires_at, id LIMIT 1 OFFSET {}",
        p.at(now),
        p.after("expires_at, id", after),
        p.id(limit.max(1) - 1),
    );
    let end: Option<KeyRow> = load(conn, &end_sql, &p)?.pop();

    let mut p = Params::default();
    let mut sql = format!(
        "UPDATE tokens SET expired = TRUE WHERE NOT expired AND expires_at <= {}{}",
        p.at(now),
        p.after("expires_at, id", after),
    );
    if let Some(e) = &end {
        sql.push_str(&format!(
            " AND (expires_at, id) <= ({}, {})",
            p.at(e.at),
            p.id(e.id)
        ));
    }
    let rows = execute(conn, &sql, &p)?;
    Ok(Batch {
        rows,
        more: end.is_some(),
        next: end.map(|e| Key { at: e.at, id: e.id }).or(after),
    })
}

#[derive(QueryableByName)]
struct EndedSession {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Timestamp)]
    expires_at: NaiveDateTime,
    #[diesel(sql_type = Nullable<Timestamp>)]
    revoked_at: Option<NaiveDateTime>,
    #[diesel(sql_type = Bool)]
    by_expiry: bool,
}

/// Deletes up to `limit` sessions that ended (expired, or were revoked) before
/// `cutoff` and have no token rows left: first those found by expiry after
/// `cursor.by_expiry`, then those found by revocation after `cursor.by_revocation`.
pub fn delete_sessions_ended_before(
    conn: &mut DbConnection,
    cutoff: NaiveDateTime,
    cursor: SessionCursor,
    limit: i64,
) -> QueryResult<Batch<SessionCursor>> {
    const EMPTY: &str = "NOT EXISTS (SELECT 1 FROM tokens t WHERE t.session_id = s.id)";
    let mut p = Params::default();
    let (c, n) = (p.at(cutoff), p.id(limit));
    // Each branch is limited and ordered on its own index; the outer LIMIT stops
    // the second branch as soon as the first one filled the batch.
    let select = format!(
        "SELECT id FROM (SELECT s.id FROM sessions s WHERE s.expires_at < {c}{} AND {EMPTY} \
         ORDER BY s.expires_at, s.id LIMIT {n}) AS by_expiry \
         UNION ALL \
         SELECT id FROM (SELECT s.id FROM sessions s WHERE s.revoked AND s.revoked_at < {c} \
         AND s.expires_at >= {c}{} AND {EMPTY} ORDER BY s.revoked_at, s.id LIMIT {n}) AS by_revocation \
         LIMIT {n}",
        p.after("s.expires_at, s.id", cursor.by_expiry),
        p.after("s.revoked_at, s.id", cursor.by_revocation),
    );
    let sql = format!(
        "DELETE FROM sessions WHERE {} \
         RETURNING id, expires_at, revoked_at, expires_at < {c} AS by_expiry",
        by_ids(conn, &select)
    );
    let rows: Vec<EndedSession> = load(conn, &sql, &p)?;
    let mut next = cursor;
    for row in &rows {
        if row.by_expiry {
            advance(&mut next.by_expiry, row.expires_at, row.id);
        } else if let Some(at) = row.revoked_at {
            advance(&mut next.by_revocation, at, row.id);
        }
    }
    Ok(Batch {
        rows: rows.len(),
        more: full(rows.len(), limit),
        next,
    })
}

/// Deletes up to `limit` rows of `aged` whose age column is before `cutoff`,
/// after `after` in `(column, id)` order: one keyset batch. The table and
/// column names in the SQL are `Aged`'s own constants, never input.
pub fn delete_before(
    conn: &mut DbConnection,
    aged: Aged,
    cutoff: NaiveDateTime,
    after: Option<Key>,
    limit: i64,
) -> QueryResult<Batch<Option<Key>>> {
    let (table, column) = aged.table_and_column();
    let mut p = Params::default();
    let select = format!(
        "SELECT id FROM {table} WHERE {column} < {}{} ORDER BY {column}, id LIMIT {}",
        p.at(cutoff),
        p.after(&format!("{column}, id"), after),
        p.id(limit),
    );
    let sql = format!(
        "DELETE FROM {table} WHERE {} RETURNING id, {column} AS at",
        by_ids(conn, &select)
    );
    walk(conn, &sql, &p, after, limit)
}

/// A written row's key, as the statements return it.
#[derive(QueryableByName)]
struct KeyRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Timestamp)]
    at: NaiveDateTime,
}

/// Runs a single-walk batch statement and moves the position past what it wrote.
fn walk(
    conn: &mut DbConnection,
    sql: &str,
    params: &Params,
    after: Option<Key>,
    limit: i64,
) -> QueryResult<Batch<Option<Key>>> {
    let rows: Vec<KeyRow> = load(conn, sql, params)?;
    let mut next = after;
    for row in &rows {
        advance(&mut next, row.at, row.id);
    }
    Ok(Batch {
        rows: rows.len(),
        more: full(rows.len(), limit),
        next,
    })
}

/// A batch that wrote its whole limit may have left work behind.
fn full(rows: usize, limit: i64) -> bool {
    i64::try_from(rows).map_or(true, |n| n >= limit)
}

fn advance(position: &mut Option<Key>, at: NaiveDateTime, id: i64) {
    let key = Key { at, id };
    if position.is_none_or(|p| key > p) {
        *position = Some(key);
    }
}

/// "These ids", for a write whose ids come from `select`.
fn by_ids(conn: &DbConnection, select: &str) -> String {
    match conn {
        DbConnection::Postgresql(_) => format!("id = ANY(ARRAY({select}))"),
        DbConnection::Sqlite(_) => format!("id IN ({select})"),
    }
}

/// One bound value.
enum Param {
    At(NaiveDateTime),
    Int(i64),
}

/// The bound values of a statement being written; each method returns the
/// placeholder to put in the SQL (`$n`, which SQLite reads as `?n`).
#[derive(Default)]
struct Params(Vec<Param>);

impl Params {
    fn push(&mut self, p: Param) -> String {
        self.0.push(p);
        format!("${}", self.0.len())
    }

    fn at(&mut self, t: NaiveDateTime) -> String {
        self.push(Param::At(t))
    }

    fn id(&mut self, i: i64) -> String {
        self.push(Param::Int(i))
    }

    /// The condition "after this key" on `columns`, or nothing for a walk's start.
    fn after(&mut self, columns: &str, key: Option<Key>) -> String {
        match key {
            None => String::new(),
            Some(k) => format!(" AND ({columns}) > ({}, {})", self.at(k.at), self.id(k.id)),
        }
    }
}

fn bound<DB>(sql: String, params: &Params) -> BoxedSqlQuery<'static, DB, SqlQuery>
where
    DB: Backend + HasSqlType<Timestamp> + HasSqlType<BigInt>,
    NaiveDateTime: ToSql<Timestamp, DB>,
    i64: ToSql<BigInt, DB>,
{
    params
        .0
        .iter()
        .fold(diesel::sql_query(sql).into_boxed(), |q, p| match *p {
            Param::At(t) => q.bind::<Timestamp, _>(t),
            Param::Int(i) => q.bind::<BigInt, _>(i),
        })
}

fn execute(conn: &mut DbConnection, sql: &str, params: &Params) -> QueryResult<usize> {
    match conn {
        DbConnection::Postgresql(pg) => bound::<Pg>(sql.to_owned(), params).execute(pg),
        DbConnection::Sqlite(lite) => bound::<Sqlite>(sql.replace('$', "?"), params).execute(lite),
    }
}

fn load<R>(conn: &mut DbConnection, sql: &str, params: &Params) -> QueryResult<Vec<R>>
where
    R: QueryableByName<Pg> + QueryableByName<Sqlite> + 'static,
{
    match conn {
        DbConnection::Postgresql(pg) => bound::<Pg>(sql.to_owned(), params).load(pg),
        DbConnection::Sqlite(lite) => bound::<Sqlite>(sql.replace('$', "?"), params).load(lite),
    }
}
