//! Double validation: every access token is checked for its signature and
//! claims, then against its row, its session and its user (one grouped
//! lookup), with an optional cache bounded by the contract's revocation rules.

use std::sync::Arc;
use std::time::Instant;

use chrono::{Duration, NaiveDateTime};

use super::keys::KeyStore;
use super::lookup::TokenLookups;
use super::validation_cache::ValidationCache;
use crate::db::{Db, DbConnection};
use crate::errors::{AppError, AppResult};
use crate::models::{TokenContext, TokenKind};
use crate::principal::Principal;
use crate::repositories::{session as session_repo, token as token_repo};
use crate::security::hashing::token_hash;
use crate::security::jwt::{AccessClaims, Rejection};
use crate::util;

/// Marks of last use are written at most this often per token and session.
const TOUCH_INTERVAL_SECS: i64 = 60;

/// Validates access tokens.
#[derive(Clone)]
pub struct TokenValidator {
    db: Db,
    keys: Arc<KeyStore>,
    cache: Arc<ValidationCache>,
    lookups: TokenLookups,
}

impl TokenValidator {
    /// A validator checking signatures with `keys` and rows through `lookups`.
    pub fn new(
        db: Db,
        keys: Arc<KeyStore>,
        cache: Arc<ValidationCache>,
        lookups: TokenLookups,
    ) -> Self {
        Self {
            db,
            keys,
            cache,
            lookups,
        }
    }

    /// Double validation of a bearer access token.
    #[tracing::instrument(skip_all)]
    pub async fn authenticate(&self, raw: &str) -> AppResult<Principal> {
        let now = util::now();
        let claims = self
            .verify_signature(raw, now.and_utc().timestamp())
            .await?;
        let hash = token_hash(raw);
        if let Some(p) = self.cache.get(&hash, now) {
            return Ok(p);
        }
        let cache_key = self
            .cache
            .enabled()
            .then(|| (hash.clone(), self.cache.generation(), Instant::now()));
        let Some(ctx) = self.lookups.find(hash).await? else {
            return Err(AppError::TokenInvalid("unknown token"));
        };
        check_access(&ctx, &claims.jti, now)?;
        let stale_before = now - Duration::seconds(TOUCH_INTERVAL_SECS);
        if ctx.token.last_used_at.is_none_or(|t| t < stale_before) {
            // At most once a minute per token, off the request's path: the
            // answer does not wait for the write, and a failed write is logged.
            let token_id = ctx.token.id;
            let stale_session = ctx
                .session
                .as_ref()
                .filter(|s| s.login.last_seen_at < stale_before)
                .map(|s| s.id);
            let db = self.db.clone();
            tokio::spawn(async move {
                let _ = db
                    .run(move |conn| {
                        touch(conn, token_id, stale_session, now, stale_before);
                        Ok(())
                    })
                    .await;
            });
        }
        let principal = Principal::new(
            &ctx.user,
            ctx.token.issued.session_id.unwrap_or_default(),
            ctx.token.issued.jti,
            ctx.token.issued.expires_at,
        );
        if let Some((key, generation, started)) = cache_key {
            self.cache.put(key, principal.clone(), generation, started);
        }
        Ok(principal)
    }

    /// The signing keys (issuer and audience included).
    pub fn keys(&self) -> &KeyStore {
        &self.keys
    }

    /// The signature half of double validation. A `kid` this instance does not
    /// know may be a key another instance just rotated in: reload once (rate
    /// limited) and try again.
    pub async fn verify_signature(&self, raw: &str, now: i64) -> AppResult<AccessClaims> {
        let map = |r| match r {
            Rejection::Invalid(why) => AppError::TokenInvalid(why),
            Rejection::Expired => AppError::TokenExpired,
        };
        match self.keys.current().verify_access(raw, now) {
            Err(Rejection::Invalid("unknown kid"))
                if self
                    .keys
                    .reload_if_due(std::time::Duration::from_secs(1))
                    .await =>
            {
                self.keys.current().verify_access(raw, now).map_err(map)
            }
            other => other.map_err(map),
        }
    }
}

/// The database half of double validation.
pub fn check_access(ctx: &TokenContext, jti: &str, now: NaiveDateTime) -> AppResult<()> {
    let t = &ctx.token;
    if t.issued.token_type != TokenKind::Access || t.issued.jti != jti {
        return Err(AppError::TokenInvalid("token does not match its record"));
    }
    if t.revoked {
        return Err(AppError::TokenRevoked);
    }
    if t.expired || t.issued.expires_at <= now {
        return Err(AppError::TokenExpired);
    }
    let Some(session) = &ctx.session else {
        return Err(AppError::TokenInvalid("token has no session"));
    };
    if session.revoked {
        return Err(AppError::TokenRevoked);
    }
    if session.login.expires_at <= now {
        return Err(AppError::TokenExpired);
    }
    if !ctx.user.is_active {
        return Err(AppError::AccountDisabled);
    }
    Ok(())
}

/// Last-use marks of a token and, when given, its session. Each UPDATE only
/// writes a row last marked before `stale_before`, so concurrent requests write
/// it once. A failed mark is logged, never an error of the request.
fn touch(
    conn: &mut DbConnection,
    token_id: i64,
    session_id: Option<i64>,
    now: NaiveDateTime,
    stale_before: NaiveDateTime,
) {
    if let Err(e) = token_repo::touch(conn, token_id, now, stale_before) {
        tracing::warn!(error = %e, "could not mark token as used");
        return;
    }
    if let Some(id) = session_id {
        if let Err(e) = session_repo::touch(conn, id, now, stale_before) {
            tracing::warn!(error = %e, "could not mark session as seen");
        }
    }
}
