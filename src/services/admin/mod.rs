//! Service layer: what the `admin` role may do over accounts, sessions, tokens
//! and the audit trail. Every change is one write transaction together with its
//! audit event, whose `details.actor_id` names the admin.

mod audit;
mod tokens;
mod users;

use crate::db::Db;
use crate::services::revocation::Revocations;

/// Admin operations (the caller's role is checked by the `Admin` extractor).
#[derive(Clone)]
pub struct AdminService {
    db: Db,
    /// Announces what an admin ends, and account changes validation reads.
    revocations: Revocations,
}

impl AdminService {
    /// A service over `db`.
    pub fn new(db: Db, revocations: Revocations) -> Self {
        Self { db, revocations }
    }
}
