//! DTO layer: bodies and query strings of the `/admin/users` and `/admin/tokens`
//! endpoints. Query values are parsed here, so a bad one is a 400
//! `invalid_request` naming it.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use validator::Validate;

use crate::errors::AppError;
use crate::util::serde_rfc3339;

/// Default and largest page of `GET /admin/users`.
pub const USERS_PAGE: (i64, i64) = (50, 500);

pub(super) fn bad(message: String) -> AppError {
    AppError::InvalidRequest(message)
}

/// A whole number from the query string, within `min..=max`.
pub(super) fn number(
    name: &str,
    raw: Option<&str>,
    default: i64,
    min: i64,
    max: i64,
) -> Result<i64, AppError> {
    let Some(raw) = raw else {
        return Ok(default);
    };
    raw.trim()
        .parse::<i64>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| {
            bad(format!(
                "`{name}` must be a whole number from {min} to {max}."
            ))
        })
}

/// `GET /admin/users?limit&offset&email` as sent.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct UserListQuery {
    /// Page size (default 50, at most 500).
    pub limit: Option<String>,
    /// Rows to skip (default 0).
    pub offset: Option<String>,
    /// Case-insensitive substring of the email.
    pub email: Option<String>,
}

/// A checked page of users.
#[derive(Debug, Clone)]
pub struct UserListParams {
    /// Page size.
    pub limit: i64,
    /// Rows skipped.
    pub offset: i64,
    /// Lowercased email fragment, when given and not blank.
    pub email: Option<String>,
}

impl UserListQuery {
    /// Checks every value.
    pub fn parse(self) -> Result<UserListParams, AppError> {
        let (default, max) = USERS_PAGE;
        let email = self
            .email
            .map(|e| e.trim().to_lowercase())
            .filter(|e| !e.is_empty());
        if email
            .as_deref()
            .is_some_and(|e| e.len() > 254 || e.contains('\0'))
        {
            return Err(bad("`email` must be at most 254 characters of text.".into()));
        }
        Ok(UserListParams {
            limit: number("limit", self.limit.as_deref(), default, 1, max)?,
            offset: number("offset", self.offset.as_deref(), 0, 0, i64::from(i32::MAX))?,
            email,
        })
    }
}

/// `POST /admin/users/{id}/password`: a password to set, or none to have one generated.
#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetPasswordRequest {
    /// The temporary password (held to the policy); generated when absent.
    #[validate(custom(function = "super::validate::new_password"))]
    #[schema(min_length = 1, max_length = 128)]
    pub password: Option<String>,
}

/// `POST /admin/users/{id}/password` answer when the password was generated.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TemporaryPasswordResponse {
    /// Shown once: the user must change it at the next login.
    pub temporary_password: String,
}

/// `PATCH /admin/users/{id}`: every field optional, at least one given.
#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUserRequest {
    /// False disables the account and ends every session.
    pub is_active: Option<bool>,
    /// The new role list (replaces the old one; at least one role).
    #[validate(custom(function = "super::validate::roles"))]
    #[schema(min_items = 1, max_items = 20)]
    #[validate(length(min = 1, message = "must name at least one role"))]
    pub roles: Option<Vec<String>>,
    /// New display name.
    #[validate(
        length(max = 200, message = "must be at most 200 characters"),
        custom(function = "super::validate::no_nul")
    )]
    #[schema(max_length = 200)]
    pub full_name: Option<String>,
}

impl UpdateUserRequest {
    /// True when the body changes nothing.
    pub fn is_empty(&self) -> bool {
        self.is_active.is_none() && self.roles.is_none() && self.full_name.is_none()
    }
}

/// `POST /admin/tokens/revoke`: exactly one of `token` and `jti`.
#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeTokenRequest {
    /// The raw token (access JWT or refresh token).
    #[validate(
        length(max = 4096, message = "must be at most 4096 characters"),
        custom(function = "super::validate::not_blank")
    )]
    #[schema(min_length = 1, max_length = 4096)]
    pub token: Option<String>,
    /// The token's id.
    #[validate(
        length(max = 64, message = "must be at most 64 characters"),
        custom(function = "super::validate::not_blank")
    )]
    #[schema(min_length = 1, max_length = 64)]
    pub jti: Option<String>,
}

/// Which token an admin names.
#[derive(Debug, Clone)]
pub enum TokenRef {
    /// By its raw value.
    Token(String),
    /// By its jti.
    Jti(String),
}

impl RevokeTokenRequest {
    /// The one reference given; neither or both is a 422.
    pub fn into_ref(self) -> Result<TokenRef, AppError> {
        match (self.token, self.jti) {
            (Some(t), None) => Ok(TokenRef::Token(t)),
            (None, Some(j)) => Ok(TokenRef::Jti(j.trim().to_string())),
            (Some(_), Some(_)) => Err(AppError::field(
                "body",
                "give either token or jti, not both",
            )),
            (None, None) => Err(AppError::field("body", "token or jti is required")),
        }
    }
}

/// `POST /admin/tokens/revoke` answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RevokeTokenResponse {
    /// True when this call revoked a live token.
    pub revoked: bool,
}

/// `GET /admin/tokens/metrics` answer; "today" starts at 00:00 UTC.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenMetricsResponse {
    /// Tokens issued today (access and refresh).
    pub tokens_created_today: i64,
    /// Successful refreshes today.
    pub tokens_refreshed_today: i64,
    /// Tokens revoked today, rotation of refresh tokens excepted.
    pub tokens_revoked_today: i64,
    /// Sessions neither revoked nor ended.
    pub active_sessions: i64,
    /// Tokens neither revoked nor expired.
    pub active_tokens: i64,
    /// Failed logins today.
    pub failed_logins_today: i64,
}

/// `GET /admin/stats/hourly?hours` as sent.
#[derive(Debug, Deserialize)]
pub struct HourlyStatsQuery {
    /// How many hours, the current one included (default 24, 1 to 168).
    pub hours: Option<String>,
}

impl HourlyStatsQuery {
    /// The checked number of hours.
    pub fn parse(self) -> Result<i64, AppError> {
        number("hours", self.hours.as_deref(), 24, 1, 168)
    }
}

/// One hour of `GET /admin/stats/hourly`, from the audit trail and the sessions.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HourlyStats {
    /// Start of the hour (UTC).
    #[serde(with = "serde_rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub hour: NaiveDateTime,
    /// Successful logins (`login_succeeded`).
    pub logins: i64,
    /// Failed logins, both factors (`login_failed`, `two_factor_failed`).
    pub failed_logins: i64,
    /// Refreshes (`token_refreshed`).
    pub refreshes: i64,
    /// Sessions revoked in the hour, whatever the reason.
    pub revocations: i64,
    /// Sessions live at the end of the hour (for the current hour: now).
    pub active_sessions: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revoke_needs_exactly_one_reference() {
        let req = |token: Option<&str>, jti: Option<&str>| RevokeTokenRequest {
            token: token.map(Into::into),
            jti: jti.map(Into::into),
        };
        assert!(matches!(
            req(Some("t"), None).into_ref(),
            Ok(TokenRef::Token(_))
        ));
        assert!(matches!(
            req(None, Some("j")).into_ref(),
            Ok(TokenRef::Jti(_))
        ));
        assert!(req(Some("t"), Some("j")).into_ref().is_err());
        assert!(req(None, None).into_ref().is_err());
    }
}
