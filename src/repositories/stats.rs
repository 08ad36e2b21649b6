//! Repository layer: hourly counts behind `GET /admin/stats/hourly`, grouped
//! by the database (one row per hour and kind), so the work sent back does not
//! grow with the traffic. The hour is truncated in UTC on both backends.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};

use crate::db::DbConnection;

/// One group: how many `kind` things happened in the hour starting at `hour`.
#[derive(Debug, Clone, QueryableByName)]
pub struct HourCount {
    /// Start of the hour (UTC).
    #[diesel(sql_type = Timestamp)]
    pub hour: NaiveDateTime,
    /// What was counted: an audit event name, or `session_started` /
    /// `session_ended` / `session_revoked`.
    #[diesel(sql_type = Text)]
    pub kind: String,
    /// How many.
    #[diesel(sql_type = BigInt)]
    pub n: i64,
}

/// The hour that holds `column`, in each backend's dialect.
fn hour_of(conn: &DbConnection, column: &str) -> String {
    match conn {
        DbConnection::Postgresql(_) => format!("date_trunc('hour', {column})"),
        DbConnection::Sqlite(_) => format!("strftime('%Y-%m-%d %H:00:00', {column})"),
    }
}

/// When a session stopped being live: revoked or past its end, whichever came first.
fn session_end(conn: &DbConnection) -> &'static str {
    match conn {
        DbConnection::Postgresql(_) => "LEAST(COALESCE(revoked_at, expires_at), expires_at)",
        DbConnection::Sqlite(_) => "MIN(COALESCE(revoked_at, expires_at), expires_at)",
    }
}

/// Audit events named in `events` recorded in `[since, until)`, per hour and name.
/// The names are the project's own constants, never request input.
pub fn audit_events_by_hour(
    conn: &mut DbConnection,
    events: &[&str],
    since: NaiveDateTime,
    until: NaiveDateTime,
) -> QueryResult<Vec<HourCount>> {
    let names = events
        .iter()
        .map(|e| format!("'{}'", e.replace('\'', "''")))
        .collect::<Vec<_>>()
        .join(", ");
    let hour = hour_of(conn, "created_at");
    let sql = format!(
        "SELECT {hour} AS hour, event AS kind, COUNT(*) AS n FROM audit_events \
         WHERE event IN ({names}) AND created_at >= $1 AND created_at < $2 \
         GROUP BY {hour}, event"
    );
    load(conn, &sql, since, until)
}

/// Sessions started, ended (revoked or expired) and revoked in `[since, until)`,
/// per hour: `session_started`, `session_ended`, `session_revoked`.
pub fn sessions_by_hour(
    conn: &mut DbConnection,
    since: NaiveDateTime,
    until: NaiveDateTime,
) -> QueryResult<Vec<HourCount>> {
    let end = session_end(conn);
    let started = hour_of(conn, "created_at");
    let ended = hour_of(conn, end);
    let revoked = hour_of(conn, "revoked_at");
    let sql = format!(
        "SELECT {started} AS hour, 'session_started' AS kind, COUNT(*) AS n FROM sessions \
         WHERE created_at >= $1 AND created_at < $2 GROUP BY {started} \
         UNION ALL \
         SELECT {ended} AS hour, 'session_ended' AS kind, COUNT(*) AS n FROM sessions \
         WHERE {end} >= $1 AND {end} < $2 GROUP BY {ended} \
         UNION ALL \
         SELECT {revoked} AS hour, 'session_revoked' AS kind, COUNT(*) AS n FROM sessions \
         WHERE revoked AND revoked_at >= $1 AND revoked_at < $2 GROUP BY {revoked}"
    );
    load(conn, &sql, since, until)
}

/// Sessions live at the instant `at`: started before it and not yet ended.
pub fn sessions_live_at(conn: &mut DbConnection, at: NaiveDateTime) -> QueryResult<i64> {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let end = session_end(conn);
    let sql = format!("SELECT COUNT(*) AS n FROM sessions WHERE created_at < $1 AND {end} > $2");
    let rows: Vec<Count> = match conn {
        DbConnection::Postgresql(pg) => diesel::sql_query(sql)
            .bind::<Timestamp, _>(at)
            .bind::<Timestamp, _>(at)
            .load(pg)?,
        DbConnection::Sqlite(lite) => diesel::sql_query(sql.replace('$', "?"))
            .bind::<Timestamp, _>(at)
            .bind::<Timestamp, _>(at)
            .load(lite)?,
    };
    Ok(rows.first().map_or(0, |c| c.n))
}

fn load(
    conn: &mut DbConnection,
    sql: &str,
    since: NaiveDateTime,
    until: NaiveDateTime,
) -> QueryResult<Vec<HourCount>> {
    match conn {
        DbConnection::Postgresql(pg) => diesel::sql_query(sql)
            .bind::<Timestamp, _>(since)
            .bind::<Timestamp, _>(until)
            .load(pg),
        DbConnection::Sqlite(lite) => diesel::sql_query(sql.replace('$', "?"))
            .bind::<Timestamp, _>(since)
            .bind::<Timestamp, _>(until)
            .load(lite),
    }
}
