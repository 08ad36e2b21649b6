//! The TOTP second factor: enrollment and its admin reset (`setup`), and the
//! login step that answers a challenge (`challenge`). What both need lives
//! here: the sealed secret and the rule that accepts a code.

pub mod challenge;
pub mod setup;

use std::sync::Arc;

use crate::db::DbConnection;
use crate::errors::{AppError, AppResult};
use crate::repositories::{key as key_repo, recovery_code as code_repo, user as user_repo};
use crate::security::crypto::Cipher;
use crate::security::totp;
use crate::util;

pub use challenge::ChallengeService;
pub use setup::{SetupData, TwoFactorService};

const SECRET_CONTEXT: &str = "tokenward:totp-secret";

/// TOTP settings.
#[derive(Debug, Clone)]
pub struct TotpSettings {
    /// Issuer shown in authenticator apps.
    pub issuer: String,
    /// Steps of skew either way.
    pub skew: u16,
}

/// Which kind of code was accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// A TOTP code from the authenticator app.
    Totp,
    /// A single-use recovery code.
    RecoveryCode,
}

impl Method {
    /// The name the audit trail uses.
    pub fn name(self) -> &'static str {
        match self {
            Self::Totp => "totp",
            Self::RecoveryCode => "recovery_code",
        }
    }
}

/// Sealed TOTP secrets and the code check.
#[derive(Clone)]
pub struct Codes {
    cipher: Arc<Cipher>,
    settings: TotpSettings,
}

impl Codes {
    /// Seals secrets with `cipher`; checks codes with `settings`.
    pub fn new(cipher: Arc<Cipher>, settings: TotpSettings) -> Self {
        Self { cipher, settings }
    }

    /// The settings in force.
    pub fn settings(&self) -> &TotpSettings {
        &self.settings
    }

    /// Encrypts a new secret of `user_id` for storage.
    pub fn seal(&self, secret: &[u8], user_id: i64) -> String {
        self.cipher.encrypt(secret, &context(user_id))
    }

    /// Decrypts a stored secret of `user_id` (one copied from another row fails).
    pub fn open(&self, sealed: &str, user_id: i64) -> AppResult<Vec<u8>> {
        self.cipher.decrypt(sealed, &context(user_id)).map_err(|_| {
            AppError::internal(
                "a TOTP secret cannot be decrypted for its user with the configured key",
            )
        })
    }

    /// Accepts a TOTP code (each time step once per user) or an unused
    /// recovery code of `user_id`; None when neither. Runs inside the
    /// caller's transaction, so a spent code is spent with what it allowed.
    pub fn accept(
        &self,
        c: &mut DbConnection,
        user_id: i64,
        secret: &[u8],
        code: &str,
    ) -> AppResult<Option<Method>> {
        let code = code.trim();
        if totp::is_totp_code(code) {
            let Some(step) = totp::check(secret, code, unix_now(), self.settings.skew) else {
                return Ok(None);
            };
            let fresh = user_repo::accept_totp_step(c, user_id, step_i64(step))? == 1;
            return Ok(fresh.then_some(Method::Totp));
        }
        let Some(normalized) = totp::normalize_recovery_code(code) else {
            return Ok(None);
        };
        let hash = totp::recovery_code_hash(user_id, &normalized);
        let spent = code_repo::spend(c, user_id, &hash, util::now())? == 1;
        Ok(spent.then_some(Method::RecoveryCode))
    }
}

/// The associated data a secret is sealed with: bound to its user, so a
/// secret copied into another user's row does not decrypt.
fn context(user_id: i64) -> String {
    format!("{SECRET_CONTEXT}:{user_id}")
}

/// Marks, in `server_state`, that every stored secret is bound to its user.
const BOUND_STATE: &str = "totp_secrets_bound_to_user";

/// Re-seals secrets stored before they were bound to their user. Runs once,
/// at start-up under the start-up lock; returns how many were re-sealed.
pub fn bind_secrets_to_users(c: &mut DbConnection, cipher: &Cipher) -> AppResult<usize> {
    if key_repo::find_state(c, BOUND_STATE)?.is_some() {
        return Ok(0);
    }
    let rebind = |sealed: Option<String>, user_id: i64| -> AppResult<Option<String>> {
        let Some(sealed) = sealed else {
            return Ok(None);
        };
        if cipher.decrypt(&sealed, &context(user_id)).is_ok() {
            return Ok(Some(sealed));
        }
        let plain = cipher.decrypt(&sealed, SECRET_CONTEXT).map_err(|_| {
            AppError::internal("a stored TOTP secret cannot be decrypted with the configured key")
        })?;
        Ok(Some(cipher.encrypt(&plain, &context(user_id))))
    };
    let mut resealed = 0;
    for (id, secret, pending) in user_repo::find_totp_secrets(c)? {
        let (new_secret, new_pending) = (rebind(secret.clone(), id)?, rebind(pending.clone(), id)?);
        if new_secret != secret || new_pending != pending {
            user_repo::set_totp_secrets(c, id, new_secret.as_deref(), new_pending.as_deref())?;
            resealed += 1;
        }
    }
    key_repo::insert_state(c, BOUND_STATE, "1", util::now())?;
    Ok(resealed)
}

/// Seconds since the epoch, for TOTP steps.
pub fn unix_now() -> u64 {
    u64::try_from(util::now().and_utc().timestamp()).unwrap_or_default()
}

/// A TOTP step as stored.
pub fn step_i64(step: u64) -> i64 {
    i64::try_from(step).unwrap_or(i64::MAX)
}
