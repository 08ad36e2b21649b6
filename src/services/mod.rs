//! Business rules and transaction boundaries. No actix types here: callers pass
//! plain data (`ClientMeta`, DTOs) and get `AppResult`s back.

pub mod account;
pub mod admin;
pub mod audit;
pub mod cleanup;
pub mod console;
pub mod cpu;
pub mod devices;
pub mod health;
pub mod issuance;
pub mod key_file;
pub mod keys;
pub mod lockout;
pub mod login;
pub mod lookup;
pub mod oauth;
pub mod rate_limit;
pub mod refresh;
pub mod revocation;
pub mod session;
pub mod stats;
pub mod two_factor;
pub mod user;
pub mod validation;
pub mod validation_cache;
pub mod ws;

pub use cpu::{cpu, refuse_if_saturated};

/// Where a request came from, as stored on tokens, sessions and audit rows.
#[derive(Debug, Clone, Default)]
pub struct ClientMeta {
    /// Client IP (the trusted-proxy rule already applied).
    pub ip: Option<String>,
    /// User agent, truncated.
    pub user_agent: Option<String>,
}

/// Emails are unique regardless of case: trimmed and lowercased everywhere.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}
