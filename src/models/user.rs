//! The `users` table.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::Roles;
use crate::db::schema::users;

/// A user row.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = users)]
pub struct User {
    /// Primary key.
    pub id: i64,
    /// Lowercased email, unique.
    pub email: String,
    /// bcrypt hash.
    pub password_hash: String,
    /// Display name.
    pub full_name: String,
    /// Roles held now.
    pub roles: Roles,
    /// False when an admin disabled the account.
    pub is_active: bool,
    /// True once TOTP is enabled.
    pub two_factor_enabled: bool,
    /// Consecutive failed logins.
    pub failed_login_count: i32,
    /// Locked until this time (UTC) when set.
    pub locked_until: Option<NaiveDateTime>,
    /// Created (UTC).
    pub created_at: NaiveDateTime,
    /// Last changed (UTC).
    pub updated_at: NaiveDateTime,
    /// Last successful login (UTC).
    pub last_login_at: Option<NaiveDateTime>,
    /// Encrypted TOTP secret once enabled.
    pub totp_secret: Option<String>,
    /// Encrypted TOTP secret between setup and enable.
    pub totp_pending_secret: Option<String>,
    /// Last accepted TOTP time step (a code is accepted once).
    pub totp_last_step: Option<i64>,
    /// Set by an admin reset: only a password change is allowed until it is made.
    pub must_change_password: bool,
}

/// A user to insert.
#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser {
    /// Lowercased email.
    pub email: String,
    /// bcrypt hash.
    pub password_hash: String,
    /// Display name.
    pub full_name: String,
    /// Roles.
    pub roles: Roles,
    /// Active from the start.
    pub is_active: bool,
    /// Created (UTC).
    pub created_at: NaiveDateTime,
    /// Same as created.
    pub updated_at: NaiveDateTime,
}

/// A new password hash, and what it does to the forced-change mark (`None`
/// leaves it as it is).
#[derive(Debug, AsChangeset)]
#[diesel(table_name = users)]
pub struct PasswordChange<'a> {
    /// The new hash.
    pub password_hash: &'a str,
    /// Set by an admin reset, lifted by the user's own change.
    pub must_change_password: Option<bool>,
    /// When changed (UTC).
    pub updated_at: NaiveDateTime,
}

/// An admin's edit of an account; `None` fields are left as they are.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = users)]
pub struct UserChanges {
    /// New active flag.
    pub is_active: Option<bool>,
    /// New roles.
    pub roles: Option<Roles>,
    /// New display name.
    pub full_name: Option<String>,
    /// When changed (UTC).
    pub updated_at: Option<NaiveDateTime>,
}
