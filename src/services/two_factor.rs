//! TOTP second factor: enrollment (setup, enable), disable, admin reset, and
//! the login step that answers a challenge with a TOTP or recovery code.

use std::sync::Arc;

use serde_json::json;

use super::audit::{self, event};
use super::auth::{count_failure, start_session, Issued, Lockout};
use super::token::{Principal, TokenService};
use super::{cpu, ClientMeta};
use crate::db::{write_transaction, Db, DbConnection};
use crate::errors::{AppError, AppResult};
use crate::models::token::{kind, reason};
use crate::models::User;
use crate::realtime::EventPublisher;
use crate::repositories::{recovery_code as code_repo, token as token_repo, user as user_repo};
use crate::security::crypto::Cipher;
use crate::security::hashing::token_hash;
use crate::security::{password, totp};
use crate::util;

/// Wrong codes a challenge takes before it is dead.
pub const MAX_CHALLENGE_ATTEMPTS: i32 = 5;
const SECRET_CONTEXT: &str = "tokenward:totp-secret";

/// TOTP settings.
#[derive(Debug, Clone)]
pub struct TotpSettings {
    /// Issuer shown in authenticator apps.
    pub issuer: String,
    /// Steps of skew either way.
    pub skew: u16,
}

/// What setup hands the user.
#[derive(Debug)]
pub struct SetupData {
    /// Base32 secret.
    pub secret: String,
    /// otpauth URL.
    pub otpauth_url: String,
    /// QR code PNG, base64.
    pub qr_png_base64: String,
}

/// Second-factor rules.
#[derive(Clone)]
pub struct TwoFactorService {
    db: Db,
    tokens: TokenService,
    cipher: Arc<Cipher>,
    lockout: Lockout,
    settings: TotpSettings,
    events: EventPublisher,
}

/// Which kind of code was accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    Totp,
    RecoveryCode,
}

enum VerifyOutcome {
    Issued(Box<Issued>),
    Refused(AppError),
}

impl TwoFactorService {
    /// Builds the service.
    pub fn new(
        db: Db,
        tokens: TokenService,
        cipher: Arc<Cipher>,
        lockout: Lockout,
        settings: TotpSettings,
    ) -> Self {
        Self {
            db,
            tokens,
            cipher,
            lockout,
            settings,
            events: EventPublisher::default(),
        }
    }

    /// Announces logins through `events` (WebSocket `session.created`).
    pub fn with_events(mut self, events: EventPublisher) -> Self {
        self.events = events;
        self
    }

    /// Generates a new secret for the caller (inactive until `enable`).
    #[tracing::instrument(skip_all)]
    pub async fn setup(&self, principal: Principal, client: ClientMeta) -> AppResult<SetupData> {
        if principal.user.two_factor_enabled {
            return Err(AppError::Conflict(
                "Two-factor authentication is already enabled; disable it first.".into(),
            ));
        }
        let secret = totp::new_secret();
        let e = totp::enrollment(&secret, &principal.user.email, &self.settings.issuer)
            .map_err(AppError::internal)?;
        let sealed = self.cipher.encrypt(&secret, SECRET_CONTEXT);
        self.db
            .run(move |c| {
                write_transaction(c, |c| {
                    user_repo::set_pending_totp(c, principal.user.id, &sealed)?;
                    let user = Some(&principal.user);
                    audit::record(
                        c,
                        event::TWO_FACTOR_SETUP,
                        user,
                        &client,
                        json!({}),
                        util::now(),
                    )
                })
            })
            .await?;
        Ok(SetupData {
            secret: e.secret_base32,
            otpauth_url: e.otpauth_url,
            qr_png_base64: e.qr_png_base64,
        })
    }

    /// Proves the pending secret with a code, turns TOTP on, returns recovery codes.
    #[tracing::instrument(skip_all)]
    pub async fn enable(
        &self,
        principal: Principal,
        code: String,
        client: ClientMeta,
    ) -> AppResult<Vec<String>> {
        let user = principal.user;
        if user.two_factor_enabled {
            return Err(AppError::Conflict(
                "Two-factor authentication is already enabled.".into(),
            ));
        }
        let Some(sealed) = user.totp_pending_secret.clone() else {
            return Err(AppError::Conflict("Call /auth/2fa/setup first.".into()));
        };
        let secret = self.open(&sealed)?;
        let step = totp::check(&secret, code.trim(), unix_now(), self.settings.skew)
            .ok_or(AppError::InvalidCredentials)?;
        let codes = totp::new_recovery_codes();
        let hashes: Vec<String> = codes
            .iter()
            .filter_map(|c| totp::normalize_recovery_code(c))
            .map(|n| totp::recovery_code_hash(user.id, &n))
            .collect();
        self.db
            .run(move |c| {
                write_transaction(c, |c| {
                    let now = util::now();
                    if user_repo::enable_totp(c, user.id, &sealed, now)? == 0 {
                        return Err(AppError::Conflict(
                            "The pending secret changed; run setup again.".into(),
                        ));
                    }
                    user_repo::accept_totp_step(c, user.id, step_i64(step))?;
                    code_repo::replace_all(c, user.id, &hashes, now)?;
                    audit::record(
                        c,
                        event::TWO_FACTOR_ENABLED,
                        Some(&user),
                        &client,
                        json!({}),
                        now,
                    )
                })
            })
            .await?;
        Ok(codes)
    }

    /// Turns TOTP off; needs the password and a current code (or a recovery code).
    #[tracing::instrument(skip_all)]
    pub async fn disable(
        &self,
        principal: Principal,
        password_plain: String,
        code: String,
        client: ClientMeta,
    ) -> AppResult<()> {
        let user = principal.user;
        let stored = user.password_hash.clone();
        let fits = password_plain.len() <= password::MAX_PASSWORD_BYTES;
        let password_ok = cpu(move || password::verify(&password_plain, &stored)).await? && fits;
        let Some(sealed) = user.totp_secret.clone().filter(|_| user.two_factor_enabled) else {
            return Err(AppError::Conflict(
                "Two-factor authentication is not enabled.".into(),
            ));
        };
        let secret = self.open(&sealed)?;
        let skew = self.settings.skew;
        self.db
            .run(move |c| {
                write_transaction(c, |c| {
                    let now = util::now();
                    if !password_ok || accept_code(c, &user, &secret, &code, skew)?.is_none() {
                        return Err(AppError::InvalidCredentials);
                    }
                    user_repo::disable_totp(c, user.id, now)?;
                    code_repo::delete_all(c, user.id)?;
                    audit::record(
                        c,
                        event::TWO_FACTOR_DISABLED,
                        Some(&user),
                        &client,
                        json!({}),
                        now,
                    )
                })
            })
            .await
    }

    /// Admin reset: TOTP off for `user_id` (also when it was not on).
    #[tracing::instrument(skip_all)]
    pub async fn admin_reset(
        &self,
        actor: Principal,
        user_id: i64,
        client: ClientMeta,
    ) -> AppResult<()> {
        self.db
            .run(move |c| {
                write_transaction(c, |c| {
                    let now = util::now();
                    let user = user_repo::find_by_id(c, user_id)?.ok_or(AppError::NotFound)?;
                    user_repo::disable_totp(c, user.id, now)?;
                    code_repo::delete_all(c, user.id)?;
                    let details = json!({
                        "actor_id": actor.user.id.to_string(),
                        "was_enabled": user.two_factor_enabled,
                    });
                    audit::record(
                        c,
                        event::TWO_FACTOR_RESET,
                        Some(&user),
                        &client,
                        details,
                        now,
                    )
                })
            })
            .await
    }

    /// `POST /auth/verify-2fa`: answers a login challenge.
    #[tracing::instrument(skip_all)]
    pub async fn verify(
        &self,
        challenge: String,
        code: String,
        client: ClientMeta,
    ) -> AppResult<Issued> {
        let hash = token_hash(&challenge);
        let (ip, agent) = (client.ip.clone(), client.user_agent.clone());
        let this = self.clone();
        let outcome = self
            .db
            .run(move |c| write_transaction(c, |c| this.answer(c, &hash, &code, &client)))
            .await?;
        match outcome {
            VerifyOutcome::Issued(issued) => {
                crate::metrics::login("success");
                self.events
                    .session_created(issued.user.id, issued.session_id, ip, agent);
                Ok(*issued)
            }
            VerifyOutcome::Refused(e) => {
                crate::metrics::login("failure");
                Err(e)
            }
        }
    }

    fn answer(
        &self,
        c: &mut DbConnection,
        hash: &str,
        code: &str,
        client: &ClientMeta,
    ) -> AppResult<VerifyOutcome> {
        let now = util::now();
        let ctx = token_repo::find_context_by_hash(c, hash)?
            .filter(|ctx| ctx.token.token_type == kind::CHALLENGE)
            .ok_or(AppError::TokenInvalid("unknown challenge"))?;
        let (challenge, user) = (ctx.token, ctx.user);
        if challenge.revoked {
            return Err(AppError::TokenRevoked);
        }
        if challenge.expires_at <= now {
            return Err(AppError::TokenExpired);
        }
        if !user.is_active {
            return Err(AppError::AccountDisabled);
        }
        if let Some(until) = user.locked_until.filter(|t| *t > now) {
            return Err(AppError::AccountLocked {
                locked_until: until,
            });
        }
        let Some(sealed) = user.totp_secret.clone().filter(|_| user.two_factor_enabled) else {
            // 2FA was turned off after the challenge was issued.
            return Err(AppError::TokenRevoked);
        };
        let secret = self.open(&sealed)?;
        let Some(method) = accept_code(c, &user, &secret, code, self.settings.skew)? else {
            let attempts = token_repo::increment_attempts(c, challenge.id)?;
            if attempts >= MAX_CHALLENGE_ATTEMPTS {
                token_repo::revoke_if_active(c, challenge.id, reason::ATTEMPTS, now)?;
            }
            let details = json!({ "challenge_attempts": attempts });
            count_failure(
                c,
                &user,
                client,
                self.lockout,
                event::TWO_FACTOR_FAILED,
                details,
            )?;
            return Ok(VerifyOutcome::Refused(AppError::InvalidCredentials));
        };
        if token_repo::revoke_if_active(c, challenge.id, reason::USED, now)? == 0 {
            return Err(AppError::TokenRevoked);
        }
        if method == Method::RecoveryCode {
            let left = code_repo::count_unused(c, user.id)?;
            audit::record(
                c,
                event::RECOVERY_CODE_USED,
                Some(&user),
                client,
                json!({ "remaining": left }),
                now,
            )?;
        }
        let method_name = match method {
            Method::Totp => "totp",
            Method::RecoveryCode => "recovery_code",
        };
        audit::record(
            c,
            event::TWO_FACTOR_SUCCEEDED,
            Some(&user),
            client,
            json!({ "method": method_name }),
            now,
        )?;
        let issued = start_session(c, &self.tokens, user, None, client)?;
        Ok(VerifyOutcome::Issued(Box::new(issued)))
    }

    fn open(&self, sealed: &str) -> AppResult<Vec<u8>> {
        self.cipher.decrypt(sealed, SECRET_CONTEXT).map_err(|_| {
            AppError::internal("a TOTP secret cannot be decrypted with the configured key")
        })
    }
}

/// Accepts a TOTP code (each time step once per user) or an unused recovery
/// code; None when neither.
fn accept_code(
    c: &mut DbConnection,
    user: &User,
    secret: &[u8],
    code: &str,
    skew: u16,
) -> AppResult<Option<Method>> {
    let code = code.trim();
    if totp::is_totp_code(code) {
        let Some(step) = totp::check(secret, code, unix_now(), skew) else {
            return Ok(None);
        };
        let fresh = user_repo::accept_totp_step(c, user.id, step_i64(step))? == 1;
        return Ok(fresh.then_some(Method::Totp));
    }
    let Some(normalized) = totp::normalize_recovery_code(code) else {
        return Ok(None);
    };
    let hash = totp::recovery_code_hash(user.id, &normalized);
    let spent = code_repo::spend(c, user.id, &hash, util::now())? == 1;
    Ok(spent.then_some(Method::RecoveryCode))
}

fn unix_now() -> u64 {
    u64::try_from(util::now().and_utc().timestamp()).unwrap_or_default()
}

fn step_i64(step: u64) -> i64 {
    i64::try_from(step).unwrap_or(i64::MAX)
}
