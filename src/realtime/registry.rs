//! The connection registry ("hub"): every open WebSocket of this instance, by
//! socket id, user and session, with bounded per-socket queues. Sending never
//! blocks: a socket whose queue is full is a slow consumer and is dropped.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::NaiveDateTime;
use tokio::sync::{mpsc, oneshot};

pub use super::meta::{DropReason, SocketMeta};
use super::sockets::{Entry, Sockets};
use crate::util;

/// Registry settings.
#[derive(Debug, Clone, Copy)]
pub struct HubConfig {
    /// Sockets per user before the oldest is closed.
    pub max_per_user: usize,
    /// Queued messages per socket.
    pub queue: usize,
    /// Ping period.
    pub ping_interval: Duration,
    /// Silence after which a socket is dropped.
    pub idle_timeout: Duration,
}

/// A registered socket as listed by the registry.
#[derive(Debug, Clone)]
pub struct SocketInfo {
    /// Socket id (unique in this instance).
    pub id: u64,
    /// Who.
    pub meta: SocketMeta,
    /// Upgrade time (UTC).
    pub connected_at: NaiveDateTime,
    /// Last frame received, Unix milliseconds.
    pub last_seen_ms: i64,
}

/// What the socket task receives on registration.
pub struct Connection {
    /// Its id.
    pub id: u64,
    /// Outgoing text frames.
    pub outbox: mpsc::Receiver<Arc<str>>,
    /// Fires when the registry ends the socket.
    pub kill: oneshot::Receiver<DropReason>,
    /// Updated by the socket task on every inbound frame.
    pub last_seen: Arc<AtomicI64>,
}

/// The registry (cheap to clone).
#[derive(Clone)]
pub struct Hub {
    sockets: Arc<Mutex<Sockets>>,
    next_id: Arc<AtomicU64>,
    config: HubConfig,
}

impl Hub {
    /// An empty registry.
    pub fn new(config: HubConfig) -> Self {
        Self {
            sockets: Arc::default(),
            next_id: Arc::new(AtomicU64::new(1)),
            config,
        }
    }

    /// Its settings.
    pub fn config(&self) -> HubConfig {
        self.config
    }

    fn lock(&self) -> MutexGuard<'_, Sockets> {
        // A panic while holding the lock cannot leave the maps half-updated in a
        // way that matters more than refusing all sockets would.
        self.sockets.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn gauge(sockets: &Sockets) {
        metrics::gauge!("tokenward_ws_connections").set(sockets.by_id.len() as f64);
    }

    /// Registers a socket; past the per-user limit the user's oldest is closed.
    pub fn register(&self, meta: SocketMeta) -> Connection {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, outbox) = mpsc::channel(self.config.queue);
        let (kill_tx, kill) = oneshot::channel();
        let last_seen = Arc::new(AtomicI64::new(now_ms()));
        let mut s = self.lock();
        if s.shutting_down {
            let _ = kill_tx.send(DropReason::Shutdown);
        } else {
            let user_id = meta.user_id;
            s.by_user.entry(user_id).or_default().push(id);
            s.by_session.entry(meta.session_id).or_default().push(id);
            s.by_id.insert(
                id,
                Entry {
                    meta,
                    connected_at: util::now(),
                    last_seen: last_seen.clone(),
                    tx,
                    kill: Some(kill_tx),
                },
            );
            let over: Vec<u64> = s
                .by_user
                .get(&user_id)
                .map(|ids| {
                    let n = ids.len().saturating_sub(self.config.max_per_user);
                    ids[..n].to_vec()
                })
                .unwrap_or_default();
            for old in over {
                s.kill(old, DropReason::Limit);
            }
        }
        Self::gauge(&s);
        Connection {
            id,
            outbox,
            kill,
            last_seen,
        }
    }

    /// Forgets a socket its task ended (client gone); nothing is counted.
    pub fn unregister(&self, id: u64) {
        let mut s = self.lock();
        s.remove(id);
        Self::gauge(&s);
    }

    /// Ends a socket for `reason` (its task closes it).
    pub fn drop_socket(&self, id: u64, reason: DropReason) {
        let mut s = self.lock();
        s.kill(id, reason);
        Self::gauge(&s);
    }

    /// Queues `text` for one socket.
    pub fn send_to_socket(&self, id: u64, text: Arc<str>) -> bool {
        let mut s = self.lock();
        let ok = s.deliver(id, &text);
        Self::gauge(&s);
        ok
    }

    /// Queues `text` for every socket of `user_id`; returns how many took it.
    pub fn send_to_user(&self, user_id: i64, text: Arc<str>) -> usize {
        let mut s = self.lock();
        let ids = s.by_user.get(&user_id).cloned().unwrap_or_default();
        let n = s.deliver_all(ids, &text);
        Self::gauge(&s);
        n
    }

    /// Queues `text` for every socket.
    pub fn send_to_all(&self, text: Arc<str>) -> usize {
        let mut s = self.lock();
        let ids: Vec<u64> = s.by_id.keys().copied().collect();
        let n = s.deliver_all(ids, &text);
        Self::gauge(&s);
        n
    }

    /// Queues `text` for every socket not owned by `user_id`.
    pub fn send_to_all_but_user(&self, user_id: i64, text: Arc<str>) -> usize {
        let mut s = self.lock();
        let ids: Vec<u64> = s
            .by_id
            .iter()
            .filter(|(_, e)| e.meta.user_id != user_id)
            .map(|(id, _)| *id)
            .collect();
        let n = s.deliver_all(ids, &text);
        Self::gauge(&s);
        n
    }

    /// Queues `text` for the sockets of `session_id`, then closes them
    /// (reason `revoked`); returns how many there were.
    pub fn revoke_session(&self, session_id: i64, text: Arc<str>) -> usize {
        let mut s = self.lock();
        let ids = s.by_session.get(&session_id).cloned().unwrap_or_default();
        for id in &ids {
            if s.deliver(*id, &text) {
                s.kill(*id, DropReason::Revoked);
            }
        }
        Self::gauge(&s);
        ids.len()
    }

    /// Open sockets.
    pub fn count(&self) -> usize {
        self.lock().by_id.len()
    }

    /// Open sockets of one user.
    pub fn count_user(&self, user_id: i64) -> usize {
        self.lock().by_user.get(&user_id).map_or(0, Vec::len)
    }

    /// The sessions that have at least one socket here.
    pub fn session_ids(&self) -> Vec<i64> {
        self.lock().by_session.keys().copied().collect()
    }

    /// One user's sockets, oldest first.
    pub fn sockets_of_user(&self, user_id: i64) -> Vec<SocketInfo> {
        let s = self.lock();
        let ids = s.by_user.get(&user_id).cloned().unwrap_or_default();
        ids.iter()
            .filter_map(|id| {
                s.by_id.get(id).map(|e| SocketInfo {
                    id: *id,
                    meta: e.meta.clone(),
                    connected_at: e.connected_at,
                    last_seen_ms: e.last_seen.load(Ordering::Relaxed),
                })
            })
            .collect()
    }

    /// Graceful shutdown: every socket is sent a close frame and no new one is
    /// accepted.
    pub fn close_all(&self) -> usize {
        let mut s = self.lock();
        s.shutting_down = true;
        let ids: Vec<u64> = s.by_id.keys().copied().collect();
        for id in &ids {
            s.kill(*id, DropReason::Shutdown);
        }
        Self::gauge(&s);
        ids.len()
    }
}

/// Now as Unix milliseconds.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hub(max: usize, queue: usize) -> Hub {
        Hub::new(HubConfig {
            max_per_user: max,
            queue,
            ping_interval: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
        })
    }

    fn meta(user_id: i64, session_id: i64) -> SocketMeta {
        SocketMeta {
            user_id,
            session_id,
            ip: None,
            user_agent: None,
        }
    }

    #[test]
    fn the_oldest_socket_of_a_user_goes_past_the_limit() {
        let h = hub(2, 4);
        let mut first = h.register(meta(1, 10));
        let _second = h.register(meta(1, 10));
        let _other = h.register(meta(2, 20));
        assert_eq!(h.count(), 3);
        let _third = h.register(meta(1, 11));
        assert_eq!(h.count_user(1), 2);
        assert_eq!(first.kill.try_recv().ok(), Some(DropReason::Limit));
    }

    #[test]
    fn a_full_queue_drops_the_slow_consumer_and_others_still_receive() {
        let h = hub(10, 2);
        let mut slow = h.register(meta(1, 10));
        let mut fast = h.register(meta(2, 20));
        for _ in 0..2 {
            assert_eq!(h.send_to_all(Arc::from("x")), 2);
            assert!(fast.outbox.try_recv().is_ok());
        }
        assert_eq!(h.send_to_all(Arc::from("x")), 1);
        assert_eq!(slow.kill.try_recv().ok(), Some(DropReason::SlowConsumer));
        assert_eq!(h.count(), 1);
        assert_eq!(h.send_to_all_but_user(2, Arc::from("y")), 0);
    }

    #[test]
    fn revoking_a_session_queues_the_event_then_closes_only_its_sockets() {
        let h = hub(10, 4);
        let mut a = h.register(meta(1, 10));
        let mut b = h.register(meta(1, 11));
        assert_eq!(h.revoke_session(10, Arc::from("bye")), 1);
        assert_eq!(a.outbox.try_recv().ok().as_deref(), Some("bye"));
        assert_eq!(a.kill.try_recv().ok(), Some(DropReason::Revoked));
        assert!(b.kill.try_recv().is_err());
        assert_eq!(h.session_ids(), vec![11]);
        assert_eq!(h.close_all(), 1);
        assert_eq!(b.kill.try_recv().ok(), Some(DropReason::Shutdown));
    }
}
