//! Session list bodies.

use chrono::NaiveDateTime;
use serde::Serialize;

use crate::models::{Session, Token};
use crate::util::{id_string, serde_rfc3339};

/// One entry of `GET /auth/sessions`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SessionResponse {
    /// Session id.
    #[schema(value_type = String)]
    #[serde(with = "id_string")]
    pub id: i64,
    /// Login time.
    #[schema(value_type = String, format = DateTime)]
    #[serde(with = "serde_rfc3339")]
    pub created_at: NaiveDateTime,
    /// Last activity (to about a minute).
    #[schema(value_type = String, format = DateTime)]
    #[serde(with = "serde_rfc3339")]
    pub last_seen_at: NaiveDateTime,
    /// When it ends unless refreshed.
    #[schema(value_type = String, format = DateTime)]
    #[serde(with = "serde_rfc3339")]
    pub expires_at: NaiveDateTime,
    /// IP at login.
    pub ip_address: Option<String>,
    /// User agent at login.
    pub user_agent: Option<String>,
    /// Device label.
    pub device_name: Option<String>,
    /// True for the caller's own session (absent in admin views).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current: Option<bool>,
}

impl SessionResponse {
    /// Shapes a row; `current` is the caller's session id when known.
    pub fn from_session(s: &Session, current: Option<i64>) -> Self {
        Self {
            id: s.id,
            created_at: s.login.created_at,
            last_seen_at: s.login.last_seen_at,
            expires_at: s.login.expires_at,
            ip_address: s.login.ip_address.clone(),
            user_agent: s.login.user_agent.clone(),
            device_name: s.login.device_name.clone(),
            current: current.map(|c| c == s.id),
        }
    }
}

/// One entry of `GET /auth/devices`: a remembered device.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeviceResponse {
    /// Device id (for `DELETE /auth/devices/{id}`).
    #[schema(value_type = String)]
    #[serde(with = "id_string")]
    pub id: i64,
    /// When it was remembered.
    #[schema(value_type = String, format = DateTime)]
    #[serde(with = "serde_rfc3339")]
    pub created_at: NaiveDateTime,
    /// When it stops being remembered.
    #[schema(value_type = String, format = DateTime)]
    #[serde(with = "serde_rfc3339")]
    pub expires_at: NaiveDateTime,
    /// Its last login.
    #[schema(value_type = Option<String>, format = DateTime)]
    #[serde(with = "serde_rfc3339::option")]
    pub last_used_at: Option<NaiveDateTime>,
    /// IP it was remembered from.
    pub ip_address: Option<String>,
    /// User agent it was remembered from.
    pub user_agent: Option<String>,
}

impl From<&Token> for DeviceResponse {
    fn from(t: &Token) -> Self {
        Self {
            id: t.id,
            created_at: t.issued.created_at,
            expires_at: t.issued.expires_at,
            last_used_at: t.last_used_at,
            ip_address: t.issued.ip_address.clone(),
            user_agent: t.issued.user_agent.clone(),
        }
    }
}
