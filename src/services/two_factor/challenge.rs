//! `POST /auth/verify-2fa`: the login step that answers a challenge with a
//! TOTP or recovery code. A wrong code counts towards the lockout; a
//! challenge dies after a few wrong codes.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::json;

use super::Codes;
use crate::db::{write_transaction, Db, DbConnection};
use crate::errors::{AppError, AppResult};
use crate::models::{RevokeReason, TokenKind};
use crate::realtime::EventPublisher;
use crate::repositories::{recovery_code as code_repo, token as token_repo};
use crate::security::hashing::token_hash;
use crate::services::audit::{self, event};
use crate::services::devices::DeviceService;
use crate::services::issuance::TokenIssuer;
use crate::services::lockout::Lockout;
use crate::services::revocation::{self, Ended, Revocations};
use crate::services::session::{self, Issued};
use crate::services::ClientMeta;
use crate::util;

/// Wrong codes a challenge takes before it is dead.
pub const MAX_CHALLENGE_ATTEMPTS: i32 = 5;

/// A new challenge token: random, then the device label the login named.
/// The label needs no row of its own: the database knows the token by the
/// hash of the whole string, so an altered label is an unknown challenge.
pub fn new_challenge_token(device: Option<&str>) -> String {
    let random = crate::security::hashing::opaque_token();
    match device {
        Some(label) => format!("{random}.{}", URL_SAFE_NO_PAD.encode(label)),
        None => random,
    }
}

/// The device label a challenge token carries, if any.
fn device_label(token: &str) -> Option<String> {
    let (_, label) = token.split_once('.')?;
    let bytes = URL_SAFE_NO_PAD.decode(label).ok()?;
    String::from_utf8(bytes).ok()
}

/// The login challenge.
#[derive(Clone)]
pub struct ChallengeService {
    db: Db,
    issuer: TokenIssuer,
    codes: Codes,
    lockout: Lockout,
    events: EventPublisher,
    revocations: Revocations,
    devices: DeviceService,
}

/// What the caller sent besides the challenge.
struct Answer<'a> {
    code: &'a str,
    remember: bool,
    /// The label the login named, carried by the challenge token.
    device: Option<String>,
}

enum Outcome {
    Issued(Box<Issued>, Ended),
    Refused(AppError, Ended),
}

impl ChallengeService {
    /// Builds the service.
    pub fn new(
        db: Db,
        issuer: TokenIssuer,
        codes: Codes,
        lockout: Lockout,
        events: EventPublisher,
        (revocations, devices): (Revocations, DeviceService),
    ) -> Self {
        Self {
            db,
            issuer,
            codes,
            lockout,
            events,
            revocations,
            devices,
        }
    }

    /// Answers a login challenge: a new session, or a refusal.
    #[tracing::instrument(skip_all)]
    pub async fn verify(
        &self,
        challenge: String,
        code: String,
        remember: bool,
        client: ClientMeta,
    ) -> AppResult<Issued> {
        let hash = token_hash(&challenge);
        let device = device_label(&challenge);
        let (ip, agent) = (client.ip.clone(), client.user_agent.clone());
        let this = self.clone();
        let outcome = self
            .db
            .run(move |c| {
                write_transaction(c, |c| {
                    let answer = Answer {
                        code: &code,
                        remember,
                        device: device.clone(),
                    };
                    this.answer(c, &hash, answer, &client)
                })
            })
            .await?;
        match outcome {
            Outcome::Issued(issued, spent) => {
                self.revocations.announce(&spent);
                crate::metrics::login("success");
                self.events
                    .session_created(issued.user.id, issued.session_id, ip, agent);
                Ok(*issued)
            }
            Outcome::Refused(e, dead) => {
                self.revocations.announce(&dead);
                crate::metrics::login("failure");
                Err(e)
            }
        }
    }

    fn answer(
        &self,
        c: &mut DbConnection,
        hash: &str,
        answer: Answer<'_>,
        client: &ClientMeta,
    ) -> AppResult<Outcome> {
        let Answer {
            code,
            remember,
            device,
        } = answer;
        let now = util::now();
        let ctx = token_repo::find_context_by_hash(c, hash)?
            .filter(|ctx| ctx.token.issued.token_type == TokenKind::Challenge)
            .ok_or(AppError::TokenInvalid("unknown challenge"))?;
        let (challenge, user) = (ctx.token, ctx.user);
        if challenge.revoked {
            return Err(AppError::TokenRevoked);
        }
        if challenge.issued.expires_at <= now {
            return Err(AppError::TokenExpired);
        }
        if !user.is_active {
            return Err(AppError::AccountDisabled);
        }
        // Counted before the code is checked, in this transaction.
        let attempt = self.lockout.reserve(c, user.id)?;
        let Some(sealed) = user.totp_secret.clone().filter(|_| user.two_factor_enabled) else {
            // 2FA was turned off after the challenge was issued.
            return Err(AppError::TokenRevoked);
        };
        let secret = self.codes.open(&sealed, user.id)?;
        let Some(method) = self.codes.accept(c, user.id, &secret, code)? else {
            let attempts = token_repo::increment_attempts(c, challenge.id)?;
            let why = RevokeReason::Attempts;
            let dead = if attempts >= MAX_CHALLENGE_ATTEMPTS {
                revocation::end_token(c, user.id, challenge.id, why, now)?
            } else {
                Ended::nothing(user.id, why)
            };
            let details = json!({ "challenge_attempts": attempts });
            let failed = event::TWO_FACTOR_FAILED;
            self.lockout
                .failed(c, attempt, &user, client, failed, details)?;
            return Ok(Outcome::Refused(AppError::InvalidCredentials, dead));
        };
        self.lockout.succeeded(c, attempt, user.id)?;
        let spent = revocation::end_token(c, user.id, challenge.id, RevokeReason::Used, now)?;
        if spent.tokens == 0 {
            return Err(AppError::TokenRevoked);
        }
        if method == super::Method::RecoveryCode {
            let left = code_repo::count_unused(c, user.id)?;
            let details = json!({ "remaining": left });
            audit::record(
                c,
                event::RECOVERY_CODE_USED,
                Some(&user),
                client,
                details,
                now,
            )?;
        }
        let details = json!({ "method": method.name() });
        audit::record(
            c,
            event::TWO_FACTOR_SUCCEEDED,
            Some(&user),
            client,
            details,
            now,
        )?;
        let remember = remember && self.devices.enabled();
        let (device_token, pushed) = match remember {
            true => {
                let (raw, pushed) = self.devices.remember(c, &user, client, now)?;
                (Some(raw), Some(pushed))
            }
            false => (None, None),
        };
        let mut issued = session::start(c, &self.issuer, user, device, client, false)?;
        issued.device_token = device_token;
        let spent = match pushed {
            Some(p) if p.any() => spent.and(p),
            _ => spent,
        };
        Ok(Outcome::Issued(Box::new(issued), spent))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_challenge_token_carries_its_device_label() {
        let named = new_challenge_token(Some("Ward 3 PC · bed 7"));
        assert_eq!(device_label(&named).as_deref(), Some("Ward 3 PC · bed 7"));
        assert_eq!(device_label(&new_challenge_token(None)), None);
        assert_eq!(device_label("abc.%%%"), None);
    }
}
