//! The subscriber half of event fan-out: one dedicated pub/sub connection per
//! instance, re-established with backoff whenever Redis goes away.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;

use super::RedisLink;

/// Called with each payload received on the channel.
pub type Handler = Arc<dyn Fn(&[u8]) + Send + Sync>;

/// Subscribes to `channel` for as long as the runtime lives.
pub fn spawn_subscriber(link: RedisLink, channel: String, handler: Handler) {
    tokio::spawn(async move {
        let mut backoff = Duration::from_millis(100);
        loop {
            if listen(&link, &channel, &handler).await {
                backoff = Duration::from_millis(100);
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(5));
        }
    });
}

/// One subscription, until the connection ends or the link is seen down.
/// True when it was subscribed at some point.
async fn listen(link: &RedisLink, channel: &str, handler: &Handler) -> bool {
    let opened = tokio::time::timeout(link.timeout() * 2, async {
        let mut ps = link.client().get_async_pubsub().await?;
        ps.subscribe(channel).await?;
        Ok::<_, redis::RedisError>(ps)
    })
    .await;
    let ps = match opened {
        Ok(Ok(ps)) => ps,
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "redis subscription failed");
            return false;
        }
        Err(_) => return false,
    };
    tracing::debug!(channel, "subscribed to instance events");
    let mut up = link.watch_up();
    let mut messages = ps.into_on_message();
    loop {
        tokio::select! {
            msg = messages.next() => match msg {
                Some(msg) => handler(msg.get_payload_bytes()),
                None => break,
            },
            changed = up.changed() => {
                // A link seen down may be half-open: start over.
                if changed.is_err() || !*up.borrow() {
                    break;
                }
            }
        }
    }
    true
}
