//! User bodies.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use validator::Validate;

use crate::models::User;
use crate::util::{id_string, serde_rfc3339};

/// `GET /auth/me`: the user object without `is_active`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MeResponse {
    /// Id, as a string.
    #[schema(value_type = String)]
    #[serde(with = "id_string")]
    pub id: i64,
    /// Email.
    pub email: String,
    /// Display name.
    pub full_name: String,
    /// Roles.
    pub roles: Vec<String>,
    /// True when TOTP is on.
    pub two_factor_enabled: bool,
    /// True after an admin reset, until the user changes the password.
    pub must_change_password: bool,
    /// Created.
    #[schema(value_type = String, format = DateTime)]
    #[serde(with = "serde_rfc3339")]
    pub created_at: NaiveDateTime,
    /// Last login.
    #[schema(value_type = Option<String>, format = DateTime)]
    #[serde(with = "serde_rfc3339::option")]
    pub last_login_at: Option<NaiveDateTime>,
}

impl From<&User> for MeResponse {
    fn from(u: &User) -> Self {
        Self {
            id: u.id,
            email: u.email.clone(),
            full_name: u.full_name.clone(),
            roles: u.roles.names(),
            two_factor_enabled: u.two_factor_enabled,
            must_change_password: u.must_change_password,
            created_at: u.created_at,
            last_login_at: u.last_login_at,
        }
    }
}

/// The contract's user object.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserResponse {
    /// The fields `GET /auth/me` answers (one object on the wire).
    #[serde(flatten)]
    #[schema(inline)]
    pub user: MeResponse,
    /// False when disabled.
    pub is_active: bool,
}

impl From<&User> for UserResponse {
    fn from(u: &User) -> Self {
        Self {
            user: MeResponse::from(u),
            is_active: u.is_active,
        }
    }
}

/// `POST /admin/users`.
#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    /// Email (any case; stored lowercased).
    #[validate(
        email(message = "must be a valid email address"),
        length(max = 254, message = "must be at most 254 characters"),
        custom(function = "super::validate::no_nul")
    )]
    #[schema(max_length = 254, format = Email)]
    pub email: String,
    /// Initial password.
    #[validate(custom(function = "super::validate::new_password"))]
    #[schema(min_length = 1, max_length = 128)]
    pub password: String,
    /// Display name.
    #[validate(
        length(max = 200, message = "must be at most 200 characters"),
        custom(function = "super::validate::no_nul")
    )]
    #[schema(max_length = 200)]
    #[serde(default)]
    pub full_name: String,
    /// Roles; `user` when omitted.
    #[validate(custom(function = "super::validate::roles"))]
    #[schema(max_items = 20)]
    #[serde(default)]
    pub roles: Vec<String>,
}
