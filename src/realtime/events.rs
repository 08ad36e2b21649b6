//! Server-to-client events and the publisher handle the services receive.
//! An event is delivered to this instance's sockets at once and, when Redis is
//! configured, published so every other instance delivers it to its own.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::registry::Hub;
use crate::cluster::pubsub::{self, Handler};
use crate::cluster::RedisLink;
use crate::util;

/// What happened, as carried between instances.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    /// A session ended: its sockets get `session.revoked`, then a close frame.
    SessionRevoked {
        /// Owner.
        user_id: i64,
        /// The session.
        session_id: i64,
        /// `logout`, `logout_all`, `password_change`, `reuse`, `admin`, ...
        reason: String,
    },
    /// A new login: the user's other sockets get `session.created`.
    SessionCreated {
        /// Owner.
        user_id: i64,
        /// The new session.
        session_id: i64,
        /// Client IP of the login.
        ip_address: Option<String>,
        /// Client user agent of the login.
        user_agent: Option<String>,
    },
    /// Something validation reads changed without ending a session (one token
    /// revoked, roles edited): other instances drop their cached validations.
    ValidationsStale,
    /// An admin message, to one user or to everyone.
    Notification {
        /// Recipient; everyone when absent.
        user_id: Option<i64>,
        /// The text.
        message: String,
    },
}

impl Event {
    /// True when cached validations may be wrong after this event.
    pub fn stales_validations(&self) -> bool {
        match self {
            Self::SessionRevoked { .. } | Self::ValidationsStale => true,
            Self::SessionCreated { .. } | Self::Notification { .. } => false,
        }
    }

    /// The JSON frame sent to clients (none for events no socket hears).
    pub fn frame(&self) -> String {
        let value = match self {
            Self::ValidationsStale => json!({ "type": "validations.stale" }),
            Self::SessionRevoked {
                session_id, reason, ..
            } => json!({
                "type": "session.revoked",
                "session_id": session_id.to_string(),
                "reason": reason,
            }),
            Self::SessionCreated {
                session_id,
                ip_address,
                user_agent,
                ..
            } => json!({
                "type": "session.created",
                "session_id": session_id.to_string(),
                "ip_address": ip_address,
                "user_agent": user_agent,
                "created_at": util::rfc3339(util::now()),
            }),
            Self::Notification { message, .. } => json!({
                "type": "notification",
                "message": message,
                "sent_at": util::rfc3339(util::now()),
            }),
        };
        value.to_string()
    }
}

/// What travels on the Redis channel.
#[derive(Debug, Serialize, Deserialize)]
struct Envelope {
    /// The publishing instance (which already delivered it locally).
    origin: String,
    event: Event,
}

struct Bus {
    link: RedisLink,
    channel: String,
    origin: String,
}

struct Inner {
    hub: Hub,
    bus: Option<Bus>,
}

/// The handle services use to announce events (cheap to clone). The default
/// publishes nowhere, so services built without one keep working.
#[derive(Clone, Default)]
pub struct EventPublisher {
    inner: Option<Arc<Inner>>,
}

impl EventPublisher {
    /// Delivers to `hub` and, with `link`, fans out through Redis.
    pub fn new(hub: Hub, link: Option<RedisLink>) -> Self {
        let bus = link.map(|link| Bus {
            channel: link.key("events"),
            link,
            origin: uuid::Uuid::new_v4().to_string(),
        });
        Self {
            inner: Some(Arc::new(Inner { hub, bus })),
        }
    }

    /// Starts receiving other instances' events (no-op without Redis).
    pub fn spawn_subscriber(&self, stale: impl Fn() + Send + Sync + 'static) {
        let Some(inner) = &self.inner else { return };
        let Some(bus) = &inner.bus else { return };
        let hub = inner.hub.clone();
        let origin = bus.origin.clone();
        let handler: Handler =
            Arc::new(
                move |payload: &[u8]| match serde_json::from_slice::<Envelope>(payload) {
                    Ok(env) if env.origin != origin => {
                        // Another instance's revocation empties this one's
                        // cache too, well inside the one-second bound.
                        if env.event.stales_validations() {
                            stale();
                        }
                        deliver(&hub, &env.event);
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "ignored a malformed instance event"),
                },
            );
        pubsub::spawn_subscriber(bus.link.clone(), bus.channel.clone(), handler);
    }

    /// Delivers locally, then publishes in the background.
    pub fn publish(&self, event: Event) {
        let Some(inner) = &self.inner else { return };
        deliver(&inner.hub, &event);
        let Some(bus) = &inner.bus else { return };
        let payload = match serde_json::to_string(&Envelope {
            origin: bus.origin.clone(),
            event,
        }) {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %e, "could not encode an instance event");
                return;
            }
        };
        let link = bus.link.clone();
        let channel = bus.channel.clone();
        tokio::spawn(async move {
            let sent = link
                .run(|mut c| async move {
                    redis::cmd("PUBLISH")
                        .arg(&channel)
                        .arg(&payload)
                        .query_async::<i64>(&mut c)
                        .await
                })
                .await;
            if sent.is_none() {
                tracing::debug!("event not fanned out: redis unavailable");
            }
        });
    }

    /// Announces that `session_id` of `user_id` was revoked for `reason`. This is
    /// what every revocation path calls (admin endpoints included).
    pub fn session_revoked(&self, user_id: i64, session_id: i64, reason: &str) {
        self.publish(Event::SessionRevoked {
            user_id,
            session_id,
            reason: reason.to_string(),
        });
    }

    /// Closes this instance's sockets of a session found ended in the
    /// database, without publishing (every instance checks for itself).
    pub fn deliver_local_revocation(&self, user_id: i64, session_id: i64, reason: &str) {
        let Some(inner) = &self.inner else { return };
        let event = Event::SessionRevoked {
            user_id,
            session_id,
            reason: reason.to_string(),
        };
        deliver(&inner.hub, &event);
    }

    /// Tells other instances that cached validations may be wrong (a token
    /// revoked outside any ended session, an account edited).
    pub fn validations_stale(&self) {
        self.publish(Event::ValidationsStale);
    }

    /// Announces several revoked sessions of one user.
    pub fn sessions_revoked(&self, user_id: i64, session_ids: &[i64], reason: &str) {
        for sid in session_ids {
            self.session_revoked(user_id, *sid, reason);
        }
    }

    /// Announces a new login to the user's other sockets.
    pub fn session_created(
        &self,
        user_id: i64,
        session_id: i64,
        ip_address: Option<String>,
        user_agent: Option<String>,
    ) {
        self.publish(Event::SessionCreated {
            user_id,
            session_id,
            ip_address,
            user_agent,
        });
    }

    /// Sends an admin message to one user or, with `None`, to everyone.
    pub fn notify(&self, user_id: Option<i64>, message: String) {
        self.publish(Event::Notification { user_id, message });
    }
}

/// Hands an event to this instance's sockets.
fn deliver(hub: &Hub, event: &Event) {
    let frame: Arc<str> = Arc::from(event.frame());
    match event {
        Event::SessionRevoked { session_id, .. } => {
            hub.revoke_session(*session_id, frame);
        }
        Event::SessionCreated {
            user_id,
            session_id,
            ..
        } => {
            // Sockets of the new session itself (none yet, normally) are skipped.
            for socket in hub.sockets_of_user(*user_id) {
                if socket.meta.session_id != *session_id {
                    hub.send_to_socket(socket.id, frame.clone());
                }
            }
        }
        Event::Notification { user_id, .. } => {
            match user_id {
                Some(uid) => hub.send_to_user(*uid, frame),
                None => hub.send_to_all(frame),
            };
        }
        Event::ValidationsStale => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_carry_the_contract_type_and_string_ids() {
        let e = Event::SessionRevoked {
            user_id: 1,
            session_id: 42,
            reason: "logout".into(),
        };
        let v: serde_json::Value = serde_json::from_str(&e.frame()).unwrap();
        assert_eq!(v["type"], "session.revoked");
        assert_eq!(v["session_id"], "42");
        assert_eq!(v["reason"], "logout");
        let env = serde_json::to_string(&Envelope {
            origin: "a".into(),
            event: e.clone(),
        })
        .unwrap();
        let back: Envelope = serde_json::from_str(&env).unwrap();
        assert_eq!(back.event, e);
    }
}
