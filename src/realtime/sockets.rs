//! The registry's maps and their invariants: a socket is in `by_id` and in
//! the `by_user` and `by_session` lists, or in none of them.

use std::collections::HashMap;
use std::sync::atomic::AtomicI64;
use std::sync::Arc;

use chrono::NaiveDateTime;
use tokio::sync::{mpsc, oneshot};

use super::meta::{DropReason, SocketMeta};

pub(super) struct Entry {
    pub(super) meta: SocketMeta,
    pub(super) connected_at: NaiveDateTime,
    pub(super) last_seen: Arc<AtomicI64>,
    pub(super) tx: mpsc::Sender<Arc<str>>,
    pub(super) kill: Option<oneshot::Sender<DropReason>>,
}

#[derive(Default)]
pub(super) struct Sockets {
    pub(super) by_id: HashMap<u64, Entry>,
    /// Per user, in connection order (oldest first).
    pub(super) by_user: HashMap<i64, Vec<u64>>,
    pub(super) by_session: HashMap<i64, Vec<u64>>,
    pub(super) shutting_down: bool,
}

impl Sockets {
    pub(super) fn remove(&mut self, id: u64) -> Option<Entry> {
        let entry = self.by_id.remove(&id)?;
        for (map, key) in [
            (&mut self.by_user, entry.meta.user_id),
            (&mut self.by_session, entry.meta.session_id),
        ] {
            if let Some(ids) = map.get_mut(&key) {
                ids.retain(|x| *x != id);
                if ids.is_empty() {
                    map.remove(&key);
                }
            }
        }
        Some(entry)
    }

    /// Removes `id` and tells its task why; counts the drop.
    pub(super) fn kill(&mut self, id: u64, reason: DropReason) {
        if let Some(mut entry) = self.remove(id) {
            if reason != DropReason::Shutdown {
                metrics::counter!("tokenward_ws_dropped_total", "reason" => reason.label())
                    .increment(1);
            }
            if let Some(tx) = entry.kill.take() {
                let _ = tx.send(reason);
            }
        }
    }

    /// Queues `text` for `id`; a full queue drops the socket.
    pub(super) fn deliver(&mut self, id: u64, text: &Arc<str>) -> bool {
        let Some(entry) = self.by_id.get(&id) else {
            return false;
        };
        match entry.tx.try_send(text.clone()) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                tracing::warn!(
                    socket_id = id,
                    "websocket send queue full; dropping slow consumer"
                );
                self.kill(id, DropReason::SlowConsumer);
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                self.remove(id);
                false
            }
        }
    }

    pub(super) fn deliver_all(&mut self, ids: Vec<u64>, text: &Arc<str>) -> usize {
        ids.into_iter().filter(|id| self.deliver(*id, text)).count()
    }
}
