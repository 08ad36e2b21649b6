//! Queries on `audit_events`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::audit_events::dsl;
use crate::db::DbConnection;
use crate::models::{AuditEvent, NewAuditEvent};

/// Appends one event.
pub fn insert(conn: &mut DbConnection, event: &NewAuditEvent) -> QueryResult<usize> {
    diesel::insert_into(dsl::audit_events)
        .values(event)
        .execute(conn)
}

/// Events matching every given filter, newest first.
pub fn list(
    conn: &mut DbConnection,
    user_id: Option<i64>,
    event: Option<&str>,
    since: Option<NaiveDateTime>,
    limit: i64,
) -> QueryResult<Vec<AuditEvent>> {
    let mut query = dsl::audit_events
        .select(AuditEvent::as_select())
        .into_boxed();
    if let Some(id) = user_id {
        query = query.filter(dsl::user_id.eq(id));
    }
    if let Some(name) = event {
        query = query.filter(dsl::event.eq(name.to_string()));
    }
    if let Some(t) = since {
        query = query.filter(dsl::created_at.ge(t));
    }
    query
        .order((dsl::created_at.desc(), dsl::id.desc()))
        .limit(limit)
        .load(conn)
}

/// Events named `event` recorded at or after `since`.
pub fn count_since(conn: &mut DbConnection, event: &str, since: NaiveDateTime) -> QueryResult<i64> {
    dsl::audit_events
        .filter(dsl::event.eq(event))
        .filter(dsl::created_at.ge(since))
        .count()
        .get_result(conn)
}
