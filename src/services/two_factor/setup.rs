//! Enrollment of the TOTP second factor (setup, enable), turning it off, and
//! the admin reset. Secrets are read from the database here: they never
//! travel with the principal.

use chrono::NaiveDateTime;
use serde_json::json;

use super::{step_i64, unix_now, Codes};
use crate::db::{write_transaction, Db, DbConnection};
use crate::errors::{AppError, AppResult};
use crate::models::{RevokeReason, User};
use crate::principal::Principal;
use crate::repositories::{recovery_code as code_repo, user as user_repo};
use crate::security::totp;
use crate::services::audit::{self, event};
use crate::services::lockout::PasswordCheck;
use crate::services::revocation;
use crate::services::user::{change_user, find_user};
use crate::services::ClientMeta;
use crate::util;

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

/// Second-factor enrollment rules.
#[derive(Clone)]
pub struct TwoFactorService {
    db: Db,
    codes: Codes,
    passwords: PasswordCheck,
}

impl TwoFactorService {
    /// Builds the service.
    pub fn new(db: Db, codes: Codes, passwords: PasswordCheck) -> Self {
        Self {
            db,
            codes,
            passwords,
        }
    }

    /// Generates a new secret for the caller (inactive until `enable`).
    #[tracing::instrument(skip_all)]
    pub async fn setup(&self, principal: Principal, client: ClientMeta) -> AppResult<SetupData> {
        if principal.two_factor_enabled {
            return Err(AppError::Conflict(
                "Two-factor authentication is already enabled; disable it first.".into(),
            ));
        }
        let secret = totp::new_secret();
        let issuer = &self.codes.settings().issuer;
        let e = totp::enrollment(&secret, &principal.email, issuer).map_err(AppError::internal)?;
        let sealed = self.codes.seal(&secret, principal.user_id);
        self.db
            .run(move |c| {
                write_transaction(c, |c| {
                    user_repo::set_pending_totp(c, principal.user_id, &sealed)?;
                    let (who, now) = (Some(&principal), util::now());
                    audit::record(c, event::TWO_FACTOR_SETUP, who, &client, json!({}), now)
                })
            })
            .await?;
        Ok(SetupData {
            secret: e.secret_base32,
            otpauth_url: e.otpauth_url,
            qr_png_base64: e.qr_png_base64,
        })
    }

    /// Proves the pending secret with a code, turns TOTP on, returns recovery
    /// codes. Needs the password: a stolen access token alone must not enrol
    /// an attacker's authenticator (a wrong password counts towards the lockout).
    #[tracing::instrument(skip_all)]
    pub async fn enable(
        &self,
        principal: Principal,
        code: String,
        password_plain: String,
        client: ClientMeta,
    ) -> AppResult<Vec<String>> {
        let user = find_user(&self.db, principal.user_id).await?;
        if user.two_factor_enabled {
            return Err(AppError::Conflict(
                "Two-factor authentication is already enabled.".into(),
            ));
        }
        let Some(sealed) = user.totp_pending_secret.clone() else {
            return Err(AppError::Conflict("Call /auth/2fa/setup first.".into()));
        };
        self.passwords
            .verify(principal, password_plain, client.clone())
            .await?;
        let secret = self.codes.open(&sealed, user.id)?;
        let skew = self.codes.settings().skew;
        let step = totp::check(&secret, code.trim(), unix_now(), skew)
            .ok_or(AppError::InvalidCredentials)?;
        let (codes, hashes) = new_recovery_codes(user.id);
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
                    let (who, done) = (Some(&user), json!({}));
                    audit::record(c, event::TWO_FACTOR_ENABLED, who, &client, done, now)
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
        let proof = (password_plain, code);
        self.with_second_factor(principal, proof, client, |c, user, client, now| {
            turn_off(c, user.id, now)?;
            let (who, done) = (Some(user), json!({}));
            audit::record(c, event::TWO_FACTOR_DISABLED, who, client, done, now)
        })
        .await
    }

    /// Replaces the recovery codes (the old ones stop working); needs the
    /// password and a current code.
    #[tracing::instrument(skip_all)]
    pub async fn renew_recovery_codes(
        &self,
        principal: Principal,
        password_plain: String,
        code: String,
        client: ClientMeta,
    ) -> AppResult<Vec<String>> {
        // The account found below is the caller's: its id is the principal's.
        let (fresh, hashes) = new_recovery_codes(principal.user_id);
        let proof = (password_plain, code);
        self.with_second_factor(principal, proof, client, move |c, user, client, now| {
            code_repo::replace_all(c, user.id, &hashes, now)?;
            let (who, done) = (Some(user), json!({}));
            let renewed = event::RECOVERY_CODES_REGENERATED;
            audit::record(c, renewed, who, client, done, now)
        })
        .await?;
        Ok(fresh)
    }

    /// Checks the password and then, inside one write transaction, the code
    /// of `proof` (password, code) before `change` alters the account.
    async fn with_second_factor<F>(
        &self,
        principal: Principal,
        (password_plain, code): (String, String),
        client: ClientMeta,
        change: F,
    ) -> AppResult<()>
    where
        F: FnOnce(&mut DbConnection, &User, &ClientMeta, NaiveDateTime) -> AppResult<()>
            + Send
            + 'static,
    {
        let (user, secret) = self.enabled(&principal).await?;
        self.passwords
            .verify(principal, password_plain, client.clone())
            .await?;
        let codes = self.codes.clone();
        self.db
            .run(move |c| {
                write_transaction(c, |c| {
                    let now = util::now();
                    if codes.accept(c, user.id, &secret, &code)?.is_none() {
                        return Err(AppError::InvalidCredentials);
                    }
                    change(c, &user, &client, now)
                })
            })
            .await
    }

    /// The caller's account and open TOTP secret; 409 when 2FA is off.
    async fn enabled(&self, principal: &Principal) -> AppResult<(User, Vec<u8>)> {
        let user = find_user(&self.db, principal.user_id).await?;
        let Some(sealed) = user.totp_secret.clone().filter(|_| user.two_factor_enabled) else {
            return Err(AppError::Conflict(
                "Two-factor authentication is not enabled.".into(),
            ));
        };
        let secret = self.codes.open(&sealed, user.id)?;
        Ok((user, secret))
    }

    /// Admin reset: TOTP off for `user_id` (also when it was not on).
    #[tracing::instrument(skip_all)]
    pub async fn admin_reset(
        &self,
        actor: Principal,
        user_id: i64,
        client: ClientMeta,
    ) -> AppResult<()> {
        change_user(&self.db, user_id, move |c, user, now| {
            turn_off(c, user.id, now)?;
            let details = json!({
                "actor_id": actor.user_id.to_string(),
                "was_enabled": user.two_factor_enabled,
            });
            let target = Some(&user);
            audit::record(c, event::TWO_FACTOR_RESET, target, &client, details, now)
        })
        .await
    }
}

/// TOTP off for `user_id`: its secrets and recovery codes gone, and its
/// remembered devices forgotten (they stood in for the factor that is gone).
fn turn_off(c: &mut DbConnection, user_id: i64, now: NaiveDateTime) -> AppResult<()> {
    user_repo::disable_totp(c, user_id, now)?;
    code_repo::delete_all(c, user_id)?;
    let off = RevokeReason::TwoFactorOff;
    let _forgotten = revocation::end_devices(c, user_id, off, now)?;
    Ok(())
}

/// Ten new recovery codes for `user_id`: as shown once, and as stored (hashed).
fn new_recovery_codes(user_id: i64) -> (Vec<String>, Vec<String>) {
    let codes = totp::new_recovery_codes();
    let hashes = codes
        .iter()
        .filter_map(|c| totp::normalize_recovery_code(c))
        .map(|n| totp::recovery_code_hash(user_id, &n))
        .collect();
    (codes, hashes)
}
