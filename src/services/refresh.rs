//! Refresh-token rotation with reuse detection. A refresh reads and checks the
//! token, its session and user, and signs the replacement pair before any
//! write; the write transaction then flips the old token (one conditional
//! UPDATE decides concurrent refreshes) and stores the new pair. A rotated
//! token presented again ends its whole session.

use chrono::NaiveDateTime;
use serde_json::json;

use super::audit::{self, event};
use super::issuance::{stored, PreparedPair, TokenIssuer};
use super::revocation::{self, Ended, Revocations};
use super::session::Issued;
use super::ClientMeta;
use crate::db::{single_statement_write, write_transaction, Db, DbConnection};
use crate::dto::auth::RefreshRequest;
use crate::errors::{AppError, AppResult};
use crate::models::{RevokeReason, TokenKind, User};
use crate::repositories::{rotation, token as token_repo};
use crate::security::hashing::token_hash;
use crate::util;

/// Refresh rules.
#[derive(Clone)]
pub struct RefreshService {
    db: Db,
    issuer: TokenIssuer,
    revocations: Revocations,
}

/// What a refresh did, reported after the commit.
enum Outcome {
    Issued(Box<Issued>, Ended),
    Reused(Ended),
}

/// What a refresh will do, decided by reading alone.
enum Plan {
    /// Rotate: the new pair is already signed.
    Rotate(Box<Rotation>),
    /// The token was already rotated: its session is to be revoked.
    Reused { user: Box<User>, session_id: i64 },
}

/// A checked refresh token and the pair that replaces it.
struct Rotation {
    token_id: i64,
    session_id: i64,
    session_end: NaiveDateTime,
    user: User,
    prepared: PreparedPair,
}

impl RefreshService {
    /// Builds the service.
    pub fn new(db: Db, issuer: TokenIssuer, revocations: Revocations) -> Self {
        Self {
            db,
            issuer,
            revocations,
        }
    }

    /// Rotates a refresh token; a rotated one presented again revokes its session.
    #[tracing::instrument(skip_all)]
    pub async fn refresh(&self, req: RefreshRequest, client: ClientMeta) -> AppResult<Issued> {
        let hash = token_hash(&req.refresh_token);
        let issuer = self.issuer.clone();
        let outcome = self
            .db
            .run(move |c| {
                // Checks and signing come first, outside any transaction, so the
                // write lock (SQLite) or row lock (PostgreSQL) covers the writes only.
                let now = util::now();
                match plan(c, &issuer, &hash, &client, now)? {
                    Plan::Rotate(plan) => rotate(c, *plan, &hash, &client, now),
                    Plan::Reused { user, session_id } => {
                        write_transaction(c, |c| reuse_detected(c, &user, session_id, &client))
                    }
                }
            })
            .await?;
        match outcome {
            Outcome::Issued(issued, rotated) => {
                metrics::counter!(crate::metrics::TOKENS_REFRESHED).increment(1);
                self.revocations.announce(&rotated);
                Ok(*issued)
            }
            Outcome::Reused(ended) => {
                self.revocations.announce(&ended);
                Err(AppError::TokenReused)
            }
        }
    }
}

/// Reads the refresh token with its session and user, checks them, and signs
/// the replacement pair; writes nothing.
fn plan(
    c: &mut DbConnection,
    issuer: &TokenIssuer,
    hash: &str,
    client: &ClientMeta,
    now: NaiveDateTime,
) -> AppResult<Plan> {
    let Some(ctx) = token_repo::find_context_by_hash(c, hash)? else {
        return Err(AppError::TokenInvalid("unknown refresh token"));
    };
    let token = &ctx.token;
    if token.issued.token_type != TokenKind::Refresh {
        return Err(AppError::TokenInvalid("not a refresh token"));
    }
    let Some(session) = ctx.session.clone() else {
        return Err(AppError::TokenInvalid("refresh token has no session"));
    };
    if token.revoked {
        if token.revoked_reason == Some(RevokeReason::Rotated) {
            return Ok(Plan::Reused {
                user: Box::new(ctx.user),
                session_id: session.id,
            });
        }
        return Err(AppError::TokenRevoked);
    }
    if token.expired || token.issued.expires_at <= now || session.login.expires_at <= now {
        return Err(AppError::TokenExpired);
    }
    if session.revoked {
        return Err(AppError::TokenRevoked);
    }
    if !ctx.user.is_active {
        return Err(AppError::AccountDisabled);
    }
    let end = issuer
        .lifetimes()
        .session_end(session.login.created_at, now);
    if end <= now {
        return Err(AppError::TokenExpired);
    }
    let prepared = issuer.prepare_pair(&ctx.user, session.id, end, client, now)?;
    Ok(Plan::Rotate(Box::new(Rotation {
        token_id: token.id,
        session_id: session.id,
        session_end: end,
        user: ctx.user,
        prepared,
    })))
}

/// The writes of one refresh: one statement on PostgreSQL, a write
/// transaction on SQLite. A token no longer live is looked at again, in a
/// transaction of its own: already rotated means reuse.
fn rotate(
    c: &mut DbConnection,
    plan: Rotation,
    hash: &str,
    client: &ClientMeta,
    now: NaiveDateTime,
) -> AppResult<Outcome> {
    let details = json!({ "session_id": plan.session_id.to_string() });
    let audit_row = audit::row(
        event::TOKEN_REFRESHED,
        Some(&plan.user),
        client,
        details,
        now,
    );
    let write = rotation::Rotation {
        token_id: plan.token_id,
        session_id: plan.session_id,
        session_end: plan.session_end,
        now,
        rows: plan.prepared.rows(),
        audit: &audit_row,
    };
    // The atomic step: exactly one concurrent caller flips the flag. Every
    // revocation of a session or user also revokes its tokens, so a token
    // still unrevoked here has a live session and an active user.
    let rotated = single_statement_write(c, |c| Ok(rotation::rotate(c, &write)?))?;
    if !rotated {
        return write_transaction(c, |c| {
            let reused = token_repo::find_by_hash(c, hash)?
                .is_some_and(|t| t.revoked_reason == Some(RevokeReason::Rotated));
            match reused {
                true => reuse_detected(c, &plan.user, plan.session_id, client),
                false => Err(AppError::TokenRevoked),
            }
        });
    }
    let uid = plan.user.id;
    let pair = stored(plan.prepared);
    let issued = Issued {
        pair,
        session_id: plan.session_id,
        user: plan.user,
        device_token: None,
        remembered_device: false,
    };
    let ended = Ended {
        user_id: uid,
        sessions: Vec::new(),
        tokens: 1,
        reason: RevokeReason::Rotated,
    };
    Ok(Outcome::Issued(Box::new(issued), ended))
}

fn reuse_detected(
    c: &mut DbConnection,
    user: &User,
    session_id: i64,
    client: &ClientMeta,
) -> AppResult<Outcome> {
    let now = util::now();
    let ended = revocation::end_session(c, user.id, session_id, RevokeReason::Reuse, now)?;
    let details = json!({
        "session_id": session_id.to_string(),
        "revoked_tokens": ended.tokens,
    });
    audit::record(
        c,
        event::REFRESH_TOKEN_REUSED,
        Some(user),
        client,
        details,
        now,
    )?;
    tracing::warn!(session_id, "refresh token reuse detected; session revoked");
    Ok(Outcome::Reused(ended))
}
