//! The `tokens` table: one row per issued token (the raw token is never stored).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::{RevokeReason, TokenKind};
use crate::db::schema::tokens;

/// A token row.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = tokens)]
pub struct Token {
    /// Primary key.
    pub id: i64,
    /// The columns issuing writes, as they were written.
    #[diesel(embed)]
    pub issued: NewToken,
    /// True once revoked.
    pub revoked: bool,
    /// When revoked.
    pub revoked_at: Option<NaiveDateTime>,
    /// Why revoked (NULL when revoked by plain SQL).
    pub revoked_reason: Option<RevokeReason>,
    /// Marked by the cleanup job.
    pub expired: bool,
    /// Last validated, coalesced to about a minute.
    pub last_used_at: Option<NaiveDateTime>,
    /// Wrong codes presented against a login challenge.
    pub attempts: i32,
}

/// A token to insert (and, within `Token`, as it was issued).
#[derive(Debug, Clone, Insertable, Queryable, Selectable)]
#[diesel(table_name = tokens)]
pub struct NewToken {
    /// UUID.
    pub jti: String,
    /// SHA-256 hex of the token.
    pub token_hash: String,
    /// `access`, `refresh`, ...
    pub token_type: TokenKind,
    /// Owner.
    pub user_id: i64,
    /// Owner's email at issue time.
    pub user_email: String,
    /// Session.
    pub session_id: Option<i64>,
    /// Issued (UTC).
    pub created_at: NaiveDateTime,
    /// Expiry (UTC, whole seconds for JWTs).
    pub expires_at: NaiveDateTime,
    /// User agent it was issued to.
    pub user_agent: Option<String>,
    /// IP it was issued to.
    pub ip_address: Option<String>,
    /// Signing key id.
    pub key_id: Option<String>,
}

/// What double validation reads in one query: the token, its session and user.
#[derive(Debug, Clone)]
pub struct TokenContext {
    /// The token row.
    pub token: Token,
    /// Its session (None only for session-less tokens).
    pub session: Option<super::Session>,
    /// Its owner, as of now.
    pub user: super::User,
}
