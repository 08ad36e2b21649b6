//! Prometheus metrics: the recorder (installed once per process), the names
//! the contract fixes, and the scrape-time gauges.

use crate::models::{RevokeReason, TokenKind};
use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// `tokenward_http_requests_total{method,route,status}`
pub const HTTP_REQUESTS: &str = "tokenward_http_requests_total";
/// `tokenward_http_request_duration_seconds{method,route}`
pub const HTTP_DURATION: &str = "tokenward_http_request_duration_seconds";
/// `tokenward_tokens_issued_total{type}`
pub const TOKENS_ISSUED: &str = "tokenward_tokens_issued_total";
/// `tokenward_tokens_refreshed_total`
pub const TOKENS_REFRESHED: &str = "tokenward_tokens_refreshed_total";
/// `tokenward_tokens_revoked_total{reason}`
pub const TOKENS_REVOKED: &str = "tokenward_tokens_revoked_total";
/// `tokenward_tokens_rejected_total{reason}`
pub const TOKENS_REJECTED: &str = "tokenward_tokens_rejected_total";
/// `tokenward_logins_total{result}`
pub const LOGINS: &str = "tokenward_logins_total";
/// `tokenward_active_sessions`
pub const ACTIVE_SESSIONS: &str = "tokenward_active_sessions";
/// `tokenward_active_tokens`
pub const ACTIVE_TOKENS: &str = "tokenward_active_tokens";
/// `tokenward_cleanup_runs_total`
pub const CLEANUP_RUNS: &str = "tokenward_cleanup_runs_total";
/// `tokenward_cleanup_rows_total{action}` (`marked`, `deleted`)
pub const CLEANUP_ROWS: &str = "tokenward_cleanup_rows_total";
/// `tokenward_db_pool_connections{state}`
pub const DB_POOL: &str = "tokenward_db_pool_connections";

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the global recorder on first call and returns its handle (None if
/// another recorder was installed first, e.g. by an embedding program).
pub fn handle() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let buckets = [
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ];
            PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full(HTTP_DURATION.into()), &buckets)
                .ok()?
                .install_recorder()
                .ok()
        })
        .as_ref()
}

/// Counts tokens issued of `kind` (`access`, `refresh`, `challenge`, `ws`).
pub fn token_issued(kind: TokenKind, n: u64) {
    metrics::counter!(TOKENS_ISSUED, "type" => kind.as_str()).increment(n);
}

/// Counts tokens revoked for `reason`.
pub fn tokens_revoked(reason: &RevokeReason, n: usize) {
    if n > 0 {
        let label = reason.as_str().to_string();
        metrics::counter!(TOKENS_REVOKED, "reason" => label).increment(n as u64);
    }
}

/// Counts a login attempt's result.
pub fn login(result: &'static str) {
    metrics::counter!(LOGINS, "result" => result).increment(1);
}
