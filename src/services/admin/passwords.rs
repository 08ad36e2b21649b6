//! Admin password reset: a given or generated temporary password, every
//! session ended, and the account marked so that it can only change its
//! password until it does.

use serde_json::json;

use super::AdminService;
use crate::db::DbConnection;
use crate::errors::{AppError, AppResult};
use crate::models::{PasswordChange, RevokeReason, User};
use crate::principal::Principal;
use crate::repositories::user as user_repo;
use crate::security::password;
use crate::services::audit::{self, event};
use crate::services::revocation::{self, Ended};
use crate::services::user::enforce_policy;
use crate::services::{cpu, ClientMeta};
use crate::util;

impl AdminService {
    /// Resets the password of `user_id` to `given` (held to the policy) or to
    /// a generated one, which is returned (to be shown once).
    #[tracing::instrument(skip_all)]
    pub async fn reset_password(
        &self,
        actor: Principal,
        user_id: i64,
        given: Option<String>,
        client: ClientMeta,
    ) -> AppResult<Option<String>> {
        // A reset of one's own account would end this very session and force
        // a change the caller can make directly.
        if user_id == actor.user_id {
            return Err(AppError::field(
                "id",
                "use POST /auth/password to change your own password",
            ));
        }
        let user = self.get_user(user_id).await?;
        let generated = given.is_none();
        let plain = match given {
            Some(p) => {
                let policy = &self.passwords.policy;
                enforce_policy(policy, "password", &p, &user.email, &user.full_name)?;
                p
            }
            None => password::generate(),
        };
        let cost = self.passwords.bcrypt_cost;
        let hashed = plain.clone();
        let hash = cpu(move || password::hash(&hashed, cost))
            .await?
            .map_err(|e| AppError::internal(format!("bcrypt failed: {e}")))?;
        let actor = Some(actor.user_id);
        self.revocations
            .commit(&self.db, move |c, _| {
                reset_in(c, &user, &hash, Reset { actor, generated }, &client)
            })
            .await?;
        Ok(generated.then_some(plain))
    }
}

/// Who reset a password, and how it was chosen (for the audit row).
#[derive(Debug, Clone, Copy)]
pub struct Reset {
    /// The admin who acted; None from the shell.
    pub actor: Option<i64>,
    /// Whether the password was generated.
    pub generated: bool,
}

/// A reset from the shell: the account named by `email` (404 when none).
pub fn reset_by_email(
    c: &mut DbConnection,
    email: &str,
    hash: &str,
    reset: Reset,
) -> AppResult<Ended> {
    let user = user_repo::find_by_email(c, email)?.ok_or(AppError::NotFound)?;
    reset_in(c, &user, hash, reset, &ClientMeta::default())
}

/// The writes of a reset, inside the caller's transaction: the new hash with
/// the forced-change mark, every session ended (reason `admin`), the audit row.
pub fn reset_in(
    c: &mut DbConnection,
    user: &User,
    hash: &str,
    reset: Reset,
    client: &ClientMeta,
) -> AppResult<Ended> {
    let now = util::now();
    let change = PasswordChange {
        password_hash: hash,
        must_change_password: Some(true),
        updated_at: now,
    };
    if user_repo::set_password(c, user.id, &change)? == 0 {
        return Err(AppError::NotFound);
    }
    let ended = revocation::end_user_sessions(c, user.id, None, RevokeReason::Admin, now)?.and(
        revocation::end_devices(c, user.id, RevokeReason::Admin, now)?,
    );
    let mut details = json!(ended.counts());
    details["actor_id"] = json!(reset.actor.map(|a| a.to_string()));
    details["generated"] = json!(reset.generated);
    audit::record(c, event::PASSWORD_RESET, Some(user), client, details, now)?;
    Ok(ended)
}
