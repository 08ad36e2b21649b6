//! What the registry and its maps both speak of: who is behind a socket, and
//! why the server ended one.

/// Why the server ended a socket (the `reason` label of `tokenward_ws_dropped_total`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropReason {
    /// Silent past the idle timeout.
    Heartbeat,
    /// Its send queue was full.
    SlowConsumer,
    /// The user opened more sockets than allowed; this was the oldest.
    Limit,
    /// Its session was revoked.
    Revoked,
    /// The server is shutting down.
    Shutdown,
}

impl DropReason {
    /// The metric label / log word.
    pub fn label(self) -> &'static str {
        match self {
            Self::Heartbeat => "heartbeat",
            Self::SlowConsumer => "slow_consumer",
            Self::Limit => "limit",
            Self::Revoked => "revoked",
            Self::Shutdown => "shutdown",
        }
    }
}

/// Who is behind a socket.
#[derive(Debug, Clone)]
pub struct SocketMeta {
    /// Owner.
    pub user_id: i64,
    /// The session its ticket was issued in.
    pub session_id: i64,
    /// Client IP at upgrade.
    pub ip: Option<String>,
    /// Client user agent at upgrade.
    pub user_agent: Option<String>,
}
