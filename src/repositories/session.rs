//! Queries on `sessions`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use diesel::sql_types::Bool;

use crate::db::schema::{sessions, sessions::dsl};
use crate::db::{DbConnection, QueryBackend as Backend};
use crate::models::{NewSession, RevokeReason, Session};

/// Inserts a session and returns the stored row.
pub fn insert(conn: &mut DbConnection, session: &NewSession) -> QueryResult<Session> {
    diesel::insert_into(dsl::sessions)
        .values(session)
        // The columns as `Session` selects them (its login columns nested).
        .returning(<Session as Selectable<Backend>>::construct_selection())
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

/// True for a session that still holds a token neither revoked nor expired: a
/// session whose tokens were all revoked (by plain SQL, say) is not live.
pub fn holds_live_token(now: NaiveDateTime) -> SessionFilter {
    Box::new(
        diesel::dsl::sql::<Bool>(
            "EXISTS (SELECT 1 FROM tokens t WHERE t.session_id = sessions.id \
             AND t.revoked = FALSE AND t.expires_at > ",
        )
        .bind::<diesel::sql_types::Timestamp, _>(now)
        .sql(")"),
    )
}

/// A user's live sessions (not revoked, not past their end, holding a live
/// token), newest first.
pub fn list_active_for_user(
    conn: &mut DbConnection,
    user_id: i64,
    now: NaiveDateTime,
) -> QueryResult<Vec<Session>> {
    dsl::sessions
        .filter(dsl::user_id.eq(user_id))
        .filter(dsl::revoked.eq(false))
        .filter(dsl::expires_at.gt(now))
        .filter(holds_live_token(now))
        .order((dsl::created_at.desc(), dsl::id.desc()))
        .select(Session::as_select())
        .load(conn)
}

/// Which live sessions a revocation reaches.
#[derive(Debug, Clone, Copy)]
pub enum SessionScope {
    /// One session, by id (whatever its end).
    One(i64),
    /// Every unexpired session of a user, but `keep`.
    User {
        /// The owner.
        user_id: i64,
        /// A session that stays.
        keep: Option<i64>,
    },
}

/// A condition on `sessions` rows.
pub type SessionFilter = Box<dyn BoxableExpression<sessions::table, Backend, SqlType = Bool>>;

/// The one revocation statement of `sessions`: flags every unrevoked session
/// in `scope` with `reason` and returns the ids it ended.
pub fn revoke(
    conn: &mut DbConnection,
    scope: SessionScope,
    reason: &RevokeReason,
    now: NaiveDateTime,
) -> QueryResult<Vec<i64>> {
    let filter: SessionFilter = match scope {
        SessionScope::One(id) => Box::new(dsl::id.eq(id)),
        SessionScope::User { user_id, keep } => Box::new(
            dsl::user_id
                .eq(user_id)
                .and(dsl::expires_at.gt(now))
                .and(dsl::id.ne(keep.unwrap_or(-1))),
        ),
    };
    diesel::update(dsl::sessions.filter(dsl::revoked.eq(false)).filter(filter))
        .set((
            dsl::revoked.eq(true),
            dsl::revoked_at.eq(Some(now)),
            dsl::revoked_reason.eq(Some(reason)),
        ))
        .returning(dsl::id)
        .get_results(conn)
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

/// Among `ids`, the sessions that are revoked, past their end, or left with no
/// live token (the WebSocket sweep closes their sockets).
pub fn find_ended_among(
    conn: &mut DbConnection,
    ids: &[i64],
    now: NaiveDateTime,
) -> QueryResult<Vec<Session>> {
    dsl::sessions
        .filter(dsl::id.eq_any(ids))
        .filter(
            dsl::revoked
                .eq(true)
                .or(dsl::expires_at.le(now))
                .or(diesel::dsl::not(holds_live_token(now))),
        )
        .select(Session::as_select())
        .load(conn)
}
