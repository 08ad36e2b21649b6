//! Repository layer: the counts behind `GET /admin/tokens/metrics`. Each is
//! served by an index (see the cleanup migration for the time-based ones).

use chrono::NaiveDateTime;
use diesel::dsl::not;
use diesel::prelude::*;

use crate::db::schema::{sessions, tokens};
use crate::db::DbConnection;
use crate::models::RevokeReason;

/// Tokens issued at or after `since`.
pub fn tokens_created_since(conn: &mut DbConnection, since: NaiveDateTime) -> QueryResult<i64> {
    tokens::table
        .filter(tokens::created_at.ge(since))
        .count()
        .get_result(conn)
}

/// Tokens revoked at or after `since`, refresh-token rotations excepted.
pub fn tokens_revoked_since(conn: &mut DbConnection, since: NaiveDateTime) -> QueryResult<i64> {
    tokens::table
        .filter(tokens::revoked)
        .filter(tokens::revoked_at.ge(since))
        .filter(
            tokens::revoked_reason
                .is_null()
                .or(tokens::revoked_reason.ne(RevokeReason::Rotated)),
        )
        .count()
        .get_result(conn)
}

/// Sessions neither revoked nor past their end, holding a live token.
pub fn active_sessions(conn: &mut DbConnection, now: NaiveDateTime) -> QueryResult<i64> {
    sessions::table
        .filter(not(sessions::revoked))
        .filter(sessions::expires_at.gt(now))
        .filter(super::session::holds_live_token(now))
        .count()
        .get_result(conn)
}

/// Tokens neither revoked, marked expired nor past `expires_at` (the contract's
/// monitoring predicate, which the partial index `tokens_valid_idx` serves).
pub fn active_tokens(conn: &mut DbConnection, now: NaiveDateTime) -> QueryResult<i64> {
    tokens::table
        .filter(not(tokens::revoked))
        .filter(not(tokens::expired))
        .filter(tokens::expires_at.gt(now))
        .count()
        .get_result(conn)
}
