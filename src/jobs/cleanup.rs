//! Jobs layer: the cleanup job. `run` is what the scheduler, the `tokenward
//! cleanup` command and the tests call; it logs one line per run.

use crate::errors::AppResult;
use crate::services::cleanup::{CleanupReport, CleanupService};

/// Runs one cleanup pass and logs what it did (or why it did nothing).
#[tracing::instrument(name = "cleanup", skip_all)]
pub async fn run(service: &CleanupService) -> AppResult<CleanupReport> {
    let outcome = service.run_once().await;
    match &outcome {
        Ok(r) if r.skipped => {
            tracing::info!("cleanup skipped: another instance holds the cleanup lock");
        }
        Ok(r) => {
            let (slowest_step, slowest_ms) = r
                .slowest
                .map(|s| (s.step, s.duration.as_secs_f64() * 1000.0))
                .unwrap_or(("none", 0.0));
            tracing::info!(
                tokens_marked = r.tokens_marked,
                tokens_deleted = r.tokens_deleted,
                sessions_deleted = r.sessions_deleted,
                audit_events_deleted = r.audit_events_deleted,
                statements = r.statements,
                slowest_step,
                slowest_ms,
                duration_ms = r.duration.as_millis() as u64,
                "cleanup finished"
            );
            metrics::counter!(crate::metrics::CLEANUP_RUNS).increment(1);
            let deleted = r.tokens_deleted + r.sessions_deleted + r.audit_events_deleted;
            metrics::counter!(crate::metrics::CLEANUP_ROWS, "action" => "marked")
                .increment(r.tokens_marked as u64);
            metrics::counter!(crate::metrics::CLEANUP_ROWS, "action" => "deleted")
                .increment(deleted as u64);
        }
        Err(e) => tracing::error!(error = %e, "cleanup failed"),
    }
    outcome
}
