//! WebSocket ticket and admin notification bodies.

use serde::{Deserialize, Serialize};
use validator::Validate;

use crate::errors::AppError;

/// `POST /api/ws/token` answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WsTicketResponse {
    /// Single-use ticket for `GET /ws?token=...`.
    pub token: String,
    /// Seconds it stays valid.
    pub expires_in: i64,
}

/// `GET /ws` query.
#[derive(Debug, Deserialize)]
pub struct WsQuery {
    /// The ticket.
    pub token: Option<String>,
}

/// A user id as JSON may carry it: a decimal string (the contract) or a number.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum IdInput {
    /// `"42"`.
    Text(String),
    /// `42` (or `42.0`, which JSON Schema counts as the same integer).
    Number(serde_json::Number),
}

/// `POST /admin/notifications`.
#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotificationRequest {
    /// Recipient; every connected user when absent.
    #[schema(value_type = Option<String>)]
    pub user_id: Option<IdInput>,
    /// The text shown to the user.
    #[validate(
        length(max = 2000, message = "must be at most 2000 characters"),
        custom(function = "super::validate::not_blank")
    )]
    #[schema(min_length = 1, max_length = 2000)]
    pub message: String,
}

impl NotificationRequest {
    /// The recipient as an id, or a 422 naming `user_id`.
    pub fn recipient(&self) -> Result<Option<i64>, AppError> {
        let parsed = match &self.user_id {
            None => return Ok(None),
            Some(IdInput::Text(s)) => super::validate::user_id(s),
            Some(IdInput::Number(n)) => n.as_i64().or_else(|| {
                // A whole float below 2^63 converts exactly.
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && f.abs() < 9_223_372_036_854_775_808.0)
                    .map(|f| f as i64)
            }),
        };
        match parsed.filter(|id| *id > 0) {
            Some(id) => Ok(Some(id)),
            None => Err(AppError::field("user_id", "must be a user id")),
        }
    }
}
