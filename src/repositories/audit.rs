//! Queries on `audit_events`.

use diesel::prelude::*;

use crate::db::schema::audit_events::dsl;
use crate::db::DbConnection;
use crate::models::NewAuditEvent;

/// Appends one event.
pub fn insert(conn: &mut DbConnection, event: &NewAuditEvent) -> QueryResult<usize> {
    diesel::insert_into(dsl::audit_events)
        .values(event)
        .execute(conn)
}
