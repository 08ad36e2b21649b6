//! Login, refresh-token rotation with reuse detection, and password change.

use std::sync::Arc;

use chrono::{Duration, NaiveDateTime};
use serde_json::json;

use super::audit::{self, event};
use super::token::{store_pair, IssuedPair, PreparedPair, TokenService};
use super::{cpu, normalize_email, ClientMeta};
use crate::db::{write_transaction, Db, DbConnection};
use crate::dto::auth::{ChangePasswordRequest, LoginRequest, RefreshRequest};
use crate::errors::{AppError, AppResult};
use crate::models::token::{kind, reason};
use crate::models::{NewSession, NewToken, User};
use crate::realtime::EventPublisher;
use crate::repositories::{session as session_repo, token as token_repo, user as user_repo};
use crate::security::hashing::{opaque_token, token_hash};
use crate::security::password::{self, MAX_PASSWORD_BYTES};
use crate::services::token::Principal;
use crate::util;

/// Brute-force settings.
#[derive(Debug, Clone, Copy)]
pub struct Lockout {
    /// Consecutive failures before a lock.
    pub threshold: i32,
    /// Lock length, seconds.
    pub seconds: i64,
}

/// What a successful login or refresh hands back.
#[derive(Debug)]
pub struct Issued {
    /// The new pair.
    pub pair: IssuedPair,
    /// Its session.
    pub session_id: i64,
    /// The user, as stored.
    pub user: User,
}

/// What a correct password leads to.
#[derive(Debug)]
pub enum LoginOutcome {
    /// Tokens issued (no second factor).
    Tokens(Box<Issued>),
    /// A second factor is required: answer this challenge at verify-2fa.
    TwoFactor {
        /// Opaque, single-use challenge.
        challenge_token: String,
        /// Seconds it stays valid.
        expires_in: i64,
    },
}

/// Lifetime of a second-factor challenge, seconds.
pub const CHALLENGE_TTL: i64 = 300;

/// Authentication rules.
#[derive(Clone)]
pub struct AuthService {
    db: Db,
    tokens: TokenService,
    lockout: Lockout,
    bcrypt_cost: u32,
    /// Verified against when the email is unknown, so both cost the same.
    dummy_hash: Arc<String>,
    events: EventPublisher,
}

enum RefreshOutcome {
    Issued(Box<Issued>),
    Reused { user_id: i64, session_id: i64 },
}

impl AuthService {
    /// Builds the service; `dummy_hash` is a bcrypt hash at the configured cost.
    pub fn new(
        db: Db,
        tokens: TokenService,
        lockout: Lockout,
        bcrypt_cost: u32,
        dummy_hash: String,
    ) -> Self {
        Self {
            db,
            tokens,
            lockout,
            bcrypt_cost,
            dummy_hash: Arc::new(dummy_hash),
            events: EventPublisher::default(),
        }
    }

    /// Announces logins and revocations through `events` (WebSocket).
    pub fn with_events(mut self, events: EventPublisher) -> Self {
        self.events = events;
        self
    }

    /// Password login: a new session with an access and a refresh token, or a
    /// second-factor challenge.
    #[tracing::instrument(skip_all)]
    pub async fn login(&self, req: LoginRequest, client: ClientMeta) -> AppResult<LoginOutcome> {
        let outcome = self.password_login(req, client).await;
        match &outcome {
            Ok(LoginOutcome::Tokens(_)) => crate::metrics::login("success"),
            Ok(LoginOutcome::TwoFactor { .. }) => crate::metrics::login("two_factor_required"),
            Err(AppError::AccountLocked { .. }) => crate::metrics::login("locked"),
            Err(AppError::InvalidCredentials | AppError::AccountDisabled) => {
                crate::metrics::login("failure")
            }
            Err(_) => {}
        }
        outcome
    }

    async fn password_login(
        &self,
        req: LoginRequest,
        client: ClientMeta,
    ) -> AppResult<LoginOutcome> {
        let email = normalize_email(&req.email);
        let lookup = email.clone();
        let user = self
            .db
            .run(move |c| Ok(user_repo::find_by_email(c, &lookup)?))
            .await?;
        let hash = match &user {
            Some(u) => u.password_hash.clone(),
            None => self.dummy_hash.as_str().to_string(),
        };
        // bcrypt reads 72 bytes; a longer password can never be the stored one.
        let fits = req.password.len() <= MAX_PASSWORD_BYTES;
        let candidate = req.password;
        let matches = cpu(move || password::verify(&candidate, &hash)).await? && fits;

        let Some(user) = user else {
            let client = client.clone();
            self.db
                .run(move |c| {
                    let details = json!({ "email": email, "reason": "unknown_email" });
                    audit::record(c, event::LOGIN_FAILED, None, &client, details, util::now())
                })
                .await?;
            return Err(AppError::InvalidCredentials);
        };
        let now = util::now();
        if let Some(until) = user.locked_until.filter(|t| *t > now) {
            let c2 = client.clone();
            let u2 = user.clone();
            self.db
                .run(move |c| {
                    let details = json!({ "reason": "locked" });
                    audit::record(c, event::LOGIN_FAILED, Some(&u2), &c2, details, now)
                })
                .await?;
            return Err(AppError::AccountLocked {
                locked_until: until,
            });
        }
        if !matches {
            return Err(self.record_failure(user, client).await);
        }
        if !user.is_active {
            self.db
                .run(move |c| {
                    let details = json!({ "reason": "disabled" });
                    audit::record(c, event::LOGIN_FAILED, Some(&user), &client, details, now)
                })
                .await?;
            return Err(AppError::AccountDisabled);
        }
        if user.two_factor_enabled {
            return self
                .db
                .run(move |c| write_transaction(c, |c| issue_challenge(c, &user, &client)))
                .await;
        }
        let tokens = self.tokens.clone();
        let device = req.device_name.filter(|d| !d.trim().is_empty());
        let (ip, agent) = (client.ip.clone(), client.user_agent.clone());
        let issued = self
            .db
            .run(move |c| {
                write_transaction(c, |c| start_session(c, &tokens, user, device, &client))
            })
            .await?;
        self.events
            .session_created(issued.user.id, issued.session_id, ip, agent);
        Ok(LoginOutcome::Tokens(Box::new(issued)))
    }

    /// Counts a wrong password, locking the account at the threshold.
    async fn record_failure(&self, user: User, client: ClientMeta) -> AppError {
        let lockout = self.lockout;
        let result = self
            .db
            .run(move |c| {
                write_transaction(c, |c| {
                    let details = json!({ "reason": "bad_password" });
                    count_failure(c, &user, &client, lockout, event::LOGIN_FAILED, details)
                })
            })
            .await;
        match result {
            Ok(()) => AppError::InvalidCredentials,
            Err(e) => e,
        }
    }

    /// Rotates a refresh token; a rotated one presented again revokes its session.
    #[tracing::instrument(skip_all)]
    pub async fn refresh(&self, req: RefreshRequest, client: ClientMeta) -> AppResult<Issued> {
        let hash = token_hash(&req.refresh_token);
        let tokens = self.tokens.clone();
        let outcome = self
            .db
            .run(move |c| {
                // Checks and signing come first, outside any transaction, so the
                // write lock (SQLite) or row lock (PostgreSQL) covers the writes only.
                let now = util::now();
                match plan_rotation(c, &tokens, &hash, &client, now)? {
                    Plan::Rotate(plan) => {
                        write_transaction(c, |c| rotate(c, *plan, &hash, &client, now))
                    }
                    Plan::Reused { user, session_id } => {
                        write_transaction(c, |c| reuse_detected(c, &user, session_id, &client))
                    }
                }
            })
            .await?;
        match outcome {
            RefreshOutcome::Issued(issued) => {
                metrics::counter!(crate::metrics::TOKENS_REFRESHED).increment(1);
                crate::metrics::tokens_revoked(reason::ROTATED, 1);
                Ok(*issued)
            }
            RefreshOutcome::Reused {
                user_id,
                session_id,
            } => {
                self.tokens.revocations_happened();
                self.events
                    .session_revoked(user_id, session_id, reason::REUSE);
                Err(AppError::TokenReused)
            }
        }
    }

    /// Changes the caller's password and ends every other session.
    #[tracing::instrument(skip_all)]
    pub async fn change_password(
        &self,
        principal: Principal,
        req: ChangePasswordRequest,
        client: ClientMeta,
    ) -> AppResult<()> {
        let stored = principal.user.password_hash.clone();
        let fits = req.current_password.len() <= MAX_PASSWORD_BYTES;
        let current = req.current_password;
        if !(cpu(move || password::verify(&current, &stored)).await? && fits) {
            return Err(AppError::InvalidCredentials);
        }
        let cost = self.bcrypt_cost;
        let new = req.new_password;
        let new_hash = cpu(move || password::hash(&new, cost))
            .await?
            .map_err(|e| AppError::internal(format!("bcrypt failed: {e}")))?;
        let uid = principal.user.id;
        let ended = self
            .db
            .run(move |c| {
                write_transaction(c, |c| {
                    let now = util::now();
                    let user = &principal.user;
                    let keep = Some(principal.session_id);
                    user_repo::update_password(c, user.id, &new_hash, now)?;
                    let ended = super::session::live_session_ids(c, user.id, keep, now)?;
                    let sessions = session_repo::revoke_all_for_user(
                        c,
                        user.id,
                        keep,
                        reason::PASSWORD_CHANGE,
                        now,
                    )?;
                    let tokens =
                        token_repo::revoke_by_user(c, user.id, keep, reason::PASSWORD_CHANGE, now)?;
                    crate::metrics::tokens_revoked(reason::PASSWORD_CHANGE, tokens);
                    let details = json!({ "revoked_sessions": sessions, "revoked_tokens": tokens });
                    audit::record(
                        c,
                        event::PASSWORD_CHANGED,
                        Some(user),
                        &client,
                        details,
                        now,
                    )?;
                    Ok(ended)
                })
            })
            .await?;
        self.tokens.revocations_happened();
        self.events
            .sessions_revoked(uid, &ended, reason::PASSWORD_CHANGE);
        Ok(())
    }
}

/// Counts one failed login (wrong password or wrong second factor) and locks
/// the account at the threshold. Runs inside the caller's transaction.
pub(crate) fn count_failure(
    c: &mut DbConnection,
    user: &User,
    client: &ClientMeta,
    lockout: Lockout,
    event_name: &str,
    mut details: serde_json::Value,
) -> AppResult<()> {
    let now = util::now();
    let count = user_repo::increment_failed_logins(c, user.id)?;
    details["consecutive"] = json!(count);
    audit::record(c, event_name, Some(user), client, details, now)?;
    if count >= lockout.threshold {
        let until = now + Duration::seconds(lockout.seconds);
        user_repo::lock(c, user.id, until)?;
        let details = json!({ "locked_until": util::rfc3339(until) });
        audit::record(c, event::ACCOUNT_LOCKED, Some(user), client, details, now)?;
    }
    Ok(())
}

/// Stores a single-use second-factor challenge for `user`.
fn issue_challenge(
    c: &mut DbConnection,
    user: &User,
    client: &ClientMeta,
) -> AppResult<LoginOutcome> {
    let now = util::now();
    let challenge_token = opaque_token();
    token_repo::insert(
        c,
        &NewToken {
            jti: util::new_jti(),
            token_hash: token_hash(&challenge_token),
            token_type: kind::CHALLENGE.to_string(),
            user_id: user.id,
            user_email: user.email.clone(),
            session_id: None,
            created_at: now,
            expires_at: now + Duration::seconds(CHALLENGE_TTL),
            user_agent: client.user_agent.clone(),
            ip_address: client.ip.clone(),
            key_id: None,
        },
    )?;
    audit::record(
        c,
        event::TWO_FACTOR_REQUIRED,
        Some(user),
        client,
        json!({}),
        now,
    )?;
    Ok(LoginOutcome::TwoFactor {
        challenge_token,
        expires_in: CHALLENGE_TTL,
    })
}

/// Creates the session row and its first pair, and records the login.
pub(crate) fn start_session(
    c: &mut DbConnection,
    tokens: &TokenService,
    user: User,
    device_name: Option<String>,
    client: &ClientMeta,
) -> AppResult<Issued> {
    let now = util::now();
    let end = tokens.lifetimes().session_end(now, now);
    let session = session_repo::insert(
        c,
        &NewSession {
            user_id: user.id,
            created_at: now,
            last_seen_at: now,
            expires_at: end,
            ip_address: client.ip.clone(),
            user_agent: client.user_agent.clone(),
            device_name,
        },
    )?;
    user_repo::record_login(c, user.id, now)?;
    let pair = tokens.issue_pair(c, &user, session.id, end, client, now)?;
    let details = json!({ "session_id": session.id.to_string() });
    audit::record(c, event::LOGIN_SUCCEEDED, Some(&user), client, details, now)?;
    let user = User {
        last_login_at: Some(now),
        failed_login_count: 0,
        locked_until: None,
        ..user
    };
    Ok(Issued {
        pair,
        session_id: session.id,
        user,
    })
}

/// What a refresh will do, decided by reading alone.
enum Plan {
    /// Rotate: the new pair is already signed.
    Rotate(Box<Rotation>),
    /// The token was already rotated: its session is to be revoked.
    Reused { user: Box<User>, session_id: i64 },
}

/// A checked refresh token and the pair that replaces it.
struct Rotation {
    token_id: i64,
    session_id: i64,
    session_end: NaiveDateTime,
    user: User,
    prepared: PreparedPair,
}

/// Reads the refresh token with its session and user, checks them, and signs
/// the replacement pair; writes nothing.
fn plan_rotation(
    c: &mut DbConnection,
    tokens: &TokenService,
    hash: &str,
    client: &ClientMeta,
    now: NaiveDateTime,
) -> AppResult<Plan> {
    let Some(ctx) = token_repo::find_context_by_hash(c, hash)? else {
        return Err(AppError::TokenInvalid("unknown refresh token"));
    };
    let token = &ctx.token;
    if token.token_type != kind::REFRESH {
        return Err(AppError::TokenInvalid("not a refresh token"));
    }
    let Some(session) = ctx.session.clone() else {
        return Err(AppError::TokenInvalid("refresh token has no session"));
    };
    if token.revoked {
        if token.revoked_reason.as_deref() == Some(reason::ROTATED) {
            return Ok(Plan::Reused {
                user: Box::new(ctx.user),
                session_id: session.id,
            });
        }
        return Err(AppError::TokenRevoked);
    }
    if token.expired || token.expires_at <= now || session.expires_at <= now {
        return Err(AppError::TokenExpired);
    }
    if session.revoked {
        return Err(AppError::TokenRevoked);
    }
    if !ctx.user.is_active {
        return Err(AppError::AccountDisabled);
    }
    let end = tokens.lifetimes().session_end(session.created_at, now);
    if end <= now {
        return Err(AppError::TokenExpired);
    }
    let prepared = tokens.prepare_pair(&ctx.user, session.id, end, client, now)?;
    Ok(Plan::Rotate(Box::new(Rotation {
        token_id: token.id,
        session_id: session.id,
        session_end: end,
        user: ctx.user,
        prepared,
    })))
}

/// The writes of one refresh, inside a write transaction. Rejections roll back;
/// reuse commits the session's revocation and is reported after the commit.
fn rotate(
    c: &mut DbConnection,
    plan: Rotation,
    hash: &str,
    client: &ClientMeta,
    now: NaiveDateTime,
) -> AppResult<RefreshOutcome> {
    // The atomic step: exactly one concurrent caller flips the flag. Every
    // revocation of a session or user also revokes its tokens, so a token
    // still unrevoked here has a live session and an active user.
    if token_repo::revoke_if_active(c, plan.token_id, reason::ROTATED, now)? == 0 {
        // Revoked since it was read: by a concurrent refresh (reuse), or by a
        // logout or an admin (a plain revocation).
        let rotated = token_repo::find_by_hash(c, hash)?
            .is_some_and(|t| t.revoked_reason.as_deref() == Some(reason::ROTATED));
        if rotated {
            return reuse_detected(c, &plan.user, plan.session_id, client);
        }
        return Err(AppError::TokenRevoked);
    }
    session_repo::extend(c, plan.session_id, plan.session_end, now)?;
    let pair = store_pair(c, plan.prepared)?;
    let details = json!({ "session_id": plan.session_id.to_string() });
    audit::record(
        c,
        event::TOKEN_REFRESHED,
        Some(&plan.user),
        client,
        details,
        now,
    )?;
    Ok(RefreshOutcome::Issued(Box::new(Issued {
        pair,
        session_id: plan.session_id,
        user: plan.user,
    })))
}

fn reuse_detected(
    c: &mut DbConnection,
    user: &User,
    session_id: i64,
    client: &ClientMeta,
) -> AppResult<RefreshOutcome> {
    let now = util::now();
    session_repo::revoke(c, session_id, reason::REUSE, now)?;
    let revoked = token_repo::revoke_by_session(c, session_id, reason::REUSE, now)?;
    crate::metrics::tokens_revoked(reason::REUSE, revoked);
    let details = json!({ "session_id": session_id.to_string(), "revoked_tokens": revoked });
    audit::record(
        c,
        event::REFRESH_TOKEN_REUSED,
        Some(user),
        client,
        details,
        now,
    )?;
    tracing::warn!(session_id, "refresh token reuse detected; session revoked");
    Ok(RefreshOutcome::Reused {
        user_id: user.id,
        session_id,
    })
}
