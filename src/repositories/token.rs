//! Queries on `tokens`. Revocations are single conditional UPDATEs whose
//! affected-row count tells the caller whether it won.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use diesel::sql_types::Bool;

use crate::db::schema::{sessions, tokens, tokens::dsl, users};
use crate::db::{DbConnection, QueryBackend as Backend};
use crate::models::{NewToken, RevokeReason, Session, Token, TokenContext, TokenKind, User};

/// Inserts one token row.
pub fn insert(conn: &mut DbConnection, token: &NewToken) -> QueryResult<usize> {
    diesel::insert_into(dsl::tokens).values(token).execute(conn)
}

/// Inserts several token rows (a new access + refresh pair): one statement,
/// one round trip, on PostgreSQL; SQLite, in process, takes them one by one.
pub fn insert_all(conn: &mut DbConnection, rows: &[NewToken]) -> QueryResult<usize> {
    match conn {
        DbConnection::Postgresql(pg) => diesel::insert_into(dsl::tokens).values(rows).execute(pg),
        DbConnection::Sqlite(_) => rows.iter().try_fold(0, |n, row| Ok(n + insert(conn, row)?)),
    }
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

/// Which unrevoked tokens a revocation reaches.
#[derive(Debug, Clone, Copy)]
pub enum TokenScope {
    /// One token, by id.
    One(i64),
    /// Every unexpired token of a session.
    Session(i64),
    /// Every unexpired token of a user, but those of session `keep` and the
    /// remembered devices (which outlive sessions).
    User {
        /// The owner.
        user_id: i64,
        /// A session whose tokens stay.
        keep: Option<i64>,
    },
    /// Every unexpired remembered-device token of a user.
    Devices(i64),
}

type TokenFilter = Box<dyn BoxableExpression<tokens::table, Backend, SqlType = Bool>>;

fn scope_filter(scope: TokenScope, now: NaiveDateTime) -> TokenFilter {
    match scope {
        TokenScope::One(id) => Box::new(dsl::id.eq(id)),
        TokenScope::Session(sid) => Box::new(
            dsl::session_id
                .assume_not_null()
                .eq(sid)
                .and(dsl::expires_at.gt(now)),
        ),
        TokenScope::Devices(user_id) => Box::new(
            dsl::user_id
                .eq(user_id)
                .and(dsl::token_type.eq(TokenKind::Device))
                .and(dsl::expires_at.gt(now)),
        ),
        TokenScope::User { user_id, keep } => {
            let live = dsl::user_id
                .eq(user_id)
                .and(dsl::expires_at.gt(now))
                .and(dsl::token_type.ne(TokenKind::Device));
            match keep {
                None => Box::new(live),
                Some(sid) => Box::new(
                    live.and(
                        dsl::session_id
                            .assume_not_null()
                            .ne(sid)
                            .or(dsl::session_id.is_null()),
                    ),
                ),
            }
        }
    }
}

/// The one revocation statement of `tokens`: flags every unrevoked token in
/// `scope` with `reason`. The affected-row count tells the caller whether it won.
pub fn revoke(
    conn: &mut DbConnection,
    scope: TokenScope,
    reason: &RevokeReason,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        dsl::tokens
            .filter(dsl::revoked.eq(false))
            .filter(scope_filter(scope, now)),
    )
    .set((
        dsl::revoked.eq(true),
        dsl::revoked_at.eq(Some(now)),
        dsl::revoked_reason.eq(Some(reason)),
    ))
    .execute(conn)
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

/// A user's live remembered devices, newest first.
pub fn list_devices(
    conn: &mut DbConnection,
    user_id: i64,
    now: NaiveDateTime,
) -> QueryResult<Vec<Token>> {
    dsl::tokens
        .filter(dsl::user_id.eq(user_id))
        .filter(dsl::token_type.eq(TokenKind::Device))
        .filter(dsl::revoked.eq(false))
        .filter(dsl::expires_at.gt(now))
        .order((dsl::created_at.desc(), dsl::id.desc()))
        .select(Token::as_select())
        .load(conn)
}

/// Marks a token used now (a remembered device at login).
pub fn mark_used(conn: &mut DbConnection, id: i64, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(dsl::tokens.find(id))
        .set(dsl::last_used_at.eq(Some(now)))
        .execute(conn)
}
