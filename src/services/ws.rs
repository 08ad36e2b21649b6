//! WebSocket tickets and the session re-check of open sockets.
//!
//! A ticket is an opaque secret stored hashed in `tokens` (type `ws`, 30 s).
//! Redeeming it is one conditional UPDATE, so it works once even across
//! instances that share the database; with Redis a `SET NX EX` on its hash
//! gates it first. The database stays the judge: Redis can only refuse more.

use std::sync::Arc;
use std::time::Duration;

use chrono::Duration as ChronoDuration;

use super::revocation;
use super::ClientMeta;
use crate::cluster::RedisLink;
use crate::db::{write_transaction, Db};
use crate::errors::{AppError, AppResult};
use crate::models::{NewToken, RevokeReason, TokenKind};
use crate::principal::Principal;
use crate::realtime::socket::{self, Upgraded};
use crate::realtime::{EventPublisher, Hub, SocketMeta};
use crate::repositories::{session as session_repo, token as token_repo, user as user_repo};
use crate::security::hashing::{opaque_token, token_hash};
use crate::util;

/// Ticket lifetime, seconds (fixed by the contract).
pub const TICKET_TTL: i64 = 30;
/// Longest string taken for a ticket before hashing.
const MAX_TICKET_LEN: usize = 256;
/// Sessions checked per query by the sweep.
const SWEEP_CHUNK: usize = 500;

/// A ticket just issued.
#[derive(Debug)]
pub struct IssuedTicket {
    /// The secret, shown once.
    pub token: String,
    /// Seconds it stays valid.
    pub expires_in: i64,
}

/// The owner of a redeemed ticket.
#[derive(Debug, Clone, Copy)]
pub struct TicketOwner {
    /// User.
    pub user_id: i64,
    /// Session the ticket was issued in.
    pub session_id: i64,
}

/// Ticket and socket-session rules.
#[derive(Clone)]
pub struct WsService {
    db: Db,
    redis: Option<RedisLink>,
    events: EventPublisher,
    hub: Hub,
    /// Browser origins besides the server's own (`TOKENWARD_CORS_ORIGINS`).
    origins: Arc<[String]>,
}

impl WsService {
    /// A service over `db`, gated by `redis` when configured, announcing
    /// through `events`.
    pub fn new(db: Db, redis: Option<RedisLink>, events: EventPublisher, hub: Hub) -> Self {
        Self {
            db,
            redis,
            events,
            hub,
            origins: Arc::from(Vec::new()),
        }
    }

    /// Also lets browser pages of `origins` open sockets.
    pub fn with_origins(mut self, origins: &[String]) -> Self {
        self.origins = Arc::from(origins.to_vec());
        self
    }

    /// True when a socket may be opened from `origin` on a server reached as
    /// `host`: no `Origin` (not a browser), the server's own origin, or one of
    /// the allowed origins. An unreadable `Origin` header is refused.
    pub fn origin_allowed(&self, origin: Option<Option<&str>>, host: &str) -> bool {
        let origin = match origin {
            None => return true,
            Some(None) => return false,
            Some(Some(o)) => o.trim(),
        };
        let own = ["http://", "https://"]
            .iter()
            .any(|scheme| origin.strip_prefix(scheme) == Some(host));
        own || self.origins.iter().any(|o| o == origin)
    }

    /// Serves an upgraded connection of a redeemed ticket's session.
    pub fn connect(&self, owner: TicketOwner, client: ClientMeta, upgraded: Upgraded) {
        let meta = SocketMeta {
            user_id: owner.user_id,
            session_id: owner.session_id,
            ip: client.ip.clone(),
            user_agent: client.user_agent,
        };
        let socket_id = socket::attach(&self.hub, meta, upgraded);
        tracing::info!(
            socket_id,
            user_id = owner.user_id,
            session_id = owner.session_id,
            ip = ?client.ip,
            "websocket connected"
        );
    }

    /// Pushes an admin message to `user_id` (404 when no such user) or to all.
    #[tracing::instrument(skip_all)]
    pub async fn notify(
        &self,
        actor_id: i64,
        user_id: Option<i64>,
        message: String,
    ) -> AppResult<()> {
        if let Some(uid) = user_id {
            let exists = self
                .db
                .run(move |c| Ok(user_repo::find_by_id(c, uid)?.is_some()))
                .await?;
            if !exists {
                return Err(AppError::NotFound);
            }
        }
        tracing::info!(actor_id, recipient = ?user_id, "admin notification sent");
        self.events.notify(user_id, message);
        Ok(())
    }

    /// Issues a single-use ticket in the caller's session.
    #[tracing::instrument(skip_all)]
    pub async fn issue_ticket(
        &self,
        principal: &Principal,
        client: ClientMeta,
    ) -> AppResult<IssuedTicket> {
        let token = opaque_token();
        let now = util::now();
        let row = NewToken {
            jti: util::new_jti(),
            token_hash: token_hash(&token),
            token_type: TokenKind::Ws,
            user_id: principal.user_id,
            user_email: principal.email.clone(),
            session_id: Some(principal.session_id),
            created_at: now,
            expires_at: now + ChronoDuration::seconds(TICKET_TTL),
            user_agent: client.user_agent,
            ip_address: client.ip,
            key_id: None,
        };
        self.db
            .run(move |c| Ok(token_repo::insert(c, &row)?))
            .await?;
        crate::metrics::token_issued(TokenKind::Ws, 1);
        Ok(IssuedTicket {
            token,
            expires_in: TICKET_TTL,
        })
    }

    /// Redeems a ticket: valid, unused, unexpired and of a live session, or a
    /// 401 (`token_invalid` forged, `token_expired`, `token_revoked` used).
    #[tracing::instrument(skip_all)]
    pub async fn redeem_ticket(&self, raw: &str) -> AppResult<TicketOwner> {
        if raw.is_empty() {
            return Err(AppError::TokenMissing);
        }
        if raw.len() > MAX_TICKET_LEN {
            return Err(AppError::TokenInvalid("malformed ticket"));
        }
        let hash = token_hash(raw);
        let lookup = hash.clone();
        let now = util::now();
        let owner = self
            .db
            .run(move |c| {
                let Some(ctx) = token_repo::find_context_by_hash(c, &lookup)? else {
                    return Err(AppError::TokenInvalid("unknown ticket"));
                };
                let t = &ctx.token;
                if t.issued.token_type != TokenKind::Ws {
                    return Err(AppError::TokenInvalid("not a ticket"));
                }
                if t.revoked {
                    // Spent (a ticket is revoked only by its use) or its session ended.
                    return Err(match t.revoked_reason {
                        Some(RevokeReason::Used) => AppError::TicketSpent,
                        _ => AppError::TokenRevoked,
                    });
                }
                if t.expired || t.issued.expires_at <= now {
                    return Err(AppError::TokenExpired);
                }
                let Some(session) = ctx.session.as_ref().filter(|s| !s.revoked) else {
                    return Err(AppError::TokenRevoked);
                };
                if session.login.expires_at <= now || !ctx.user.is_active {
                    return Err(AppError::TokenRevoked);
                }
                Ok((ctx.token.id, ctx.user.id, session.id))
            })
            .await?;
        let (token_id, user_id, session_id) = owner;
        if let Some(link) = &self.redis {
            let key = link.key(&format!("ws:ticket:{hash}"));
            let first = link
                .run(|mut c| async move {
                    redis::cmd("SET")
                        .arg(&key)
                        .arg(1)
                        .arg("NX")
                        .arg("EX")
                        .arg(TICKET_TTL + 1)
                        .query_async::<Option<String>>(&mut c)
                        .await
                })
                .await;
            // Some(None): another instance took it first. None: Redis is away.
            if matches!(first, Some(None)) {
                return Err(AppError::TicketSpent);
            }
        }
        let spent = self
            .db
            .run(move |c| {
                write_transaction(c, |c| {
                    let (why, now) = (RevokeReason::Used, util::now());
                    revocation::end_token(c, user_id, token_id, why, now)
                })
            })
            .await?;
        if spent.tokens == 0 {
            return Err(AppError::TicketSpent);
        }
        Ok(TicketOwner {
            user_id,
            session_id,
        })
    }

    /// Closes sockets whose session the database says has ended: the fallback
    /// when a revocation on another instance could not be fanned out.
    pub async fn recheck_sessions(&self, hub: &Hub) -> AppResult<usize> {
        let ids = hub.session_ids();
        let mut closed = 0;
        for chunk in ids.chunks(SWEEP_CHUNK) {
            let chunk = chunk.to_vec();
            let ended = self
                .db
                .run(move |c| Ok(session_repo::find_ended_among(c, &chunk, util::now())?))
                .await?;
            for s in ended {
                let why = match (&s.revoked_reason, s.revoked) {
                    (Some(reason), _) => reason.as_str(),
                    (None, true) => RevokeReason::Admin.as_str(),
                    // Its tokens were revoked (by plain SQL, say) or it ended.
                    (None, false) if s.login.expires_at > util::now() => "revoked",
                    (None, false) => "expired",
                };
                // Local only: every instance runs its own sweep.
                self.events
                    .deliver_local_revocation(s.login.user_id, s.id, why);
                closed += 1;
            }
        }
        Ok(closed)
    }

    /// Runs `recheck_sessions` every `every` until the runtime stops.
    pub fn spawn_session_check(&self, hub: Hub, every: Duration) {
        if every.is_zero() {
            return;
        }
        let service = self.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                if hub.count() == 0 {
                    continue;
                }
                if let Err(e) = service.recheck_sessions(&hub).await {
                    tracing::debug!(error = %e, "websocket session re-check skipped");
                }
            }
        });
    }
}
