//! DTO layer: the query string and events of `GET /admin/audit`. A bad query
//! value is a 400 `invalid_request` naming it.

use chrono::{DateTime, NaiveDateTime};
use serde::{Deserialize, Serialize};

use super::admin::{bad, number};
use crate::errors::AppError;
use crate::models::AuditEvent;
use crate::util::serde_rfc3339;

/// Default and largest page of `GET /admin/audit`.
pub const AUDIT_PAGE: (i64, i64) = (100, 1000);

/// `GET /admin/audit?user_id&event&since&limit` as sent.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct AuditQuery {
    /// Account concerned (decimal id).
    pub user_id: Option<String>,
    /// Exact event name.
    pub event: Option<String>,
    /// RFC 3339 time, inclusive.
    pub since: Option<String>,
    /// Page size (default 100, at most 1000).
    pub limit: Option<String>,
}

/// Checked audit filters.
#[derive(Debug, Clone)]
pub struct AuditFilter {
    /// Account concerned.
    pub user_id: Option<i64>,
    /// Exact event name.
    pub event: Option<String>,
    /// Earliest `created_at` (UTC), inclusive.
    pub since: Option<NaiveDateTime>,
    /// Page size.
    pub limit: i64,
}

impl AuditQuery {
    /// Checks every value.
    pub fn parse(self) -> Result<AuditFilter, AppError> {
        let (default, max) = AUDIT_PAGE;
        let user_id = match self.user_id.as_deref().map(str::trim) {
            None => None,
            Some(raw) => Some(
                raw.parse::<i64>()
                    .ok()
                    .filter(|id| *id > 0)
                    .ok_or_else(|| bad("`user_id` must be a user id.".into()))?,
            ),
        };
        let event = self.event.map(|e| e.trim().to_string());
        let valid_event = |e: &String| {
            (1..=64).contains(&e.len()) && e.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
        };
        if event.as_ref().is_some_and(|e| !valid_event(e)) {
            return Err(bad(
                "`event` must be an event name such as login_failed.".into()
            ));
        }
        let since = match self.since.as_deref().map(str::trim) {
            None => None,
            Some(raw) => Some(
                DateTime::parse_from_rfc3339(raw)
                    .map(|t| t.naive_utc())
                    .map_err(|_| {
                        bad("`since` must be an RFC 3339 time such as 2026-11-23T10:00:00Z.".into())
                    })?,
            ),
        };
        Ok(AuditFilter {
            user_id,
            event,
            since,
            limit: number("limit", self.limit.as_deref(), default, 1, max)?,
        })
    }
}

/// One audit event as the contract shapes it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditEventResponse {
    /// Id, as a string.
    pub id: String,
    /// Event name.
    pub event: String,
    /// Account concerned, as a string.
    pub user_id: Option<String>,
    /// Its email.
    pub user_email: Option<String>,
    /// Client IP.
    pub ip_address: Option<String>,
    /// Client user agent.
    pub user_agent: Option<String>,
    /// When.
    #[schema(value_type = String, format = DateTime)]
    #[serde(with = "serde_rfc3339")]
    pub created_at: NaiveDateTime,
    /// Event-specific details (always an object).
    pub details: serde_json::Value,
}

impl From<AuditEvent> for AuditEventResponse {
    fn from(e: AuditEvent) -> Self {
        // Rows written by hand may hold anything; the contract promises an object.
        let entry = e.entry;
        let details = match serde_json::from_str::<serde_json::Value>(&entry.details) {
            Ok(v @ serde_json::Value::Object(_)) => v,
            _ => serde_json::json!({}),
        };
        Self {
            id: e.id.to_string(),
            event: entry.event,
            user_id: entry.user_id.map(|id| id.to_string()),
            user_email: entry.user_email,
            ip_address: entry.ip_address,
            user_agent: entry.user_agent,
            created_at: entry.created_at,
            details,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn audit(user_id: Option<&str>, since: Option<&str>, limit: Option<&str>) -> AuditQuery {
        AuditQuery {
            user_id: user_id.map(Into::into),
            event: None,
            since: since.map(Into::into),
            limit: limit.map(Into::into),
        }
    }

    #[test]
    fn audit_queries_are_checked() {
        let f = audit(Some("7"), Some("2026-11-23T05:00:00-05:00"), None)
            .parse()
            .unwrap();
        assert_eq!(f.user_id, Some(7));
        assert_eq!(f.limit, 100);
        assert_eq!(
            f.since.map(crate::util::rfc3339).as_deref(),
            Some("2026-11-23T10:00:00Z")
        );
        for bad in [
            audit(Some("x"), None, None),
            audit(None, Some("yesterday"), None),
            audit(None, None, Some("0")),
            audit(None, None, Some("1001")),
        ] {
            assert!(matches!(bad.parse(), Err(AppError::InvalidRequest(_))));
        }
    }
}
