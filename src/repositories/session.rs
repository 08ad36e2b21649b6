//! Queries on `sessions`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::sessions::dsl;
use crate::db::DbConnection;
use crate::models::{NewSession, Session};

/// Inserts a session and returns the stored row.
pub fn insert(conn: &mut DbConnection, session: &NewSession) -> QueryResult<Session> {
    diesel::insert_into(dsl::sessions)
        .values(session)
        .returning(crate::db::schema::sessions::all_columns)
        .get_result(conn)
}

/// The session with this id.
pub fn find_by_id(conn: &mut DbConnection, id: i64) -> QueryResult<Option<Session>> {
    dsl::sessions
        .find(id)
        .select(Session::as_select())
        .first(conn)
        .optional()
}

/// A user's sessions that are neither revoked nor past their end, newest first.
pub fn list_active_for_user(
    conn: &mut DbConnection,
    user_id: i64,
    now: NaiveDateTime,
) -> QueryResult<Vec<Session>> {
    dsl::sessions
        .filter(dsl::user_id.eq(user_id))
        .filter(dsl::revoked.eq(false))
        .filter(dsl::expires_at.gt(now))
        .order((dsl::created_at.desc(), dsl::id.desc()))
        .select(Session::as_select())
        .load(conn)
}

/// Revokes one session if still live; returns 1 when this call revoked it.
pub fn revoke(
    conn: &mut DbConnection,
    id: i64,
    reason: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        dsl::sessions
            .filter(dsl::id.eq(id))
            .filter(dsl::revoked.eq(false)),
    )
    .set((
        dsl::revoked.eq(true),
        dsl::revoked_at.eq(Some(now)),
        dsl::revoked_reason.eq(Some(reason)),
    ))
    .execute(conn)
}

/// Revokes every live session of a user, except `keep` when given.
pub fn revoke_all_for_user(
    conn: &mut DbConnection,
    user_id: i64,
    keep: Option<i64>,
    reason: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let target = dsl::sessions
        .filter(dsl::user_id.eq(user_id))
        .filter(dsl::revoked.eq(false))
        .filter(dsl::expires_at.gt(now))
        .filter(dsl::id.ne(keep.unwrap_or(-1)));
    diesel::update(target)
        .set((
            dsl::revoked.eq(true),
            dsl::revoked_at.eq(Some(now)),
            dsl::revoked_reason.eq(Some(reason)),
        ))
        .execute(conn)
}

/// Moves a session's end (on refresh) and marks it seen.
pub fn extend(
    conn: &mut DbConnection,
    id: i64,
    expires_at: NaiveDateTime,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(dsl::sessions.find(id))
        .set((dsl::expires_at.eq(expires_at), dsl::last_seen_at.eq(now)))
        .execute(conn)
}

/// Marks a session seen unless it was marked after `stale_before`.
pub fn touch(
    conn: &mut DbConnection,
    id: i64,
    now: NaiveDateTime,
    stale_before: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        dsl::sessions
            .filter(dsl::id.eq(id))
            .filter(dsl::last_seen_at.lt(stale_before)),
    )
    .set(dsl::last_seen_at.eq(now))
    .execute(conn)
}

/// Among `ids`, the sessions that are revoked or past their end (the WebSocket
/// sweep closes their sockets).
pub fn find_ended_among(
    conn: &mut DbConnection,
    ids: &[i64],
    now: NaiveDateTime,
) -> QueryResult<Vec<Session>> {
    dsl::sessions
        .filter(dsl::id.eq_any(ids))
        .filter(dsl::revoked.eq(true).or(dsl::expires_at.le(now)))
        .select(Session::as_select())
        .load(conn)
}
