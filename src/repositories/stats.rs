//! Counts for the scrape-time gauges.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{sessions, tokens};
use crate::db::DbConnection;

/// Sessions neither revoked nor ended.
pub fn count_active_sessions(conn: &mut DbConnection, now: NaiveDateTime) -> QueryResult<i64> {
    sessions::table
        .filter(sessions::revoked.eq(false))
        .filter(sessions::expires_at.gt(now))
        .count()
        .get_result(conn)
}

/// Tokens neither revoked, marked expired nor past their expiry.
pub fn count_active_tokens(conn: &mut DbConnection, now: NaiveDateTime) -> QueryResult<i64> {
    tokens::table
        .filter(tokens::revoked.eq(false))
        .filter(tokens::expired.eq(false))
        .filter(tokens::expires_at.gt(now))
        .count()
        .get_result(conn)
}
