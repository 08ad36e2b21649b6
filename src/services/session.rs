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
use crate::realtime::EventPublisher;
use crate::repositories::{session as session_repo, token as token_repo};
use crate::util;

/// Session rules.
#[derive(Clone)]
pub struct SessionService {
    db: Db,
    tokens: TokenService,
    events: EventPublisher,
}

impl SessionService {
    /// A service over `db`; `tokens` is told about every revocation.
    pub fn new(db: Db, tokens: TokenService) -> Self {
        Self {
            db,
            tokens,
            events: EventPublisher::default(),
        }
    }

    /// Announces revocations through `events` (WebSocket `session.revoked`).
    pub fn with_events(mut self, events: EventPublisher) -> Self {
        self.events = events;
        self
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
        let (uid, sid) = (principal.user.id, principal.session_id);
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
        self.events.session_revoked(uid, sid, reason::LOGOUT);
        Ok(())
    }

    /// Ends every session of the caller.
    #[tracing::instrument(skip_all)]
    pub async fn logout_all(
        &self,
        principal: Principal,
        client: ClientMeta,
    ) -> AppResult<RevokedCounts> {
        let uid = principal.user.id;
        let (counts, ended) = self
            .db
            .run(move |c| {
                write_transaction(c, |c| {
                    let now = util::now();
                    let ended = live_session_ids(c, uid, None, now)?;
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
                    let counts = RevokedCounts {
                        revoked_sessions,
                        revoked_tokens,
                    };
                    Ok((counts, ended))
                })
            })
            .await?;
        self.tokens.revocations_happened();
        self.events
            .sessions_revoked(uid, &ended, reason::LOGOUT_ALL);
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
        let uid = principal.user.id;
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
        self.events.session_revoked(uid, session_id, reason::LOGOUT);
        Ok(())
    }
}

/// Ids of a user's live sessions (but `keep`), read in the revoking transaction
/// so the announcement names exactly the sessions it ends.
pub(crate) fn live_session_ids(
    c: &mut crate::db::DbConnection,
    user_id: i64,
    keep: Option<i64>,
    now: chrono::NaiveDateTime,
) -> AppResult<Vec<i64>> {
    Ok(session_repo::list_active_for_user(c, user_id, now)?
        .into_iter()
        .map(|s| s.id)
        .filter(|id| Some(*id) != keep)
        .collect())
}
