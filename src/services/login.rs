//! The password login: the password check (the same cost for unknown
//! emails), the lockout, the disabled-account rule, and then either a new
//! session or a second-factor challenge.

use std::sync::Arc;

use chrono::Duration;
use serde_json::json;

use super::audit::{self, event};
use super::devices::DeviceService;
use super::issuance::TokenIssuer;
use super::lockout::{Attempt, Lockout};
use super::session::{self, Issued};
use super::{cpu, normalize_email, refuse_if_saturated, ClientMeta};
use crate::db::{write_transaction, Db, DbConnection};
use crate::dto::auth::LoginRequest;
use crate::errors::{AppError, AppResult};
use crate::models::{NewToken, PasswordChange, TokenKind, User};
use crate::realtime::EventPublisher;
use crate::repositories::{token as token_repo, user as user_repo};
use crate::security::hashing::token_hash;
use crate::security::password;
use crate::services::two_factor::challenge::new_challenge_token;
use crate::util;

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

/// Password logins.
#[derive(Clone)]
pub struct LoginService {
    db: Db,
    issuer: TokenIssuer,
    lockout: Lockout,
    /// Verified against when the email is unknown, so both cost the same.
    dummy_hash: Arc<String>,
    /// Remembered devices, which skip the second factor.
    devices: DeviceService,
    /// The cost new hashes get; an account's hash at another cost is redone
    /// at its next login, so known and unknown emails keep costing the same.
    bcrypt_cost: u32,
    events: EventPublisher,
}

impl LoginService {
    /// Builds the service; `dummy_hash` is a bcrypt hash at the configured cost.
    pub fn new(
        db: Db,
        issuer: TokenIssuer,
        lockout: Lockout,
        (dummy_hash, bcrypt_cost): (String, u32),
        events: EventPublisher,
        devices: DeviceService,
    ) -> Self {
        Self {
            db,
            issuer,
            lockout,
            dummy_hash: Arc::new(dummy_hash),
            devices,
            bcrypt_cost,
            events,
        }
    }

    /// Redoes `user`'s hash when it was made at another cost or by an earlier
    /// scheme, in the background (the login does not wait for it).
    fn rehash_if_needed(&self, user: &User, password: String) {
        let cost = self.bcrypt_cost;
        if !password::needs_rehash(&user.password_hash, cost) {
            return;
        }
        let (db, uid, old) = (self.db.clone(), user.id, user.password_hash.clone());
        tokio::spawn(async move {
            let Ok(Ok(new)) = cpu(move || password::hash(&password, cost)).await else {
                return;
            };
            let now = util::now();
            // Only if the password was not changed meanwhile.
            let redone = db
                .run(move |c| {
                    let change = PasswordChange {
                        password_hash: &new,
                        must_change_password: None,
                        updated_at: now,
                    };
                    Ok(user_repo::update_password(c, uid, &old, &change)?)
                })
                .await;
            if let Err(e) = redone {
                tracing::warn!(error = %e, "could not rehash a password at the new cost");
            }
        });
    }

    /// Password login: a new session with an access and a refresh token, or a
    /// second-factor challenge.
    #[tracing::instrument(skip_all)]
    pub async fn login(&self, req: LoginRequest, client: ClientMeta) -> AppResult<LoginOutcome> {
        let outcome = self.password_login(req, client).await;
        match &outcome {
            Ok(LoginOutcome::Tokens(issued)) if issued.remembered_device => {
                crate::metrics::login("remembered_device")
            }
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
        // A saturated instance turns logins away before they count an attempt,
        // and before they take a database connection: a storm of refused logins
        // must not crowd validation out of the pool.
        refuse_if_saturated().await?;
        let email = normalize_email(&req.email);
        let lookup = email.clone();
        let user = self
            .db
            .run(move |c| Ok(user_repo::find_by_email(c, &lookup)?))
            .await?;
        let candidate = req.password;
        let Some(user) = user else {
            let hash = self.dummy_hash.as_str().to_string();
            cpu(move || password::verify(&candidate, &hash)).await?;
            let details = json!({ "email": email, "reason": "unknown_email" });
            self.refuse(None, client, details).await?;
            return Err(AppError::InvalidCredentials);
        };
        // The attempt is counted before the password is checked, atomically.
        let (lockout, uid) = (self.lockout, user.id);
        let reserved = self.db.run(move |c| lockout.reserve(c, uid)).await;
        let attempt = match reserved {
            Ok(attempt) => attempt,
            Err(locked @ AppError::AccountLocked { .. }) => {
                self.refuse(Some(user), client, json!({ "reason": "locked" }))
                    .await?;
                return Err(locked);
            }
            Err(e) => return Err(e),
        };
        let hash = user.password_hash.clone();
        let checked = candidate.clone();
        let matches = cpu(move || password::verify(&checked, &hash)).await?;
        if !matches {
            return Err(self.record_failure(user, attempt, client).await);
        }
        self.rehash_if_needed(&user, candidate);
        if !user.is_active {
            self.db
                .run(move |c| lockout.succeeded(c, attempt, uid))
                .await?;
            self.refuse(Some(user), client, json!({ "reason": "disabled" }))
                .await?;
            return Err(AppError::AccountDisabled);
        }
        let issuer = self.issuer.clone();
        let devices = self.devices.clone();
        let device = req.device_name.filter(|d| !d.trim().is_empty());
        let remembered = req.device_token.unwrap_or_default();
        let (ip, agent) = (client.ip.clone(), client.user_agent.clone());
        let outcome = self
            .db
            .run(move |c| {
                write_transaction(c, |c| {
                    lockout.succeeded(c, attempt, uid)?;
                    // A device remembered at an earlier second factor skips it.
                    let skip = user.two_factor_enabled
                        && devices
                            .recognize(c, uid, remembered.trim(), util::now())?
                            .is_some();
                    if user.two_factor_enabled && !skip {
                        return issue_challenge(c, &user, &client, device.as_deref());
                    }
                    let issued = session::start(c, &issuer, user, device, &client, skip)?;
                    Ok(LoginOutcome::Tokens(Box::new(issued)))
                })
            })
            .await?;
        let LoginOutcome::Tokens(issued) = outcome else {
            return Ok(outcome);
        };
        self.events
            .session_created(issued.user.id, issued.session_id, ip, agent);
        Ok(LoginOutcome::Tokens(issued))
    }

    /// Audits a refused login that does not count towards the lockout.
    async fn refuse(
        &self,
        user: Option<User>,
        client: ClientMeta,
        details: serde_json::Value,
    ) -> AppResult<()> {
        self.db
            .run(move |c| {
                let now = util::now();
                audit::record(c, event::LOGIN_FAILED, user.as_ref(), &client, details, now)
            })
            .await
    }

    /// Settles a wrong password, locking the account at the threshold.
    async fn record_failure(&self, user: User, attempt: Attempt, client: ClientMeta) -> AppError {
        let lockout = self.lockout;
        let result = self
            .db
            .run(move |c| {
                write_transaction(c, |c| {
                    let details = json!({ "reason": "bad_password" });
                    let failed = event::LOGIN_FAILED;
                    lockout.failed(c, attempt, &user, &client, failed, details)
                })
            })
            .await;
        match result {
            Ok(()) => AppError::InvalidCredentials,
            Err(e) => e,
        }
    }
}

/// Stores a single-use second-factor challenge for `user`.
fn issue_challenge(
    c: &mut DbConnection,
    user: &User,
    client: &ClientMeta,
    device: Option<&str>,
) -> AppResult<LoginOutcome> {
    let now = util::now();
    let challenge_token = new_challenge_token(device);
    token_repo::insert(
        c,
        &NewToken {
            jti: util::new_jti(),
            token_hash: token_hash(&challenge_token),
            token_type: TokenKind::Challenge,
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
    let details = json!({});
    audit::record(
        c,
        event::TWO_FACTOR_REQUIRED,
        Some(user),
        client,
        details,
        now,
    )?;
    Ok(LoginOutcome::TwoFactor {
        challenge_token,
        expires_in: CHALLENGE_TTL,
    })
}
