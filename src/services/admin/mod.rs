//! Service layer: what the `admin` role may do over accounts, sessions, tokens
//! and the audit trail. Every change is one write transaction together with its
//! audit event, whose `details.actor_id` names the admin.

mod audit;
pub mod passwords;
mod stats;
mod tokens;
mod users;

use crate::db::Db;
use crate::security::password_policy::PasswordPolicy;
use crate::services::revocation::Revocations;

/// Admin operations (the caller's role is checked by the `Admin` extractor).
#[derive(Clone)]
pub struct AdminService {
    db: Db,
    /// Announces what an admin ends, and account changes validation reads.
    revocations: Revocations,
    /// How reset passwords are checked and hashed.
    passwords: PasswordSettings,
}

/// The cost and policy a reset password gets.
#[derive(Debug, Clone, Copy)]
pub struct PasswordSettings {
    /// bcrypt cost.
    pub bcrypt_cost: u32,
    /// The password policy.
    pub policy: PasswordPolicy,
}

impl AdminService {
    /// A service over `db`.
    pub fn new(db: Db, revocations: Revocations, passwords: PasswordSettings) -> Self {
        Self {
            db,
            revocations,
            passwords,
        }
    }
}
