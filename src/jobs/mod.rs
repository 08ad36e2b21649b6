//! Jobs layer: the scheduler wiring (tokio-cron-scheduler, UTC, 6-field cron
//! expressions with seconds first) and one file per job exposing `run(..)`.
//! Jobs call services only.

pub mod cleanup;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio_cron_scheduler::{Job, JobScheduler};

use crate::services::cleanup::CleanupService;

/// Schedules the cleanup job on `cron` (already validated). `None` when the
/// expression is empty, i.e. the job is disabled.
pub async fn start(cron: &str, cleanup: CleanupService) -> Result<Option<JobScheduler>, String> {
    if cron.trim().is_empty() {
        tracing::info!("cleanup job disabled (TOKENWARD_CLEANUP_CRON is empty)");
        return Ok(None);
    }
    let scheduler = JobScheduler::new()
        .await
        .map_err(|e| format!("cannot create the job scheduler: {e}"))?;
    // A run that outlasts the interval must not overlap the next one on this instance
    // (other instances are kept out by the database lock).
    let busy = Arc::new(AtomicBool::new(false));
    let job = Job::new_async(cron, move |_, _| {
        let cleanup = cleanup.clone();
        let busy = busy.clone();
        Box::pin(async move {
            if busy.swap(true, Ordering::AcqRel) {
                tracing::warn!("cleanup still running from the previous tick; skipping this one");
                return;
            }
            // Failures are logged by `run`; the next tick simply tries again.
            let _ = cleanup::run(&cleanup).await;
            busy.store(false, Ordering::Release);
        })
    })
    .map_err(|e| format!("TOKENWARD_CLEANUP_CRON={cron:?} was refused by the scheduler: {e}"))?;
    scheduler
        .add(job)
        .await
        .map_err(|e| format!("cannot schedule the cleanup job: {e}"))?;
    scheduler
        .start()
        .await
        .map_err(|e| format!("cannot start the job scheduler: {e}"))?;
    tracing::info!(schedule = %cron, "cleanup job scheduled (UTC)");
    Ok(Some(scheduler))
}
