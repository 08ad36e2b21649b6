//! Admin account management: list, read, edit (disabling ends every session)
//! and unlock.

use serde_json::json;

use super::AdminService;
use crate::db::write_transaction;
use crate::dto::admin::{UpdateUserRequest, UserListParams};
use crate::errors::{AppError, AppResult};
use crate::models::token::reason;
use crate::models::{User, UserChanges};
use crate::repositories::{session as session_repo, token as token_repo, user as user_repo};
use crate::services::audit::{self, event};
use crate::services::token::Principal;
use crate::services::user::ADMIN_ROLE;
use crate::services::ClientMeta;
use crate::util;

impl AdminService {
    /// A page of accounts, oldest first.
    pub async fn list_users(&self, page: UserListParams) -> AppResult<Vec<User>> {
        self.db
            .run(move |c| {
                Ok(user_repo::list(
                    c,
                    page.email.as_deref(),
                    page.limit,
                    page.offset,
                )?)
            })
            .await
    }

    /// One account; 404 when unknown.
    pub async fn get_user(&self, id: i64) -> AppResult<User> {
        self.db
            .run(move |c| user_repo::find_by_id(c, id)?.ok_or(AppError::NotFound))
            .await
    }

    /// Edits an account. Disabling it revokes every session and token at once, so
    /// its holders are refused at their next request.
    #[tracing::instrument(skip_all)]
    pub async fn update_user(
        &self,
        actor: Principal,
        id: i64,
        req: UpdateUserRequest,
        client: ClientMeta,
    ) -> AppResult<User> {
        if req.is_empty() {
            return Err(AppError::field(
                "body",
                "give at least one of is_active, roles, full_name",
            ));
        }
        // An admin cannot lock themselves out: the last admin would be gone for good.
        if id == actor.user.id {
            if req.is_active == Some(false) {
                return Err(AppError::field(
                    "is_active",
                    "you cannot disable your own account",
                ));
            }
            if req
                .roles
                .as_ref()
                .is_some_and(|r| !r.iter().any(|r| r == ADMIN_ROLE))
            {
                return Err(AppError::field(
                    "roles",
                    "you cannot remove your own admin role",
                ));
            }
        }
        let roles = req.roles.map(|mut roles| {
            let mut seen = std::collections::HashSet::new();
            roles.retain(|r| seen.insert(r.clone()));
            roles.join(",")
        });
        let changes = UserChanges {
            is_active: req.is_active,
            roles,
            full_name: req.full_name.map(|n| n.trim().to_string()),
            updated_at: Some(util::now()),
        };
        let user = self
            .db
            .run(move |c| {
                write_transaction(c, |c| {
                    let now = util::now();
                    if user_repo::find_by_id(c, id)?.is_none() {
                        return Err(AppError::NotFound);
                    }
                    let user = user_repo::update(c, id, &changes)?;
                    let mut details = json!({
                        "actor_id": actor.user.id.to_string(),
                        "changes": {
                            "is_active": changes.is_active,
                            "roles": changes.roles.as_ref().map(|_| user.role_list()),
                            "full_name": changes.full_name,
                        },
                    });
                    let mut ended = Vec::new();
                    if changes.is_active == Some(false) {
                        let why = reason::USER_DISABLED;
                        ended = crate::services::session::live_session_ids(c, id, None, now)?;
                        let sessions = session_repo::revoke_all_for_user(c, id, None, why, now)?;
                        let tokens = token_repo::revoke_by_user(c, id, None, why, now)?;
                        crate::metrics::tokens_revoked(why, tokens);
                        details["revoked_sessions"] = json!(sessions);
                        details["revoked_tokens"] = json!(tokens);
                    }
                    audit::record(c, event::USER_UPDATED, Some(&user), &client, details, now)?;
                    Ok((user, ended))
                })
            })
            .await?;
        // Roles and is_active are part of every cached validation.
        self.tokens.revocations_happened();
        let (user, ended) = user;
        self.events
            .sessions_revoked(id, &ended, reason::USER_DISABLED);
        Ok(user)
    }

    /// Lifts a lockout and forgets the failed logins that led to it.
    #[tracing::instrument(skip_all)]
    pub async fn unlock_user(
        &self,
        actor: Principal,
        id: i64,
        client: ClientMeta,
    ) -> AppResult<()> {
        self.db
            .run(move |c| {
                write_transaction(c, |c| {
                    let now = util::now();
                    let user = user_repo::find_by_id(c, id)?.ok_or(AppError::NotFound)?;
                    user_repo::unlock(c, id, now)?;
                    let details = json!({
                        "actor_id": actor.user.id.to_string(),
                        "was_locked": user.locked_until.is_some_and(|t| t > now),
                        "failed_login_count": user.failed_login_count,
                    });
                    audit::record(
                        c,
                        event::ACCOUNT_UNLOCKED,
                        Some(&user),
                        &client,
                        details,
                        now,
                    )
                })
            })
            .await
    }
}
