//! The `sessions` table: one row per login.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::sessions;

/// A session row.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = sessions)]
pub struct Session {
    /// Primary key.
    pub id: i64,
    /// The columns a login writes, as they stand now.
    #[diesel(embed)]
    pub login: NewSession,
    /// True once revoked.
    pub revoked: bool,
    /// When revoked.
    pub revoked_at: Option<NaiveDateTime>,
    /// Why revoked.
    pub revoked_reason: Option<super::RevokeReason>,
}

/// A session to insert (and, within `Session`, as it stands now).
#[derive(Debug, Clone, Insertable, Queryable, Selectable)]
#[diesel(table_name = sessions)]
pub struct NewSession {
    /// Owner.
    pub user_id: i64,
    /// Login time (UTC).
    pub created_at: NaiveDateTime,
    /// Last request seen, coalesced to about a minute (the login time at first).
    pub last_seen_at: NaiveDateTime,
    /// When the session ends unless refreshed (never past the maximum lifetime).
    pub expires_at: NaiveDateTime,
    /// Client IP at login.
    pub ip_address: Option<String>,
    /// Client user agent at login.
    pub user_agent: Option<String>,
    /// Name the client gave the device.
    pub device_name: Option<String>,
}
