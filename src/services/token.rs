//! Token issuance and double validation: every access token is checked for its
//! signature and claims, then against its row, its session and its user.

use std::sync::Arc;

use chrono::{Duration, NaiveDateTime};

use super::ClientMeta;
use crate::db::{Db, DbConnection};
use crate::errors::{AppError, AppResult};
use crate::models::token::kind;
use crate::models::{NewToken, TokenContext, User};
use crate::repositories::{session as session_repo, token as token_repo};
use crate::security::hashing::{opaque_token, token_hash};
use crate::security::jwt::{AccessClaims, Rejection};
use crate::services::keys::KeyStore;
use crate::services::lookup::TokenLookups;
use crate::services::validation_cache::ValidationCache;
use crate::util;

/// Marks of last use are written at most this often per token and session.
const TOUCH_INTERVAL_SECS: i64 = 60;

/// The caller behind a validated access token.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The user, as the database has it now.
    pub user: User,
    /// The session the token belongs to.
    pub session_id: i64,
    /// The token's jti.
    pub jti: String,
    /// The token's expiry.
    pub expires_at: NaiveDateTime,
}

impl Principal {
    /// True when the user currently holds `role`.
    pub fn has_role(&self, role: &str) -> bool {
        self.user.has_role(role)
    }
}

/// A freshly issued access + refresh pair.
#[derive(Debug)]
pub struct IssuedPair {
    /// Access JWT.
    pub access_token: String,
    /// Seconds until the access token expires.
    pub access_expires_in: i64,
    /// Opaque refresh token.
    pub refresh_token: String,
    /// Seconds until the refresh token expires.
    pub refresh_expires_in: i64,
}

/// A signed pair and its two rows (access, refresh), not stored yet.
#[derive(Debug)]
pub struct PreparedPair {
    /// What the client gets once the rows are stored.
    pub pair: IssuedPair,
    /// The rows to insert.
    rows: [NewToken; 2],
}

/// Stores a prepared pair (inside the caller's transaction) and hands it out.
pub fn store_pair(conn: &mut DbConnection, prepared: PreparedPair) -> AppResult<IssuedPair> {
    for row in &prepared.rows {
        token_repo::insert(conn, row)?;
    }
    crate::metrics::token_issued(kind::ACCESS, 1);
    crate::metrics::token_issued(kind::REFRESH, 1);
    Ok(prepared.pair)
}

/// Lifetimes from the settings.
#[derive(Debug, Clone, Copy)]
pub struct Lifetimes {
    /// Access token, seconds.
    pub access: i64,
    /// Refresh token, seconds.
    pub refresh: i64,
    /// Session hard end from login, seconds.
    pub session_max: i64,
}

impl Lifetimes {
    /// When a session started at `created` ends if refreshed at `now`.
    pub fn session_end(&self, created: NaiveDateTime, now: NaiveDateTime) -> NaiveDateTime {
        let by_refresh = now + Duration::seconds(self.refresh);
        let hard = created + Duration::seconds(self.session_max);
        let end = by_refresh.min(hard);
        // Whole seconds, so the refresh row and the session agree exactly.
        util::from_unix(end.and_utc().timestamp()).unwrap_or(end)
    }
}

/// Signs, stores and validates tokens.
#[derive(Clone)]
pub struct TokenService {
    db: Db,
    keys: Arc<KeyStore>,
    lifetimes: Lifetimes,
    cache: Arc<ValidationCache>,
    lookups: TokenLookups,
}

impl TokenService {
    /// A service over `db` signing with `keys`; validation lookups go through
    /// `lookups`.
    pub fn new(
        db: Db,
        keys: Arc<KeyStore>,
        lifetimes: Lifetimes,
        cache: Arc<ValidationCache>,
        lookups: TokenLookups,
    ) -> Self {
        Self {
            db,
            keys,
            lifetimes,
            cache,
            lookups,
        }
    }

    /// To be called after every revocation or account change made through this
    /// instance: cached validations are dropped before the caller answers.
    pub fn revocations_happened(&self) {
        self.cache.invalidate_all();
    }

    /// The signing keys.
    pub fn keys(&self) -> &KeyStore {
        &self.keys
    }

    /// Token lifetimes in force.
    pub fn lifetimes(&self) -> Lifetimes {
        self.lifetimes
    }

    /// Issues and stores a new pair for `session_id`, ending no later than `session_end`.
    /// Runs inside the caller's transaction.
    pub fn issue_pair(
        &self,
        conn: &mut DbConnection,
        user: &User,
        session_id: i64,
        session_end: NaiveDateTime,
        client: &ClientMeta,
        now: NaiveDateTime,
    ) -> AppResult<IssuedPair> {
        let prepared = self.prepare_pair(user, session_id, session_end, client, now)?;
        store_pair(conn, prepared)
    }

    /// Signs a new pair for `session_id` and builds its rows, touching no
    /// database: the signature (about a millisecond for RS256) can then be made
    /// before the write transaction that stores it opens.
    pub fn prepare_pair(
        &self,
        user: &User,
        session_id: i64,
        session_end: NaiveDateTime,
        client: &ClientMeta,
        now: NaiveDateTime,
    ) -> AppResult<PreparedPair> {
        let keys = self.keys.current();
        let now_secs = now.and_utc().timestamp();
        let end_secs = session_end.and_utc().timestamp();
        let access_exp = (now_secs + self.lifetimes.access).min(end_secs);
        let claims = AccessClaims {
            iss: keys.issuer().to_string(),
            aud: keys.audience().to_string(),
            sub: user.id.to_string(),
            email: user.email.clone(),
            roles: user.role_list(),
            sid: session_id.to_string(),
            jti: util::new_jti(),
            iat: now_secs,
            nbf: now_secs,
            exp: access_exp,
            token_type: kind::ACCESS.to_string(),
        };
        let access_token = keys
            .sign(&claims)
            .map_err(|e| AppError::internal(format!("signing failed: {e}")))?;
        let refresh_token = opaque_token();
        let row =
            |jti: String, token: &str, token_type: &str, exp: i64, key: Option<String>| NewToken {
                jti,
                token_hash: token_hash(token),
                token_type: token_type.to_string(),
                user_id: user.id,
                user_email: user.email.clone(),
                session_id: Some(session_id),
                created_at: now,
                expires_at: util::from_unix(exp).unwrap_or(session_end),
                user_agent: client.user_agent.clone(),
                ip_address: client.ip.clone(),
                key_id: key,
            };
        let kid = Some(keys.current_kid().to_string());
        let rows = [
            row(
                claims.jti.clone(),
                &access_token,
                kind::ACCESS,
                access_exp,
                kid,
            ),
            row(
                util::new_jti(),
                &refresh_token,
                kind::REFRESH,
                end_secs,
                None,
            ),
        ];
        Ok(PreparedPair {
            pair: IssuedPair {
                access_token,
                access_expires_in: access_exp - now_secs,
                refresh_token,
                refresh_expires_in: end_secs - now_secs,
            },
            rows,
        })
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
            .then(|| (hash.clone(), self.cache.generation()));
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
                .filter(|s| s.last_seen_at < stale_before)
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
        let principal = Principal {
            session_id: ctx.token.session_id.unwrap_or_default(),
            jti: ctx.token.jti,
            expires_at: ctx.token.expires_at,
            user: ctx.user,
        };
        if let Some((key, generation)) = cache_key {
            self.cache.put(key, principal.clone(), generation);
        }
        Ok(principal)
    }
}

impl TokenService {
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
    if t.token_type != kind::ACCESS || t.jti != jti {
        return Err(AppError::TokenInvalid("token does not match its record"));
    }
    if t.revoked {
        return Err(AppError::TokenRevoked);
    }
    if t.expired || t.expires_at <= now {
        return Err(AppError::TokenExpired);
    }
    let Some(session) = &ctx.session else {
        return Err(AppError::TokenInvalid("token has no session"));
    };
    if session.revoked {
        return Err(AppError::TokenRevoked);
    }
    if session.expires_at <= now {
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
