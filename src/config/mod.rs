//! Typed settings: defaults, then an optional TOML file, then `TOKENWARD_*`
//! environment variables (names fixed by the contract, read in `env`).
//! `validate` (in `checks`) fails fast.

mod checks;
mod env;

pub use checks::check_cron;

use std::path::{Path, PathBuf};
use std::str::FromStr;

use ipnet::IpNet;
use secrecy::SecretString;
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
    /// The server's external base URL (absolute URLs in metadata); empty
    /// means `http://<bind>`.
    pub public_url: String,
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
    /// When set, `/metrics` needs it as a bearer token.
    pub metrics_token: Option<SecretString>,
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
    /// Days a device is remembered after a second factor; 0 turns it off.
    pub remember_device_days: u32,
    /// Fewest characters a new password may have.
    pub password_min_length: usize,
    /// Lowest strength estimate (zxcvbn score 0-4) a new password may have.
    pub password_min_score: u8,
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
    #[serde(rename = "db_timeout")]
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
            public_url: String::new(),
            bootstrap_admin_email: None,
            bootstrap_admin_password: None,
            issuer: "tokenward".into(),
            audience: "tokenward".into(),
            access_token_ttl: 900,
            refresh_token_ttl: 604_800,
            session_max_lifetime: 2_592_000,
            jwt_algorithm: JwtAlgorithm::RS256,
            jwt_secret: None,
            metrics_token: None,
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
            remember_device_days: 30,
            password_min_length: 12,
            password_min_score: 3,
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
impl Settings {
    /// Defaults, then `file` (or `TOKENWARD_CONFIG`) when given, then the environment.
    pub fn load(file: Option<&Path>) -> Result<Self, String> {
        let path = file
            .map(Path::to_path_buf)
            .or_else(|| env::var("TOKENWARD_CONFIG").map(PathBuf::from));
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

    /// The external base URL, without a trailing slash.
    pub fn public_base_url(&self) -> String {
        let url = match self.public_url.trim() {
            "" => format!("http://{}", self.bind),
            set => set.to_string(),
        };
        url.trim_end_matches('/').to_string()
    }

    /// The password policy in force.
    pub fn password_policy(&self) -> crate::security::password_policy::PasswordPolicy {
        crate::security::password_policy::PasswordPolicy {
            min_length: self.password_min_length,
            min_score: self.password_min_score,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every name the environment is read under, from `env.rs`.
    fn env_names() -> Vec<String> {
        let src = include_str!("env.rs");
        let mut names: Vec<String> = src
            .split('"')
            .filter(|w| w.starts_with("TOKENWARD_") || *w == "DATABASE_URL")
            .filter(|w| w.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
            .map(str::to_string)
            .collect();
        names.sort();
        names.dedup();
        names
    }

    #[test]
    fn every_setting_has_one_name_in_the_environment_and_the_file() {
        let names = env_names();
        assert!(names.len() > 40, "{names:?}");
        for name in &names {
            let key = name.trim_start_matches("TOKENWARD_").to_lowercase();
            // A known key with a wrong value says so; an unknown one says "unknown field".
            let err = toml::from_str::<Settings>(&format!("{key} = []"))
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(
                !err.contains("unknown field"),
                "{name} has no file key {key}: {err}"
            );
        }
        // Every variable README's configuration table names is one the server reads.
        let readme = include_str!("../../README.md");
        let table = readme
            .split("## Configuration")
            .nth(1)
            .and_then(|t| t.split("\n## ").next())
            .unwrap_or_default();
        for row in table.lines().filter(|l| l.starts_with("| `")) {
            let first = row.split('|').nth(1).unwrap_or_default();
            for var in first
                .split('`')
                .filter(|w| w.starts_with("TOKENWARD_") || *w == "DATABASE_URL")
            {
                let var = match var.strip_prefix("_") {
                    Some(_) => continue,
                    None => var,
                };
                assert!(
                    names.contains(&var.to_string()),
                    "README names {var}, which nobody reads"
                );
            }
            // `TOKENWARD_X` / `_Y` rows: the shorthand is the same prefix.
            if let Some(short) = first.split('`').find(|w| w.starts_with('_')) {
                let base = first.split('`').nth(1).unwrap_or_default();
                let stem = base.rsplit_once('_').map(|(s, _)| s).unwrap_or_default();
                let full = format!("{stem}{short}");
                assert!(
                    names.contains(&full),
                    "README names {full}, which nobody reads"
                );
            }
        }
    }

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
        assert!(env::parse_cidr("10.0.0.0/8").is_ok());
        assert!(env::parse_cidr("127.0.0.1").is_ok());
        assert!(env::parse_cidr("nope").is_err());
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
