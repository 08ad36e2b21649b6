//! Admin account management: list, read, edit (disabling ends every session)
//! and unlock.

use serde_json::json;

use super::AdminService;
use crate::dto::admin::{UpdateUserRequest, UserListParams};
use crate::errors::{AppError, AppResult};
use crate::models::{RevokeReason, Role, Roles, User, UserChanges};
use crate::principal::Principal;
use crate::repositories::user as user_repo;
use crate::services::audit::{self, event};
use crate::services::revocation::{self, Ended};
use crate::services::user::change_user;
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
        crate::services::user::find_user(&self.db, id).await
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
        let roles = req.roles.map(Roles::from_names);
        if id == actor.user_id {
            if req.is_active == Some(false) {
                return Err(AppError::field(
                    "is_active",
                    "you cannot disable your own account",
                ));
            }
            if roles.as_ref().is_some_and(|r| !r.contains(&Role::Admin)) {
                return Err(AppError::field(
                    "roles",
                    "you cannot remove your own admin role",
                ));
            }
        }
        let changes = UserChanges {
            is_active: req.is_active,
            roles,
            full_name: req.full_name.map(|n| n.trim().to_string()),
            updated_at: Some(util::now()),
        };
        let (user, _) = self
            .revocations
            .commit(&self.db, move |c, now| {
                if user_repo::find_by_id(c, id)?.is_none() {
                    return Err(AppError::NotFound);
                }
                let user = user_repo::update(c, id, &changes)?;
                let mut details = json!({
                    "actor_id": actor.user_id.to_string(),
                    "changes": {
                        "is_active": changes.is_active,
                        "roles": changes.roles.as_ref().map(|_| user.roles.names()),
                        "full_name": changes.full_name,
                    },
                });
                let why = RevokeReason::UserDisabled;
                let mut ended = Ended::nothing(id, why.clone());
                if changes.is_active == Some(false) {
                    ended = revocation::end_user_sessions(c, id, None, why.clone(), now)?
                        .and(revocation::end_devices(c, id, why, now)?);
                    details["revoked_sessions"] = json!(ended.sessions.len());
                    details["revoked_tokens"] = json!(ended.tokens);
                }
                audit::record(c, event::USER_UPDATED, Some(&user), &client, details, now)?;
                Ok((user, ended))
            })
            .await?;
        // Roles and is_active are part of every cached validation.
        self.revocations.account_changed();
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
        change_user(&self.db, id, move |c, user, now| {
            user_repo::unlock(c, id, now)?;
            let details = json!({
                "actor_id": actor.user_id.to_string(),
                "was_locked": user.locked_until.is_some_and(|t| t > now),
                "failed_login_count": user.failed_login_count,
            });
            let target = Some(&user);
            audit::record(c, event::ACCOUNT_UNLOCKED, target, &client, details, now)
        })
        .await
    }
}
