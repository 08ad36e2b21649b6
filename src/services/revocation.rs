//! The one revocation path. Inside the caller's write transaction,
//! `end_session`, `end_user_sessions` and `end_token` flag the rows and say
//! what ended; after the commit, `Revocations::announce` clears cached
//! validations, pushes `session.revoked` to open sockets and counts the metric.
//! Announcing only after the commit means a rolled-back revocation is never
//! announced or counted.

use std::sync::Arc;

use chrono::NaiveDateTime;

use crate::db::{write_transaction, Db, DbConnection};
use crate::dto::auth::RevokedCounts;
use crate::errors::AppResult;
use crate::models::RevokeReason;
use crate::realtime::EventPublisher;
use crate::repositories::session::{self as session_repo, SessionScope};
use crate::repositories::token::{self as token_repo, TokenScope};
use crate::services::validation_cache::ValidationCache;
use crate::util;

/// What one revocation ended, to be announced after the commit.
#[derive(Debug, Clone)]
pub struct Ended {
    /// The owner of what ended.
    pub user_id: i64,
    /// Sessions ended by this call.
    pub sessions: Vec<i64>,
    /// Tokens revoked by this call.
    pub tokens: usize,
    /// Why.
    pub reason: RevokeReason,
}

impl Ended {
    /// Nothing ended (a path that revokes only sometimes).
    pub fn nothing(user_id: i64, reason: RevokeReason) -> Self {
        Self {
            user_id,
            sessions: Vec::new(),
            tokens: 0,
            reason,
        }
    }

    /// The counts the logout-all and admin answers carry.
    pub fn counts(&self) -> RevokedCounts {
        RevokedCounts {
            revoked_sessions: self.sessions.len(),
            revoked_tokens: self.tokens,
        }
    }

    /// True when this call revoked anything.
    pub fn any(&self) -> bool {
        self.tokens > 0 || !self.sessions.is_empty()
    }

    /// This and `other` (of the same user) as one announcement, under this reason.
    pub fn and(mut self, other: Ended) -> Ended {
        self.sessions.extend(other.sessions);
        self.tokens += other.tokens;
        self
    }
}

/// Flags `sessions` (when given) and then `tokens` with `reason`: the two
/// statements every revocation below is made of.
fn end(
    c: &mut DbConnection,
    user_id: i64,
    sessions: Option<SessionScope>,
    tokens: TokenScope,
    reason: RevokeReason,
    now: NaiveDateTime,
) -> AppResult<Ended> {
    let sessions = match sessions {
        Some(scope) => session_repo::revoke(c, scope, &reason, now)?,
        None => Vec::new(),
    };
    let tokens = token_repo::revoke(c, tokens, &reason, now)?;
    Ok(Ended {
        user_id,
        sessions,
        tokens,
        reason,
    })
}

/// Ends one session and every token in it.
pub fn end_session(
    c: &mut DbConnection,
    user_id: i64,
    session_id: i64,
    reason: RevokeReason,
    now: NaiveDateTime,
) -> AppResult<Ended> {
    let sessions = Some(SessionScope::One(session_id));
    end(
        c,
        user_id,
        sessions,
        TokenScope::Session(session_id),
        reason,
        now,
    )
}

/// Ends every live session of a user (but `keep`) and their tokens, including
/// the user's session-less tokens.
pub fn end_user_sessions(
    c: &mut DbConnection,
    user_id: i64,
    keep: Option<i64>,
    reason: RevokeReason,
    now: NaiveDateTime,
) -> AppResult<Ended> {
    let sessions = Some(SessionScope::User { user_id, keep });
    end(
        c,
        user_id,
        sessions,
        TokenScope::User { user_id, keep },
        reason,
        now,
    )
}

/// Forgets every remembered device of a user (their next login asks for the
/// second factor again).
pub fn end_devices(
    c: &mut DbConnection,
    user_id: i64,
    reason: RevokeReason,
    now: NaiveDateTime,
) -> AppResult<Ended> {
    end(c, user_id, None, TokenScope::Devices(user_id), reason, now)
}

/// Revokes one token (its session lives on); `tokens` is 0 when it was
/// already revoked, which decides races such as two refreshes of one token.
pub fn end_token(
    c: &mut DbConnection,
    user_id: i64,
    token_id: i64,
    reason: RevokeReason,
    now: NaiveDateTime,
) -> AppResult<Ended> {
    end(c, user_id, None, TokenScope::One(token_id), reason, now)
}

/// What a revoking transaction returns: what it ended, if anything.
pub trait Outcome {
    /// The revocation to announce after the commit.
    fn ended(&self) -> Option<&Ended>;
}

impl Outcome for Ended {
    fn ended(&self) -> Option<&Ended> {
        Some(self)
    }
}

impl Outcome for Option<Ended> {
    fn ended(&self) -> Option<&Ended> {
        self.as_ref()
    }
}

impl<T> Outcome for (T, Ended) {
    fn ended(&self) -> Option<&Ended> {
        Some(&self.1)
    }
}

/// Announces committed revocations on this instance and, through the event
/// publisher, on every other.
#[derive(Clone)]
pub struct Revocations {
    cache: Arc<ValidationCache>,
    events: EventPublisher,
}

impl Revocations {
    /// Announces through `events`, clearing `cache`.
    pub fn new(cache: Arc<ValidationCache>, events: EventPublisher) -> Self {
        Self { cache, events }
    }

    /// Runs `work` in one write transaction (given the time to stamp rows
    /// with) and announces what it ended once it has committed.
    pub async fn commit<T, F>(&self, db: &Db, work: F) -> AppResult<T>
    where
        F: FnOnce(&mut DbConnection, NaiveDateTime) -> AppResult<T> + Send + 'static,
        T: Outcome + Send + 'static,
    {
        let outcome = db
            .run(move |c| write_transaction(c, |c| work(c, util::now())))
            .await?;
        if let Some(ended) = outcome.ended() {
            self.announce(ended);
        }
        Ok(outcome)
    }

    /// After the commit: drops cached validations that may now be wrong, tells
    /// the ended sessions' sockets, and counts the revoked tokens.
    pub fn announce(&self, ended: &Ended) {
        if ended.any() && may_end_access(&ended.reason) {
            self.cache.invalidate_all();
            // Ended sessions reach other instances as `session.revoked`; a
            // lone token needs its own word to empty their caches.
            if ended.sessions.is_empty() {
                self.events.validations_stale();
            }
        }
        crate::metrics::tokens_revoked(&ended.reason, ended.tokens);
        self.events
            .sessions_revoked(ended.user_id, &ended.sessions, ended.reason.as_str());
    }

    /// After an account change that validation reads (roles, active flag):
    /// cached validations are dropped here before the caller answers, and on
    /// other instances as soon as they hear of it.
    pub fn account_changed(&self) {
        self.cache.invalidate_all();
        self.events.validations_stale();
    }
}

/// Whether a revocation for `reason` can reach an access token (which a cached
/// validation may hold). Rotation, spent tickets and dead challenges never do.
fn may_end_access(reason: &RevokeReason) -> bool {
    match reason {
        RevokeReason::Rotated
        | RevokeReason::Used
        | RevokeReason::Attempts
        | RevokeReason::Forgotten
        | RevokeReason::TwoFactorOff => false,
        RevokeReason::Logout
        | RevokeReason::LogoutAll
        | RevokeReason::Admin
        | RevokeReason::PasswordChange
        | RevokeReason::Reuse
        | RevokeReason::UserDisabled
        | RevokeReason::Rfc7009
        | RevokeReason::Other(_) => true,
    }
}
