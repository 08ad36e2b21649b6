//! Token issuance: signs an access + refresh pair and builds its rows, so the
//! signature is made before the write transaction that stores them opens.

use std::sync::Arc;

use chrono::{Duration, NaiveDateTime};

use super::keys::KeyStore;
use super::ClientMeta;
use crate::db::DbConnection;
use crate::errors::{AppError, AppResult};
use crate::models::{NewToken, TokenKind, User};
use crate::repositories::token as token_repo;
use crate::security::hashing::{opaque_token, token_hash};
use crate::security::jwt::AccessClaims;
use crate::util;

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

impl PreparedPair {
    /// The access and refresh rows to write.
    pub fn rows(&self) -> &[NewToken] {
        &self.rows
    }
}

/// Stores a prepared pair (inside the caller's transaction) and hands it out.
pub fn store_pair(conn: &mut DbConnection, prepared: PreparedPair) -> AppResult<IssuedPair> {
    // One statement for both rows.
    token_repo::insert_all(conn, &prepared.rows)?;
    Ok(stored(prepared))
}

/// The pair, once its rows are written (counted in the metrics).
pub fn stored(prepared: PreparedPair) -> IssuedPair {
    crate::metrics::token_issued(TokenKind::Access, 1);
    crate::metrics::token_issued(TokenKind::Refresh, 1);
    prepared.pair
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

/// Signs new pairs.
#[derive(Clone)]
pub struct TokenIssuer {
    keys: Arc<KeyStore>,
    lifetimes: Lifetimes,
}

impl TokenIssuer {
    /// An issuer signing with `keys`.
    pub fn new(keys: Arc<KeyStore>, lifetimes: Lifetimes) -> Self {
        Self { keys, lifetimes }
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
            roles: user.roles.names(),
            sid: session_id.to_string(),
            jti: util::new_jti(),
            iat: now_secs,
            nbf: now_secs,
            exp: access_exp,
            token_type: TokenKind::Access.as_str().to_string(),
        };
        let access_token = keys
            .sign(&claims)
            .map_err(|e| AppError::internal(format!("signing failed: {e}")))?;
        let refresh_token = opaque_token();
        let row =
            |jti: String, token: &str, token_type: TokenKind, exp: i64, key: Option<String>| {
                NewToken {
                    jti,
                    token_hash: token_hash(token),
                    token_type,
                    user_id: user.id,
                    user_email: user.email.clone(),
                    session_id: Some(session_id),
                    created_at: now,
                    expires_at: util::from_unix(exp).unwrap_or(session_end),
                    user_agent: client.user_agent.clone(),
                    ip_address: client.ip.clone(),
                    key_id: key,
                }
            };
        let kid = Some(keys.current_kid().to_string());
        let rows = [
            row(
                claims.jti.clone(),
                &access_token,
                TokenKind::Access,
                access_exp,
                kid,
            ),
            row(
                util::new_jti(),
                &refresh_token,
                TokenKind::Refresh,
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
}
