//! Business rules and transaction boundaries. No actix types here: callers pass
//! plain data (`ClientMeta`, DTOs) and get `AppResult`s back.

pub mod admin;
pub mod audit;
pub mod auth;
pub mod cleanup;
pub mod keys;
pub mod lookup;
pub mod oauth;
pub mod rate_limit;
pub mod session;
pub mod stats;
pub mod token;
pub mod two_factor;
pub mod user;
pub mod validation_cache;
pub mod ws;

use crate::errors::{AppError, AppResult};

/// Where a request came from, as stored on tokens, sessions and audit rows.
#[derive(Debug, Clone, Default)]
pub struct ClientMeta {
    /// Client IP (the trusted-proxy rule already applied).
    pub ip: Option<String>,
    /// User agent, truncated.
    pub user_agent: Option<String>,
}

/// At most this many bcrypt computations run at once: half the cores (at least
/// one), so a login storm queues logins instead of starving validation.
fn cpu_permits() -> &'static tokio::sync::Semaphore {
    static PERMITS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    PERMITS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        tokio::sync::Semaphore::new((cores / 2).max(1))
    })
}

/// Runs CPU-heavy work (bcrypt) on the blocking pool, off the async workers,
/// bounded by `cpu_permits`.
pub async fn cpu<F, T>(f: F) -> AppResult<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let _permit = cpu_permits()
        .acquire()
        .await
        .map_err(|e| AppError::internal(format!("CPU pool closed: {e}")))?;
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| AppError::internal(format!("blocking task failed: {e}")))
}

/// Emails are unique regardless of case: trimmed and lowercased everywhere.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}
