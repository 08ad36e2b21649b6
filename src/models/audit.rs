//! The `audit_events` table.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::audit_events;

/// An audit row.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_events)]
pub struct AuditEvent {
    /// Primary key.
    pub id: i64,
    /// Every other column, as it was written.
    #[diesel(embed)]
    pub entry: NewAuditEvent,
}

/// An audit row to insert (and, under its id, as read back).
#[derive(Debug, Clone, Insertable, Queryable, Selectable)]
#[diesel(table_name = audit_events)]
pub struct NewAuditEvent {
    /// Event name (e.g. `login_succeeded`).
    pub event: String,
    /// Account concerned.
    pub user_id: Option<i64>,
    /// Its email.
    pub user_email: Option<String>,
    /// Client IP.
    pub ip_address: Option<String>,
    /// Client user agent.
    pub user_agent: Option<String>,
    /// When (UTC).
    pub created_at: NaiveDateTime,
    /// JSON object with event-specific details.
    pub details: String,
}
