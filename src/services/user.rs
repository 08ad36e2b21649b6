//! Accounts: creation by an admin or the CLI, and the first-start bootstrap admin.

use chrono::NaiveDateTime;
use serde_json::json;

use super::audit::{self, event};
use super::{cpu, normalize_email, ClientMeta};
use crate::db::{write_transaction, Db, DbConnection};
use crate::dto::user::CreateUserRequest;
use crate::errors::{AppError, AppResult};
use crate::models::{NewUser, Role, Roles, User};
use crate::principal::Principal;
use crate::repositories::user as user_repo;
use crate::security::password_policy::{PasswordPolicy, MAX_LENGTH};
use crate::security::{hashing, password};
use crate::util;

/// Account rules.
#[derive(Clone)]
pub struct UserService {
    db: Db,
    bcrypt_cost: u32,
    policy: PasswordPolicy,
}

/// Refuses `password` for the account `email` under `policy`: 422 with the
/// reasons under `field`.
pub fn enforce_policy(
    policy: &PasswordPolicy,
    field: &str,
    password: &str,
    email: &str,
    full_name: &str,
) -> AppResult<()> {
    let reasons = policy.check(password, email, full_name);
    if reasons.is_empty() {
        return Ok(());
    }
    let mut details = crate::errors::FieldErrors::new();
    details.insert(field.to_string(), reasons);
    Err(AppError::ValidationFailed(details))
}

/// A validated account to create (password already hashed).
#[derive(Debug, Clone)]
pub struct AccountSpec {
    /// Normalized email.
    pub email: String,
    /// bcrypt hash.
    pub password_hash: String,
    /// Display name.
    pub full_name: String,
    /// Roles (`user` when none).
    pub roles: Roles,
}

impl UserService {
    /// A service over `db` hashing at `bcrypt_cost`, new passwords under `policy`.
    pub fn new(db: Db, bcrypt_cost: u32, policy: PasswordPolicy) -> Self {
        Self {
            db,
            bcrypt_cost,
            policy,
        }
    }

    /// The account `id` as stored now; 404 when unknown.
    pub async fn find(&self, id: i64) -> AppResult<User> {
        find_user(&self.db, id).await
    }

    /// `POST /admin/users`: creates an account, 409 when the email is taken.
    #[tracing::instrument(skip_all)]
    pub async fn create(
        &self,
        actor: Principal,
        req: CreateUserRequest,
        client: ClientMeta,
    ) -> AppResult<User> {
        let email = normalize_email(&req.email);
        let full_name = req.full_name.trim().to_string();
        enforce_policy(&self.policy, "password", &req.password, &email, &full_name)?;
        let cost = self.bcrypt_cost;
        let plain = req.password;
        let password_hash = cpu(move || password::hash(&plain, cost))
            .await?
            .map_err(|e| AppError::internal(format!("bcrypt failed: {e}")))?;
        let spec = AccountSpec {
            email,
            password_hash,
            full_name,
            roles: Roles::from_names(req.roles),
        };
        self.db
            .run(move |c| {
                write_transaction(c, |c| {
                    let user = insert_account(c, spec)?;
                    let details = json!({
                        "actor_id": actor.user_id.to_string(),
                        "roles": user.roles.names(),
                    });
                    audit::record(
                        c,
                        event::USER_CREATED,
                        Some(&user),
                        &client,
                        details,
                        util::now(),
                    )?;
                    Ok(user)
                })
            })
            .await
    }
}

/// The account `id` as stored now (secrets included: for services only);
/// 404 when unknown. The one read every service uses for it.
pub async fn find_user(db: &Db, id: i64) -> AppResult<User> {
    db.run(move |c| user_repo::find_by_id(c, id)?.ok_or(AppError::NotFound))
        .await
}

/// In one write transaction, the account `id` as stored (404 when unknown)
/// handed to `change`, with the time of the change.
pub async fn change_user<T, F>(db: &Db, id: i64, change: F) -> AppResult<T>
where
    F: FnOnce(&mut DbConnection, User, NaiveDateTime) -> AppResult<T> + Send + 'static,
    T: Send + 'static,
{
    db.run(move |c| {
        write_transaction(c, |c| {
            let now = util::now();
            let user = user_repo::find_by_id(c, id)?.ok_or(AppError::NotFound)?;
            change(c, user, now)
        })
    })
    .await
}

/// Inserts an account; a taken email is a 409.
pub fn insert_account(c: &mut DbConnection, spec: AccountSpec) -> AppResult<User> {
    if user_repo::find_by_email(c, &spec.email)?.is_some() {
        return Err(AppError::Conflict(
            "That email is already registered.".into(),
        ));
    }
    let roles = match spec.roles.is_empty() {
        true => Roles::from_names([Role::User.as_str()]),
        false => spec.roles,
    };
    let now = util::now();
    user_repo::insert(
        c,
        &NewUser {
            email: spec.email,
            password_hash: spec.password_hash,
            full_name: spec.full_name,
            roles,
            is_active: true,
            created_at: now,
            updated_at: now,
        },
    )
    .map_err(|e| match e {
        diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        ) => AppError::Conflict("That email is already registered.".into()),
        other => other.into(),
    })
}

/// Outcome of the first-start bootstrap.
#[derive(Debug)]
pub struct Bootstrapped {
    /// The admin's email.
    pub email: String,
    /// Set when the password was generated and must be shown once.
    pub generated_password: Option<String>,
}

/// Creates the first admin when no user exists. Runs at start-up under the
/// migration lock, so concurrent instances create at most one.
pub fn bootstrap_admin(
    c: &mut DbConnection,
    email: Option<&str>,
    password_plain: Option<&str>,
    bcrypt_cost: u32,
    policy: &PasswordPolicy,
) -> AppResult<Option<Bootstrapped>> {
    if user_repo::count(c)? > 0 {
        return Ok(None);
    }
    let email = normalize_email(email.unwrap_or("admin@tokenward.local"));
    let (plain, generated) = match password_plain {
        Some(p) => (p.to_string(), false),
        None => (hashing::opaque_token()[..24].to_string(), true),
    };
    if plain.is_empty() || plain.chars().count() > MAX_LENGTH {
        return Err(AppError::internal(
            "TOKENWARD_BOOTSTRAP_ADMIN_PASSWORD must be 1 to 128 characters",
        ));
    }
    // The operator's choice: a weak one is only worth a warning.
    let weak = policy.check(&plain, &email, "Administrator");
    if !generated && !weak.is_empty() {
        tracing::warn!(reasons = ?weak, "the bootstrap admin password does not meet the password policy; change it after logging in");
    }
    let password_hash = password::hash(&plain, bcrypt_cost)
        .map_err(|e| AppError::internal(format!("bcrypt failed: {e}")))?;
    let user = insert_account(
        c,
        AccountSpec {
            email: email.clone(),
            password_hash,
            full_name: "Administrator".into(),
            roles: Roles::from_names([Role::Admin.as_str()]),
        },
    )?;
    let details = json!({ "bootstrap": true });
    audit::record(
        c,
        event::USER_CREATED,
        Some(&user),
        &ClientMeta::default(),
        details,
        util::now(),
    )?;
    Ok(Some(Bootstrapped {
        email,
        generated_password: generated.then_some(plain),
    }))
}
