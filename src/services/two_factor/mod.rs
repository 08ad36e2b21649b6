//! The TOTP second factor: enrollment and its admin reset (`setup`), and the
//! login step that answers a challenge (`challenge`). What both need lives
//! here: the sealed secret and the rule that accepts a code.

pub mod challenge;
pub mod setup;

use std::sync::Arc;

use crate::db::DbConnection;
use crate::errors::{AppError, AppResult};
use crate::repositories::{recovery_code as code_repo, user as user_repo};
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

    /// Encrypts a new secret for storage.
    pub fn seal(&self, secret: &[u8]) -> String {
        self.cipher.encrypt(secret, SECRET_CONTEXT)
    }

    /// Decrypts a stored secret.
    pub fn open(&self, sealed: &str) -> AppResult<Vec<u8>> {
        self.cipher.decrypt(sealed, SECRET_CONTEXT).map_err(|_| {
            AppError::internal("a TOTP secret cannot be decrypted with the configured key")
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

/// Seconds since the epoch, for TOTP steps.
pub fn unix_now() -> u64 {
    u64::try_from(util::now().and_utc().timestamp()).unwrap_or_default()
}

/// A TOTP step as stored.
pub fn step_i64(step: u64) -> i64 {
    i64::try_from(step).unwrap_or(i64::MAX)
}
