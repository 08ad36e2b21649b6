//! Authentication bodies.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use validator::Validate;

use super::user::UserResponse;
use crate::util::{id_string, serde_rfc3339};

/// `POST /auth/login`.
#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
pub struct LoginRequest {
    /// Email, any case.
    #[validate(
        length(max = 254, message = "must be at most 254 characters"),
        custom(function = "super::validate::not_blank")
    )]
    #[schema(min_length = 1, max_length = 254)]
    pub email: String,
    /// Password.
    #[validate(
        length(max = 1024, message = "must be at most 1024 characters"),
        custom(function = "super::validate::not_blank")
    )]
    #[schema(min_length = 1, max_length = 1024)]
    pub password: String,
    /// Optional label for the session list.
    #[validate(
        length(max = 100, message = "must be at most 100 characters"),
        custom(function = "super::validate::no_nul")
    )]
    #[schema(max_length = 100)]
    pub device_name: Option<String>,
    /// A remember-this-device token from an earlier verify-2fa (the
    /// `device_token` cookie is read when this is absent).
    #[validate(
        length(max = 256, message = "must be at most 256 characters"),
        custom(function = "super::validate::no_nul")
    )]
    #[schema(max_length = 256)]
    pub device_token: Option<String>,
    /// Also set HttpOnly cookies.
    #[serde(default)]
    pub cookie: bool,
}

/// `POST /auth/refresh`.
#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
pub struct RefreshRequest {
    /// The refresh token from the last token response.
    #[validate(
        length(max = 8192, message = "must be at most 8192 characters"),
        custom(function = "super::validate::not_blank")
    )]
    #[schema(min_length = 1, max_length = 8192)]
    pub refresh_token: String,
}

/// `POST /auth/password`.
#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
pub struct ChangePasswordRequest {
    /// The password in use.
    #[validate(
        length(max = 1024, message = "must be at most 1024 characters"),
        custom(function = "super::validate::not_blank")
    )]
    #[schema(min_length = 1, max_length = 1024)]
    pub current_password: String,
    /// The new one.
    #[validate(custom(function = "super::validate::new_password"))]
    #[schema(min_length = 1, max_length = 128)]
    pub new_password: String,
}

/// `POST /auth/password/check`: a candidate password, judged by the policy.
#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordCheckRequest {
    /// The candidate (not stored, not logged).
    #[validate(length(max = 1024, message = "must be at most 1024 characters"))]
    #[schema(max_length = 1024)]
    pub password: String,
    /// The account it is for, so a password containing it is refused.
    #[validate(length(max = 254, message = "must be at most 254 characters"))]
    #[schema(max_length = 254)]
    pub email: Option<String>,
}

/// `POST /auth/password/check` answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PasswordCheckResponse {
    /// True when the policy would take the password.
    pub acceptable: bool,
    /// Why not, in the words a refusal would use (empty when acceptable).
    pub reasons: Vec<String>,
}

/// The token response of login and refresh.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenResponse {
    /// Access JWT (left out in cookie mode: it travels only in its HttpOnly cookie).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_token: Option<String>,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Access lifetime, seconds.
    pub expires_in: i64,
    /// Refresh token (left out in cookie mode).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// Refresh lifetime, seconds.
    pub refresh_expires_in: i64,
    /// Session id.
    #[schema(value_type = String)]
    #[serde(with = "id_string")]
    pub session_id: i64,
    /// The user.
    pub user: UserResponse,
    /// A new remember-this-device token (verify-2fa with `remember_device`;
    /// left out in cookie mode, where it is the `device_token` cookie).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_token: Option<String>,
    /// Present (true) after an admin reset: this session may only change the
    /// password (`GET /auth/me`, `POST /auth/password`, `POST /auth/logout`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub password_change_required: bool,
}

/// `GET /auth/validate`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ValidateResponse {
    /// Always true (failures are errors).
    pub valid: bool,
    /// User id.
    #[schema(value_type = String)]
    #[serde(with = "id_string")]
    pub user_id: i64,
    /// Email.
    pub email: String,
    /// Current roles.
    pub roles: Vec<String>,
    /// Session id.
    #[schema(value_type = String)]
    #[serde(with = "id_string")]
    pub session_id: i64,
    /// Token id (jti).
    pub token_id: String,
    /// Token expiry.
    #[schema(value_type = String, format = DateTime)]
    #[serde(with = "serde_rfc3339")]
    pub expires_at: NaiveDateTime,
}

/// `POST /auth/logout-all` and admin bulk revocation.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RevokedCounts {
    /// Sessions revoked.
    pub revoked_sessions: usize,
    /// Tokens revoked.
    pub revoked_tokens: usize,
}
