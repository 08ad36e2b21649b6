//! Queries on `signing_keys` and `server_state`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{server_state, signing_keys::dsl};
use crate::db::DbConnection;
use crate::models::{NewSigningKey, SigningKeyRow};

/// Inserts a key.
pub fn insert(conn: &mut DbConnection, key: &NewSigningKey) -> QueryResult<usize> {
    diesel::insert_into(dsl::signing_keys)
        .values(key)
        .execute(conn)
}

/// A server-wide value by name.
pub fn find_state(conn: &mut DbConnection, name: &str) -> QueryResult<Option<String>> {
    server_state::table
        .filter(server_state::name.eq(name))
        .select(server_state::value)
        .first(conn)
        .optional()
}

/// Stores a server-wide value (first writer wins).
pub fn insert_state(
    conn: &mut DbConnection,
    name: &str,
    value: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::insert_into(server_state::table)
        .values((
            server_state::name.eq(name),
            server_state::value.eq(value),
            server_state::created_at.eq(now),
        ))
        .execute(conn)
}

/// Every key not yet retired, of any algorithm, newest first.
pub fn find_all_active(conn: &mut DbConnection) -> QueryResult<Vec<SigningKeyRow>> {
    dsl::signing_keys
        .filter(dsl::retired_at.is_null())
        .order((dsl::created_at.desc(), dsl::id.desc()))
        .select(SigningKeyRow::as_select())
        .load(conn)
}

/// The id of the newest key not yet retired: it changes with every rotation
/// and retirement, so instances poll it (a one-row read) to notice them.
pub fn newest_active_id(conn: &mut DbConnection) -> QueryResult<Option<i64>> {
    dsl::signing_keys
        .filter(dsl::retired_at.is_null())
        .select(diesel::dsl::max(dsl::id))
        .first(conn)
}

/// Every key, retired ones included, newest first.
pub fn find_all(conn: &mut DbConnection) -> QueryResult<Vec<SigningKeyRow>> {
    dsl::signing_keys
        .order((dsl::created_at.desc(), dsl::id.desc()))
        .select(SigningKeyRow::as_select())
        .load(conn)
}

/// Retires a key: it no longer verifies and leaves the JWKS.
pub fn retire(conn: &mut DbConnection, id: i64, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        dsl::signing_keys
            .filter(dsl::id.eq(id))
            .filter(dsl::retired_at.is_null()),
    )
    .set(dsl::retired_at.eq(Some(now)))
    .execute(conn)
}
