//! Sessions: starting one (after a password or a second factor), listing the
//! live ones, logout, logout-all and ending one's own session.

use serde_json::json;

use super::audit::{self, event};
use super::issuance::{IssuedPair, TokenIssuer};
use super::revocation::{self, Ended, Revocations};
use super::ClientMeta;
use crate::db::{Db, DbConnection};
use crate::dto::auth::RevokedCounts;
use crate::errors::{AppError, AppResult};
use crate::models::{NewSession, RevokeReason, Session, User};
use crate::principal::Principal;
use crate::repositories::{session as session_repo, user as user_repo};
use crate::util;

/// What a successful login or refresh hands back.
#[derive(Debug)]
pub struct Issued {
    /// The new pair.
    pub pair: IssuedPair,
    /// Its session.
    pub session_id: i64,
    /// The user, as stored.
    pub user: User,
    /// A new remember-this-device token, when one was asked for.
    pub device_token: Option<String>,
    /// True when a remembered device stood in for the second factor.
    pub remembered_device: bool,
}

/// Creates the session row and its first pair, and records the login. Runs
/// inside the caller's write transaction.
pub fn start(
    c: &mut DbConnection,
    issuer: &TokenIssuer,
    user: User,
    device_name: Option<String>,
    client: &ClientMeta,
    remembered_device: bool,
) -> AppResult<Issued> {
    let now = util::now();
    let end = issuer.lifetimes().session_end(now, now);
    let session = session_repo::insert(
        c,
        &NewSession {
            user_id: user.id,
            created_at: now,
            last_seen_at: now,
            expires_at: end,
            ip_address: client.ip.clone(),
            user_agent: client.user_agent.clone(),
            device_name,
        },
    )?;
    if user_repo::record_login(c, user.id, now)? == 0 {
        // A lock set since the password or code was checked wins.
        let locked = user_repo::find_by_id(c, user.id)?.and_then(|u| u.locked_until);
        return Err(AppError::AccountLocked {
            locked_until: locked.unwrap_or(now),
        });
    }
    let pair = issuer.issue_pair(c, &user, session.id, end, client, now)?;
    let mut details = json!({ "session_id": session.id.to_string() });
    if remembered_device {
        details["remembered_device"] = json!(true);
    }
    audit::record(c, event::LOGIN_SUCCEEDED, Some(&user), client, details, now)?;
    let user = User {
        last_login_at: Some(now),
        failed_login_count: 0,
        locked_until: None,
        ..user
    };
    Ok(Issued {
        pair,
        session_id: session.id,
        user,
        device_token: None,
        remembered_device,
    })
}

/// Session rules.
#[derive(Clone)]
pub struct SessionService {
    db: Db,
    revocations: Revocations,
}

impl SessionService {
    /// A service over `db` announcing what it ends through `revocations`.
    pub fn new(db: Db, revocations: Revocations) -> Self {
        Self { db, revocations }
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
        let sid = principal.session_id;
        self.end(principal, sid, RevokeReason::Logout, event::LOGOUT, client)
            .await
            .map(drop)
    }

    /// Ends one of the caller's own live sessions; anything else is 404.
    #[tracing::instrument(skip_all)]
    pub async fn revoke_own(
        &self,
        principal: Principal,
        session_id: i64,
        client: ClientMeta,
    ) -> AppResult<()> {
        let why = RevokeReason::Logout;
        self.end(principal, session_id, why, event::SESSION_REVOKED, client)
            .await
            .map(drop)
    }

    /// Ends every session of the caller.
    #[tracing::instrument(skip_all)]
    pub async fn logout_all(
        &self,
        principal: Principal,
        client: ClientMeta,
    ) -> AppResult<RevokedCounts> {
        let ended = self
            .revocations
            .commit(&self.db, move |c, now| {
                let why = RevokeReason::LogoutAll;
                let ended = revocation::end_user_sessions(c, principal.user_id, None, why, now)?;
                let details = json!(ended.counts());
                audit::record(
                    c,
                    event::LOGOUT_ALL,
                    Some(&principal),
                    &client,
                    details,
                    now,
                )?;
                Ok(ended)
            })
            .await?;
        Ok(ended.counts())
    }

    /// Ends `session_id` if it is a live session of the caller (else 404) and
    /// records `event_name`.
    async fn end(
        &self,
        principal: Principal,
        session_id: i64,
        reason: RevokeReason,
        event_name: &'static str,
        client: ClientMeta,
    ) -> AppResult<Ended> {
        self.revocations
            .commit(&self.db, move |c, now| {
                // The caller's own session was just validated; any other
                // must be a live one of theirs.
                if session_id != principal.session_id {
                    session_repo::find_by_id(c, session_id)?
                        .filter(|s| s.login.user_id == principal.user_id)
                        .filter(|s| !s.revoked && s.login.expires_at > now)
                        .ok_or(AppError::NotFound)?;
                }
                let uid = principal.user_id;
                let ended = revocation::end_session(c, uid, session_id, reason, now)?;
                let details = json!({
                    "session_id": session_id.to_string(),
                    "revoked_tokens": ended.tokens,
                });
                audit::record(c, event_name, Some(&principal), &client, details, now)?;
                Ok(ended)
            })
            .await
    }
}
