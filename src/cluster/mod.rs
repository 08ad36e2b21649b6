//! Infrastructure shared between instances: the optional Redis link. Nothing
//! here is a source of truth (the database is); Redis only speeds up and fans
//! out. Every call is bounded by a deadline and a Redis that is down makes the
//! callers fall back to their single-instance behaviour.

pub mod pubsub;

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::RedisResult;
use tokio::sync::watch;

/// Longest pause between two reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// How often a healthy link is probed.
const PROBE_EVERY: Duration = Duration::from_millis(500);

/// A handle to Redis (cheap to clone). Commands go through a redis
/// `ConnectionManager`, created by a supervisor task that also probes the
/// server and publishes whether it is reachable.
#[derive(Clone)]
pub struct RedisLink {
    inner: Arc<Inner>,
}

struct Inner {
    client: redis::Client,
    manager: Mutex<Option<ConnectionManager>>,
    up: AtomicBool,
    up_tx: watch::Sender<bool>,
    prefix: String,
    timeout: Duration,
}

impl RedisLink {
    /// Parses `url` (a password in it is supported); connects lazily.
    pub fn open(url: &str, prefix: &str, timeout: Duration) -> Result<Self, String> {
        let client = redis::Client::open(url)
            .map_err(|e| format!("TOKENWARD_REDIS_URL is not a valid Redis URL: {e}"))?;
        let (up_tx, _) = watch::channel(false);
        Ok(Self {
            inner: Arc::new(Inner {
                client,
                manager: Mutex::new(None),
                up: AtomicBool::new(false),
                up_tx,
                prefix: prefix.to_string(),
                timeout,
            }),
        })
    }

    /// `prefix` + `suffix`: every key and channel this instance uses.
    pub fn key(&self, suffix: &str) -> String {
        format!("{}{}", self.inner.prefix, suffix)
    }

    /// The deadline of one command.
    pub fn timeout(&self) -> Duration {
        self.inner.timeout
    }

    /// The underlying client (the subscriber opens its own connection).
    pub fn client(&self) -> &redis::Client {
        &self.inner.client
    }

    /// True while the last probe or command succeeded.
    pub fn is_up(&self) -> bool {
        self.inner.up.load(Ordering::Relaxed)
    }

    /// Follows reachability changes (the subscriber drops a dead link with it).
    pub fn watch_up(&self) -> watch::Receiver<bool> {
        self.inner.up_tx.subscribe()
    }

    fn set_up(&self, up: bool) {
        let was = self.inner.up.swap(up, Ordering::Relaxed);
        if was != up {
            if up {
                tracing::info!("redis reachable");
            } else {
                tracing::warn!("redis unreachable; serving from the database alone");
            }
            self.inner.up_tx.send_replace(up);
        }
    }

    fn manager(&self) -> Option<ConnectionManager> {
        self.inner.manager.lock().ok().and_then(|m| m.clone())
    }

    /// Runs one command with the deadline. `None` when Redis is down or the
    /// command failed: the caller falls back.
    pub async fn run<T, F, Fut>(&self, f: F) -> Option<T>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        if !self.is_up() {
            return None;
        }
        let conn = self.manager()?;
        match tokio::time::timeout(self.inner.timeout, f(conn)).await {
            Ok(Ok(v)) => Some(v),
            Ok(Err(e)) => {
                tracing::debug!(error = %e, "redis command failed");
                self.set_up(false);
                None
            }
            Err(_) => {
                self.set_up(false);
                None
            }
        }
    }

    /// A live PING (readiness).
    pub async fn ping(&self) -> bool {
        let Some(mut conn) = self.manager() else {
            return false;
        };
        let ok = matches!(
            tokio::time::timeout(
                self.inner.timeout,
                redis::cmd("PING").query_async::<String>(&mut conn)
            )
            .await,
            Ok(Ok(_))
        );
        self.set_up(ok);
        ok
    }

    async fn connect(&self) -> bool {
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.inner.timeout))
            .set_response_timeout(Some(self.inner.timeout))
            .set_number_of_retries(3)
            .set_max_delay(MAX_BACKOFF);
        let client = self.inner.client.clone();
        let attempt = ConnectionManager::new_with_config(client, config);
        match tokio::time::timeout(self.inner.timeout * 2, attempt).await {
            Ok(Ok(m)) => {
                if let Ok(mut slot) = self.inner.manager.lock() {
                    *slot = Some(m);
                }
                true
            }
            Ok(Err(e)) => {
                tracing::debug!(error = %e, "redis connection failed");
                false
            }
            Err(_) => false,
        }
    }

    /// Keeps the link alive: connects, probes, and retries with exponential
    /// backoff while Redis is away. Runs until the runtime stops.
    pub fn spawn_supervisor(&self) {
        let link = self.clone();
        tokio::spawn(async move {
            let mut backoff = Duration::from_millis(100);
            loop {
                let ok = if link.manager().is_none() {
                    link.connect().await && link.ping().await
                } else {
                    link.ping().await
                };
                if ok {
                    backoff = Duration::from_millis(100);
                    tokio::time::sleep(PROBE_EVERY).await;
                } else {
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        });
    }

    /// Connects once at start-up so a reachable Redis is used from the first
    /// request; an unreachable one is only logged (the supervisor retries).
    pub async fn warm_up(&self) {
        if !(self.connect().await && self.ping().await) {
            tracing::warn!(
                "redis is configured but unreachable at start-up; retrying in the background"
            );
        }
    }
}
