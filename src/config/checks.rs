//! `Settings::validate`: refuses settings the server cannot run with, naming
//! the variable, and the cron check it shares with the job scheduler.

use std::net::SocketAddr;

use secrecy::ExposeSecret;
use tokio_cron_scheduler::Job;

use super::{JwtAlgorithm, Settings};

/// Refuses a cron expression the scheduler would not accept; empty is allowed
/// (it disables the job).
pub fn check_cron(expr: &str) -> Result<(), String> {
    if expr.trim().is_empty() {
        return Ok(());
    }
    // Building a throw-away job runs exactly the parser the scheduler will use.
    Job::new_async(expr, |_, _| Box::pin(async {}))
        .map(|_| ())
        .map_err(|_| {
            "not a valid schedule: give 6 fields, seconds first, in UTC \
             (e.g. \"0 0 * * * *\" for hourly), or an empty value to disable"
                .to_string()
        })
}

impl Settings {
    /// Refuses settings the server cannot run with, with a message naming the variable.
    pub fn validate(&self) -> Result<(), String> {
        self.bind
            .parse::<SocketAddr>()
            .map_err(|e| format!("TOKENWARD_BIND={:?}: {e}", self.bind))?;
        for (name, v) in [
            ("TOKENWARD_ACCESS_TOKEN_TTL", self.access_token_ttl),
            ("TOKENWARD_REFRESH_TOKEN_TTL", self.refresh_token_ttl),
            ("TOKENWARD_SESSION_MAX_LIFETIME", self.session_max_lifetime),
            ("TOKENWARD_LOCKOUT_SECONDS", self.lockout_seconds),
        ] {
            if v <= 0 {
                return Err(format!("{name} must be a positive number of seconds"));
            }
        }
        let public = self.public_url.trim();
        let scheme_ok = public.starts_with("https://") || public.starts_with("http://");
        if !public.is_empty() && (!scheme_ok || public.contains(['?', '#', ' '])) {
            return Err(format!(
                "TOKENWARD_PUBLIC_URL={public:?} is not a base URL like https://auth.example.org"
            ));
        }
        if !(8..=128).contains(&self.password_min_length) {
            return Err("TOKENWARD_PASSWORD_MIN_LENGTH must be between 8 and 128".into());
        }
        if self.remember_device_days > 365 {
            return Err("TOKENWARD_REMEMBER_DEVICE_DAYS must be between 0 and 365".into());
        }
        if self.password_min_score > 4 {
            return Err("TOKENWARD_PASSWORD_MIN_SCORE must be between 0 and 4".into());
        }
        if !(4..=31).contains(&self.bcrypt_cost) {
            return Err("TOKENWARD_BCRYPT_COST must be between 4 and 31".into());
        }
        if self.lockout_threshold < 1 {
            return Err("TOKENWARD_LOCKOUT_THRESHOLD must be at least 1".into());
        }
        if self.issuer.is_empty() || self.audience.is_empty() {
            return Err("TOKENWARD_ISSUER and TOKENWARD_AUDIENCE must not be empty".into());
        }
        if self.jwt_secret.is_some() && self.jwt_algorithm != JwtAlgorithm::HS256 {
            return Err(
                "TOKENWARD_JWT_SECRET is only used with TOKENWARD_JWT_ALGORITHM=HS256".into(),
            );
        }
        if let Some(token) = &self.metrics_token {
            if token.expose_secret().trim().len() < 16 {
                return Err("TOKENWARD_METRICS_TOKEN must be at least 16 characters".into());
            }
        }
        if let Some(secret) = &self.jwt_secret {
            if secret.expose_secret().len() < 32 {
                return Err("TOKENWARD_JWT_SECRET must be at least 32 bytes".into());
            }
        }
        if self.totp_issuer.is_empty() || self.totp_issuer.contains(':') {
            return Err("TOKENWARD_TOTP_ISSUER must be non-empty and contain no ':'".into());
        }
        if self.totp_skew > 2 {
            return Err("TOKENWARD_TOTP_SKEW must be 0, 1 or 2 steps".into());
        }
        if self.db_pool_size == 0 {
            return Err("TOKENWARD_DB_POOL_SIZE must be at least 1".into());
        }
        if self.db_timeout_secs == 0 || self.db_timeout_secs > 4 {
            return Err("TOKENWARD_DB_TIMEOUT must be between 1 and 4 seconds".into());
        }
        if self.validation_cache_ms > 1000 {
            return Err("TOKENWARD_VALIDATION_CACHE_MS must be at most 1000 (revocations must land within a second)".into());
        }
        check_cron(&self.cleanup_cron)
            .map_err(|e| format!("TOKENWARD_CLEANUP_CRON={:?}: {e}", self.cleanup_cron))?;
        if !(1..=100_000).contains(&self.cleanup_batch_size) {
            return Err("TOKENWARD_CLEANUP_BATCH_SIZE must be between 1 and 100000".into());
        }
        // Upper bounds keep `now - retention` far inside chrono's range.
        if !(0..=87_600).contains(&self.token_retention_hours) {
            return Err("TOKENWARD_TOKEN_RETENTION_HOURS must be between 0 and 87600".into());
        }
        if !(1..=36_500).contains(&self.audit_retention_days) {
            return Err("TOKENWARD_AUDIT_RETENTION_DAYS must be between 1 and 36500".into());
        }
        if self.ws_ping_interval_ms == 0 || self.ws_idle_timeout_ms <= self.ws_ping_interval_ms {
            return Err(
                "TOKENWARD_WS_IDLE_TIMEOUT_MS must be longer than TOKENWARD_WS_PING_INTERVAL_MS (both above 0)"
                    .into(),
            );
        }
        if self.ws_max_per_user == 0 || self.ws_send_queue == 0 {
            return Err(
                "TOKENWARD_WS_MAX_PER_USER and TOKENWARD_WS_SEND_QUEUE must be at least 1".into(),
            );
        }
        for origin in &self.cors_origins {
            let rest = origin
                .strip_prefix("https://")
                .or_else(|| origin.strip_prefix("http://"));
            let ok = rest.is_some_and(|r| !r.is_empty() && !r.contains(['/', '*', ' ']));
            if !ok {
                return Err(format!(
                    "TOKENWARD_CORS_ORIGINS: {origin:?} is not an origin like https://app.example.com"
                ));
            }
        }
        if !(10..=10_000).contains(&self.redis_timeout_ms) {
            return Err("TOKENWARD_REDIS_TIMEOUT_MS must be between 10 and 10000".into());
        }
        if self.max_body_bytes < 1024 {
            return Err("TOKENWARD_MAX_BODY_BYTES must be at least 1024".into());
        }
        Ok(())
    }
}
