//! The caller behind a validated access token: what authorization needs and
//! nothing more. No password hash or TOTP secret travels with it: a service
//! that needs a secret reads it itself.

use chrono::NaiveDateTime;

use crate::models::{Role, Roles, User};

/// The caller behind a validated access token.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The user's id.
    pub user_id: i64,
    /// The user's email (lowercased).
    pub email: String,
    /// The user's roles as the database has them now.
    pub roles: Roles,
    /// Whether the account has TOTP enabled now.
    pub two_factor_enabled: bool,
    /// Set by an admin reset: only the password change (and me, logout) may serve it.
    pub must_change_password: bool,
    /// The session the token belongs to.
    pub session_id: i64,
    /// The token's jti.
    pub jti: String,
    /// The token's expiry.
    pub expires_at: NaiveDateTime,
}

impl Principal {
    /// The principal of `user`'s token `jti` in `session_id`.
    pub fn new(user: &User, session_id: i64, jti: String, expires_at: NaiveDateTime) -> Self {
        Self {
            user_id: user.id,
            email: user.email.clone(),
            roles: user.roles.clone(),
            two_factor_enabled: user.two_factor_enabled,
            must_change_password: user.must_change_password,
            session_id,
            jti,
            expires_at,
        }
    }

    /// True when the user currently holds `role`.
    pub fn has_role(&self, role: &Role) -> bool {
        self.roles.contains(role)
    }
}
