//! Business rules and transaction boundaries. No actix types here: callers pass
//! plain data (`ClientMeta`, DTOs) and get `AppResult`s back.

pub mod admin;
pub mod audit;
pub mod auth;
pub mod cleanup;
pub mod keys;
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

/// Runs CPU-heavy work (bcrypt) on the blocking pool, off the async workers.
pub async fn cpu<F, T>(f: F) -> AppResult<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| AppError::internal(format!("blocking task failed: {e}")))
}

/// Emails are unique regardless of case: trimmed and lowercased everywhere.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}
