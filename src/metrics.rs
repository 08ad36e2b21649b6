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
            let handle = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full(HTTP_DURATION.into()), &buckets)
                .ok()?
                .install_recorder()
                .ok()?;
            describe();
            Some(handle)
        })
        .as_ref()
}

/// The `# HELP` line of every metric, so a scrape explains itself.
fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests answered, by method, route pattern and status."
    );
    describe_histogram!(
        HTTP_DURATION,
        Unit::Seconds,
        "Time to answer an HTTP request, by method and route pattern."
    );
    describe_counter!(
        TOKENS_ISSUED,
        "Tokens issued, by type (access, refresh, challenge, ws, device)."
    );
    describe_counter!(
        TOKENS_REFRESHED,
        "Refresh-token rotations that issued a new pair."
    );
    describe_counter!(
        TOKENS_REVOKED,
        "Tokens revoked, by reason (rotations included as rotated)."
    );
    describe_counter!(
        TOKENS_REJECTED,
        "Bearer tokens refused, by reason (missing, invalid, expired, revoked, reused)."
    );
    describe_counter!(LOGINS, "Login attempts, by result (success, failure, two_factor_required, locked, rate_limited, remembered_device).");
    describe_gauge!(
        ACTIVE_SESSIONS,
        "Live sessions (not revoked, not ended, holding a live token); read at most every 15 s."
    );
    describe_gauge!(
        ACTIVE_TOKENS,
        "Tokens neither revoked, marked expired nor past expires_at; read at most every 15 s."
    );
    describe_counter!(
        CLEANUP_RUNS,
        "Cleanup job runs that did work on this instance."
    );
    describe_counter!(
        CLEANUP_ROWS,
        "Rows the cleanup job touched, by action (marked, deleted)."
    );
    describe_gauge!(
        DB_POOL,
        "Database pool connections, by state (in_use, idle)."
    );
    describe_gauge!(
        "tokenward_ws_connections",
        "Open WebSocket connections on this instance."
    );
    describe_counter!(
        "tokenward_ws_messages_sent_total",
        "WebSocket messages sent to clients."
    );
    describe_counter!("tokenward_ws_dropped_total", "WebSocket connections the server closed, by reason (heartbeat, slow_consumer, limit, revoked).");
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
