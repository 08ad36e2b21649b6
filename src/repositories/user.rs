//! Queries on `users`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::users::dsl;
use crate::db::DbConnection;
use crate::models::{NewUser, PasswordChange, User, UserChanges};

/// The user with this (lowercased) email.
pub fn find_by_email(conn: &mut DbConnection, email: &str) -> QueryResult<Option<User>> {
    dsl::users
        .filter(dsl::email.eq(email))
        .select(User::as_select())
        .first(conn)
        .optional()
}

/// The user with this id.
pub fn find_by_id(conn: &mut DbConnection, id: i64) -> QueryResult<Option<User>> {
    dsl::users
        .find(id)
        .select(User::as_select())
        .first(conn)
        .optional()
}

/// Number of users.
pub fn count(conn: &mut DbConnection) -> QueryResult<i64> {
    dsl::users.count().get_result(conn)
}

/// Inserts a user and returns the stored row.
pub fn insert(conn: &mut DbConnection, user: &NewUser) -> QueryResult<User> {
    diesel::insert_into(dsl::users)
        .values(user)
        .returning(crate::db::schema::users::all_columns)
        .get_result(conn)
}

/// Reserves one password or code check: counts it as a failure up front,
/// unless the account is locked or `threshold` checks are already counted.
/// Returns the new count, or None when refused. One statement, so concurrent
/// logins (on any instance) cannot check more than `threshold` passwords.
pub fn reserve_attempt(
    conn: &mut DbConnection,
    id: i64,
    threshold: i32,
    now: NaiveDateTime,
) -> QueryResult<Option<i32>> {
    diesel::update(
        dsl::users
            .filter(dsl::id.eq(id))
            .filter(unlocked(now))
            .filter(dsl::failed_login_count.lt(threshold)),
    )
    .set(dsl::failed_login_count.eq(dsl::failed_login_count + 1))
    .returning(dsl::failed_login_count)
    .get_result(conn)
    .optional()
}

/// Not locked at `now` (never locked, or the lock has ended).
fn unlocked(
    now: NaiveDateTime,
) -> diesel::dsl::Or<
    diesel::dsl::IsNull<dsl::locked_until>,
    diesel::dsl::LtEq<diesel::dsl::AssumeNotNull<dsl::locked_until>, NaiveDateTime>,
> {
    dsl::locked_until
        .is_null()
        .or(dsl::locked_until.assume_not_null().le(now))
}

/// The columns that forget failed logins: none counted, no lock.
fn no_failures() -> (
    diesel::dsl::Eq<dsl::failed_login_count, i32>,
    diesel::dsl::Eq<dsl::locked_until, Option<NaiveDateTime>>,
) {
    (dsl::failed_login_count.eq(0), dsl::locked_until.eq(None))
}

/// Locks the account until `until` and restarts the failure count.
pub fn lock(conn: &mut DbConnection, id: i64, until: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(dsl::users.find(id))
        .set((
            dsl::locked_until.eq(Some(until)),
            dsl::failed_login_count.eq(0),
        ))
        .execute(conn)
}

/// Records a successful login unless the account is locked: clears the
/// failure count (and an ended lock); 0 when a lock came first.
pub fn record_login(conn: &mut DbConnection, id: i64, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(dsl::users.filter(dsl::id.eq(id)).filter(unlocked(now)))
        .set((no_failures(), dsl::last_login_at.eq(Some(now))))
        .execute(conn)
}

/// A correct password or code: clears the failure count unless the account
/// is locked; 0 when a lock came first.
pub fn clear_failures(conn: &mut DbConnection, id: i64, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(dsl::users.filter(dsl::id.eq(id)).filter(unlocked(now)))
        .set(no_failures())
        .execute(conn)
}

/// Replaces the password hash if it is still `expected` (1 when it was).
pub fn update_password(
    conn: &mut DbConnection,
    id: i64,
    expected: &str,
    change: &PasswordChange<'_>,
) -> QueryResult<usize> {
    diesel::update(
        dsl::users
            .filter(dsl::id.eq(id))
            .filter(dsl::password_hash.eq(expected)),
    )
    .set(change)
    .execute(conn)
}

/// Sets a password whatever the current one (an admin reset); 1 when the
/// user exists.
pub fn set_password(
    conn: &mut DbConnection,
    id: i64,
    change: &PasswordChange<'_>,
) -> QueryResult<usize> {
    diesel::update(dsl::users.find(id))
        .set(change)
        .execute(conn)
}

/// A user's id with its sealed TOTP secrets (active, pending).
pub type SealedSecrets = (i64, Option<String>, Option<String>);

/// Every user holding a sealed TOTP secret (active or pending).
pub fn find_totp_secrets(conn: &mut DbConnection) -> QueryResult<Vec<SealedSecrets>> {
    dsl::users
        .filter(
            dsl::totp_secret
                .is_not_null()
                .or(dsl::totp_pending_secret.is_not_null()),
        )
        .select((dsl::id, dsl::totp_secret, dsl::totp_pending_secret))
        .load(conn)
}

/// Replaces both sealed TOTP secrets of a user (re-sealing).
pub fn set_totp_secrets(
    conn: &mut DbConnection,
    id: i64,
    secret: Option<&str>,
    pending: Option<&str>,
) -> QueryResult<usize> {
    diesel::update(dsl::users.find(id))
        .set((
            dsl::totp_secret.eq(secret),
            dsl::totp_pending_secret.eq(pending),
        ))
        .execute(conn)
}

/// Stores a pending (not yet enabled) TOTP secret.
pub fn set_pending_totp(conn: &mut DbConnection, id: i64, sealed: &str) -> QueryResult<usize> {
    diesel::update(dsl::users.find(id))
        .set(dsl::totp_pending_secret.eq(Some(sealed)))
        .execute(conn)
}

/// Promotes the pending secret to the active one; 1 when it was still pending.
pub fn enable_totp(
    conn: &mut DbConnection,
    id: i64,
    sealed: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        dsl::users
            .filter(dsl::id.eq(id))
            .filter(dsl::totp_pending_secret.eq(sealed)),
    )
    .set((
        dsl::totp_secret.eq(Some(sealed)),
        dsl::totp_pending_secret.eq(None::<String>),
        dsl::two_factor_enabled.eq(true),
        dsl::updated_at.eq(now),
    ))
    .execute(conn)
}

/// Turns TOTP off and forgets every secret.
pub fn disable_totp(conn: &mut DbConnection, id: i64, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(dsl::users.find(id))
        .set((
            dsl::totp_secret.eq(None::<String>),
            dsl::totp_pending_secret.eq(None::<String>),
            dsl::totp_last_step.eq(None::<i64>),
            dsl::two_factor_enabled.eq(false),
            dsl::updated_at.eq(now),
        ))
        .execute(conn)
}

/// A page of users, oldest first; `email_contains` (lowercase) filters by substring.
pub fn list(
    conn: &mut DbConnection,
    email_contains: Option<&str>,
    limit: i64,
    offset: i64,
) -> QueryResult<Vec<User>> {
    let mut query = dsl::users.select(User::as_select()).into_boxed();
    if let Some(fragment) = email_contains {
        // Emails are stored lowercased; LIKE wildcards in the fragment are literal.
        let escaped = fragment
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        query = query.filter(dsl::email.like(format!("%{escaped}%")).escape('\\'));
    }
    query
        .order((dsl::created_at.asc(), dsl::id.asc()))
        .limit(limit)
        .offset(offset)
        .load(conn)
}

/// Applies an admin's edit and returns the stored row.
pub fn update(conn: &mut DbConnection, id: i64, changes: &UserChanges) -> QueryResult<User> {
    diesel::update(dsl::users.find(id))
        .set(changes)
        .returning(crate::db::schema::users::all_columns)
        .get_result(conn)
}

/// Lifts a lock and forgets past failures.
pub fn unlock(conn: &mut DbConnection, id: i64, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(dsl::users.find(id))
        .set((no_failures(), dsl::updated_at.eq(now)))
        .execute(conn)
}

/// Records `step` as the last accepted TOTP step unless that step (or a later
/// one) was already accepted; returns 1 when this call accepted it.
pub fn accept_totp_step(conn: &mut DbConnection, id: i64, step: i64) -> QueryResult<usize> {
    diesel::update(
        dsl::users.filter(dsl::id.eq(id)).filter(
            dsl::totp_last_step
                .is_null()
                .or(dsl::totp_last_step.lt(step)),
        ),
    )
    .set(dsl::totp_last_step.eq(Some(step)))
    .execute(conn)
}
