//! Admin session and token control: a user's live sessions, ending them all,
//! revoking one token, and the day's token metrics.

use chrono::NaiveTime;
use serde_json::json;

use super::AdminService;
use crate::dto::admin::{TokenMetricsResponse, TokenRef};
use crate::dto::auth::RevokedCounts;
use crate::errors::{AppError, AppResult};
use crate::models::{RevokeReason, Session};
use crate::principal::Principal;
use crate::repositories::{
    audit as audit_repo, metrics as metrics_repo, session as session_repo, token as token_repo,
    user as user_repo,
};
use crate::security::hashing::token_hash;
use crate::services::audit::{self, event};
use crate::services::revocation;
use crate::services::ClientMeta;
use crate::util;

impl AdminService {
    /// A user's live sessions, newest first; 404 when the user is unknown.
    pub async fn user_sessions(&self, user_id: i64) -> AppResult<Vec<Session>> {
        self.db
            .run(move |c| {
                user_repo::find_by_id(c, user_id)?.ok_or(AppError::NotFound)?;
                Ok(session_repo::list_active_for_user(c, user_id, util::now())?)
            })
            .await
    }

    /// Ends every session of a user and revokes their tokens (reason `admin`).
    #[tracing::instrument(skip_all)]
    pub async fn revoke_user_sessions(
        &self,
        actor: Principal,
        user_id: i64,
        client: ClientMeta,
    ) -> AppResult<RevokedCounts> {
        let ended = self
            .revocations
            .commit(&self.db, move |c, now| {
                let user = user_repo::find_by_id(c, user_id)?.ok_or(AppError::NotFound)?;
                let why = RevokeReason::Admin;
                let ended = revocation::end_user_sessions(c, user_id, None, why, now)?;
                let mut details = json!(ended.counts());
                details["actor_id"] = json!(actor.user_id.to_string());
                let target = Some(&user);
                audit::record(c, event::SESSION_REVOKED, target, &client, details, now)?;
                Ok(ended)
            })
            .await?;
        Ok(ended.counts())
    }

    /// Revokes one token named by value or jti; false when it is unknown or was
    /// already revoked (the answer does not say which).
    #[tracing::instrument(skip_all)]
    pub async fn revoke_token(
        &self,
        actor: Principal,
        target: TokenRef,
        client: ClientMeta,
    ) -> AppResult<bool> {
        let ended = self
            .revocations
            .commit(&self.db, move |c, now| {
                let token = match &target {
                    TokenRef::Token(raw) => token_repo::find_by_hash(c, &token_hash(raw))?,
                    TokenRef::Jti(jti) => token_repo::find_by_jti(c, jti)?,
                };
                let Some(token) = token else {
                    return Ok(None);
                };
                let (uid, why) = (token.issued.user_id, RevokeReason::Admin);
                let ended = revocation::end_token(c, uid, token.id, why, now)?;
                if ended.tokens == 0 {
                    return Ok(None);
                }
                let owner = user_repo::find_by_id(c, token.issued.user_id)?;
                let details = json!({
                    "actor_id": actor.user_id.to_string(),
                    "jti": token.issued.jti,
                    "token_type": token.issued.token_type.as_str(),
                    "session_id": token.issued.session_id.map(|s| s.to_string()),
                });
                let owner = owner.as_ref();
                audit::record(c, event::TOKEN_REVOKED, owner, &client, details, now)?;
                Ok(Some(ended))
            })
            .await?;
        Ok(ended.is_some())
    }

    /// Today's counts (since 00:00 UTC) and the live totals.
    pub async fn token_metrics(&self) -> AppResult<TokenMetricsResponse> {
        self.db
            .run(|c| {
                let now = util::now();
                let midnight = now.date().and_time(NaiveTime::MIN);
                Ok(TokenMetricsResponse {
                    tokens_created_today: metrics_repo::tokens_created_since(c, midnight)?,
                    tokens_refreshed_today: audit_repo::count_since(
                        c,
                        event::TOKEN_REFRESHED,
                        midnight,
                    )?,
                    tokens_revoked_today: metrics_repo::tokens_revoked_since(c, midnight)?,
                    active_sessions: metrics_repo::active_sessions(c, now)?,
                    active_tokens: metrics_repo::active_tokens(c, now)?,
                    // Both factors: a wrong password and a wrong second-factor code.
                    failed_logins_today: audit_repo::count_since(c, event::LOGIN_FAILED, midnight)?
                        + audit_repo::count_since(c, event::TWO_FACTOR_FAILED, midnight)?,
                })
            })
            .await
    }
}
