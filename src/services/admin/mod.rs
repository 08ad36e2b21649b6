//! Service layer: what the `admin` role may do over accounts, sessions, tokens
//! and the audit trail. Every change is one write transaction together with its
//! audit event, whose `details.actor_id` names the admin.

mod audit;
mod tokens;
mod users;

use crate::db::Db;
use crate::realtime::EventPublisher;
use crate::services::token::TokenService;

/// Admin operations (the caller's role is checked by the `Admin` extractor).
#[derive(Clone)]
pub struct AdminService {
    db: Db,
    /// Told about every revocation and account change, so cached validations go.
    tokens: TokenService,
    /// Pushes `session.revoked` to the sockets of sessions an admin ends.
    events: EventPublisher,
}

impl AdminService {
    /// A service over `db`.
    pub fn new(db: Db, tokens: TokenService) -> Self {
        Self {
            db,
            tokens,
            events: EventPublisher::default(),
        }
    }

    /// Announces revocations through `events` (WebSocket).
    pub fn with_events(mut self, events: EventPublisher) -> Self {
        self.events = events;
        self
    }
}
