//! The brute-force lockout: consecutive failed logins (wrong password or wrong
//! second factor) lock an account for a while. Shared by the password login
//! and the login challenge.

use chrono::{Duration, NaiveDateTime};
use serde_json::json;

use super::audit::{self, event};
use super::ClientMeta;
use crate::db::DbConnection;
use crate::errors::{AppError, AppResult};
use crate::models::User;
use crate::repositories::user as user_repo;
use crate::util;

/// Brute-force settings.
#[derive(Debug, Clone, Copy)]
pub struct Lockout {
    /// Consecutive failures before a lock.
    pub threshold: i32,
    /// Lock length, seconds.
    pub seconds: i64,
}

impl Lockout {
    /// `account_locked` while `user` is locked at `now`.
    pub fn check(user: &User, now: NaiveDateTime) -> AppResult<()> {
        match user.locked_until.filter(|t| *t > now) {
            Some(until) => Err(AppError::AccountLocked {
                locked_until: until,
            }),
            None => Ok(()),
        }
    }

    /// Counts one failure of `user` (audited as `event_name` with `details`)
    /// and locks the account at the threshold. Runs inside the caller's
    /// transaction.
    pub fn count_failure(
        &self,
        c: &mut DbConnection,
        user: &User,
        client: &ClientMeta,
        event_name: &str,
        mut details: serde_json::Value,
    ) -> AppResult<()> {
        let now = util::now();
        let count = user_repo::increment_failed_logins(c, user.id)?;
        details["consecutive"] = json!(count);
        audit::record(c, event_name, Some(user), client, details, now)?;
        if count >= self.threshold {
            let until = now + Duration::seconds(self.seconds);
            user_repo::lock(c, user.id, until)?;
            let details = json!({ "locked_until": util::rfc3339(until) });
            audit::record(c, event::ACCOUNT_LOCKED, Some(user), client, details, now)?;
        }
        Ok(())
    }
}
