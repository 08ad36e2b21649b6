//! The caller's own account: changing the password, which ends every other
//! session of the user.

use serde_json::json;

use super::audit::{self, event};
use super::lockout::PasswordCheck;
use super::revocation::{self, Revocations};
use super::user::enforce_policy;
use super::{cpu, ClientMeta};
use crate::db::Db;
use crate::dto::auth::ChangePasswordRequest;
use crate::errors::{AppError, AppResult};
use crate::models::{PasswordChange, RevokeReason};
use crate::principal::Principal;
use crate::repositories::user as user_repo;
use crate::security::password;
use crate::security::password_policy::PasswordPolicy;

/// Account self-service.
#[derive(Clone)]
pub struct AccountService {
    db: Db,
    bcrypt_cost: u32,
    policy: PasswordPolicy,
    passwords: PasswordCheck,
    revocations: Revocations,
}

impl AccountService {
    /// Builds the service; new passwords are hashed at `bcrypt_cost`.
    pub fn new(
        db: Db,
        (bcrypt_cost, policy): (u32, PasswordPolicy),
        passwords: PasswordCheck,
        revocations: Revocations,
    ) -> Self {
        Self {
            db,
            bcrypt_cost,
            policy,
            passwords,
            revocations,
        }
    }

    /// Why the policy would refuse `password` for the account `email` (empty
    /// when it would take it): the same reasons a password change answers.
    pub fn judge_password(&self, password: &str, email: &str) -> Vec<String> {
        self.policy.check(password, email, "")
    }

    /// Changes the caller's password and ends every other session.
    #[tracing::instrument(skip_all)]
    pub async fn change_password(
        &self,
        principal: Principal,
        req: ChangePasswordRequest,
        client: ClientMeta,
    ) -> AppResult<()> {
        let field = "new_password";
        enforce_policy(&self.policy, field, &req.new_password, &principal.email, "")?;
        // A wrong current password counts towards the lockout, like a login.
        let current = req.current_password;
        let who = principal.clone();
        let old_hash = self.passwords.verify(who, current, client.clone()).await?;
        let cost = self.bcrypt_cost;
        let new = req.new_password;
        let new_hash = cpu(move || password::hash(&new, cost))
            .await?
            .map_err(|e| AppError::internal(format!("bcrypt failed: {e}")))?;
        self.revocations
            .commit(&self.db, move |c, now| {
                let (uid, keep) = (principal.user_id, Some(principal.session_id));
                // The hash checked must still be the stored one: a change
                // committed meanwhile makes the current password stale.
                let change = PasswordChange {
                    password_hash: &new_hash,
                    must_change_password: Some(false),
                    updated_at: now,
                };
                if user_repo::update_password(c, uid, &old_hash, &change)? == 0 {
                    return Err(AppError::InvalidCredentials);
                }
                let why = RevokeReason::PasswordChange;
                let ended = revocation::end_user_sessions(c, uid, keep, why.clone(), now)?
                    .and(revocation::end_devices(c, uid, why, now)?);
                let details = json!(ended.counts());
                let who = Some(&principal);
                audit::record(c, event::PASSWORD_CHANGED, who, &client, details, now)?;
                Ok(ended)
            })
            .await?;
        Ok(())
    }
}
