//! The environment half of the settings: `DATABASE_URL` and `TOKENWARD_*`
//! override what the defaults and the file set.

use std::str::FromStr;

use ipnet::IpNet;

use super::{LogFormat, Settings};

pub(super) fn var(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

fn parse_env<T: FromStr>(name: &str, target: &mut T) -> Result<(), String>
where
    T::Err: std::fmt::Display,
{
    if let Some(raw) = var(name) {
        *target = raw
            .trim()
            .parse()
            .map_err(|e| format!("{name}={raw:?} is not valid: {e}"))?;
    }
    Ok(())
}

/// Sets `target` to the variable's value, as written, when it is set.
fn set_env<T: From<String>>(name: &str, target: &mut T) {
    if let Some(v) = var(name) {
        *target = v.into();
    }
}

/// Sets `target` to the variable's value when it is set: `None` when empty.
fn optional_env<T: From<String>>(name: &str, target: &mut Option<T>) {
    if let Some(v) = var(name) {
        *target = Some(v).filter(|v| !v.is_empty()).map(Into::into);
    }
}

fn list(raw: &str) -> impl Iterator<Item = &str> {
    raw.split(',').map(str::trim).filter(|s| !s.is_empty())
}

pub(super) fn parse_cidr(s: &str) -> Result<IpNet, String> {
    s.parse::<IpNet>()
        .or_else(|_| s.parse::<std::net::IpAddr>().map(IpNet::from))
        .map_err(|_| format!("{s:?} is not an IP address or CIDR"))
}

impl Settings {
    /// Overrides fields from `DATABASE_URL` and `TOKENWARD_*`.
    pub fn apply_env(&mut self) -> Result<(), String> {
        set_env("DATABASE_URL", &mut self.database_url);
        set_env("TOKENWARD_BIND", &mut self.bind);
        if let Some(v) = var("TOKENWARD_PUBLIC_URL") {
            self.public_url = v.trim().to_string();
        }
        optional_env(
            "TOKENWARD_BOOTSTRAP_ADMIN_EMAIL",
            &mut self.bootstrap_admin_email,
        );
        optional_env(
            "TOKENWARD_BOOTSTRAP_ADMIN_PASSWORD",
            &mut self.bootstrap_admin_password,
        );
        set_env("TOKENWARD_ISSUER", &mut self.issuer);
        set_env("TOKENWARD_AUDIENCE", &mut self.audience);
        parse_env("TOKENWARD_ACCESS_TOKEN_TTL", &mut self.access_token_ttl)?;
        parse_env("TOKENWARD_REFRESH_TOKEN_TTL", &mut self.refresh_token_ttl)?;
        parse_env(
            "TOKENWARD_SESSION_MAX_LIFETIME",
            &mut self.session_max_lifetime,
        )?;
        parse_env("TOKENWARD_JWT_ALGORITHM", &mut self.jwt_algorithm)?;
        optional_env("TOKENWARD_JWT_SECRET", &mut self.jwt_secret);
        optional_env("TOKENWARD_METRICS_TOKEN", &mut self.metrics_token);
        optional_env("TOKENWARD_ENCRYPTION_KEY", &mut self.encryption_key);
        set_env(
            "TOKENWARD_ENCRYPTION_KEY_FILE",
            &mut self.encryption_key_file,
        );
        optional_env("TOKENWARD_REDIS_URL", &mut self.redis_url);
        set_env("TOKENWARD_REDIS_PREFIX", &mut self.redis_prefix);
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
        if let Some(v) = var("TOKENWARD_TRUSTED_PROXIES") {
            self.trusted_proxies = list(&v)
                .map(parse_cidr)
                .collect::<Result<_, _>>()
                .map_err(|e| format!("TOKENWARD_TRUSTED_PROXIES: {e}"))?;
        }
        if let Some(v) = var("TOKENWARD_CLEANUP_CRON") {
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
        parse_env(
            "TOKENWARD_PASSWORD_MIN_LENGTH",
            &mut self.password_min_length,
        )?;
        parse_env("TOKENWARD_PASSWORD_MIN_SCORE", &mut self.password_min_score)?;
        parse_env(
            "TOKENWARD_REMEMBER_DEVICE_DAYS",
            &mut self.remember_device_days,
        )?;
        parse_env("TOKENWARD_LOCKOUT_THRESHOLD", &mut self.lockout_threshold)?;
        parse_env("TOKENWARD_LOCKOUT_SECONDS", &mut self.lockout_seconds)?;
        parse_env("TOKENWARD_LOGIN_RATE_LIMIT", &mut self.login_rate_limit)?;
        set_env("TOKENWARD_TOTP_ISSUER", &mut self.totp_issuer);
        parse_env("TOKENWARD_TOTP_SKEW", &mut self.totp_skew)?;
        if let Some(v) = var("TOKENWARD_LOG_FORMAT") {
            self.log_format = match v.trim() {
                "text" => LogFormat::Text,
                "json" => LogFormat::Json,
                other => return Err(format!("TOKENWARD_LOG_FORMAT={other:?}: use text or json")),
            };
        }
        parse_env("TOKENWARD_COOKIE_SECURE", &mut self.cookie_secure)?;
        if let Some(v) = var("TOKENWARD_CORS_ORIGINS") {
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
}
