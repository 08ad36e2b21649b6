//! Builds audit rows; callers insert them inside their own transaction so an
//! action and its record commit together.

use chrono::NaiveDateTime;
use serde_json::Value;

use super::ClientMeta;
use crate::db::DbConnection;
use crate::errors::AppResult;
use crate::models::{NewAuditEvent, User};
use crate::principal::Principal;
use crate::repositories::audit as audit_repo;

/// Audit event names (the contract's list).
pub mod event {
    /// Password accepted, tokens issued.
    pub const LOGIN_SUCCEEDED: &str = "login_succeeded";
    /// Wrong email or password (or a refused login).
    pub const LOGIN_FAILED: &str = "login_failed";
    /// A refresh rotated the pair.
    pub const TOKEN_REFRESHED: &str = "token_refreshed";
    /// A rotated refresh token came back; the session was revoked.
    pub const REFRESH_TOKEN_REUSED: &str = "refresh_token_reused";
    /// One session ended by its user.
    pub const LOGOUT: &str = "logout";
    /// Every session of the user ended.
    pub const LOGOUT_ALL: &str = "logout_all";
    /// A session ended from the session list (or an admin ended them all).
    pub const SESSION_REVOKED: &str = "session_revoked";
    /// Password changed.
    pub const PASSWORD_CHANGED: &str = "password_changed";
    /// Too many failures locked the account.
    pub const ACCOUNT_LOCKED: &str = "account_locked";
    /// A token was revoked on request (admin or RFC 7009).
    pub const TOKEN_REVOKED: &str = "token_revoked";
    /// An account was created.
    pub const USER_CREATED: &str = "user_created";
    /// A correct password led to a second-factor challenge.
    pub const TWO_FACTOR_REQUIRED: &str = "two_factor_required";
    /// A second factor was accepted.
    pub const TWO_FACTOR_SUCCEEDED: &str = "two_factor_succeeded";
    /// A wrong second factor.
    pub const TWO_FACTOR_FAILED: &str = "two_factor_failed";
    /// A recovery code was spent.
    pub const RECOVERY_CODE_USED: &str = "recovery_code_used";
    /// A TOTP secret was generated (not active yet).
    pub const TWO_FACTOR_SETUP: &str = "two_factor_setup";
    /// TOTP turned on.
    pub const TWO_FACTOR_ENABLED: &str = "two_factor_enabled";
    /// TOTP turned off by its user.
    pub const TWO_FACTOR_DISABLED: &str = "two_factor_disabled";
    /// TOTP turned off by an admin.
    pub const TWO_FACTOR_RESET: &str = "two_factor_reset";
    /// An admin lifted a lock.
    pub const ACCOUNT_UNLOCKED: &str = "account_unlocked";
    /// An admin edited an account.
    pub const USER_UPDATED: &str = "user_updated";
    /// An admin set a (temporary) password.
    pub const PASSWORD_RESET: &str = "password_reset";
    /// A device was remembered at verify-2fa.
    pub const DEVICE_REMEMBERED: &str = "device_remembered";
    /// A remembered device was deleted by its user.
    pub const DEVICE_REVOKED: &str = "device_revoked";
    /// The user replaced their recovery codes.
    pub const RECOVERY_CODES_REGENERATED: &str = "recovery_codes_regenerated";
}

/// The account an audit row names.
pub trait Subject {
    /// Its user id.
    fn subject_id(&self) -> i64;
    /// Its email.
    fn subject_email(&self) -> &str;
}

impl Subject for User {
    fn subject_id(&self) -> i64 {
        self.id
    }
    fn subject_email(&self) -> &str {
        &self.email
    }
}

impl Subject for Principal {
    fn subject_id(&self) -> i64 {
        self.user_id
    }
    fn subject_email(&self) -> &str {
        &self.email
    }
}

/// Writes one event about `user` (or no user) from `client`.
pub fn record<S: Subject + ?Sized>(
    conn: &mut DbConnection,
    name: &str,
    user: Option<&S>,
    client: &ClientMeta,
    details: Value,
    now: NaiveDateTime,
) -> AppResult<()> {
    audit_repo::insert(conn, &row(name, user, client, details, now))?;
    Ok(())
}

/// The audit row `record` writes, for a caller that writes it with others.
pub fn row<S: Subject + ?Sized>(
    name: &str,
    user: Option<&S>,
    client: &ClientMeta,
    details: Value,
    now: NaiveDateTime,
) -> NewAuditEvent {
    NewAuditEvent {
        event: name.to_string(),
        user_id: user.map(|u| u.subject_id()),
        user_email: user.map(|u| u.subject_email().to_string()),
        ip_address: client.ip.clone(),
        user_agent: client.user_agent.clone(),
        created_at: now,
        details: details.to_string(),
    }
}
