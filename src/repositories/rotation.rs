//! The writes of a refresh-token rotation: flip the presented token, extend
//! its session, store the new pair and the audit row, all or nothing. The
//! conditional flip decides concurrent refreshes: only the caller whose UPDATE
//! changed the row writes anything.
//!
//! On PostgreSQL it is one statement (data-modifying CTEs, atomic on its own,
//! one round trip and one commit); on SQLite, in process, the same statements
//! run one by one, in the write transaction the caller holds
//! (`db::single_statement_write`).

use chrono::NaiveDateTime;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};

use super::{audit as audit_repo, session as session_repo, token as token_repo};
use crate::db::DbConnection;
use crate::models::{NewAuditEvent, NewToken, RevokeReason};

/// One rotation's writes.
pub struct Rotation<'a> {
    /// The presented refresh token's row.
    pub token_id: i64,
    /// Its session.
    pub session_id: i64,
    /// The session's new end.
    pub session_end: NaiveDateTime,
    /// The moment of the refresh.
    pub now: NaiveDateTime,
    /// The new access and refresh rows.
    pub rows: &'a [NewToken],
    /// The `token_refreshed` audit row.
    pub audit: &'a NewAuditEvent,
}

/// Performs the rotation; false when the token was no longer live (a
/// concurrent refresh or a revocation came first), and then nothing is written.
pub fn rotate(conn: &mut DbConnection, r: &Rotation<'_>) -> QueryResult<bool> {
    match conn {
        DbConnection::Postgresql(pg) => rotate_in_one_statement(pg, r),
        DbConnection::Sqlite(_) => rotate_step_by_step(conn, r),
    }
}

fn rotate_step_by_step(conn: &mut DbConnection, r: &Rotation<'_>) -> QueryResult<bool> {
    let flipped = token_repo::revoke(
        conn,
        token_repo::TokenScope::One(r.token_id),
        &RevokeReason::Rotated,
        r.now,
    )?;
    if flipped == 0 {
        return Ok(false);
    }
    session_repo::extend(conn, r.session_id, r.session_end, r.now)?;
    token_repo::insert_all(conn, r.rows)?;
    audit_repo::insert(conn, r.audit)?;
    Ok(true)
}

#[derive(QueryableByName)]
struct Flipped {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// `$first, $first+1, ...`: `count` parameter marks.
fn marks(first: usize, count: usize) -> String {
    let marks: Vec<String> = (first..first + count).map(|n| format!("${n}")).collect();
    marks.join(", ")
}

fn rotate_in_one_statement(pg: &mut PgConnection, r: &Rotation<'_>) -> QueryResult<bool> {
    // Parameters: $1-$6 the flip and the session, then each token row's
    // columns, then the audit row's.
    const FIXED: usize = 6;
    const TOKEN_COLUMNS: usize = 11;
    const AUDIT_COLUMNS: usize = 7;
    let values: Vec<String> = (0..r.rows.len())
        .map(|i| format!("({})", marks(FIXED + 1 + i * TOKEN_COLUMNS, TOKEN_COLUMNS)))
        .collect();
    let audit_marks = marks(FIXED + 1 + r.rows.len() * TOKEN_COLUMNS, AUDIT_COLUMNS);
    let sql = format!(
        "WITH rotated AS (
            UPDATE tokens SET revoked = TRUE, revoked_at = $1, revoked_reason = $2
            WHERE id = $3 AND revoked = FALSE
            RETURNING id
        ), extended AS (
            UPDATE sessions SET expires_at = $4, last_seen_at = $5
            WHERE id = $6 AND EXISTS (SELECT 1 FROM rotated)
        ), issued AS (
            INSERT INTO tokens (jti, token_hash, token_type, user_id, user_email, session_id,
                                created_at, expires_at, user_agent, ip_address, key_id)
            SELECT * FROM (VALUES {}) AS v
            WHERE EXISTS (SELECT 1 FROM rotated)
        ), audited AS (
            INSERT INTO audit_events (event, user_id, user_email, ip_address, user_agent,
                                      created_at, details)
            SELECT {} WHERE EXISTS (SELECT 1 FROM rotated)
        )
        SELECT COUNT(*) AS n FROM rotated",
        values.join(", "),
        audit_marks
    );
    let mut query = diesel::sql_query(sql)
        .into_boxed::<Pg>()
        .bind::<Timestamp, _>(r.now)
        .bind::<Text, _>(RevokeReason::Rotated.as_str().to_string())
        .bind::<BigInt, _>(r.token_id)
        .bind::<Timestamp, _>(r.session_end)
        .bind::<Timestamp, _>(r.now)
        .bind::<BigInt, _>(r.session_id);
    for row in r.rows {
        query = query
            .bind::<Text, _>(row.jti.clone())
            .bind::<Text, _>(row.token_hash.clone())
            .bind::<Text, _>(row.token_type.as_str().to_string())
            .bind::<BigInt, _>(row.user_id)
            .bind::<Text, _>(row.user_email.clone())
            .bind::<Nullable<BigInt>, _>(row.session_id)
            .bind::<Timestamp, _>(row.created_at)
            .bind::<Timestamp, _>(row.expires_at)
            .bind::<Nullable<Text>, _>(row.user_agent.clone())
            .bind::<Nullable<Text>, _>(row.ip_address.clone())
            .bind::<Nullable<Text>, _>(row.key_id.clone());
    }
    let a = r.audit;
    let query = query
        .bind::<Text, _>(a.event.clone())
        .bind::<Nullable<BigInt>, _>(a.user_id)
        .bind::<Nullable<Text>, _>(a.user_email.clone())
        .bind::<Nullable<Text>, _>(a.ip_address.clone())
        .bind::<Nullable<Text>, _>(a.user_agent.clone())
        .bind::<Timestamp, _>(a.created_at)
        .bind::<Text, _>(a.details.clone());
    let flipped: Flipped = query.get_result(pg)?;
    Ok(flipped.n == 1)
}
