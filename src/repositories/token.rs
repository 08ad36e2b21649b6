//! Queries on `tokens`. Revocations are single conditional UPDATEs whose
//! affected-row count tells the caller whether it won.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{sessions, tokens::dsl, users};
use crate::db::DbConnection;
use crate::models::{NewToken, Session, Token, TokenContext, User};

/// Inserts one token row.
pub fn insert(conn: &mut DbConnection, token: &NewToken) -> QueryResult<usize> {
    diesel::insert_into(dsl::tokens).values(token).execute(conn)
}

/// The token with this hash.
pub fn find_by_hash(conn: &mut DbConnection, hash: &str) -> QueryResult<Option<Token>> {
    dsl::tokens
        .filter(dsl::token_hash.eq(hash))
        .select(Token::as_select())
        .first(conn)
        .optional()
}

/// The token with this hash together with its session and owner, in one query.
pub fn find_context_by_hash(
    conn: &mut DbConnection,
    hash: &str,
) -> QueryResult<Option<TokenContext>> {
    dsl::tokens
        .inner_join(users::table)
        .left_join(sessions::table)
        .filter(dsl::token_hash.eq(hash))
        .select((
            Token::as_select(),
            Option::<Session>::as_select(),
            User::as_select(),
        ))
        .first::<(Token, Option<Session>, User)>(conn)
        .optional()
        .map(|row| row.map(context))
}

/// The tokens with these hashes, each with its session and owner, in one query
/// (hashes with no token are simply missing from the answer).
pub fn find_contexts_by_hashes(
    conn: &mut DbConnection,
    hashes: &[String],
) -> QueryResult<Vec<TokenContext>> {
    dsl::tokens
        .inner_join(users::table)
        .left_join(sessions::table)
        .filter(dsl::token_hash.eq_any(hashes))
        .select((
            Token::as_select(),
            Option::<Session>::as_select(),
            User::as_select(),
        ))
        .load::<(Token, Option<Session>, User)>(conn)
        .map(|rows| rows.into_iter().map(context).collect())
}

fn context((token, session, user): (Token, Option<Session>, User)) -> TokenContext {
    TokenContext {
        token,
        session,
        user,
    }
}

/// Revokes one token if not yet revoked; returns 1 when this call revoked it.
pub fn revoke_if_active(
    conn: &mut DbConnection,
    id: i64,
    reason: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        dsl::tokens
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

/// Revokes every live token of a session.
pub fn revoke_by_session(
    conn: &mut DbConnection,
    session_id: i64,
    reason: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        dsl::tokens
            .filter(dsl::session_id.eq(session_id))
            .filter(dsl::revoked.eq(false))
            .filter(dsl::expires_at.gt(now)),
    )
    .set((
        dsl::revoked.eq(true),
        dsl::revoked_at.eq(Some(now)),
        dsl::revoked_reason.eq(Some(reason)),
    ))
    .execute(conn)
}

/// Revokes every live token of a user, except those of session `keep`.
pub fn revoke_by_user(
    conn: &mut DbConnection,
    user_id: i64,
    keep: Option<i64>,
    reason: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let live = dsl::tokens
        .filter(dsl::user_id.eq(user_id))
        .filter(dsl::revoked.eq(false))
        .filter(dsl::expires_at.gt(now));
    let set = (
        dsl::revoked.eq(true),
        dsl::revoked_at.eq(Some(now)),
        dsl::revoked_reason.eq(Some(reason)),
    );
    match keep {
        Some(sid) => {
            diesel::update(live.filter(dsl::session_id.ne(sid).or(dsl::session_id.is_null())))
                .set(set)
                .execute(conn)
        }
        None => diesel::update(live).set(set).execute(conn),
    }
}

/// Marks a token used unless it was marked after `stale_before`.
pub fn touch(
    conn: &mut DbConnection,
    id: i64,
    now: NaiveDateTime,
    stale_before: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        dsl::tokens.filter(dsl::id.eq(id)).filter(
            dsl::last_used_at
                .is_null()
                .or(dsl::last_used_at.lt(stale_before)),
        ),
    )
    .set(dsl::last_used_at.eq(Some(now)))
    .execute(conn)
}

/// Adds one wrong code to a challenge and returns the new count.
pub fn increment_attempts(conn: &mut DbConnection, id: i64) -> QueryResult<i32> {
    diesel::update(dsl::tokens.find(id))
        .set(dsl::attempts.eq(dsl::attempts + 1))
        .returning(dsl::attempts)
        .get_result(conn)
}

/// True while any unexpired token signed with `kid` exists (revoked or not:
/// a revoked token must still verify to be reported as revoked).
pub fn any_live_for_key(
    conn: &mut DbConnection,
    kid: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        dsl::tokens
            .filter(dsl::key_id.eq(kid))
            .filter(dsl::expires_at.gt(now)),
    ))
    .get_result(conn)
}

/// The token with this jti.
pub fn find_by_jti(conn: &mut DbConnection, jti: &str) -> QueryResult<Option<Token>> {
    dsl::tokens
        .filter(dsl::jti.eq(jti))
        .select(Token::as_select())
        .first(conn)
        .optional()
}
