//! Queries on `recovery_codes`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::recovery_codes::dsl;
use crate::db::DbConnection;

/// Replaces a user's codes with these hashes.
pub fn replace_all(
    conn: &mut DbConnection,
    user_id: i64,
    hashes: &[String],
    now: NaiveDateTime,
) -> QueryResult<()> {
    delete_all(conn, user_id)?;
    // One row per statement: multi-row inserts do not compile through MultiConnection.
    for hash in hashes {
        diesel::insert_into(dsl::recovery_codes)
            .values((
                dsl::user_id.eq(user_id),
                dsl::code_hash.eq(hash),
                dsl::created_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Deletes every code of a user.
pub fn delete_all(conn: &mut DbConnection, user_id: i64) -> QueryResult<usize> {
    diesel::delete(dsl::recovery_codes.filter(dsl::user_id.eq(user_id))).execute(conn)
}

/// Spends an unused code; returns 1 when this call spent it.
pub fn spend(
    conn: &mut DbConnection,
    user_id: i64,
    hash: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        dsl::recovery_codes
            .filter(dsl::user_id.eq(user_id))
            .filter(dsl::code_hash.eq(hash))
            .filter(dsl::used_at.is_null()),
    )
    .set(dsl::used_at.eq(Some(now)))
    .execute(conn)
}

/// Unused codes left for a user.
pub fn count_unused(conn: &mut DbConnection, user_id: i64) -> QueryResult<i64> {
    dsl::recovery_codes
        .filter(dsl::user_id.eq(user_id))
        .filter(dsl::used_at.is_null())
        .count()
        .get_result(conn)
}
