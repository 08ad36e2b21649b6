//! The brute-force lockout, decided atomically in the database. Every password
//! or second-factor check first reserves an attempt (one conditional UPDATE
//! that counts it as a failure and refuses once the account is locked or
//! `threshold` checks are counted), so however many requests run at once, on
//! however many instances, at most `threshold` checks happen before a lock.
//! A wrong answer keeps its count and locks at the threshold; a right one
//! clears the count unless a lock came first. An attempt abandoned midway
//! (a client that hangs up) stays counted.

use chrono::{Duration, NaiveDateTime};
use serde_json::json;

use super::audit::{self, event, Subject};
use super::{cpu, ClientMeta};
use crate::db::{write_transaction, Db, DbConnection};
use crate::errors::{AppError, AppResult};
use crate::repositories::user as user_repo;
use crate::security::password;
use crate::util;

/// Brute-force settings.
#[derive(Debug, Clone, Copy)]
pub struct Lockout {
    /// Consecutive failures before a lock.
    pub threshold: i32,
    /// Lock length, seconds.
    pub seconds: i64,
}

/// A reserved check: the failure count including this attempt.
#[derive(Debug, Clone, Copy)]
#[must_use = "settle the attempt with `failed` or `succeeded`"]
pub struct Attempt {
    count: i32,
}

impl Lockout {
    /// Reserves one check for `user_id`, or answers `account_locked`.
    pub fn reserve(&self, c: &mut DbConnection, user_id: i64) -> AppResult<Attempt> {
        let now = util::now();
        match user_repo::reserve_attempt(c, user_id, self.threshold, now)? {
            Some(count) => Ok(Attempt { count }),
            None => Err(self.refusal(c, user_id, now)?),
        }
    }

    /// The `account_locked` answer for `user_id`: its lock, or (while the
    /// threshold is taken by checks still running) the lock they would set.
    pub fn refusal(
        &self,
        c: &mut DbConnection,
        user_id: i64,
        now: NaiveDateTime,
    ) -> AppResult<AppError> {
        let until = user_repo::find_by_id(c, user_id)?
            .and_then(|u| u.locked_until)
            .filter(|t| *t > now)
            .unwrap_or(now + Duration::seconds(self.seconds));
        Ok(AppError::AccountLocked {
            locked_until: until,
        })
    }

    /// A reserved check failed: audits it as `event_name` and locks the
    /// account when this attempt reached the threshold. Runs inside the
    /// caller's transaction.
    pub fn failed<S: Subject + ?Sized>(
        &self,
        c: &mut DbConnection,
        attempt: Attempt,
        user: &S,
        client: &ClientMeta,
        event_name: &str,
        mut details: serde_json::Value,
    ) -> AppResult<()> {
        let now = util::now();
        details["consecutive"] = json!(attempt.count);
        audit::record(c, event_name, Some(user), client, details, now)?;
        if attempt.count >= self.threshold {
            let until = now + Duration::seconds(self.seconds);
            user_repo::lock(c, user.subject_id(), until)?;
            let details = json!({ "locked_until": util::rfc3339(until) });
            audit::record(c, event::ACCOUNT_LOCKED, Some(user), client, details, now)?;
        }
        Ok(())
    }

    /// A reserved check succeeded: clears the count, or answers
    /// `account_locked` when a lock was set meanwhile.
    pub fn succeeded(
        &self,
        c: &mut DbConnection,
        _attempt: Attempt,
        user_id: i64,
    ) -> AppResult<()> {
        let now = util::now();
        if user_repo::clear_failures(c, user_id, now)? == 0 {
            return Err(self.refusal(c, user_id, now)?);
        }
        Ok(())
    }
}

/// Password checks outside the login (password change, 2FA changes): each
/// counts towards the lockout exactly like a login.
#[derive(Clone)]
pub struct PasswordCheck {
    db: Db,
    lockout: Lockout,
}

impl PasswordCheck {
    /// Checks against `db` under `lockout`.
    pub fn new(db: Db, lockout: Lockout) -> Self {
        Self { db, lockout }
    }

    /// Verifies `candidate` as the password of `who`: returns the stored hash
    /// it matched, 401 `invalid_credentials` (counted) or 423 `account_locked`.
    pub async fn verify<S>(
        &self,
        who: S,
        candidate: String,
        client: ClientMeta,
    ) -> AppResult<String>
    where
        S: Subject + Send + 'static,
    {
        let (lockout, uid) = (self.lockout, who.subject_id());
        let (attempt, stored) = self
            .db
            .run(move |c| {
                let attempt = lockout.reserve(c, uid)?;
                let user = user_repo::find_by_id(c, uid)?.ok_or(AppError::TokenRevoked)?;
                Ok((attempt, user.password_hash))
            })
            .await?;
        let checked = stored.clone();
        let matches = cpu(move || password::verify(&candidate, &checked)).await?;
        self.db
            .run(move |c| {
                write_transaction(c, |c| {
                    if matches {
                        return lockout.succeeded(c, attempt, uid);
                    }
                    let details = json!({ "reason": "bad_password" });
                    let failed = event::LOGIN_FAILED;
                    lockout.failed(c, attempt, &who, &client, failed, details)?;
                    Ok(())
                })
            })
            .await?;
        if !matches {
            return Err(AppError::InvalidCredentials);
        }
        Ok(stored)
    }
}
