//! Remember this device: after a second factor, a device token (a `tokens`
//! row of type `device`, stored hashed) lets the same user's later logins with
//! the right password skip the challenge. It ends when deleted, when the
//! password changes, 2FA is turned off or reset, or the account is disabled or
//! reset by an admin; a user keeps at most ten (the oldest goes).

use chrono::{Duration, NaiveDateTime};
use serde_json::json;

use super::audit::{self, event};
use super::revocation::{self, Ended, Revocations};
use super::ClientMeta;
use crate::db::{Db, DbConnection};
use crate::errors::{AppError, AppResult};
use crate::models::{NewToken, RevokeReason, Token, TokenKind, User};
use crate::principal::Principal;
use crate::repositories::token as token_repo;
use crate::security::hashing::{opaque_token, token_hash};
use crate::util;

/// Remembered devices a user keeps at most.
pub const MAX_DEVICES: usize = 10;

/// Remembered devices.
#[derive(Clone)]
pub struct DeviceService {
    db: Db,
    revocations: Revocations,
    /// How long a device is remembered; 0 turns the feature off.
    days: u32,
}

impl DeviceService {
    /// Devices remembered for `days` (0: off).
    pub fn new(db: Db, revocations: Revocations, days: u32) -> Self {
        Self {
            db,
            revocations,
            days,
        }
    }

    /// How long a new device token lives, seconds.
    pub fn ttl_secs(&self) -> i64 {
        i64::from(self.days) * 86_400
    }

    /// Whether devices are remembered at all.
    pub fn enabled(&self) -> bool {
        self.days > 0
    }

    /// Stores a new device token for `user` (inside the caller's transaction),
    /// pushing out the oldest past the cap; returns the raw token.
    pub fn remember(
        &self,
        c: &mut DbConnection,
        user: &User,
        client: &ClientMeta,
        now: NaiveDateTime,
    ) -> AppResult<(String, Ended)> {
        let raw = opaque_token();
        token_repo::insert(
            c,
            &NewToken {
                jti: util::new_jti(),
                token_hash: token_hash(&raw),
                token_type: TokenKind::Device,
                user_id: user.id,
                user_email: user.email.clone(),
                session_id: None,
                created_at: now,
                expires_at: now + Duration::days(i64::from(self.days)),
                user_agent: client.user_agent.clone(),
                ip_address: client.ip.clone(),
                key_id: None,
            },
        )?;
        let mut pushed = Ended::nothing(user.id, RevokeReason::Forgotten);
        for old in token_repo::list_devices(c, user.id, now)?
            .iter()
            .skip(MAX_DEVICES)
        {
            let why = RevokeReason::Forgotten;
            pushed = pushed.and(revocation::end_token(c, user.id, old.id, why, now)?);
        }
        audit::record(
            c,
            event::DEVICE_REMEMBERED,
            Some(user),
            client,
            json!({}),
            now,
        )?;
        crate::metrics::token_issued(TokenKind::Device, 1);
        Ok((raw, pushed))
    }

    /// The device `raw` presented at a login of `user_id`, if it is one of
    /// theirs and still remembered (its last use is stamped).
    pub fn recognize(
        &self,
        c: &mut DbConnection,
        user_id: i64,
        raw: &str,
        now: NaiveDateTime,
    ) -> AppResult<Option<i64>> {
        if !self.enabled() || raw.is_empty() || raw.len() > 256 {
            return Ok(None);
        }
        let Some(t) = token_repo::find_by_hash(c, &token_hash(raw))? else {
            return Ok(None);
        };
        let live = t.issued.token_type == TokenKind::Device
            && t.issued.user_id == user_id
            && !t.revoked
            && t.issued.expires_at > now;
        if !live {
            return Ok(None);
        }
        token_repo::mark_used(c, t.id, now)?;
        Ok(Some(t.id))
    }

    /// The caller's remembered devices, newest first.
    pub async fn list(&self, user_id: i64) -> AppResult<Vec<Token>> {
        self.db
            .run(move |c| Ok(token_repo::list_devices(c, user_id, util::now())?))
            .await
    }

    /// Forgets one of the caller's remembered devices; anything else is 404.
    #[tracing::instrument(skip_all)]
    pub async fn forget(&self, principal: Principal, id: i64, client: ClientMeta) -> AppResult<()> {
        self.revocations
            .commit(&self.db, move |c, now| {
                let own = token_repo::list_devices(c, principal.user_id, now)?
                    .into_iter()
                    .any(|t| t.id == id);
                if !own {
                    return Err(AppError::NotFound);
                }
                let why = RevokeReason::Forgotten;
                let ended = revocation::end_token(c, principal.user_id, id, why, now)?;
                let details = json!({ "device_id": id.to_string() });
                let who = Some(&principal);
                audit::record(c, event::DEVICE_REVOKED, who, &client, details, now)?;
                Ok(ended)
            })
            .await
            .map(drop)
    }
}
