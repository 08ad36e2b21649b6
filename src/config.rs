//! Typed settings: defaults, then an optional TOML file, then `TOKENWARD_*`
//! environment variables (names fixed by the contract). `validate` fails fast.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use ipnet::IpNet;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// Signing algorithms the configuration may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum JwtAlgorithm {
    /// HMAC-SHA256 with a shared secret.
    HS256,
    /// RSA PKCS#1 v1.5 with SHA-256.
    RS256,
    /// ECDSA P-256 with SHA-256.
    ES256,
    /// Ed25519.
    EdDSA,
}

impl FromStr for JwtAlgorithm {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "HS256" => Ok(Self::HS256),
            "RS256" => Ok(Self::RS256),
            "ES256" => Ok(Self::ES256),
            "EdDSA" => Ok(Self::EdDSA),
            other => Err(format!(
                "unknown JWT algorithm {other:?} (expected RS256, ES256, EdDSA or HS256)"
            )),
        }
    }
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log shippers.
    Json,
}

/// Every setting the server reads.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// `sqlite://PATH` or `postgres://...`.
    pub database_url: String,
    /// Listen address.
    pub bind: String,
    /// First admin's email, used only when no user exists.
    pub bootstrap_admin_email: Option<String>,
    /// First admin's password; generated and printed once when unset.
    pub bootstrap_admin_password: Option<SecretString>,
    /// `iss` claim.
    pub issuer: String,
    /// `aud` claim.
    pub audience: String,
    /// Access token lifetime, seconds.
    pub access_token_ttl: i64,
    /// Refresh token lifetime, seconds.
    pub refresh_token_ttl: i64,
    /// Hard end of a session from its login, seconds.
    pub session_max_lifetime: i64,
    /// Signing algorithm.
    pub jwt_algorithm: JwtAlgorithm,
    /// HS256 secret; generated and stored encrypted when unset.
    pub jwt_secret: Option<SecretString>,
    /// 32 bytes, standard base64; the key file is used when unset.
    pub encryption_key: Option<SecretString>,
    /// Where the generated encryption key lives when none is configured.
    pub encryption_key_file: PathBuf,
    /// Redis URL: enables event fan-out, cross-instance tickets and shared rate limits.
    pub redis_url: Option<SecretString>,
    /// Prefix of every Redis key and channel (instances that share state share it).
    pub redis_prefix: String,
    /// Deadline of one Redis command or connection attempt, milliseconds.
    pub redis_timeout_ms: u64,
    /// WebSocket ping period, milliseconds.
    pub ws_ping_interval_ms: u64,
    /// A socket silent for this long is dropped, milliseconds.
    pub ws_idle_timeout_ms: u64,
    /// Open sockets per user; the oldest is closed past it.
    pub ws_max_per_user: usize,
    /// Messages queued per socket before it counts as a slow consumer.
    pub ws_send_queue: usize,
    /// How often open sockets' sessions are re-checked in the database, milliseconds; 0 disables.
    pub ws_session_check_ms: u64,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpNet>,
    /// Cleanup schedule (6 fields, seconds first); empty disables.
    pub cleanup_cron: String,
    /// Most rows one cleanup statement touches, so none holds locks for long.
    pub cleanup_batch_size: i64,
    /// Hours a token is kept after it expired before cleanup deletes it.
    pub token_retention_hours: i64,
    /// Days an audit event is kept before cleanup deletes it.
    pub audit_retention_days: i64,
    /// bcrypt cost for new password hashes.
    pub bcrypt_cost: u32,
    /// Consecutive failed logins before a lock.
    pub lockout_threshold: i32,
    /// Lock length, seconds.
    pub lockout_seconds: i64,
    /// Login and verify-2fa requests a minute per client IP; 0 disables.
    pub login_rate_limit: u32,
    /// Issuer shown by authenticator apps.
    pub totp_issuer: String,
    /// TOTP steps accepted either side of now.
    pub totp_skew: u16,
    /// `text` or `json`.
    pub log_format: LogFormat,
    /// `false` drops the cookies' Secure flag (plain-HTTP development only).
    pub cookie_secure: bool,
    /// Origins allowed to call the API from a browser.
    pub cors_origins: Vec<String>,
    /// Maximum pooled database connections.
    pub db_pool_size: u32,
    /// Seconds to wait for a connection or a database call before answering 503.
    pub db_timeout_secs: u64,
    /// Largest accepted request body, bytes.
    pub max_body_bytes: usize,
    /// HTTP worker threads (0 = one per core).
    pub workers: usize,
    /// How long a validation may be answered from memory, ms (0 = every
    /// validation reads the database; at most 1000, the contract's bound).
    pub validation_cache_ms: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            database_url: "sqlite://data/tokenward.db".into(),
            bind: "127.0.0.1:8080".into(),
            bootstrap_admin_email: None,
            bootstrap_admin_password: None,
            issuer: "tokenward".into(),
            audience: "tokenward".into(),
            access_token_ttl: 900,
            refresh_token_ttl: 604_800,
            session_max_lifetime: 2_592_000,
            jwt_algorithm: JwtAlgorithm::RS256,
            jwt_secret: None,
            encryption_key: None,
            encryption_key_file: PathBuf::from("data/tokenward.key"),
            redis_url: None,
            redis_prefix: "tokenward:".into(),
            redis_timeout_ms: 500,
            ws_ping_interval_ms: 30_000,
            ws_idle_timeout_ms: 60_000,
            ws_max_per_user: 10,
            ws_send_queue: 64,
            ws_session_check_ms: 10_000,
            trusted_proxies: Vec::new(),
            cleanup_cron: "0 0 * * * *".into(),
            cleanup_batch_size: 2000,
            token_retention_hours: 24,
            audit_retention_days: 90,
            bcrypt_cost: 12,
            lockout_threshold: 5,
            lockout_seconds: 900,
            login_rate_limit: 20,
            totp_issuer: "tokenward".into(),
            totp_skew: 1,
            log_format: LogFormat::Text,
            cookie_secure: true,
            cors_origins: Vec::new(),
            db_pool_size: 10,
            db_timeout_secs: 3,
            max_body_bytes: 64 * 1024,
            workers: 0,
            validation_cache_ms: 0,
        }
    }
}

/// Reads `name` from the environment; empty counts as set (some settings use it).
fn env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

fn parse_env<T: FromStr>(name: &str, target: &mut T) -> Result<(), String>
where
    T::Err: std::fmt::Display,
{
    if let Some(raw) = env(name) {
        *target = raw
            .trim()
            .parse()
            .map_err(|e| format!("{name}={raw:?} is not valid: {e}"))?;
    }
    Ok(())
}

fn list(raw: &str) -> impl Iterator<Item = &str> {
    raw.split(',').map(str::trim).filter(|s| !s.is_empty())
}

impl Settings {
    /// Defaults, then `file` (or `TOKENWARD_CONFIG`) when given, then the environment.
    pub fn load(file: Option<&Path>) -> Result<Self, String> {
        let path = file
            .map(Path::to_path_buf)
            .or_else(|| env("TOKENWARD_CONFIG").map(PathBuf::from));
        let mut s = match path {
            Some(p) => {
                let text = std::fs::read_to_string(&p)
                    .map_err(|e| format!("cannot read config file {}: {e}", p.display()))?;
                toml::from_str(&text)
                    .map_err(|e| format!("config file {} is invalid: {e}", p.display()))?
            }
            None => Settings::default(),
        };
        s.apply_env()?;
        s.validate()?;
        Ok(s)
    }

    /// Overrides fields from `DATABASE_URL` and `TOKENWARD_*`.
    pub fn apply_env(&mut self) -> Result<(), String> {
        if let Some(v) = env("DATABASE_URL") {
            self.database_url = v;
        }
        if let Some(v) = env("TOKENWARD_BIND") {
            self.bind = v;
        }
        if let Some(v) = env("TOKENWARD_BOOTSTRAP_ADMIN_EMAIL") {
            self.bootstrap_admin_email = Some(v).filter(|v| !v.is_empty());
        }
        if let Some(v) = env("TOKENWARD_BOOTSTRAP_ADMIN_PASSWORD") {
            self.bootstrap_admin_password = Some(v).filter(|v| !v.is_empty()).map(Into::into);
        }
        if let Some(v) = env("TOKENWARD_ISSUER") {
            self.issuer = v;
        }
        if let Some(v) = env("TOKENWARD_AUDIENCE") {
            self.audience = v;
        }
        parse_env("TOKENWARD_ACCESS_TOKEN_TTL", &mut self.access_token_ttl)?;
        parse_env("TOKENWARD_REFRESH_TOKEN_TTL", &mut self.refresh_token_ttl)?;
        parse_env(
            "TOKENWARD_SESSION_MAX_LIFETIME",
            &mut self.session_max_lifetime,
        )?;
        parse_env("TOKENWARD_JWT_ALGORITHM", &mut self.jwt_algorithm)?;
        if let Some(v) = env("TOKENWARD_JWT_SECRET") {
            self.jwt_secret = Some(v).filter(|v| !v.is_empty()).map(Into::into);
        }
        if let Some(v) = env("TOKENWARD_ENCRYPTION_KEY") {
            self.encryption_key = Some(v).filter(|v| !v.is_empty()).map(Into::into);
        }
        if let Some(v) = env("TOKENWARD_ENCRYPTION_KEY_FILE") {
            self.encryption_key_file = PathBuf::from(v);
        }
        if let Some(v) = env("TOKENWARD_REDIS_URL") {
            self.redis_url = Some(v).filter(|v| !v.is_empty()).map(Into::into);
        }
        if let Some(v) = env("TOKENWARD_REDIS_PREFIX") {
            self.redis_prefix = v;
        }
        parse_env("TOKENWARD_REDIS_TIMEOUT_MS", &mut self.redis_timeout_ms)?;
        parse_env(
            "TOKENWARD_WS_PING_INTERVAL_MS",
            &mut self.ws_ping_interval_ms,
        )?;
        parse_env("TOKENWARD_WS_IDLE_TIMEOUT_MS", &mut self.ws_idle_timeout_ms)?;
        parse_env("TOKENWARD_WS_MAX_PER_USER", &mut self.ws_max_per_user)?;
        parse_env("TOKENWARD_WS_SEND_QUEUE", &mut self.ws_send_queue)?;
        parse_env(
            "TOKENWARD_WS_SESSION_CHECK_MS",
            &mut self.ws_session_check_ms,
        )?;
        if let Some(v) = env("TOKENWARD_TRUSTED_PROXIES") {
            self.trusted_proxies = list(&v)
                .map(parse_cidr)
                .collect::<Result<_, _>>()
                .map_err(|e| format!("TOKENWARD_TRUSTED_PROXIES: {e}"))?;
        }
        if let Some(v) = env("TOKENWARD_CLEANUP_CRON") {
            self.cleanup_cron = v.trim().to_string();
        }
        parse_env("TOKENWARD_CLEANUP_BATCH_SIZE", &mut self.cleanup_batch_size)?;
        parse_env(
            "TOKENWARD_TOKEN_RETENTION_HOURS",
            &mut self.token_retention_hours,
        )?;
        parse_env(
            "TOKENWARD_AUDIT_RETENTION_DAYS",
            &mut self.audit_retention_days,
        )?;
        parse_env("TOKENWARD_BCRYPT_COST", &mut self.bcrypt_cost)?;
        parse_env("TOKENWARD_LOCKOUT_THRESHOLD", &mut self.lockout_threshold)?;
        parse_env("TOKENWARD_LOCKOUT_SECONDS", &mut self.lockout_seconds)?;
        parse_env("TOKENWARD_LOGIN_RATE_LIMIT", &mut self.login_rate_limit)?;
        if let Some(v) = env("TOKENWARD_TOTP_ISSUER") {
            self.totp_issuer = v;
        }
        parse_env("TOKENWARD_TOTP_SKEW", &mut self.totp_skew)?;
        if let Some(v) = env("TOKENWARD_LOG_FORMAT") {
            self.log_format = match v.trim() {
                "text" => LogFormat::Text,
                "json" => LogFormat::Json,
                other => return Err(format!("TOKENWARD_LOG_FORMAT={other:?}: use text or json")),
            };
        }
        parse_env("TOKENWARD_COOKIE_SECURE", &mut self.cookie_secure)?;
        if let Some(v) = env("TOKENWARD_CORS_ORIGINS") {
            self.cors_origins = list(&v).map(str::to_string).collect();
        }
        parse_env("TOKENWARD_DB_POOL_SIZE", &mut self.db_pool_size)?;
        parse_env("TOKENWARD_DB_TIMEOUT", &mut self.db_timeout_secs)?;
        parse_env("TOKENWARD_MAX_BODY_BYTES", &mut self.max_body_bytes)?;
        parse_env("TOKENWARD_WORKERS", &mut self.workers)?;
        parse_env(
            "TOKENWARD_VALIDATION_CACHE_MS",
            &mut self.validation_cache_ms,
        )?;
        Ok(())
    }

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
        crate::jobs::check_cron(&self.cleanup_cron)
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

fn parse_cidr(s: &str) -> Result<IpNet, String> {
    s.parse::<IpNet>()
        .or_else(|_| s.parse::<std::net::IpAddr>().map(IpNet::from))
        .map_err(|_| format!("{s:?} is not an IP address or CIDR"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_contract_and_validate() {
        let s = Settings::default();
        assert_eq!(s.database_url, "sqlite://data/tokenward.db");
        assert_eq!(s.bind, "127.0.0.1:8080");
        assert_eq!((s.access_token_ttl, s.refresh_token_ttl), (900, 604_800));
        assert_eq!(s.session_max_lifetime, 2_592_000);
        assert_eq!((s.lockout_threshold, s.lockout_seconds), (5, 900));
        assert_eq!(s.login_rate_limit, 20);
        assert_eq!(s.cleanup_cron, "0 0 * * * *");
        assert_eq!((s.token_retention_hours, s.audit_retention_days), (24, 90));
        assert!(s.validate().is_ok());
    }

    #[test]
    fn short_secrets_bad_ttls_and_unknown_algorithms_are_refused() {
        let s = Settings {
            jwt_algorithm: JwtAlgorithm::HS256,
            jwt_secret: Some("too-short".to_string().into()),
            ..Settings::default()
        };
        assert!(s.validate().unwrap_err().contains("32 bytes"));
        let s = Settings {
            access_token_ttl: 0,
            ..Settings::default()
        };
        assert!(s.validate().is_err());
        assert!("none".parse::<JwtAlgorithm>().is_err());
        assert!(parse_cidr("10.0.0.0/8").is_ok());
        assert!(parse_cidr("127.0.0.1").is_ok());
        assert!(parse_cidr("nope").is_err());
    }

    #[test]
    fn cleanup_schedules_and_bounds_are_checked() {
        for ok in ["", "0 0 * * * *", "*/30 * * * * *", "0 15 3 * * Mon"] {
            let s = Settings {
                cleanup_cron: ok.into(),
                ..Settings::default()
            };
            assert!(s.validate().is_ok(), "{ok:?}");
        }
        for bad in ["0 * * * *", "hourly", "61 0 * * * *"] {
            let s = Settings {
                cleanup_cron: bad.into(),
                ..Settings::default()
            };
            let err = s.validate().unwrap_err();
            assert!(err.contains("TOKENWARD_CLEANUP_CRON"), "{bad:?}: {err}");
        }
        let s = Settings {
            cleanup_batch_size: 0,
            ..Settings::default()
        };
        assert!(s.validate().is_err());
    }

    #[test]
    fn a_toml_file_sets_fields_and_rejects_unknown_keys() {
        let s: Settings =
            toml::from_str("bind = \"0.0.0.0:9000\"\nbcrypt_cost = 10\n").unwrap_or_default();
        assert_eq!(s.bind, "0.0.0.0:9000");
        assert_eq!(s.bcrypt_cost, 10);
        assert!(toml::from_str::<Settings>("nonsense = 1").is_err());
    }
}
