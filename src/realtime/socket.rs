//! One task per WebSocket: writes queued events, answers pings, pings the
//! client, drops it when silent, and closes it with a close frame when the
//! registry ends it. Inbound text from clients is ignored.

use std::sync::atomic::Ordering;
use std::time::Duration;

use actix_ws::{CloseCode, CloseReason, Message, MessageStream, Session};
use tokio::time::{interval_at, sleep, Instant, MissedTickBehavior};

use super::registry::{now_ms, Connection, DropReason, Hub, SocketMeta};

/// Largest frame accepted from a client.
const MAX_INBOUND_FRAME: usize = 16 * 1024;
/// A write that takes longer than this means the client is not reading.
const WRITE_DEADLINE: Duration = Duration::from_secs(5);

enum End {
    /// The registry ended the socket.
    Killed(DropReason),
    /// Silent past the idle timeout.
    Silent,
    /// A write did not finish in time.
    Stalled,
    /// The client closed, errored or went away.
    Gone,
}

async fn write(session: &mut Session, text: &str) -> Result<(), End> {
    match tokio::time::timeout(WRITE_DEADLINE, session.text(text.to_string())).await {
        Ok(Ok(())) => {
            metrics::counter!("tokenward_ws_messages_sent_total").increment(1);
            Ok(())
        }
        Ok(Err(_)) => Err(End::Gone),
        Err(_) => Err(End::Stalled),
    }
}

fn close_reason(reason: DropReason) -> CloseReason {
    let (code, text) = match reason {
        DropReason::Revoked => (CloseCode::Policy, "session revoked"),
        DropReason::Limit => (CloseCode::Policy, "too many connections"),
        DropReason::Heartbeat => (CloseCode::Policy, "heartbeat timeout"),
        DropReason::SlowConsumer => (CloseCode::Again, "slow consumer"),
        DropReason::Shutdown => (CloseCode::Away, "server shutting down"),
    };
    CloseReason {
        code,
        description: Some(text.to_string()),
    }
}

/// An upgraded connection, handed from the `/ws` controller to the service.
pub struct Upgraded {
    /// The sending half.
    pub session: Session,
    /// The receiving half.
    pub stream: MessageStream,
}

/// Registers an upgraded connection with `meta` and serves it on its own
/// task; returns the socket id.
pub fn attach(hub: &Hub, meta: SocketMeta, upgraded: Upgraded) -> u64 {
    let conn = hub.register(meta);
    let id = conn.id;
    actix_web::rt::spawn(serve(upgraded.session, upgraded.stream, hub.clone(), conn));
    id
}

/// Serves one registered socket until it ends.
pub async fn serve(mut session: Session, stream: MessageStream, hub: Hub, mut conn: Connection) {
    let config = hub.config();
    let mut stream = stream.max_frame_size(MAX_INBOUND_FRAME);
    let mut ping = interval_at(Instant::now() + config.ping_interval, config.ping_interval);
    ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let idle = sleep(config.idle_timeout);
    tokio::pin!(idle);
    let end = loop {
        // Inbound before outbound: a busy queue must never hide a live client's
        // frames from the idle timer.
        tokio::select! {
            biased;
            killed = &mut conn.kill => break End::Killed(killed.unwrap_or(DropReason::Shutdown)),
            () = &mut idle => break End::Silent,
            _ = ping.tick() => {
                match tokio::time::timeout(WRITE_DEADLINE, session.ping(b"")).await {
                    Ok(Ok(())) => {}
                    Ok(Err(_)) => break End::Gone,
                    Err(_) => break End::Stalled,
                }
            }
            inbound = stream.recv() => {
                conn.last_seen.store(now_ms(), Ordering::Relaxed);
                idle.as_mut().reset(Instant::now() + config.idle_timeout);
                match inbound {
                    Some(Ok(Message::Ping(bytes))) => {
                        match tokio::time::timeout(WRITE_DEADLINE, session.pong(&bytes)).await {
                            Ok(Ok(())) => {}
                            Ok(Err(_)) => break End::Gone,
                            Err(_) => break End::Stalled,
                        }
                    }
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break End::Gone,
                    Some(Ok(_)) => {}
                }
            }
            out = conn.outbox.recv() => match out {
                Some(text) => {
                    if let Err(end) = write(&mut session, &text).await {
                        break end;
                    }
                }
                None => break End::Gone,
            },
        }
    };
    finish(session, hub, conn, end).await;
}

async fn finish(mut session: Session, hub: Hub, mut conn: Connection, end: End) {
    let id = conn.id;
    let reason = match end {
        End::Killed(reason) => {
            if reason != DropReason::SlowConsumer {
                // Events queued before the end (`session.revoked`) go out first.
                while let Ok(text) = conn.outbox.try_recv() {
                    if write(&mut session, &text).await.is_err() {
                        break;
                    }
                }
            }
            Some(reason)
        }
        End::Silent => {
            hub.drop_socket(id, DropReason::Heartbeat);
            Some(DropReason::Heartbeat)
        }
        End::Stalled => {
            hub.drop_socket(id, DropReason::SlowConsumer);
            Some(DropReason::SlowConsumer)
        }
        End::Gone => {
            hub.unregister(id);
            None
        }
    };
    let close = reason.map(close_reason);
    let _ = tokio::time::timeout(Duration::from_secs(1), session.close(close)).await;
    tracing::info!(
        socket_id = id,
        reason = reason.map_or("client", DropReason::label),
        "websocket disconnected"
    );
}
