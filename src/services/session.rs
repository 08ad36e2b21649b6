//! Session lists, logout, logout-all and ending one's own session.

use serde_json::json;

use super::audit::{self, event};
use super::token::{Principal, TokenService};
use super::ClientMeta;
use crate::db::{write_transaction, Db};
use crate::dto::auth::RevokedCounts;
use crate::errors::{AppError, AppResult};
use crate::models::token::reason;
use crate::models::Session;
use crate::repositories::{session as session_repo, token as token_repo};
use crate::util;

/// Session rules.
#[derive(Clone)]
pub struct SessionService {
    db: Db,
    tokens: TokenService,
}

impl SessionService {
    /// A service over `db`; `tokens` is told about every revocation.
    pub fn new(db: Db, tokens: TokenService) -> Self {
        Self { db, tokens }
    }

    /// The user's live sessions, newest first.
    pub async fn list_active(&self, user_id: i64) -> AppResult<Vec<Session>> {
        self.db
            .run(move |c| Ok(session_repo::list_active_for_user(c, user_id, util::now())?))
            .await
    }

    /// Ends the caller's current session and every token in it.
    #[tracing::instrument(skip_all)]
    pub async fn logout(&self, principal: Principal, client: ClientMeta) -> AppResult<()> {
        self.db
            .run(move |c| {
                write_transaction(c, |c| {
                    let now = util::now();
                    let sid = principal.session_id;
                    session_repo::revoke(c, sid, reason::LOGOUT, now)?;
                    let tokens = token_repo::revoke_by_session(c, sid, reason::LOGOUT, now)?;
                    crate::metrics::tokens_revoked(reason::LOGOUT, tokens);
                    let details =
                        json!({ "session_id": sid.to_string(), "revoked_tokens": tokens });
                    audit::record(
                        c,
                        event::LOGOUT,
                        Some(&principal.user),
                        &client,
                        details,
                        now,
                    )
                })
            })
            .await?;
        self.tokens.revocations_happened();
        Ok(())
    }

    /// Ends every session of the caller.
    #[tracing::instrument(skip_all)]
    pub async fn logout_all(
        &self,
        principal: Principal,
        client: ClientMeta,
    ) -> AppResult<RevokedCounts> {
        let counts = self
            .db
            .run(move |c| {
                write_transaction(c, |c| {
                    let now = util::now();
                    let uid = principal.user.id;
                    let revoked_sessions =
                        session_repo::revoke_all_for_user(c, uid, None, reason::LOGOUT_ALL, now)?;
                    let revoked_tokens =
                        token_repo::revoke_by_user(c, uid, None, reason::LOGOUT_ALL, now)?;
                    crate::metrics::tokens_revoked(reason::LOGOUT_ALL, revoked_tokens);
                    let details = json!({
                        "revoked_sessions": revoked_sessions,
                        "revoked_tokens": revoked_tokens,
                    });
                    audit::record(
                        c,
                        event::LOGOUT_ALL,
                        Some(&principal.user),
                        &client,
                        details,
                        now,
                    )?;
                    Ok(RevokedCounts {
                        revoked_sessions,
                        revoked_tokens,
                    })
                })
            })
            .await?;
        self.tokens.revocations_happened();
        Ok(counts)
    }

    /// Ends one of the caller's own live sessions; anything else is 404.
    #[tracing::instrument(skip_all)]
    pub async fn revoke_own(
        &self,
        principal: Principal,
        session_id: i64,
        client: ClientMeta,
    ) -> AppResult<()> {
        self.db
            .run(move |c| {
                write_transaction(c, |c| {
                    let now = util::now();
                    let session = session_repo::find_by_id(c, session_id)?
                        .filter(|s| s.user_id == principal.user.id)
                        .filter(|s| !s.revoked && s.expires_at > now)
                        .ok_or(AppError::NotFound)?;
                    session_repo::revoke(c, session.id, reason::LOGOUT, now)?;
                    let tokens = token_repo::revoke_by_session(c, session.id, reason::LOGOUT, now)?;
                    crate::metrics::tokens_revoked(reason::LOGOUT, tokens);
                    let details =
                        json!({ "session_id": session.id.to_string(), "revoked_tokens": tokens });
                    audit::record(
                        c,
                        event::SESSION_REVOKED,
                        Some(&principal.user),
                        &client,
                        details,
                        now,
                    )
                })
            })
            .await?;
        self.tokens.revocations_happened();
        Ok(())
    }
}
